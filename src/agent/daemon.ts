// One agent process, composed from its checked options (config.ts): the work directory, the
// containerizers it was asked for, the resources it offers (given, and detected for what the
// flag leaves out), its health checks, and the Agent itself. `flotilla agent` parses the flags
// and calls this; tests may call it with options made in code.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { Authorizer } from '../auth/authorizer.ts';
import { CredentialStore } from '../auth/credential-store.ts';
import { warnWhileInsecure } from '../auth/exposure.ts';
import type { Logger } from '../util/logger.ts';
import { Agent } from './agent.ts';
import type { AgentConfig } from './config.ts';
import { DockerContainerizer } from './containerizer/docker.ts';
import { ProcessContainerizer } from './containerizer/process.ts';
import { meteredContainerizers } from './containerizer/metered.ts';
import type { Containerizer, ContainerizerKind } from './containerizer/types.ts';
import { healthCheckStarter } from './health-watch.ts';
import { AgentMetrics } from './metrics.ts';
import { detectResources, parseAttributesFlag, parseResourcesFlag } from './resources.ts';

/** MESOS_SUBSCRIPTION_BACKOFF_MAX as Mesos sets it (2 s). */
const executorSubscriptionBackoffMaxMs = 2_000;
/** HEARTBEAT events on executors' streams (Mesos sends none to executors; they keep proxies from closing idle streams). */
const executorHeartbeatIntervalMs = 30_000;

export interface AgentEnvironment {
  readonly logger: Logger;
}

function buildContainerizers(
  kinds: readonly ContainerizerKind[],
  volumeAllowlist: readonly string[],
  logger: Logger,
): Map<ContainerizerKind, Containerizer> {
  const containerizers = new Map<ContainerizerKind, Containerizer>();
  for (const kind of kinds) {
    const containerizerLogger = logger.child({ containerizer: kind });
    containerizers.set(
      kind,
      kind === 'process'
        ? new ProcessContainerizer({ logger: containerizerLogger })
        : new DockerContainerizer({ logger: containerizerLogger, volumeAllowlist }),
    );
  }
  return containerizers;
}

/** Opens the checkpoint (CheckpointError if corrupted), recovers tasks, serves HTTP, dials the masters. */
export async function startAgentDaemon(config: AgentConfig, environment: AgentEnvironment): Promise<Agent> {
  const { options } = config;
  const logger = environment.logger;
  if (options.clusterSecretFile === null)
    logger.warn({}, 'no --cluster-secret-file: using the development secret, as masters without one do');
  mkdirSync(options.workDir, { recursive: true });
  const attributes = parseAttributesFlag(options.attributes);
  const metrics = new AgentMetrics(`${options.listen.host}:${options.listen.port}`);
  const containerizers = buildContainerizers(options.containerizers, options.dockerVolumeAllowlist, logger);
  const agent = await Agent.start({
    masters: options.masters,
    workDir: options.workDir,
    secret: config.secret,
    tls: config.tls,
    resources: detectResources(options.workDir, parseResourcesFlag(options.resources)),
    attributes,
    zone: options.zone ?? attributes.zone ?? null,
    hostname: options.hostname ?? os.hostname(),
    listenHost: options.listen.host,
    listenPort: options.listen.port,
    containerizers: meteredContainerizers(containerizers, metrics),
    startHealthCheck: healthCheckStarter(logger.child({ subsystem: 'health' })),
    defaultKillGracePeriodMs: options.killGracePeriodMs,
    switchUser: options.switchUser,
    allowRootTasks: options.rootTasks,
    usageIntervalMs: options.usageIntervalMs,
    executors: {
      registrationTimeoutMs: options.executorRegistrationTimeoutMs,
      recoveryTimeoutMs: options.executorRecoveryTimeoutMs,
      subscriptionBackoffMaxMs: executorSubscriptionBackoffMaxMs,
      shutdownGracePeriodMs: options.executorShutdownGracePeriodMs,
      idleTimeoutMs: options.executorIdleTimeoutMs,
      heartbeatIntervalMs: executorHeartbeatIntervalMs,
    },
    flags: config.flags,
    access: {
      credentials: config.auth.credentials === null ? null : new CredentialStore(config.auth.credentials),
      authorizer: new Authorizer(config.auth.acls),
    },
    metrics,
    logger,
  });
  logger.info(
    {
      authentication: config.auth.credentials === null ? 'anonymous' : 'credentials',
      principals: config.auth.credentials?.length ?? 0,
      acls: config.auth.acls === null ? 'none: everything allowed' : options.acls,
      tls: config.tls === null ? 'off' : 'tls',
      fingerprint: config.tls?.material.fingerprint ?? null,
    },
    'agent API access',
  );
  // The warnings stop with the process: an agent stops by exiting (its tasks keep running).
  warnWhileInsecure(config.auth.exposure, logger);
  return agent;
}
