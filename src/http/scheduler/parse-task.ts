// Mesos TaskInfo JSON (mesos.proto TaskInfo, CommandInfo, ContainerInfo, HealthCheck,
// KillPolicy, Labels) → the state machine's TaskDefinition. Defaults are Mesos': a command runs
// through the shell unless `shell` is false; health check timing defaults from mesos.proto
// (delay 15 s, interval 10 s, timeout 20 s, 3 consecutive failures, grace period 10 s).
// CommandInfo.uris are fetched by the agent (src/agent/fetcher.ts); one it could not fetch
// (a scheme other than http, https, file; an output_file outside the sandbox) is INVALID_URI.
// Mesos features Flotilla agents do not have (secrets, CNI
// networks, CheckInfo, Docker volume drivers, `docker run` options the agent cannot express) are
// a clear 400 naming the field, never silently dropped; so is a container no agent could run
// (container-rules.ts). What only an agent knows (its users, its volume allow-list, whether an
// image can be pulled) it refuses at launch with TASK_FAILED. The result passes the command
// decoder's own schema. README's "Task fields" table lists every field and what happens to it.
import { type CommandUri, commandUriProblem, maxCommandUris } from '../../protocol/command-uris.ts';
import { DockerParameterError, parseDockerParameter } from '../../protocol/docker-parameters.ts';
import { containerProblem } from '../../state-machine/container-rules.ts';
import { taskDefinitionSchema } from '../../state-machine/value-schema.ts';
import {
  maxArguments,
  maxDockerParameters,
  maxEnvironmentVariables,
  maxLabels,
  maxPortMappings,
  maxVolumes,
} from '../../state-machine/limits.ts';
import type {
  ContainerVolume,
  DockerParameter,
  ExecutorDefinition,
  HealthCheck,
  PortMapping,
  TaskCommand,
  TaskContainer,
  TaskDefinition,
} from '../../state-machine/values.ts';
import { HttpError } from '../errors.ts';
import { parseWith } from '../operator/fields.ts';
import {
  enumField,
  type Fields,
  isUnset,
  member,
  messageList,
  optionalMessage,
  optionalNumberField,
  optionalString,
  requiredIdField,
  requiredString,
  stringList,
} from './json-fields.ts';
import { parseExecutorInfo } from './parse-executor.ts';
import { parseResources } from './parse-resources.ts';

const millisecondsPerSecond = 1000;
const maxPort = 65_535;
const nanosecondsPerMillisecond = 1_000_000;

/** mesos.proto HealthCheck defaults, in seconds. */
export const healthCheckDefaults = {
  delaySeconds: 15,
  intervalSeconds: 10,
  timeoutSeconds: 20,
  consecutiveFailures: 3,
  gracePeriodSeconds: 10,
} as const;

function environment(command: Fields, path: string): Record<string, string> {
  const env = optionalMessage(command, 'environment', `${path}.environment`);
  if (env === null) return {};
  const out: Record<string, string> = {};
  messageList(env, 'variables', `${path}.environment.variables`, maxEnvironmentVariables).forEach(
    (variable, position) => {
      const at = `${path}.environment.variables[${position}]`;
      if (enumField(variable, 'type', `${at}.type`, ['VALUE', 'SECRET', 'UNKNOWN'], 'VALUE') !== 'VALUE') {
        throw new HttpError('INVALID_BODY', `${at}: Flotilla has no secrets; only VALUE variables`);
      }
      out[requiredString(variable, 'name', `${at}.name`)] = optionalString(variable, 'value', `${at}.value`) ?? '';
    },
  );
  return out;
}

function optionalBoolean(message: Fields, name: string, path: string, fallback: boolean): boolean {
  const value = member(message, name);
  if (isUnset(value)) return fallback;
  if (typeof value !== 'boolean') throw new HttpError('INVALID_BODY', `${path}.${name} must be true or false`);
  return value;
}

/** CommandInfo.uris with mesos.proto's defaults; a URI the agent cannot fetch is INVALID_URI. */
function parseUris(command: Fields, path: string): CommandUri[] {
  return messageList(command, 'uris', path, maxCommandUris).map((uri, position) => {
    const at = `${path}[${position}]`;
    const parsed: CommandUri = {
      value: optionalString(uri, 'value', `${at}.value`) ?? '',
      executable: optionalBoolean(uri, 'executable', at, false),
      extract: optionalBoolean(uri, 'extract', at, true),
      cache: optionalBoolean(uri, 'cache', at, false),
      outputFile: optionalString(uri, 'output_file', `${at}.output_file`),
    };
    const problem = commandUriProblem(parsed);
    if (problem !== null) throw new HttpError('INVALID_URI', `${at}.${problem}`);
    return parsed;
  });
}

/** null when the command has no value (a container's own entrypoint runs). */
export function parseCommand(command: Fields, path: string): TaskCommand | null {
  const uris = parseUris(command, `${path}.uris`);
  const value = optionalString(command, 'value', `${path}.value`);
  const shell = member(command, 'shell') !== false;
  if (value === null || value === '') {
    if (shell) throw new HttpError('INVALID_BODY', `${path}.value is required for a shell command`);
    // The fetched files live in the command's record: without a command there is nothing to hold them.
    if (uris.length > 0)
      throw new HttpError(
        'INVALID_URI',
        `${path}.uris need a command value (an image's own entrypoint fetches nothing)`,
      );
    return null;
  }
  return {
    value,
    shell,
    arguments: stringList(command, 'arguments', `${path}.arguments`, maxArguments),
    environment: environment(command, path),
    user: optionalString(command, 'user', `${path}.user`),
    ...(uris.length === 0 ? {} : { uris }),
  };
}

/** Fields of Mesos messages that Flotilla agents cannot honour: refused by name, never dropped. */
function refuseFields(message: Fields, path: string, fields: readonly (readonly [string, string])[]): void {
  for (const [name, why] of fields) {
    const value = member(message, name);
    const given = Array.isArray(value) ? value.length > 0 : !isUnset(value);
    if (given) throw new HttpError('INVALID_BODY', `${path}.${name}: ${why}`);
  }
}

function portNumber(mapping: Fields, name: string, path: string): number {
  const port = optionalNumberField(mapping, name, `${path}.${name}`);
  if (port === null || !Number.isInteger(port) || port < 1 || port > maxPort)
    throw new HttpError('INVALID_BODY', `${path}.${name} must be a port from 1 to ${maxPort}`);
  return port;
}

function parsePortMappings(docker: Fields, path: string): PortMapping[] {
  return messageList(docker, 'port_mappings', path, maxPortMappings).map((mapping, position) => {
    const at = `${path}[${position}]`;
    const protocol = (optionalString(mapping, 'protocol', `${at}.protocol`) ?? 'tcp').toLowerCase();
    if (protocol !== 'tcp' && protocol !== 'udp')
      throw new HttpError('INVALID_BODY', `${at}.protocol must be tcp or udp (one mapping per protocol)`);
    return {
      hostPort: portNumber(mapping, 'host_port', at),
      containerPort: portNumber(mapping, 'container_port', at),
      protocol,
    };
  });
}

/** ":" and "," separate the parts of a Docker bind, so a path cannot hold them. */
function bindPath(volume: Fields, name: string, at: string): string {
  const value = requiredString(volume, name, `${at}.${name}`);
  if (/[:,\0]/.test(value)) throw new HttpError('INVALID_BODY', `${at}.${name} must not contain ":", "," or NUL`);
  return value;
}

function parseVolumes(container: Fields, path: string): ContainerVolume[] {
  return messageList(container, 'volumes', path, maxVolumes).map((volume, position) => {
    const at = `${path}[${position}]`;
    refuseFields(volume, at, [
      ['image', 'Flotilla agents mount host paths only, not images'],
      [
        'source',
        'Flotilla agents mount host_path only (no Docker volume drivers, sandbox paths of other containers or secrets)',
      ],
    ]);
    if (isUnset(member(volume, 'mode'))) throw new HttpError('INVALID_BODY', `${at}.mode is required (RW or RO)`);
    return {
      containerPath: bindPath(volume, 'container_path', at),
      hostPath: bindPath(volume, 'host_path', at),
      mode: enumField(volume, 'mode', `${at}.mode`, ['RW', 'RO'], 'RW'),
    };
  });
}

function parseDockerParameters(docker: Fields, path: string, network: TaskContainer['network']): DockerParameter[] {
  return messageList(docker, 'parameters', path, maxDockerParameters).map((parameter, position) => {
    const at = `${path}[${position}]`;
    const key = requiredString(parameter, 'key', `${at}.key`);
    const value = requiredString(parameter, 'value', `${at}.value`);
    try {
      parseDockerParameter(key, value, network);
    } catch (error) {
      if (error instanceof DockerParameterError) throw new HttpError('INVALID_BODY', `${at}: ${error.message}`);
      throw error;
    }
    return { key, value };
  });
}

const noDockerExtras = { portMappings: [], volumes: [], privileged: false, parameters: [], hostname: null } as const;

function parseDockerContainer(container: Fields, docker: Fields, path: string): TaskContainer {
  refuseFields(docker, `${path}.docker`, [
    ['volume_driver', 'Flotilla agents mount host paths only (no volume drivers)'],
  ]);
  const network = enumField(docker, 'network', `${path}.docker.network`, ['HOST', 'BRIDGE', 'NONE'], 'HOST');
  const privileged = member(docker, 'privileged');
  if (!isUnset(privileged) && typeof privileged !== 'boolean')
    throw new HttpError('INVALID_BODY', `${path}.docker.privileged must be true or false`);
  return {
    type: 'DOCKER',
    image: requiredString(docker, 'image', `${path}.docker.image`),
    network,
    forcePullImage: member(docker, 'force_pull_image') === true,
    portMappings: parsePortMappings(docker, `${path}.docker.port_mappings`),
    volumes: parseVolumes(container, `${path}.volumes`),
    privileged: privileged === true,
    parameters: parseDockerParameters(docker, `${path}.docker.parameters`, network),
    hostname: optionalString(container, 'hostname', `${path}.hostname`),
  };
}

function parseMesosContainer(container: Fields, path: string): TaskContainer {
  // Volumes and a hostname need a mount and a UTS namespace the process containerizer does not make.
  refuseFields(container, path, [
    ['volumes', 'volumes need a DOCKER container (the process containerizer has no mount namespace)'],
    ['hostname', 'a hostname needs a DOCKER container'],
    ['docker', 'a MESOS container takes no DockerInfo; use type DOCKER'],
  ]);
  const image = optionalMessage(
    optionalMessage(container, 'mesos', `${path}.mesos`) ?? {},
    'image',
    `${path}.mesos.image`,
  );
  if (image === null) return { type: 'MESOS', image: null, network: 'HOST', forcePullImage: false, ...noDockerExtras };
  if (enumField(image, 'type', `${path}.mesos.image.type`, ['DOCKER', 'APPC'], 'DOCKER') !== 'DOCKER') {
    throw new HttpError('INVALID_BODY', `${path}.mesos.image: Flotilla runs DOCKER images only`);
  }
  const docker = optionalMessage(image, 'docker', `${path}.mesos.image.docker`);
  if (docker === null) throw new HttpError('INVALID_BODY', `${path}.mesos.image.docker is required`);
  refuseFields(docker, `${path}.mesos.image.docker`, [
    ['credential', 'Flotilla agents pull without registry credentials'],
    ['config', 'Flotilla agents pull without registry credentials'],
  ]);
  // Image.cached defaults to true: false asks for a fresh pull, like force_pull_image.
  return {
    type: 'MESOS',
    image: requiredString(docker, 'name', `${path}.mesos.image.docker.name`),
    network: 'HOST',
    forcePullImage: member(image, 'cached') === false,
    ...noDockerExtras,
  };
}

export function parseContainer(container: Fields, path: string): TaskContainer {
  refuseFields(container, path, [
    ['network_infos', 'Flotilla agents have no CNI networks; use docker.network'],
    ['linux_info', 'Flotilla agents do not set capabilities or namespaces this way; use docker.parameters cap-add'],
    ['rlimit_info', 'Flotilla agents do not set rlimits this way; use docker.parameters ulimit'],
    ['tty_info', 'Flotilla agents attach no TTY'],
  ]);
  const type = enumField(container, 'type', `${path}.type`, ['DOCKER', 'MESOS'], 'MESOS');
  if (type === 'MESOS') return parseMesosContainer(container, path);
  const docker = optionalMessage(container, 'docker', `${path}.docker`);
  if (docker === null) throw new HttpError('INVALID_BODY', `${path}.docker is required for a DOCKER container`);
  return parseDockerContainer(container, docker, path);
}

function seconds(check: Fields, name: string, path: string, fallback: number): number {
  return Math.round((optionalNumberField(check, name, `${path}.${name}`) ?? fallback) * millisecondsPerSecond);
}

function healthCheckType(check: Fields, path: string): HealthCheck['type'] {
  const inferred =
    optionalMessage(check, 'http', `${path}.http`) !== null
      ? 'HTTP'
      : optionalMessage(check, 'tcp', `${path}.tcp`) !== null
        ? 'TCP'
        : 'COMMAND';
  return enumField(check, 'type', `${path}.type`, ['COMMAND', 'HTTP', 'TCP'], inferred);
}

/**
 * The agent probes http://127.0.0.1:<port> (IPv4, plain HTTP) and runs a check command through
 * the shell as the task's user: what a check asks beyond that is refused, not ignored.
 */
function refuseHealthCheckExtras(check: Fields, path: string): void {
  const http = optionalMessage(check, 'http', `${path}.http`);
  const tcp = optionalMessage(check, 'tcp', `${path}.tcp`);
  const command = optionalMessage(check, 'command', `${path}.command`);
  const scheme = http === null ? null : optionalString(http, 'scheme', `${path}.http.scheme`);
  if (scheme !== null && scheme !== 'http')
    throw new HttpError('INVALID_BODY', `${path}.http.scheme: Flotilla agents probe plain http only`);
  for (const [endpoint, name] of [
    [http, 'http'],
    [tcp, 'tcp'],
  ] as const) {
    const protocol = endpoint === null ? null : optionalString(endpoint, 'protocol', `${path}.${name}.protocol`);
    if (protocol !== null && protocol !== 'IPv4')
      throw new HttpError('INVALID_BODY', `${path}.${name}.protocol: Flotilla agents probe 127.0.0.1 (IPv4) only`);
  }
  if (command === null) return;
  if (member(command, 'shell') === false)
    throw new HttpError('INVALID_BODY', `${path}.command.shell: a check command runs through the shell`);
  refuseFields(command, `${path}.command`, [
    ['arguments', 'a check command runs through the shell; put it all in value'],
    ['environment', "a check command runs with the task's environment"],
    ['user', "a check command runs as the task's user"],
    ['uris', "a check command fetches no URIs; fetch them with the task's command"],
  ]);
}

export function parseHealthCheck(check: Fields, path: string): HealthCheck {
  refuseHealthCheckExtras(check, path);
  const type = healthCheckType(check, path);
  const http = optionalMessage(check, 'http', `${path}.http`);
  const tcp = optionalMessage(check, 'tcp', `${path}.tcp`);
  const command = optionalMessage(check, 'command', `${path}.command`);
  const endpoint = type === 'HTTP' ? http : type === 'TCP' ? tcp : null;
  return {
    type,
    command: type === 'COMMAND' && command !== null ? optionalString(command, 'value', `${path}.command.value`) : null,
    port: endpoint === null ? null : optionalNumberField(endpoint, 'port', `${path}.${type.toLowerCase()}.port`),
    path: type === 'HTTP' && http !== null ? optionalString(http, 'path', `${path}.http.path`) : null,
    delayMs: seconds(check, 'delay_seconds', path, healthCheckDefaults.delaySeconds),
    intervalMs: seconds(check, 'interval_seconds', path, healthCheckDefaults.intervalSeconds),
    timeoutMs: seconds(check, 'timeout_seconds', path, healthCheckDefaults.timeoutSeconds),
    consecutiveFailures:
      optionalNumberField(check, 'consecutive_failures', `${path}.consecutive_failures`) ??
      healthCheckDefaults.consecutiveFailures,
    gracePeriodMs: seconds(check, 'grace_period_seconds', path, healthCheckDefaults.gracePeriodSeconds),
  };
}

function killGracePeriodMs(task: Fields, path: string): number | null {
  const policy = optionalMessage(task, 'kill_policy', `${path}.kill_policy`);
  const grace = policy === null ? null : optionalMessage(policy, 'grace_period', `${path}.kill_policy.grace_period`);
  if (grace === null) return null;
  const nanoseconds = optionalNumberField(grace, 'nanoseconds', `${path}.kill_policy.grace_period.nanoseconds`) ?? 0;
  return Math.floor(nanoseconds / nanosecondsPerMillisecond);
}

export function parseLabels(container: Fields, path: string): Record<string, string> {
  const labels = optionalMessage(container, 'labels', path);
  if (labels === null) return {};
  const out: Record<string, string> = {};
  messageList(labels, 'labels', `${path}.labels`, maxLabels).forEach((label, position) => {
    out[requiredString(label, 'key', `${path}.labels[${position}].key`)] =
      optionalString(label, 'value', `${path}.labels[${position}].value`) ?? '';
  });
  return out;
}

/** Where the TaskInfo is: a LAUNCH (it may name its executor) or a LAUNCH_GROUP (it may not). */
export interface TaskInfoContext {
  readonly frameworkId: string;
  readonly operation: 'LAUNCH' | 'LAUNCH_GROUP';
}

/** TaskInfo.executor: a LAUNCH's task may name a framework executor; a group's tasks run on the group's. */
function taskExecutor(task: Fields, path: string, context: TaskInfoContext): ExecutorDefinition | null {
  const executor = optionalMessage(task, 'executor', `${path}.executor`);
  if (executor === null) return null;
  if (context.operation === 'LAUNCH_GROUP')
    throw new HttpError('INVALID_BODY', `${path}.executor must not be set: a task group runs on launch_group.executor`);
  if (optionalMessage(task, 'command', `${path}.command`) !== null)
    throw new HttpError(
      'INVALID_BODY',
      `${path}.executor: a task has a command or an executor, not both (Mesos: "Task should have at least one ` +
        '(but not both) of CommandInfo or ExecutorInfo present")',
    );
  return parseExecutorInfo(executor, `${path}.executor`, context.frameworkId, 'LAUNCH');
}

/** TaskInfo.data, base64, for a framework's executor; Flotilla's own executors read none. */
function taskData(task: Fields, path: string, executor: ExecutorDefinition | null): string | null {
  const data = optionalString(task, 'data', `${path}.data`);
  if (data === null) return null;
  if (executor === null)
    throw new HttpError(
      'INVALID_BODY',
      `${path}.data: only a framework's executor reads TaskInfo.data; pass values to a command in command.environment or labels`,
    );
  return data;
}

/** `agentId`: the agent of the accepted offers; a TaskInfo naming another is refused. */
export function parseTaskInfo(
  task: Fields,
  path: string,
  context: TaskInfoContext = { frameworkId: '', operation: 'LAUNCH' },
): { definition: TaskDefinition; agentId: string } {
  refuseFields(task, path, [
    ['check', 'Flotilla agents run health_check, not the experimental CheckInfo'],
    ['max_completion_time', 'Flotilla agents do not end tasks after a deadline; kill the task instead'],
    ['limits', 'Flotilla agents limit a task to its resources; it has no separate limits'],
  ]);
  const executor = taskExecutor(task, path, context);
  const command = optionalMessage(task, 'command', `${path}.command`);
  const container = optionalMessage(task, 'container', `${path}.container`);
  const check = optionalMessage(task, 'health_check', `${path}.health_check`);
  const candidate: TaskDefinition = {
    id: requiredIdField(task, 'task_id', `${path}.task_id`) as TaskDefinition['id'],
    name: requiredString(task, 'name', `${path}.name`),
    resources: parseResources(task, 'resources', `${path}.resources`),
    command: command === null ? null : parseCommand(command, `${path}.command`),
    container: container === null ? null : parseContainer(container, `${path}.container`),
    healthCheck: check === null ? null : parseHealthCheck(check, `${path}.health_check`),
    killGracePeriodMs: killGracePeriodMs(task, path),
    labels: parseLabels(task, `${path}.labels`),
    executor,
    data: taskData(task, path, executor),
  };
  const definition = parseWith(taskDefinitionSchema, candidate, path);
  const problem = containerProblem(definition);
  if (problem !== null) throw new HttpError('INVALID_BODY', `${path}.${problem.field}: ${problem.message}`);
  return { definition, agentId: requiredIdField(task, 'agent_id', `${path}.agent_id`) };
}
