// A task's ContainerSpec as Engine API create options, in the order Mesos builds `docker run`:
// the agent's own settings (command, environment, sandbox and volumes, labels, network and port
// bindings, limits, user), then the task's docker parameters, which may add to or override them
// as a later `--key=value` does on the docker command line. A parameter the agent cannot honour
// fails the launch with its position named (the master refuses them already; this is the same
// table, for a master of another version).
import type Docker from 'dockerode';
import {
  DockerParameterError,
  type ParsedDockerParameter,
  parseDockerParameter,
} from '../../protocol/docker-parameters.ts';
import { containerSandboxPath } from './docker-volumes.ts';
import { ContainerLaunchError, type ContainerSpec } from './types.ts';

export const dockerLabels = {
  agentId: 'flotilla.agent_id',
  frameworkId: 'flotilla.framework_id',
  taskId: 'flotilla.task_id',
} as const;

const bytesPerMegabyte = 1024 * 1024;
const nanoCpusPerCpu = 1e9;
/** Docker's (and Mesos') cpu shares per cpu; the kernel's minimum is 2. */
const sharesPerCpu = 1024;
const minimumShares = 2;

type CreateOptions = Docker.ContainerCreateOptions & { HostConfig: Docker.HostConfig };

function containerCommand(spec: ContainerSpec): Pick<Docker.ContainerCreateOptions, 'Entrypoint' | 'Cmd'> {
  const command = spec.command;
  if (command === null) return {};
  // As Mesos' docker containerizer: shell=true overrides the entrypoint with `/bin/sh -c`;
  // shell=false keeps the image's entrypoint and passes value and arguments as its command.
  if (command.shell) return { Entrypoint: ['/bin/sh', '-c'], Cmd: [command.value] };
  const argv = command.value === '' ? [...command.arguments] : [command.value, ...command.arguments];
  return argv.length === 0 ? {} : { Cmd: argv };
}

/** BRIDGE port mappings: exposed container ports and their host bindings (on every host address, as docker -p). */
function portBindings(
  spec: ContainerSpec,
): Pick<CreateOptions, 'ExposedPorts'> & Pick<Docker.HostConfig, 'PortBindings'> {
  if (spec.portMappings.length === 0) return {};
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, { HostPort: string }[]> = {};
  for (const mapping of spec.portMappings) {
    const key = `${mapping.containerPort}/${mapping.protocol}`;
    exposed[key] = {};
    bindings[key] = [...(bindings[key] ?? []), { HostPort: String(mapping.hostPort) }];
  }
  return { ExposedPorts: exposed, PortBindings: bindings };
}

function limits(spec: ContainerSpec): Pick<Docker.HostConfig, 'Memory' | 'NanoCpus' | 'CpuShares'> {
  return {
    ...(spec.memMb === null ? {} : { Memory: Math.floor(spec.memMb * bytesPerMegabyte) }),
    ...cpuLimits(spec.cpus),
  };
}

function cpuLimits(cpus: number | null): Pick<Docker.HostConfig, 'NanoCpus' | 'CpuShares'> {
  if (cpus === null) return {};
  return {
    NanoCpus: Math.round(cpus * nanoCpusPerCpu),
    CpuShares: Math.max(minimumShares, Math.round(cpus * sharesPerCpu)),
  };
}

/**
 * The body of a container update (docker update) to new limits. The swap limit moves with the
 * memory limit, as `docker run -m` sets it (twice the memory): the engine refuses a memory limit
 * above the swap limit already set.
 */
export function limitsUpdate(cpus: number | null, memMb: number | null): Record<string, number> {
  const memory = memMb === null ? null : Math.floor(memMb * bytesPerMegabyte);
  return { ...(memory === null ? {} : { Memory: memory, MemorySwap: 2 * memory }), ...cpuLimits(cpus) };
}

/**
 * The task's user by number: it need not exist in the image's /etc/passwd, and it owns the
 * sandbox. Its other groups go to GroupAdd.
 */
function identity(spec: ContainerSpec): {
  user: Pick<CreateOptions, 'User'>;
  groups: Pick<Docker.HostConfig, 'GroupAdd'>;
} {
  const taskUser = spec.user;
  if (taskUser === null) return { user: {}, groups: {} };
  const extra = taskUser.groups.filter((group) => group !== taskUser.gid).map(String);
  return { user: { User: `${taskUser.uid}:${taskUser.gid}` }, groups: extra.length === 0 ? {} : { GroupAdd: extra } };
}

function parsedParameters(spec: ContainerSpec): ParsedDockerParameter[] {
  return spec.parameters.map((parameter, position) => {
    try {
      return parseDockerParameter(parameter.key, parameter.value, spec.network);
    } catch (error) {
      if (error instanceof DockerParameterError)
        throw new ContainerLaunchError(`container.docker.parameters[${position}]: ${error.message}`);
      throw error;
    }
  });
}

/** One parameter onto the options, as that `docker run` flag would set it. */
function applyParameter(
  options: CreateOptions,
  environment: Map<string, string>,
  parameter: ParsedDockerParameter,
): void {
  const host = options.HostConfig;
  switch (parameter.key) {
    case 'label':
      options.Labels = { ...options.Labels, [parameter.name]: parameter.value };
      return;
    case 'env':
      environment.set(parameter.name, parameter.value);
      return;
    case 'user':
      options.User = parameter.value;
      return;
    case 'hostname':
      options.Hostname = parameter.value;
      return;
    case 'workdir':
      options.WorkingDir = parameter.value;
      return;
    case 'add-host':
      host.ExtraHosts = [...(host.ExtraHosts ?? []), `${parameter.host}:${parameter.address}`];
      return;
    case 'dns':
      host.Dns = [...(host.Dns ?? []), parameter.address];
      return;
    case 'dns-search':
      host.DnsSearch = [...(host.DnsSearch ?? []), parameter.value];
      return;
    case 'cap-add':
      host.CapAdd = [...(host.CapAdd ?? []), parameter.capability];
      return;
    case 'cap-drop':
      host.CapDrop = [...(host.CapDrop ?? []), parameter.capability];
      return;
    case 'read-only':
      host.ReadonlyRootfs = parameter.enabled;
      return;
    case 'init':
      host.Init = parameter.enabled;
      return;
    case 'shm-size':
      host.ShmSize = parameter.bytes;
      return;
    case 'ulimit':
      host.Ulimits = [...(host.Ulimits ?? []), { Name: parameter.name, Soft: parameter.soft, Hard: parameter.hard }];
      return;
  }
}

export function createOptions(
  spec: ContainerSpec,
  name: string,
  networkMode: string,
  binds: readonly string[],
): Docker.ContainerCreateOptions {
  const parameters = parsedParameters(spec);
  const environment = new Map(Object.entries({ ...spec.environment, MESOS_SANDBOX: containerSandboxPath }));
  const ports = portBindings(spec);
  const { user, groups } = identity(spec);
  const options: CreateOptions = {
    name,
    Image: spec.image ?? '',
    ...containerCommand(spec),
    WorkingDir: containerSandboxPath,
    Labels: {
      [dockerLabels.agentId]: spec.agentId,
      [dockerLabels.frameworkId]: spec.frameworkId,
      [dockerLabels.taskId]: spec.taskId,
    },
    ...(spec.hostname === null ? {} : { Hostname: spec.hostname }),
    ...(ports.ExposedPorts === undefined ? {} : { ExposedPorts: ports.ExposedPorts }),
    ...user,
    HostConfig: {
      Binds: [...binds],
      NetworkMode: networkMode,
      ...(ports.PortBindings === undefined ? {} : { PortBindings: ports.PortBindings }),
      ...(spec.privileged ? { Privileged: true } : {}),
      ...limits(spec),
      ...groups,
    },
  };
  for (const parameter of parameters) applyParameter(options, environment, parameter);
  options.Env = [...environment].map(([variable, value]) => `${variable}=${value}`);
  return options;
}
