// GET_METRICS (master.proto Response.GetMetrics: `metrics: [{name, value}]`): gauges of this
// master, named as Mesos names them where Mesos has the metric ("master/tasks_running"), under
// "flotilla/" where it does not (Raft). Counts are of entities in each state now (gauges), not
// Mesos' counters since start. Local: a monitor must get an answer even without a leader.
import type * as Operator from '../../protocol/operator.ts';
import { countByState } from '../../state-machine/queries.ts';
import { taskStates } from '../../protocol/task-states.ts';
import { optionalObjectField } from './fields.ts';
import type { OperatorCallTable } from './registry.ts';
import type { MasterCore } from '../../master/interface.ts';

const millisecondsPerSecond = 1000;

function masterMetrics(master: MasterCore): Operator.Metric[] {
  const raft = master.raft();
  const state = master.state();
  const counts = countByState(state);
  const gauges: [string, number][] = [
    ['master/elected', raft.role === 'leader' ? 1 : 0],
    ['master/uptime_secs', (Date.now() - master.startedAtMs) / millisecondsPerSecond],
    ['master/slaves_active', counts.agents.ACTIVE],
    ['master/slaves_inactive', counts.agents.DRAINING],
    ['master/slaves_unreachable', counts.agents.UNREACHABLE],
    ['master/frameworks_active', counts.frameworks.CONNECTED],
    ['master/frameworks_inactive', counts.frameworks.DISCONNECTED],
    ['master/frameworks_connected', counts.frameworks.CONNECTED],
    ['master/frameworks_disconnected', counts.frameworks.DISCONNECTED],
    ['master/outstanding_offers', state.offers.size],
    // TASK_RUNNING → master/tasks_running, and so on for every Mesos task state.
    ...taskStates.map((taskState): [string, number] => [
      `master/${taskState.toLowerCase().replace('task_', 'tasks_')}`,
      counts.tasks[taskState] ?? 0,
    ]),
    ['flotilla/agents_draining', counts.agents.DRAINING],
    ['flotilla/agents_gone', counts.agents.GONE],
    ['flotilla/frameworks_completed', counts.frameworks.COMPLETED],
    ['flotilla/raft_term', raft.term],
    ['flotilla/raft_commit_index', raft.commitIndex],
    ['flotilla/raft_applied_index', raft.appliedIndex],
    ['flotilla/raft_last_index', raft.lastIndex],
    ['flotilla/raft_snapshot_index', raft.snapshotIndex],
  ];
  return gauges.map(([name, value]) => ({ name, value }));
}

export const metricsCalls: OperatorCallTable = {
  GET_METRICS: {
    write: false,
    local: true,
    async handle({ master, call }) {
      // `get_metrics.timeout` bounds Mesos' collection of slow metrics; these are all immediate.
      optionalObjectField(call, 'get_metrics');
      return { type: 'GET_METRICS', get_metrics: { metrics: masterMetrics(master) } };
    },
  },
};
