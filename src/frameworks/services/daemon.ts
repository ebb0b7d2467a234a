// `flotilla services`: the services framework as its own process. It serves the Marathon API on
// --listen, competes for the lease with any other instance on the same KV namespace, and leads
// when it holds it. SIGTERM/SIGINT release the lease so a standby takes over at once.
import type { ClientTls } from '../../protocol/tls-client.ts';
import { limitJsonNesting } from '../../util/json-depth.ts';
import Fastify, { type FastifyInstance } from 'fastify';
import type { MasterAddress } from '../sdk/masters.ts';
import type { FrameworkCredentials } from '../sdk/transport.ts';
import { createLogger, type Logger } from '../../util/logger.ts';
import { registerMarathonRoutes } from './api/routes.ts';
import { ServicesFramework } from './framework.ts';
import { defaultLeaseTtlMs, defaultMaxRunningDeployments, defaultTaskLaunchTimeoutMs } from './limits.ts';

export interface ServicesDaemonConfig {
  readonly masters: readonly MasterAddress[];
  readonly host: string;
  readonly port: number;
  /** What other instances and clients are told to use; the listen address by default. */
  readonly advertisedAddress?: string;
  readonly namespace?: string;
  readonly frameworkName?: string;
  readonly role?: string;
  readonly user?: string;
  readonly leaseTtlMs?: number;
  readonly maxRunningDeployments?: number;
  readonly taskLaunchTimeoutMs?: number;
  readonly logger?: Logger;
  /** For masters with --credentials: the framework's principal and secret. */
  readonly credentials?: FrameworkCredentials;
  /** Masters with --tls-*: HTTPS trusting this CA; absent: plain HTTP. */
  readonly tls?: ClientTls | null;
}

export interface ServicesDaemon {
  readonly framework: ServicesFramework;
  readonly server: FastifyInstance;
  readonly address: string;
  stop(): Promise<void>;
}

export const defaultNamespace = 'flotilla-services';
/** A request body (an app list for PUT /v2/apps) may be this large. */
const maxBodyBytes = 8 * 1024 * 1024;

export async function startServicesDaemon(config: ServicesDaemonConfig): Promise<ServicesDaemon> {
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535) {
    throw new Error(`the services daemon needs a port from 1 to 65535, got ${config.port}`);
  }
  const address = config.advertisedAddress ?? `${config.host}:${config.port}`;
  const logger = config.logger ?? createLogger({ node: `services@${address}`, component: 'services' });
  const framework = new ServicesFramework({
    masters: config.masters,
    advertisedAddress: address,
    namespace: config.namespace ?? defaultNamespace,
    frameworkName: config.frameworkName ?? 'flotilla-services',
    role: config.role ?? '*',
    user: config.user ?? 'root',
    leaseTtlMs: config.leaseTtlMs ?? defaultLeaseTtlMs,
    maxRunningDeployments: config.maxRunningDeployments ?? defaultMaxRunningDeployments,
    taskLaunchTimeoutMs: config.taskLaunchTimeoutMs ?? defaultTaskLaunchTimeoutMs,
    logger,
    ...(config.credentials === undefined ? {} : { credentials: config.credentials }),
    tls: config.tls ?? null,
  });
  const server = Fastify({ bodyLimit: maxBodyBytes, forceCloseConnections: true });
  limitJsonNesting(server);
  server.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ message: `No route ${request.method} ${request.url.split('?')[0]}` });
  });
  registerMarathonRoutes(server, framework);
  await server.listen({ host: config.host, port: config.port });
  framework.start();
  logger.info({ address, masters: config.masters }, 'services daemon listening');
  return {
    framework,
    server,
    address,
    stop: async () => {
      await framework.stop();
      await server.close();
    },
  };
}
