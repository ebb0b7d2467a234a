// GET /metrics: the Prometheus text exposition of this master's metrics; GET /metrics/snapshot:
// the same values as one flat JSON object keyed by Mesos' names ("master/tasks_running"), as a
// Mesos master answers it (src/util/metric-registry.ts says how the names correspond).
import type { FastifyInstance } from 'fastify';
import type { MasterCore } from '../../master/interface.ts';

export function registerMetricsRoutes(app: FastifyInstance, master: MasterCore): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await master.metricsText();
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(text);
  });
  app.get('/metrics/snapshot', async () => master.metricsSnapshot());
}
