// The `docker` containerizer: one container per task, made through dockerode against
// DOCKER_HOST. Containers carry labels with the agent, framework and task ids, so a restarted
// agent finds its own (recover) and removes those of tasks it no longer knows (removeOrphans).
// Images are never pulled: an agent host is assumed to reach no registry, so a missing image
// fails the launch at once, with a message that says so.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from '../../util/logger.ts';
import { createDockerClient, engineMessage, engineStatus } from './docker-client.ts';
import { RunningDocker } from './docker-running.ts';
import {
  ContainerLaunchError,
  type ContainerHandle,
  type Containerizer,
  type ContainerSpec,
  type RunningContainer,
} from './types.ts';

export const dockerLabels = {
  agentId: 'flotilla.agent_id',
  frameworkId: 'flotilla.framework_id',
  taskId: 'flotilla.task_id',
} as const;

/** Where the sandbox appears inside the container, as in Mesos. */
export const containerSandboxPath = '/mnt/mesos/sandbox';
// Create, start and inspect answer quickly on a healthy engine; a stuck one must not hang a launch.
const engineCallTimeoutMs = 30_000;
const maxNameTaskChars = 40;

export interface DockerContainerizerOptions {
  readonly logger: Logger;
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

function containerCommand(spec: ContainerSpec): Pick<Docker.ContainerCreateOptions, 'Entrypoint' | 'Cmd'> {
  const command = spec.command;
  if (command === null) return {};
  // As Mesos' docker containerizer: shell=true overrides the entrypoint with `/bin/sh -c`;
  // shell=false keeps the image's entrypoint and passes value and arguments as its command.
  if (command.shell) return { Entrypoint: ['/bin/sh', '-c'], Cmd: [command.value] };
  const argv = command.value === '' ? [...command.arguments] : [command.value, ...command.arguments];
  return argv.length === 0 ? {} : { Cmd: argv };
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
    const environment = { ...spec.environment, MESOS_SANDBOX: containerSandboxPath };
    return {
      name: containerName(spec),
      Image: spec.image,
      ...containerCommand(spec),
      Env: Object.entries(environment).map(([name, value]) => `${name}=${value}`),
      WorkingDir: containerSandboxPath,
      Labels: {
        [dockerLabels.agentId]: spec.agentId,
        [dockerLabels.frameworkId]: spec.frameworkId,
        [dockerLabels.taskId]: spec.taskId,
      },
      HostConfig: {
        Binds: [`${spec.sandbox}:${containerSandboxPath}`],
        NetworkMode: await this.networkMode(spec.network),
        ...(spec.memMb === null ? {} : { Memory: Math.floor(spec.memMb * 1024 * 1024) }),
        ...(spec.cpus === null ? {} : { NanoCpus: Math.round(spec.cpus * 1e9) }),
      },
    };
  }

  async launch(spec: ContainerSpec): Promise<RunningContainer> {
    const options = await this.createOptions(spec);
    let container: Docker.Container;
    try {
      container = await withTimeout('a container create', this.docker.createContainer(options));
    } catch (error) {
      if (error instanceof ContainerLaunchError) throw error;
      if (engineStatus(error) === 404) {
        throw new ContainerLaunchError(
          `image "${spec.image}" is not in the Docker engine, and Flotilla does not pull images (load it on the agent's host first)`,
        );
      }
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
