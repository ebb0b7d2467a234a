// The fastify application of one master: every route validates its input, and every error —
// ours, fastify's schema errors, a body too large, a route not found — leaves as
// {"error": {"code", "message"}} with a 4xx/5xx, never a stack trace.
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Server as TlsServer } from 'node:tls';
import type { JobsApi } from '../frameworks/jobs/jobs-service.ts';
import type { ServicesFramework } from '../frameworks/services/framework.ts';
import { type Authorizer, allowEverything } from '../auth/authorizer.ts';
import type { RateLimits } from '../auth/rate-limits.ts';
import type { CredentialStore } from '../auth/credential-store.ts';
import { registerAuthentication } from '../auth/http-authentication.ts';
import { type Logger, silentLogger } from '../util/logger.ts';
import { limitJsonNesting } from '../util/json-depth.ts';
import { DeferredRequestLogger } from './deferred-request-logger.ts';
import { ErrorsAndSlowRequestsLog } from './request-log.ts';
import { developmentSecret } from '../util/shared-secret.ts';
import type { TlsIdentity } from '../util/tls.ts';
import type { CpuProfiler } from '../util/cpu-profiler.ts';
import { decorateAuthorizer } from './access.ts';
import { registerAudit } from './audit.ts';
import { MasterError } from '../master/errors.ts';
import type { MasterCore } from '../master/interface.ts';
import type { MetricRegistry } from '../util/metric-registry.ts';
import { HttpError } from './errors.ts';
import { maxBodyBytes } from './limits.ts';
import { masterErrorToHttp } from './master-errors.ts';
import { registerRequestMetrics } from './request-metrics.ts';
import { registerBackupRoutes } from './routes/backup.ts';
import { registerCors } from './routes/cors.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerKvRoutes } from './routes/kv.ts';
import { registerMarathonApi } from './routes/marathon.ts';
import { registerMetronomeApi } from './routes/metronome.ts';
import { registerMetricsRoutes } from './routes/metrics.ts';
import { registerProfilingRoutes } from './routes/profiling.ts';
import { registerOperatorRoutes, type SubscriberLimits } from './routes/operator.ts';
import { registerSandboxRoutes } from './routes/sandbox.ts';
import { registerSchedulerRoutes } from './routes/scheduler.ts';
import { registerUiRoutes } from './routes/ui.ts';
import { SchedulerRateLimiter } from './scheduler/rate-limiter.ts';

export interface HttpOptions {
  readonly master: MasterCore;
  /** A pino-compatible logger, or false in tests. */
  readonly logger: object | false;
  /**
   * The built-in frameworks this master hosts (null: off), whose APIs it serves; a follower
   * forwards them to the leader. Absent: neither is served (route tests of a bare master).
   */
  readonly frameworks?: { readonly services: ServicesFramework | null; readonly jobs: JobsApi | null };
  /** Who may call, and what they may do; without it (tests), anonymous and allowed everything. */
  readonly access?: HttpAccess;
  /** Where the request metrics go (the master's registry); none: requests are not counted. */
  readonly metrics?: MetricRegistry;
  /** --tls-*: serve HTTPS (and WSS for the upgrades); reloads reach new connections (setSecureContext). */
  readonly tls?: TlsIdentity | null;
  /** Operator SUBSCRIBE streams at once (--max-operator-subscribers[-per-principal]); absent: the defaults. */
  readonly subscriberLimits?: SubscriberLimits;
  /** Told of every route as it is registered: the fuzz test builds its list of routes from this. */
  readonly onRoute?: (route: { readonly method: string | readonly string[]; readonly url: string }) => void;
  /** --rate-limits: scheduler calls per principal (src/auth/rate-limits.ts); absent or null: none. */
  readonly rateLimits?: RateLimits | null;
  /** --enable-profiling: the master's own CPU profiler behind /debug/pprof; absent or null: off. */
  readonly profiler?: CpuProfiler | null;
}

export interface HttpAccess {
  /** null: no --credentials, every request is anonymous. */
  readonly credentials: CredentialStore | null;
  readonly authorizer: Authorizer;
  /** Where the audit lines of mutating calls go (audit.ts). */
  readonly auditLog: Logger;
  /** The cluster secret, which the master presents to agents when it reads a sandbox. */
  readonly clusterSecret: string;
}

const openAccess: HttpAccess = {
  credentials: null,
  authorizer: allowEverything,
  auditLog: silentLogger,
  clusterSecret: developmentSecret,
};

export function buildHttpServer(options: HttpOptions): FastifyInstance {
  const tls = options.tls ?? null;
  // fastify types an HTTPS instance apart; the routes and the daemon use only what both share.
  const app = Fastify({
    ...(tls === null ? {} : { https: tls.serverOptions() }),
    loggerInstance: options.logger === false ? undefined : (options.logger as never),
    // Each request's child logger is made when it is first written to (deferred-request-logger.ts).
    ...(options.logger === false ? {} : { childLoggerFactory: DeferredRequestLogger.factory }),
    bodyLimit: maxBodyBytes,
    // Not two lines per request: request-log.ts logs the errors and the slow ones.
    logController: new ErrorsAndSlowRequestsLog(),
    // The Raft peers and agents share the port through WebSocket upgrades (see src/master/daemon.ts).
    forceCloseConnections: true,
    // No type coercion: {"value": 5} is not the string "5"; and unknown fields are ignored,
    // as in protobuf JSON (DESIGN.md), rather than stripped silently into another meaning.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  if (tls !== null) tls.onReload(() => (app.server as unknown as TlsServer).setSecureContext(tls.serverOptions()));
  if (options.onRoute !== undefined) {
    const onRoute = options.onRoute;
    app.addHook('onRoute', (route) => onRoute({ method: route.method, url: route.url }));
  }
  // JSON only: a text/plain body is a 415, not a string that fails the schema.
  app.removeContentTypeParser('text/plain');
  limitJsonNesting(app);
  app.setErrorHandler((error: FastifyError | HttpError | MasterError, request, reply) => {
    // The master's failures become statuses here, at the edge; a NOT_LEADER is repeated on the
    // leader at the same path.
    const answer = error instanceof MasterError ? masterErrorToHttp(error, request.url) : error;
    if (answer instanceof HttpError) {
      if (answer.status >= 500 && answer.kind === 'INTERNAL') request.log.error({ err: error }, 'request failed');
      void reply.code(answer.status).headers(answer.headers).send(answer.body());
      return;
    }
    const translated = translateFastifyError(answer);
    if (translated.status >= 500) request.log.error({ err: error }, 'request failed');
    void reply.code(translated.status).send(translated.body());
  });
  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send(new HttpError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`).body());
  });
  const access = options.access ?? openAccess;
  if (options.metrics !== undefined) registerRequestMetrics(app, options.metrics);
  // CORS first: a preflight is answered before authentication, which it never carries.
  registerCors(app, options.master);
  registerAuthentication(app, { credentials: access.credentials, clusterSecret: null });
  decorateAuthorizer(app, access.authorizer);
  registerAudit(app, access.auditLog);
  registerHealthRoutes(app, options.master);
  registerOperatorRoutes(app, options.master, undefined, options.subscriberLimits);
  registerKvRoutes(app, options.master);
  registerMetricsRoutes(app, options.master);
  registerBackupRoutes(app, options.master);
  registerProfilingRoutes(app, options.profiler ?? null);
  const rateLimits = options.rateLimits ?? null;
  registerSchedulerRoutes(app, options.master, rateLimits === null ? null : new SchedulerRateLimiter(rateLimits));
  registerSandboxRoutes(app, options.master, access.clusterSecret, tls);
  registerUiRoutes(app, options.master);
  if (options.frameworks !== undefined) {
    const { services, jobs } = options.frameworks;
    registerMarathonApi(app, options.master, services, tls);
    registerMetronomeApi(app, options.master, jobs, { ping: services === null }, tls);
  }
  return app;
}

function translateFastifyError(error: FastifyError): HttpError {
  if (error.validation) return new HttpError('INVALID_BODY', error.message);
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError('PAYLOAD_TOO_LARGE', `the body is larger than ${maxBodyBytes} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError('UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new HttpError('BAD_REQUEST', error.message);
    default:
      break;
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    // Malformed JSON and friends: fastify marks them 400.
    return new HttpError('BAD_REQUEST', error.message);
  }
  return new HttpError('INTERNAL');
}
