// GET /metrics: Prometheus text exposition of this master's metrics.
import type { FastifyInstance } from 'fastify';
import type { MasterCore } from '../../master/interface.ts';

export function registerMetricsRoutes(app: FastifyInstance, master: MasterCore): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await master.metricsText();
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(text);
  });
}
