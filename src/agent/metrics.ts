// Every metric of one agent (prom-client), with Mesos' agent names where Mesos has them
// (monitoring.md, "Agent Nodes": Mesos' "slave/" is "agent/" here): whether it is registered,
// its tasks by state, its resources total and allocated, container launch errors; and Flotilla's
// own: launches per containerizer and outcome, status updates not yet acknowledged by the master.
// `/metrics` on the agent's port is its text, `/metrics/snapshot` its flat Mesos-style JSON.
import type { WireResource } from '../protocol/agent.ts';
import { taskStates } from '../protocol/task-states.ts';
import { MetricRegistry } from '../util/metric-registry.ts';
import { collectProcessMetrics } from '../util/process-metrics.ts';
import type { ContainerizerKind } from './containerizer/types.ts';

const millisecondsPerSecond = 1000;
const scalarResources = ['cpus', 'mem', 'disk'] as const;

/** What the gauges read, given once the agent exists (agent.ts binds it). */
export interface AgentMetricSource {
  registered(): boolean;
  taskCountsByState(): Readonly<Record<string, number>>;
  pendingStatusUpdates(): number;
  /** Tasks with a run on this agent (launching, running or being killed). */
  liveTasks(): number;
  totalResources(): readonly WireResource[];
  /** The resources of the tasks that run here now. */
  usedResources(): readonly WireResource[];
}

function scalarSum(resources: readonly WireResource[], name: string): number {
  let total = 0;
  for (const resource of resources) if (resource.name === name && resource.type === 'SCALAR') total += resource.scalar;
  return total;
}

export class AgentMetrics {
  readonly metrics: MetricRegistry;
  readonly #launches;
  readonly #launchErrors;
  #source: AgentMetricSource | null = null;

  /** `name`: what the agent is called in every series (its listen address). */
  constructor(name: string, startedAtMs = Date.now()) {
    this.metrics = new MetricRegistry({ agent: name });
    collectProcessMetrics(this.metrics.registry, 'flotilla_process_');
    this.metrics.mesosGauge('agent/uptime_secs', {
      help: 'seconds since this agent started',
      read: () => (Date.now() - startedAtMs) / millisecondsPerSecond,
    });
    this.metrics.mesosGauge('agent/registered', {
      help: '1 while this agent is registered with the leading master, else 0',
      read: () => (this.#source?.registered() ? 1 : 0),
    });
    this.#registerTaskGauges();
    this.#registerResourceGauges();
    this.#launchErrors = this.metrics.mesosCounter('agent/container_launch_errors', 'container launches that failed');
    this.#launches = this.metrics.counter(
      'flotilla_agent_container_launches_total',
      'container launches by containerizer and outcome (launched, failed)',
      ['containerizer', 'outcome'],
    );
    this.metrics.gauge('flotilla_agent_status_updates_pending', {
      help: 'status updates checkpointed and not yet acknowledged by the master',
      read: () => this.#source?.pendingStatusUpdates() ?? 0,
    });
  }

  bind(source: AgentMetricSource): void {
    this.#source = source;
  }

  /** The metered containerizer (containerizer/metered.ts) after each launch. */
  containerLaunched(kind: ContainerizerKind, ok: boolean): void {
    this.#launches.inc({ containerizer: kind, outcome: ok ? 'launched' : 'failed' });
    if (!ok) this.#launchErrors.inc();
  }

  #registerTaskGauges(): void {
    for (const taskState of taskStates) {
      this.metrics.mesosGauge(`agent/${taskState.toLowerCase().replace('task_', 'tasks_')}`, {
        help: `tasks in ${taskState} in this agent's checkpoint`,
        read: () => this.#source?.taskCountsByState()[taskState] ?? 0,
      });
    }
    this.metrics.mesosGauge('agent/executors_running', {
      help: 'tasks with a container on this agent (each runs under its own executor)',
      read: () => this.#source?.liveTasks() ?? 0,
    });
  }

  #registerResourceGauges(): void {
    for (const name of scalarResources) {
      const unit = name === 'cpus' ? '' : ' (MB)';
      const total = (): number => scalarSum(this.#source?.totalResources() ?? [], name);
      const used = (): number => scalarSum(this.#source?.usedResources() ?? [], name);
      this.metrics.mesosGauge(`agent/${name}_total`, { help: `${name} this agent offers${unit}`, read: total });
      this.metrics.mesosGauge(`agent/${name}_used`, { help: `${name} of the tasks running here${unit}`, read: used });
      this.metrics.mesosGauge(`agent/${name}_percent`, {
        help: `share of ${name} used by tasks, 0 to 1`,
        read: () => (total() === 0 ? 0 : used() / total()),
      });
    }
  }
}
