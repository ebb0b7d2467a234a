// registerMarathonRoutes(app, services): Marathon's v2 REST API as a fastify plugin, in its own
// encapsulated context so its conventions stay on its routes: errors as Marathon's
// {"message"[, "details" | "deployments"]}, an empty JSON body accepted (Marathon's clients
// send Content-Type: application/json on body-less POSTs), and a standby instance forwarding
// to the leading one (src/frameworks/hosting/forward.ts). The daemon (daemon.ts) registers it
// on its own server; a master registers it on its port (src/http/routes/marathon.ts), where the
// master's gate forwards to the leading master first and an instance answers only for itself.
import { jsonNestsDeeperThan, maxJsonNestingDepth } from '../../../util/json-depth.ts';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forwardedByHeader as forwardedByHeaderName, forwardRequest } from '../../hosting/forward.ts';
import { parseMasterAddress } from '../../sdk/masters.ts';
import { MarathonApiError, marathonErrors } from '../api-error.ts';
import type { ServicesFramework } from '../framework.ts';
import { forwardAnswerTimeoutMs, forwardHeadersTimeoutMs } from '../limits.ts';
import { StoreError } from '../store.ts';
import { registerAppRoutes } from './app-routes.ts';
import { registerEventsRoute } from './events-route.ts';
import { registerOtherRoutes } from './other-routes.ts';
import { recallKeyed } from './keyed-writes.ts';

/** Answered by any instance, leading or not (Marathon answers these on every node too). */
const localRoutes = new Set(['/ping', '/v2/info', '/v2/leader']);

/** A standby's answer: forwarded to the lease holder, or 503 when none is known (never to itself, never twice). */
async function forwardToHolder(services: ServicesFramework, request: FastifyRequest, reply: FastifyReply) {
  const path = request.url.split('?')[0]!;
  if (localRoutes.has(path) || services.leading || services.config.hosted === true) return;
  const holder = services.leaderAddress();
  const address = services.config.advertisedAddress;
  if (holder === null || holder === address || request.headers[forwardedByHeaderName] !== undefined)
    throw marathonErrors.notLeading();
  await forwardRequest(request, reply, {
    target: parseMasterAddress(holder),
    forwarder: `flotilla-services@${address}`,
    headersTimeoutMs: forwardHeadersTimeoutMs,
    answerTimeoutMs: forwardAnswerTimeoutMs,
    unreachable: (problem) => ({ status: 503, body: { message: `Leader is not available: ${problem}` } }),
  });
  return reply;
}

export function registerMarathonRoutes(app: FastifyInstance, services: ServicesFramework): void {
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      const text = String(body);
      if (text.trim() === '') return done(null, undefined);
      if (jsonNestsDeeperThan(text, maxJsonNestingDepth)) {
        const problem = `the JSON body nests deeper than ${maxJsonNestingDepth} levels`;
        return done(
          new MarathonApiError(400, 'Invalid JSON', {
            details: [{ path: '/', errors: [problem] }],
          }) as unknown as FastifyError,
          undefined,
        );
      }
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
    scope.addHook('onRequest', (request, reply) => forwardToHolder(services, request, reply));
    scope.addHook('preHandler', (request, reply) => recallKeyed(services, request, reply));
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
