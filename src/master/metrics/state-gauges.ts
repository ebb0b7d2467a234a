// The Mesos master's gauges (monitoring.md: "Resources", "Master", "Agents", "Frameworks",
// "Tasks", and the allocator's resource totals), read from this master's applied state at scrape
// time. Any master answers (a follower's view is its applied state), so a monitor needs no leader.
//
// Mesos counts terminal tasks (`master/tasks_finished`, …) since the master started; Flotilla
// replicates its task history, so these are the tasks in each state in that history (bounded as
// the history is): the same value on every master, and no reset at failover.
import { taskStates } from '../../protocol/task-states.ts';
import { fromMillis } from '../../state-machine/quantities.ts';
import { countByState } from '../../state-machine/queries.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import type { MetricRegistry } from '../../util/metric-registry.ts';

export interface StateSource {
  readonly state: () => ReadonlyState;
  /** Changes whenever the state may have changed: the counts are computed once per value. */
  readonly appliedIndex: () => number;
}

/** The scalar resources Mesos reports per master: master/cpus_total, master/mem_used, … */
const scalarResources = ['cpus', 'mem', 'disk', 'gpus'] as const;
type ScalarResource = (typeof scalarResources)[number];

interface StateCounts {
  readonly counts: ReturnType<typeof countByState>;
  readonly total: Record<ScalarResource, number>;
  readonly used: Record<ScalarResource, number>;
  readonly offered: Record<ScalarResource, number>;
  /** Reachable agents by activation and drain (Mesos slaves_active / slaves_inactive). */
  readonly activation: {
    readonly active: number;
    readonly deactivated: number;
    readonly draining: number;
    readonly drained: number;
  };
}

/**
 * The agents' part comes from the derived indexes (state-machine/agent-totals.ts), kept as agents
 * are written: a scrape walks no agent. Frameworks are few and counted here.
 */
function computeCounts(state: ReadonlyState): StateCounts {
  const totals = state.derived.agentTotals;
  const pick = (quantities: ReadonlyMap<string, number>): Record<ScalarResource, number> => ({
    cpus: fromMillis(quantities.get('cpus') ?? 0),
    mem: fromMillis(quantities.get('mem') ?? 0),
    disk: fromMillis(quantities.get('disk') ?? 0),
    gpus: fromMillis(quantities.get('gpus') ?? 0),
  });
  const activation = {
    active: totals.activated,
    deactivated: totals.deactivated,
    draining: totals.draining,
    drained: totals.drained,
  };
  return {
    counts: countByState(state),
    total: pick(totals.total),
    used: pick(totals.used),
    offered: pick(totals.offered),
    activation,
  };
}

/** One computation per applied index, however many gauges read it in one scrape. */
function memoizedCounts(source: StateSource): () => StateCounts {
  let cached: { index: number; counts: StateCounts } | null = null;
  return () => {
    const index = source.appliedIndex();
    if (cached === null || cached.index !== index) cached = { index, counts: computeCounts(source.state()) };
    return cached.counts;
  };
}

/** TASK_RUNNING → "master/tasks_running": Mesos' spelling for every task state. */
export function taskStateMetricKey(prefix: 'master' | 'agent', taskState: string): string {
  return `${prefix}/${taskState.toLowerCase().replace('task_', 'tasks_')}`;
}

export function registerStateGauges(metrics: MetricRegistry, source: StateSource): void {
  const read = memoizedCounts(source);
  const agentGauges: [string, string, (counts: StateCounts) => number][] = [
    ['master/agents_active', 'agents that are registered and active', (c) => c.activation.active],
    [
      'master/agents_inactive',
      'agents that are registered but deactivated or draining',
      (c) => c.activation.deactivated,
    ],
    ['master/agents_unreachable', 'agents marked unreachable', (c) => c.counts.agents.UNREACHABLE],
    ['master/frameworks_active', 'frameworks subscribed and active', (c) => c.counts.frameworks.CONNECTED],
    ['master/frameworks_inactive', 'frameworks disconnected, within failover', (c) => c.counts.frameworks.DISCONNECTED],
    ['master/frameworks_connected', 'frameworks with an open stream', (c) => c.counts.frameworks.CONNECTED],
    ['master/frameworks_disconnected', 'frameworks without a stream', (c) => c.counts.frameworks.DISCONNECTED],
    ['master/outstanding_offers', 'offers neither accepted, declined nor rescinded', () => source.state().offers.size],
  ];
  for (const [key, help, pick] of agentGauges) metrics.mesosGauge(key, { help, read: () => pick(read()) });
  for (const taskState of taskStates) {
    metrics.mesosGauge(taskStateMetricKey('master', taskState), {
      help: `tasks in ${taskState} in the replicated task history`,
      read: () => read().counts.tasks[taskState] ?? 0,
    });
  }
  registerResourceGauges(metrics, read);
  metrics.gauge('flotilla_agents_draining', {
    help: 'agents being drained (DRAIN_AGENT): tasks still live',
    read: () => read().activation.draining,
  });
  metrics.gauge('flotilla_agents_drained', {
    help: 'agents drained (DRAIN_AGENT done) and not reactivated',
    read: () => read().activation.drained,
  });
  metrics.gauge('flotilla_agents_gone', {
    help: 'agents marked gone for good',
    read: () => read().counts.agents.GONE,
  });
  metrics.gauge('flotilla_frameworks_completed', {
    help: 'frameworks torn down, kept in the history',
    read: () => read().counts.frameworks.COMPLETED,
  });
}

function registerResourceGauges(metrics: MetricRegistry, read: () => StateCounts): void {
  const unit = (name: ScalarResource): string => (name === 'mem' || name === 'disk' ? ' (MB)' : '');
  for (const name of scalarResources) {
    metrics.mesosGauge(`master/${name}_total`, {
      help: `${name} of the registered agents${unit(name)}`,
      read: () => read().total[name],
    });
    metrics.mesosGauge(`master/${name}_used`, {
      help: `${name} allocated to tasks${unit(name)}`,
      read: () => read().used[name],
    });
    metrics.mesosGauge(`master/${name}_percent`, {
      help: `share of ${name} allocated to tasks, 0 to 1`,
      read: () => {
        const counts = read();
        return counts.total[name] === 0 ? 0 : counts.used[name] / counts.total[name];
      },
    });
    metrics.mesosGauge(`allocator/mesos/resources/${name}/total`, {
      help: `${name} the allocator can offer${unit(name)}`,
      read: () => read().total[name],
    });
    metrics.mesosGauge(`allocator/mesos/resources/${name}/offered_or_allocated`, {
      help: `${name} offered or allocated${unit(name)}`,
      read: () => read().used[name] + read().offered[name],
    });
  }
}
