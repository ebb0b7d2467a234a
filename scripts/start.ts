// `npm start`: a local cluster on loopback — three masters (127.0.0.1:5050–5052) and one agent
// (:5055), data and logs under ./.flotilla/. The terminal shows one live progress line, then a
// short block: the UI, the leader, the agent, what to try, where the logs are, how to stop.
// The nodes' JSON logs go to ./.flotilla/logs/<node>.log (--verbose streams them too). Ctrl-C
// stops every node (SIGTERM, then waits); the next `npm start` resumes from the same data.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { colorWanted, makeColors } from '../src/cli/output/colors.ts';
import { renderBanner } from './start/banner.ts';
import { agentContainerizers, type DockerProbe, probeDocker } from './start/docker-probe.ts';
import { type Layout, planLayout, shownPath } from './start/layout.ts';
import { logTail, type RunningNode, startNode, stopNodes } from './start/nodes.ts';
import { parseStartOptions } from './start/options.ts';
import { firstTakenPort } from './start/ports.ts';
import { ProgressLine } from './start/progress.ts';
import { type ClusterReadiness, describeProgress, isReady, probeCluster } from './start/readiness.ts';

const readyTimeoutMs = 90_000;
const pollIntervalMs = 200;
const layoutFileName = 'cluster.json';

/** Set when the first SIGINT/SIGTERM arrived: from then on, node exits are expected. */
interface StopState {
  sinceMs: number | null;
}

function fail(line: string): never {
  process.stderr.write(`npm start: ${line}\n`);
  process.exit(1);
}

/** Masters keep their peers' addresses in the Raft log: the data only works on the ports it was made with. */
function checkRecordedLayout(layout: Layout): boolean {
  const file = path.join(layout.dataRoot, layoutFileName);
  if (!existsSync(file)) return false;
  const recorded = (JSON.parse(readFileSync(file, 'utf8')) as { base_port?: number }).base_port;
  if (recorded !== undefined && recorded !== layout.basePort) {
    fail(
      `${shownPath(layout.dataRoot)} holds a cluster made on base port ${recorded}: start it with ` +
        `\`npm start -- --base-port ${recorded}\`, or use another --data-dir`,
    );
  }
  return true;
}

function nodeArguments(layout: Layout, docker: DockerProbe): Map<string, string[]> {
  const peers = layout.masters.map((master) => `${master.name}=${master.address}`).join(',');
  const args = new Map<string, string[]>();
  for (const master of layout.masters)
    args.set(master.name, [
      '--id',
      master.name,
      '--listen',
      master.address,
      '--peers',
      peers,
      '--data-dir',
      master.dataDir,
    ]);
  args.set(layout.agent.name, [
    '--masters',
    layout.masters.map((master) => master.address).join(','),
    '--work-dir',
    layout.agent.dataDir,
    '--listen',
    layout.agent.address,
    '--containerizers',
    agentContainerizers(docker),
  ]);
  return args;
}

async function main(): Promise<void> {
  const options = parseStartOptions(process.argv.slice(2), process.env);
  const layout = planLayout(options.basePort, options.dataRoot);
  const colors = makeColors(colorWanted(process.env, process.stdout));
  const resumed = checkRecordedLayout(layout) || existsSync(layout.masters[0]!.dataDir);
  const taken = await firstTakenPort(layout);
  if (taken !== null) fail(taken);
  mkdirSync(layout.logDir, { recursive: true });
  writeFileSync(path.join(layout.dataRoot, layoutFileName), `${JSON.stringify({ base_port: layout.basePort })}\n`);
  const docker = await probeDocker();
  const startedAt = performance.now();
  const args = nodeArguments(layout, docker);
  const nodes = [...layout.masters, layout.agent].map((plan) => startNode(plan, args.get(plan.name)!, options.verbose));
  const progress = new ProgressLine(process.stdout, process.stdout.isTTY === true && !options.verbose);
  const stopping: StopState = { sinceMs: null };
  const stop = (): void => void stopAll(nodes, progress, stopping);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  let ready = false;
  for (const node of nodes)
    void node.exited.then((how) => reportExit(node, how, ready, stopping.sinceMs !== null, progress, nodes));
  progress.update(
    `starting 3 masters and an agent on ${layout.masters[0]!.address}–${layout.masters[2]!.port}, ` +
      `${layout.agent.address} (logs in ${shownPath(layout.logDir)})…`,
  );
  const readiness = await waitUntilReady(layout, progress, stopping);
  if (readiness === null) return;
  ready = true;
  progress.clear();
  const lines = renderBanner(colors, {
    layout,
    readiness,
    docker,
    startedInMs: performance.now() - startedAt,
    resumed,
  });
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function waitUntilReady(
  layout: Layout,
  progress: ProgressLine,
  stopping: StopState,
): Promise<ClusterReadiness | null> {
  const deadline = performance.now() + readyTimeoutMs;
  let readiness = await probeCluster(layout);
  while (!isReady(readiness)) {
    if (stopping.sinceMs !== null) return null;
    if (performance.now() > deadline) {
      progress.clear();
      process.stderr.write(
        `npm start: the cluster is not up after ${readyTimeoutMs / 1000} s (${describeProgress(readiness)}); ` +
          `see ${shownPath(layout.logDir)}/<node>.log\n`,
      );
      process.kill(process.pid, 'SIGTERM');
      return null;
    }
    progress.update(describeProgress(readiness));
    await sleep(pollIntervalMs);
    readiness = await probeCluster(layout);
  }
  return readiness;
}

/** A node that dies on its own is reported; during start-up, with its last log lines, and all stop. */
function reportExit(
  node: RunningNode,
  how: string,
  ready: boolean,
  stopping: boolean,
  progress: ProgressLine,
  nodes: readonly RunningNode[],
): void {
  if (stopping) return;
  progress.clear();
  process.stderr.write(`npm start: ${node.plan.name} exited (${how}); its log: ${shownPath(node.plan.logFile)}\n`);
  if (ready) return;
  process.stderr.write(`${logTail(node.plan)}\n`);
  void stopNodes(nodes).then(() => process.exit(1));
}

/**
 * Ctrl-C reaches this process twice when it runs under `npm start`: once from the terminal
 * (to the whole process group) and once relayed by the tsx wrapper. Only a signal well after
 * the first means "do not wait", so a single Ctrl-C still stops the nodes cleanly.
 */
const forceAfterMs = 1_000;

async function stopAll(nodes: readonly RunningNode[], progress: ProgressLine, stopping: StopState): Promise<void> {
  if (stopping.sinceMs !== null) {
    if (performance.now() - stopping.sinceMs < forceAfterMs) return;
    process.stdout.write('killing every node (SIGKILL)…\n');
    for (const node of nodes) node.child.kill('SIGKILL');
    return;
  }
  stopping.sinceMs = performance.now();
  progress.clear();
  process.stdout.write('\nstopping every node…\n');
  await stopNodes(nodes);
  process.stdout.write(`stopped: ${nodes.map((node) => `${node.plan.name} ${node.exitedWith}`).join(' · ')}\n`);
  process.exit(0);
}

await main();
