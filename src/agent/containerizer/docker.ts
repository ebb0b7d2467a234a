// The `docker` containerizer: one container per task, made through dockerode against
// DOCKER_HOST. Containers carry labels with the agent, framework and task ids, so a restarted
// agent finds its own (recover) and removes those of tasks it no longer knows (removeOrphans).
// A launch checks the volumes and parameters (docker-volumes.ts, docker-options.ts), pulls the
// image when the engine lacks it or the task forces a pull (docker-image.ts), then creates and
// starts the container.
import { maxNameTaskChars } from '../limits.ts';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from '../../util/logger.ts';
import { createDockerClient, engineMessage, engineStatus } from './docker-client.ts';
import { ensureImage } from './docker-image.ts';
import { createOptions, dockerLabels } from './docker-options.ts';
import { containerBinds } from './docker-volumes.ts';
import { RunningDocker } from './docker-running.ts';
import {
  ContainerLaunchError,
  type ContainerHandle,
  type Containerizer,
  type ContainerSpec,
  type LaunchProgress,
  type RunningContainer,
} from './types.ts';

export { dockerLabels } from './docker-options.ts';
export { containerSandboxPath } from './docker-volumes.ts';

// Create, start and inspect answer quickly on a healthy engine; a stuck one must not hang a launch.
const engineCallTimeoutMs = 30_000;

export interface DockerContainerizerOptions {
  readonly logger: Logger;
  /** Absolute host folders a volume's host_path may be in (--docker-volume-allowlist); none: sandbox-relative only. */
  readonly volumeAllowlist?: readonly string[];
  /** Defaults to a client for DOCKER_HOST. */
  readonly docker?: Docker;
}

async function withTimeout<Value>(what: string, promise: Promise<Value>): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new ContainerLaunchError(`the Docker engine did not answer ${what} within ${engineCallTimeoutMs} ms`)),
      engineCallTimeoutMs,
    );
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function containerName(spec: ContainerSpec): string {
  const task = spec.taskId.replace(/[^a-zA-Z0-9_.-]/g, '_').slice(0, maxNameTaskChars);
  return `flotilla-${task}-${randomBytes(4).toString('hex')}`;
}

export class DockerContainerizer implements Containerizer {
  readonly kind = 'docker';
  private readonly docker: Docker;

  constructor(private readonly options: DockerContainerizerOptions) {
    this.docker = options.docker ?? createDockerClient();
  }

  private async networkMode(network: ContainerSpec['network']): Promise<string> {
    if (network === 'HOST') return 'host';
    if (network === 'NONE') return 'none';
    // An engine started with --bridge=none has no "bridge" network; say so instead of letting
    // the create call fail with a message about a network the task never named.
    try {
      await withTimeout('a network inspect', this.docker.getNetwork('bridge').inspect());
      return 'bridge';
    } catch (error) {
      if (error instanceof ContainerLaunchError) throw error;
      throw new ContainerLaunchError(
        `network BRIDGE: the Docker engine has no "bridge" network (${engineMessage(error)}); use HOST or NONE`,
      );
    }
  }

  private async createOptions(spec: ContainerSpec): Promise<Docker.ContainerCreateOptions> {
    if (spec.image === null || spec.image === '')
      throw new ContainerLaunchError('the docker containerizer needs an image');
    if (!path.isAbsolute(spec.sandbox) || !statSync(spec.sandbox, { throwIfNoEntry: false })?.isDirectory()) {
      throw new ContainerLaunchError(`sandbox ${spec.sandbox} is not an existing absolute directory`);
    }
    const binds = containerBinds(spec, this.options.volumeAllowlist ?? []);
    return createOptions(spec, containerName(spec), await this.networkMode(spec.network), binds);
  }

  async launch(spec: ContainerSpec, progress: LaunchProgress = () => undefined): Promise<RunningContainer> {
    const options = await this.createOptions(spec);
    await ensureImage(this.docker, options.Image ?? '', spec.forcePullImage, progress, this.options.logger);
    let container: Docker.Container;
    try {
      container = await withTimeout('a container create', this.docker.createContainer(options));
    } catch (error) {
      if (error instanceof ContainerLaunchError) throw error;
      throw new ContainerLaunchError(`the Docker engine refused to create the container: ${engineMessage(error)}`);
    }
    try {
      await withTimeout('a container start', container.start());
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw new ContainerLaunchError(`the Docker engine could not start the container: ${engineMessage(error)}`);
    }
    this.options.logger.info(
      { event: 'container_launched', taskId: spec.taskId, containerId: container.id, image: spec.image },
      'task container started',
    );
    return new RunningDocker(this.docker, container.id, spec, this.options.logger, 0);
  }

  async recover(handle: ContainerHandle, spec: ContainerSpec): Promise<RunningContainer | null> {
    if (handle.kind !== 'docker' || handle.containerId === null) return null;
    try {
      await this.docker.getContainer(handle.containerId).inspect();
    } catch (error) {
      this.options.logger.info(
        { event: 'container_not_recovered', containerId: handle.containerId, error: engineMessage(error) },
        'task container is gone',
      );
      return null;
    }
    // Output written while the agent was away: copy from about when the sandbox files last
    // changed. Docker's `since` is in whole seconds, so a line may be copied twice; none is lost.
    const lastCopiedMs = Math.max(
      ...['stdout', 'stderr'].map(
        (name) => statSync(path.join(spec.sandbox, name), { throwIfNoEntry: false })?.mtimeMs ?? 0,
      ),
    );
    return new RunningDocker(
      this.docker,
      handle.containerId,
      spec,
      this.options.logger,
      Math.floor(lastCopiedMs / 1000),
    );
  }

  async bridgeGateway(): Promise<string> {
    let gateway: string | undefined;
    try {
      const network = (await withTimeout('a network inspect', this.docker.getNetwork('bridge').inspect())) as {
        IPAM?: { Config?: { Gateway?: string }[] };
      };
      gateway = network.IPAM?.Config?.find((config) => config.Gateway !== undefined)?.Gateway;
    } catch (error) {
      if (error instanceof ContainerLaunchError) throw error;
      throw new ContainerLaunchError(
        `network BRIDGE: the Docker engine has no "bridge" network (${engineMessage(error)})`,
      );
    }
    if (gateway === undefined) throw new ContainerLaunchError('network BRIDGE: the "bridge" network has no gateway');
    return gateway;
  }

  /** Removes (forcibly) this agent's containers whose framework/task is not known; their container ids. */
  async removeOrphans(agentId: string, knownTasks: ReadonlySet<string>): Promise<readonly string[]> {
    const containers = await this.docker.listContainers({
      all: true,
      filters: { label: [`${dockerLabels.agentId}=${agentId}`] },
    });
    const removed: string[] = [];
    for (const info of containers) {
      const key = `${info.Labels[dockerLabels.frameworkId] ?? ''}/${info.Labels[dockerLabels.taskId] ?? ''}`;
      if (knownTasks.has(key)) continue;
      try {
        await this.docker.getContainer(info.Id).remove({ force: true });
        removed.push(info.Id);
        this.options.logger.warn(
          { event: 'orphan_removed', containerId: info.Id, task: key },
          'removed a container this agent does not know',
        );
      } catch (error) {
        if (engineStatus(error) !== 404) throw error;
      }
    }
    return removed;
  }
}
