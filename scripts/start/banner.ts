// The block `npm start` prints once the cluster is up: at most maxBannerLines lines, saying
// where the UI and the two framework APIs are (the masters host the services and jobs
// frameworks; any master answers), who leads, what to try first, where the logs are and how to stop.
import type { Colors } from '../../src/cli/output/colors.ts';
import type { DockerProbe } from './docker-probe.ts';
import { defaultBasePort, type Layout, shownPath } from './layout.ts';
import type { ClusterReadiness } from './readiness.ts';

export const maxBannerLines = 25;

export interface BannerInput {
  readonly layout: Layout;
  readonly readiness: ClusterReadiness;
  readonly docker: DockerProbe;
  readonly startedInMs: number;
  /** True when this start found the data of an earlier one (a resume). */
  readonly resumed: boolean;
}

export function renderBanner(colors: Colors, input: BannerInput): string[] {
  const { layout, readiness, docker } = input;
  const leaderId = readiness.leader?.id ?? null;
  const leaderPlan = layout.masters.find((master) => master.name === leaderId) ?? layout.masters[0]!;
  const data = shownPath(layout.dataRoot);
  const label = (text: string): string => colors.bold(text.padEnd(9));
  const indent = ' '.repeat(13);
  const masters = layout.masters
    .map((master) => `${master.name} ${master.address}${master.name === leaderId ? colors.green(' (leader)') : ''}`)
    .join(' · ');
  const customPorts = layout.basePort !== defaultBasePort;
  const mastersList = layout.masters.map((master) => master.address).join(',');
  const cli = 'npx flotilla';
  const lines = [
    colors.green(
      `Flotilla is up: 3 masters, 1 agent (${input.resumed ? 'resumed' : 'new'}, ` +
        `${(input.startedInMs / 1000).toFixed(1)} s; data in ${data})`,
    ),
    '',
    `  ${label('web UI')}  ${colors.cyan(`http://${leaderPlan.address}/`)}`,
    `  ${label('services')}  ${colors.cyan(`http://${leaderPlan.address}/v2/apps`)} · Marathon API, on every master`,
    `  ${label('jobs')}  ${colors.cyan(`http://${leaderPlan.address}/v1/jobs`)} · Metronome API, on every master`,
    `  ${label('masters')}  ${masters}`,
    `  ${label('agent')}  ${layout.agent.address} · id ${readiness.agent?.agentId ?? '?'}`,
    docker.available
      ? `  ${label('docker')}  engine at ${docker.endpoint}: the agent runs Docker tasks too`
      : `  ${label('docker')}  ${colors.yellow(`no Docker engine at ${docker.endpoint}: only process tasks will run`)}`,
    '',
    ...(customPorts
      ? [`  ${label('try')}  export FLOTILLA_MASTERS=${mastersList}`, `${indent}${cli} status`]
      : [`  ${label('try')}  ${cli} status`]),
    `${indent}${cli} run -- echo hello`,
    ...(docker.available ? [`${indent}${cli} run --docker-image busybox -- echo hello from docker`] : []),
    `${indent}${cli} tasks --watch`,
    `${indent}${cli} services list · ${cli} jobs list`,
    '',
    `  ${label('logs')}  ${shownPath(layout.logDir)}/<node>.log for m1, m2, m3, agent (--verbose streams them here)`,
    `${indent}tail -f ${shownPath(layout.masters[0]!.logFile)} · a task's output: ${cli} logs TASK`,
    `  ${label('stop')}  Ctrl-C stops every node; the next npm start resumes from ${data}`,
  ];
  if (lines.length > maxBannerLines)
    throw new Error(`the start banner has ${lines.length} lines, more than ${maxBannerLines}`);
  return lines;
}
