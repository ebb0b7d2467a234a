// GET /metrics: Prometheus text exposition of this master's metrics.
import type { FastifyInstance } from 'fastify';
import type { MasterFacade } from '../facade.ts';

export function registerMetricsRoutes(app: FastifyInstance, master: MasterFacade): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await master.metricsText();
    return reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').send(text);
  });
}
