// `flotilla status`: the cluster at a glance — the leader, every master with its term, indexes
// and lag, zones, agents by state, frameworks by state, tasks by state. One GET_RAFT per
// master (local calls), one GET_STATE (one consistent snapshot of agents, frameworks and
// tasks) and one GET_METRICS (unreachable and gone agents, which GET_STATE does not list).
import type { Command } from 'commander';
import type * as Operator from '../../protocol/operator.ts';
import { surveyMasters } from '../client/masters-survey.ts';
import { operatorRead } from '../client/operator.ts';
import { type Colors, stateColor } from '../output/colors.ts';
import { describeCounts, usedOfTotal } from '../output/format.ts';
import { renderFields, renderTable } from '../output/table.ts';
import { agentRows } from '../views/agents.ts';
import { frameworkRows } from '../views/frameworks.ts';
import { type MasterRow, masterRows } from '../views/masters.ts';
import { allTasks, countTasksByState } from '../views/tasks.ts';
import { type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

export interface StatusReport {
  readonly leader: { readonly id: string; readonly address: string | null; readonly term: number } | null;
  readonly masters: readonly MasterRow[];
  /** True when no leader answered and the counts below are one master's possibly stale view. */
  readonly stale: boolean;
  readonly agents: Readonly<Record<string, number>>;
  readonly agent_zones: Readonly<Record<string, number>>;
  readonly allocated: Readonly<Record<string, number>>;
  readonly total: Readonly<Record<string, number>>;
  readonly frameworks: Readonly<Record<string, number>>;
  readonly tasks: Readonly<Record<string, number>>;
}

export const registerStatusCommand: CommandRegistration = (program: Command) => {
  withClusterFlags(
    program
      .command('status')
      .description('the cluster at a glance: leader, masters (terms, indexes, lag, zones), agents, frameworks, tasks'),
  ).action(clusterAction('status', status));
};

async function status(context: CommandContext): Promise<number> {
  const report = await statusReport(context);
  if (context.json) context.printJson(report);
  else context.print(renderStatus(context.colors, report));
  return 0;
}

export async function statusReport(context: CommandContext): Promise<StatusReport> {
  const survey = masterRows(await surveyMasters(context.client));
  const stale = survey.leader === null;
  const [state, metrics] = await Promise.all([
    operatorRead<{ get_state: Operator.GetState }>(context.client, { type: 'GET_STATE' }, { stale }),
    operatorRead<{ get_metrics: { metrics: Operator.Metric[] } }>(context.client, { type: 'GET_METRICS' }),
  ]);
  const metric = (name: string): number =>
    metrics.get_metrics.metrics.find((candidate) => candidate.name === name)?.value ?? 0;
  const agents = agentRows(state.get_state.get_agents);
  const sum = (pick: (row: (typeof agents)[number]) => Readonly<Record<string, number>>): Record<string, number> => {
    const totals: Record<string, number> = {};
    for (const row of agents)
      for (const [name, value] of Object.entries(pick(row))) totals[name] = (totals[name] ?? 0) + value;
    return totals;
  };
  const zones: Record<string, number> = {};
  for (const row of agents) zones[row.zone ?? '-'] = (zones[row.zone ?? '-'] ?? 0) + 1;
  const tasks = allTasks(state.get_state.get_tasks);
  const frameworks = frameworkRows(state.get_state.get_frameworks, tasks, true);
  const frameworkCounts: Record<string, number> = { CONNECTED: 0, DISCONNECTED: 0, COMPLETED: 0 };
  for (const row of frameworks) frameworkCounts[row.state] = (frameworkCounts[row.state] ?? 0) + 1;
  const leader = survey.leader;
  return {
    leader:
      leader === null ? null : { id: leader.id, address: leaderAddress(survey.rows, leader.id), term: leader.term },
    masters: survey.rows,
    stale,
    agents: {
      ACTIVE: agents.filter((row) => row.state === 'ACTIVE').length,
      DRAINING: agents.filter((row) => row.state === 'DRAINING').length,
      UNREACHABLE: metric('master/agents_unreachable'),
      GONE: metric('flotilla/agents_gone'),
    },
    agent_zones: zones,
    allocated: sum((row) => row.allocated),
    total: sum((row) => row.total),
    frameworks: frameworkCounts,
    tasks: Object.fromEntries([...countTasksByState(tasks)].filter(([, count]) => count > 0)),
  };
}

/** "cpus 0.1/2 · mem 32/23127 MB · disk 0/74030 MB allocated" */
function describeAllocation(
  allocated: Readonly<Record<string, number>>,
  total: Readonly<Record<string, number>>,
): string {
  const names = Object.keys(total).sort();
  if (names.length === 0) return '-';
  const unit = (name: string): string => (name === 'mem' || name === 'disk' ? ' MB' : '');
  return `${names.map((name) => `${name} ${usedOfTotal(allocated, total, name)}${unit(name)}`).join(' · ')} allocated`;
}

function leaderAddress(rows: readonly MasterRow[], id: string): string | null {
  return rows.find((row) => row.id === id)?.address ?? null;
}

export function renderMasterTable(colors: Colors, rows: readonly MasterRow[]): string {
  return renderTable(
    colors,
    ['ID', 'ADDRESS', 'ROLE', 'MEMBER', 'TERM', 'COMMIT', 'APPLIED', 'LAG', 'ZONE'],
    rows.map((row) => [
      row.id,
      row.address,
      row.role === 'down' ? colors.red(`down (${row.error ?? 'no answer'})`) : stateColor(colors, row.role),
      row.membership,
      row.term,
      row.commit_index,
      row.applied_index,
      row.lag,
      row.zone,
    ]),
  );
}

function renderStatus(colors: Colors, report: StatusReport): string {
  const leader =
    report.leader === null
      ? colors.red('none: no master leads (a majority may be down or cut off); the counts below may be stale')
      : `${colors.bold(report.leader.id)} at ${report.leader.address ?? '?'}, term ${report.leader.term}`;
  const counts = (record: Readonly<Record<string, number>>): Map<string, number> => new Map(Object.entries(record));
  const lower = (name: string): string => stateColor(colors, name).replace(name, name.toLowerCase());
  const allAgents = Object.values(report.agents).reduce((total, count) => total + count, 0);
  const zoned = Object.entries(report.agent_zones).filter(([zone]) => zone !== '-');
  const unzoned = report.agent_zones['-'] ?? 0;
  const zones = [
    ...zoned.map(([zone, count]) => `${zone} ${count}`),
    ...(zoned.length > 0 && unzoned > 0 ? [`no zone ${unzoned}`] : []),
  ].join(' · ');
  return [
    renderFields(colors, [['leader', leader]]),
    '',
    renderMasterTable(colors, report.masters),
    '',
    renderFields(colors, [
      ['agents', allAgents === 0 ? colors.yellow('none registered') : describeCounts(counts(report.agents), lower)],
      ['zones', zones === '' ? colors.dim('none set (agents take --zone)') : zones],
      ['resources', describeAllocation(report.allocated, report.total)],
      ['frameworks', describeCounts(counts(report.frameworks), lower)],
      ['tasks', describeCounts(counts(report.tasks), (name) => stateColor(colors, name))],
    ]),
  ].join('\n');
}
