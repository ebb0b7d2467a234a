// registerMarathonRoutes(app, services): Marathon's v2 REST API as a fastify plugin, in its own
// encapsulated context so its conventions stay on its routes: errors as Marathon's
// {"message"[, "details" | "deployments"]}, an empty JSON body accepted (Marathon's clients
// send Content-Type: application/json on body-less POSTs), and a standby instance proxying to
// the leading one. The daemon (daemon.ts) registers it on its own server; a master can too.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MarathonApiError, marathonErrors } from '../api-error.ts';
import type { ServicesFramework } from '../framework.ts';
import { StoreError } from '../store.ts';
import { registerAppRoutes } from './app-routes.ts';
import { registerEventsRoute } from './events-route.ts';
import { registerOtherRoutes } from './other-routes.ts';
import { proxyTo } from './proxy.ts';

/** Answered by any instance, leading or not (Marathon answers these on every node too). */
const localRoutes = new Set(['/ping', '/v2/info', '/v2/leader']);

export function registerMarathonRoutes(app: FastifyInstance, services: ServicesFramework): void {
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch (error) {
        done(
          new MarathonApiError(400, 'Invalid JSON', {
            details: [{ path: '/', errors: [(error as Error).message] }],
          }) as unknown as FastifyError,
          undefined,
        );
      }
    });
    scope.setErrorHandler((error: FastifyError | MarathonApiError, request, reply) =>
      marathonError(error, request, reply),
    );
    scope.addHook('preHandler', async (request, reply) => {
      const path = request.url.split('?')[0]!;
      if (localRoutes.has(path) || services.leading) return;
      const leader = services.leaderAddress();
      if (leader === null || leader === services.config.advertisedAddress) throw marathonErrors.notLeading();
      await proxyTo(leader, request, reply);
      return reply;
    });
    scope.get('/ping', (_request, reply) => reply.type('text/plain; charset=utf-8').send('pong'));
    registerAppRoutes(scope, services);
    registerEventsRoute(scope, services);
    registerOtherRoutes(scope, services);
  });
}

function marathonError(
  error: FastifyError | MarathonApiError | StoreError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error instanceof MarathonApiError) {
    if (error.status === 503) void reply.header('retry-after', '1');
    void reply.code(error.status).send(error.body());
    return;
  }
  if (error instanceof StoreError) {
    // The instance stopped leading (or lost the KV store) while answering: retry on the leader.
    void reply
      .code(503)
      .header('retry-after', '1')
      .send({ message: `Leader is not available: ${error.message}` });
    return;
  }
  const status = error.statusCode ?? 500;
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    void reply.code(415).send({ message: 'Unsupported Media Type: send application/json' });
    return;
  }
  if (status >= 400 && status < 500) {
    void reply.code(status).send({ message: error.message });
    return;
  }
  request.log.error({ err: error }, 'Marathon API request failed');
  void reply.code(500).send({ message: 'An unexpected server error occurred' });
}
