// Where a framework's executor runs, and what its container is given. Without a container (or
// with a MESOS one without an image) it is a process on the agent, with the agent's environment,
// as Mesos executors inherit it. With a DOCKER container (or a MESOS one with an image, which the
// engine runs as it does for tasks) it runs in that image through the docker containerizer, the
// path Docker tasks take (port mappings, volumes, parameters, force_pull_image, user), as Mesos'
// Docker containerizer runs an "executor in container": its sandbox mounted at
// /mnt/mesos/sandbox (MESOS_SANDBOX; MESOS_DIRECTORY stays the agent's path, as in Mesos), only
// the MESOS_* variables and its command's own (the agent's PATH or HOME mean nothing in an
// image), MESOS_AGENT_ENDPOINT an address the container can reach, and its resources plus its
// live tasks' as Docker limits, changed as tasks come and go (Mesos' `update`).
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { executorEnvironment } from '../../protocol/executor.ts';
import { formatDuration } from '../../protocol/durations.ts';
import type { WireContainer, WireExecutorInfo } from '../../protocol/agent.ts';
import type { Checkpoint } from '../checkpoint.ts';
import { containerSandboxPath } from '../containerizer/docker-volumes.ts';
import { ContainerLaunchError, type ContainerizerKind, type ContainerSpec } from '../containerizer/types.ts';
import { containerizerOf, scalarSum } from '../task-environment.ts';
import type { ExecutorRegistry } from './registry.ts';
import type { ExecutorSession } from './session.ts';

/** ContainerSpec.taskId of an executor's container: no task id has a "/", so it is never a task's. */
export const executorContainerKey = (executorId: string): string => `executor/${executorId}`;

/** Which containerizer runs a framework's executor: the rule tasks follow (task-environment.ts). */
export function executorContainerizer(info: WireExecutorInfo | null): ContainerizerKind {
  return containerizerOf(info?.container ?? null);
}

const sandboxCaFileName = 'agent-tls-ca.pem';
const loopbackHosts = /^(localhost|127\.\d+\.\d+\.\d+|::1|\[::1\])$/;
const wildcardHosts = new Set(['0.0.0.0', '::', '[::]', '']);

/**
 * MESOS_AGENT_ENDPOINT as the executor's container reaches it. HOST networking shares the agent's
 * addresses. A BRIDGE container reaches an agent listening on every address through the bridge's
 * gateway, and one listening on a routable address there; an agent on loopback it cannot reach at all.
 */
export function reachableAgentEndpoint(
  endpoint: string,
  network: WireContainer['network'],
  gateway: string | null,
): string {
  if (network === 'HOST') return endpoint;
  const colon = endpoint.lastIndexOf(':');
  const host = endpoint.slice(0, colon);
  const port = endpoint.slice(colon + 1);
  if (loopbackHosts.test(host))
    throw new ContainerLaunchError(
      `network ${network}: the agent's executor API listens on ${endpoint}, which a container off the host network ` +
        'cannot reach; start the agent with --listen on a routable address (or 0.0.0.0), or use HOST networking',
    );
  if (!wildcardHosts.has(host)) return endpoint;
  if (gateway === null) throw new ContainerLaunchError(`network ${network}: no gateway to reach the agent through`);
  return `${gateway}:${port}`;
}

/** The executor's limits: its own resources and its live tasks' (null: none of that kind is held). */
export function executorLimits(
  checkpoint: Checkpoint,
  frameworkId: string,
  executorId: string,
  info: WireExecutorInfo | null,
): { cpus: number | null; memMb: number | null } {
  const tasks = checkpoint.liveTasksOfExecutor(frameworkId, executorId);
  const resources = [...(info?.resources ?? []), ...tasks.flatMap((task) => task.spec.resources)];
  return { cpus: scalarSum(resources, 'cpus'), memMb: scalarSum(resources, 'mem') };
}

/**
 * Only the CA (the agent's own key stays the agent's). A container sees no host path but its
 * sandbox, so the (public) CA certificate is copied there and named by its path inside.
 */
function tlsEnvironment(caFile: string | null, imageSandbox: string | null): Record<string, string> {
  if (caFile === null) return {};
  if (imageSandbox === null)
    return { [executorEnvironment.sslEnabled]: 'true', [executorEnvironment.sslCaFile]: caFile };
  copyFileSync(caFile, path.join(imageSandbox, sandboxCaFileName));
  return {
    [executorEnvironment.sslEnabled]: 'true',
    [executorEnvironment.sslCaFile]: path.posix.join(containerSandboxPath, sandboxCaFileName),
  };
}

/** The executor's whole container spec; `user` is set by the launch once it is resolved. */
export async function executorContainerSpec(
  registry: ExecutorRegistry,
  session: ExecutorSession,
): Promise<ContainerSpec> {
  const { host } = registry;
  const info = session.info;
  const command = info?.command ?? null;
  const container = info?.container ?? null;
  const inImage = executorContainerizer(info) === 'docker';
  const settings = host.settings;
  const grace = info?.shutdownGracePeriodMs ?? settings.shutdownGracePeriodMs;
  const network = container?.network ?? 'HOST';
  const gateway =
    inImage && network === 'BRIDGE' ? ((await host.containerizers.get('docker')?.bridgeGateway?.()) ?? null) : null;
  const limits = inImage
    ? executorLimits(registry.host.checkpoint, session.frameworkId, session.executorId, session.info)
    : { cpus: null, memMb: null };
  return {
    agentId: host.agentId() ?? '',
    frameworkId: session.frameworkId,
    taskId: executorContainerKey(session.executorId),
    sandbox: session.sandbox,
    command: command === null ? null : { value: command.value, shell: command.shell, arguments: command.arguments },
    image: container?.image ?? null,
    forcePullImage: container?.forcePullImage ?? false,
    network,
    portMappings: container?.portMappings ?? [],
    volumes: container?.volumes ?? [],
    // Not yet: persistent volumes (of the executor's resources or its tasks') are not mounted into it.
    persistentVolumes: [],
    privileged: container?.privileged ?? false,
    parameters: container?.parameters ?? [],
    hostname: container?.hostname ?? null,
    user: null,
    environment: {
      ...(inImage ? {} : (process.env as Record<string, string>)),
      MESOS_AGENT_ID: host.agentId() ?? '',
      MESOS_SLAVE_ID: host.agentId() ?? '',
      [executorEnvironment.agentEndpoint]: inImage
        ? reachableAgentEndpoint(host.endpoint, network, gateway)
        : host.endpoint,
      [executorEnvironment.frameworkId]: session.frameworkId,
      [executorEnvironment.executorId]: session.executorId,
      [executorEnvironment.directory]: session.sandbox,
      // In an image the docker containerizer sets it to where it mounts the sandbox.
      [executorEnvironment.sandbox]: session.sandbox,
      [executorEnvironment.checkpoint]: '1',
      [executorEnvironment.recoveryTimeout]: formatDuration(settings.recoveryTimeoutMs),
      [executorEnvironment.subscriptionBackoffMax]: formatDuration(settings.subscriptionBackoffMaxMs),
      [executorEnvironment.shutdownGracePeriod]: formatDuration(grace),
      ...(command?.environment ?? {}),
      // After the framework's own: the token is the agent's to give, never the framework's to choose.
      ...(session.authenticationToken === null
        ? {}
        : { [executorEnvironment.authenticationToken]: session.authenticationToken }),
      ...tlsEnvironment(host.tlsCaFile, inImage ? session.sandbox : null),
    },
    // A process's cgroup is not resized as tasks come; a container's is (resizeExecutor).
    cpus: limits.cpus,
    memMb: limits.memMb,
  };
}

/** A task of the executor came or ended: its container's limits follow (docker only). */
export function resizeExecutor(registry: ExecutorRegistry, session: ExecutorSession): void {
  const container = session.container;
  if (container?.resize === undefined || session.state === 'terminated') return;
  const { cpus, memMb } = executorLimits(
    registry.host.checkpoint,
    session.frameworkId,
    session.executorId,
    session.info,
  );
  container
    .resize(cpus, memMb)
    .catch((error: unknown) =>
      registry.host.logger.warn(
        { framework: session.frameworkId, executor: session.executorId, cpus, memMb, error: (error as Error).message },
        'could not change the executor container limits',
      ),
    );
}
