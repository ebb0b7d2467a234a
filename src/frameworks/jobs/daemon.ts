// `flotilla jobs --masters … --listen host:port`: the jobs framework as its own process —
// the framework (JobsService) and its Metronome API on one HTTP port, JSON logs on stderr.
// SIGTERM or SIGINT closes the API and the scheduler stream; the framework stays registered
// with the masters (its tasks keep running) until its failover timeout, so a restart resumes.
import type { ClientTls } from '../../protocol/tls-client.ts';
import { limitJsonNesting } from '../../util/json-depth.ts';
import { maxBodyBytes } from './limits.ts';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLogger, type Logger } from '../../util/logger.ts';
import type { MasterAddress } from '../sdk/masters.ts';
import type { FrameworkCredentials } from '../sdk/transport.ts';
import { registerMetronomeRoutes } from './api/metronome-routes.ts';
import { type Clock, fileClock, systemClock } from './clock.ts';
import { JobsService } from './jobs-service.ts';

export interface JobsDaemonConfig {
  readonly masters: readonly MasterAddress[];
  readonly host: string;
  readonly port: number;
  readonly namespace: string;
  readonly role: string;
  readonly tickMs: number;
  /** Tests only: the clock is the epoch ms written in this file (clock.ts fileClock). */
  readonly testClockFile?: string;
  readonly logger?: Logger;
  /** For masters with --credentials: the framework's principal and secret. */
  readonly credentials?: FrameworkCredentials;
  /** Masters with --tls-*: HTTPS trusting this CA; absent: plain HTTP. */
  readonly tls?: ClientTls | null;
}

export interface JobsDaemon {
  readonly address: string;
  readonly service: JobsService;
  stop(): Promise<void>;
}

export async function startJobsDaemon(config: JobsDaemonConfig): Promise<JobsDaemon> {
  const logger = config.logger ?? createLogger({ node: `jobs-${config.port}`, component: 'jobs' });
  const clock: Clock = config.testClockFile === undefined ? systemClock : fileClock(config.testClockFile);
  if (config.testClockFile !== undefined) logger.warn({ file: config.testClockFile }, 'using a test clock');
  const service = new JobsService({
    masters: config.masters,
    namespace: config.namespace,
    clock,
    logger,
    tickMs: config.tickMs,
    role: config.role,
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    tls: config.tls ?? null,
  });
  const app = buildApp(service);
  await app.listen({ host: config.host, port: config.port });
  const address = `${config.host}:${(app.server.address() as { port: number }).port}`;
  logger.info({ address, masters: config.masters, namespace: config.namespace }, 'jobs API listening');
  // The API answers 503 until the records are loaded; start() retries until the masters answer.
  const started = service
    .start()
    .catch((error: Error) => logger.error({ error: error.message }, 'jobs framework failed'));
  return {
    address,
    service,
    stop: async () => {
      service.stop();
      await started;
      await app.close();
    },
  };
}

function buildApp(service: JobsService): FastifyInstance {
  const app = Fastify({ bodyLimit: maxBodyBytes, forceCloseConnections: true });
  limitJsonNesting(app);
  app.removeContentTypeParser('text/plain');
  // Metronome's liveness probe (general/ping.raml).
  app.get('/ping', async (_request, reply) => reply.type('text/plain').send('pong'));
  void registerMetronomeRoutes(app, service);
  return app;
}
