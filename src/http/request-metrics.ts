// Every HTTP request a master answers, by method, route and status, with its latency: one
// fastify onResponse hook. The route is the pattern fastify matched ("/api/v1/kv/:namespace/*"),
// never the raw URL, so a client cannot make the series grow without bound; a request no route
// matched counts under "unmatched". A stream (SUBSCRIBE) counts once, when it ends, with its
// whole lifetime as its latency.
import type { FastifyInstance } from 'fastify';
import type { MetricRegistry } from '../util/metric-registry.ts';

const millisecondsPerSecond = 1000;
/** From a cached read (well under a millisecond) to a write waiting on a WAN quorum. */
const requestBucketsSeconds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
export const unmatchedRoute = 'unmatched';

export function registerRequestMetrics(app: FastifyInstance, metrics: MetricRegistry): void {
  const duration = metrics.histogram(
    'flotilla_http_request_duration_seconds',
    'HTTP requests answered, by method, route pattern and status, with their latency',
    requestBucketsSeconds,
    ['method', 'route', 'status'],
  );
  // A callback hook: an async one costs every answer a promise and a microtask turn (issue 19).
  app.addHook('onResponse', (request, reply, done) => {
    duration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? unmatchedRoute,
        status: String(reply.statusCode),
      },
      reply.elapsedTime / millisecondsPerSecond,
    );
    done();
  });
}
