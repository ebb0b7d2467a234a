// What the charts draw, sampled from the store and the latest Raft view every few seconds:
// cluster and per-agent resource use, tasks per state group, the Raft commit rate. Reading the
// store costs O(agents): its counts are kept incrementally. Pure: the time is passed in.
import { RateMeter, TimeSeries } from './series.js';

/** Samples kept per series: 30 minutes at one sample every 2 s. */
export const samplesKept = 900;
export const sampleIntervalMs = 2000;
/** Agents with a history of their own; past this, new agents have only the cluster's. */
export const maxAgentsWithHistory = 500;

/** The task state groups the chart draws, each a set of Mesos states. */
export const taskStateGroups = [
  { name: 'running', states: ['TASK_RUNNING'] },
  { name: 'starting', states: ['TASK_STAGING', 'TASK_STARTING', 'TASK_KILLING'] },
  { name: 'finished', states: ['TASK_FINISHED'] },
  { name: 'killed', states: ['TASK_KILLED'] },
  {
    name: 'failed or lost',
    states: ['TASK_FAILED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR'],
  },
  { name: 'unreachable', states: ['TASK_UNREACHABLE', 'TASK_UNKNOWN'] },
];

const resourceColumns = ['cpus used', 'cpus total', 'mem used', 'mem total'];

export class ClusterHistory {
  cluster = new TimeSeries(resourceColumns, samplesKept);
  taskStates = new TimeSeries(
    taskStateGroups.map((group) => group.name),
    samplesKept,
  );
  commitRate = new TimeSeries(['entries per second'], samplesKept);
  agents = new Map();
  #commits = new RateMeter();

  /** One sample of everything; `commitIndex` is the leader's (or null when no master answered). */
  sample(store, commitIndex, nowMs) {
    let cpusUsed = 0;
    let cpusTotal = 0;
    let memUsed = 0;
    let memTotal = 0;
    for (const agent of store.agents.values()) {
      if (agent.state === 'REMOVED') continue;
      const used = store.usedByAgent.get(agent.id);
      const values = [
        used?.get('cpus') ?? 0,
        agent.total.get('cpus') ?? 0,
        used?.get('mem') ?? 0,
        agent.total.get('mem') ?? 0,
      ];
      cpusUsed += values[0];
      cpusTotal += values[1];
      memUsed += values[2];
      memTotal += values[3];
      this.#agentSeries(agent.id)?.push(nowMs, values);
    }
    this.cluster.push(nowMs, [cpusUsed, cpusTotal, memUsed, memTotal]);
    this.taskStates.push(
      nowMs,
      taskStateGroups.map((group) =>
        group.states.reduce((count, state) => count + (store.stateCounts.get(state) ?? 0), 0),
      ),
    );
    this.commitRate.push(nowMs, [commitIndex === null ? Number.NaN : this.#commits.read(commitIndex, nowMs)]);
  }

  #agentSeries(id) {
    let series = this.agents.get(id);
    if (series === undefined && this.agents.size < maxAgentsWithHistory) {
      series = new TimeSeries(resourceColumns, samplesKept);
      this.agents.set(id, series);
    }
    return series;
  }
}
