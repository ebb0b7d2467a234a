// GET_METRICS (master.proto Response.GetMetrics: `metrics: [{name, value}]`): every metric of
// this master, as /metrics/snapshot has them — Mesos' names where Mesos has the metric
// ("master/tasks_running"), "flotilla/…" where it does not (Raft, HTTP). Local: a monitor must
// get an answer even without a leader.
import { optionalObjectField } from './fields.ts';
import type { OperatorCallTable } from './registry.ts';

export const metricsCalls: OperatorCallTable = {
  GET_METRICS: {
    write: false,
    local: true,
    async handle({ master, call }) {
      // `get_metrics.timeout` bounds Mesos' collection of slow metrics; these are all immediate.
      optionalObjectField(call, 'get_metrics');
      const snapshot = await master.metricsSnapshot();
      const metrics = Object.entries(snapshot).map(([name, value]) => ({ name, value }));
      return { type: 'GET_METRICS', get_metrics: { metrics } };
    },
  },
};
