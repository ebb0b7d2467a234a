// Mesos TaskInfo JSON (mesos.proto TaskInfo, CommandInfo, ContainerInfo, HealthCheck,
// KillPolicy, Labels) → the state machine's TaskDefinition. Defaults are Mesos': a command runs
// through the shell unless `shell` is false; health check timing defaults from mesos.proto
// (delay 15 s, interval 10 s, timeout 20 s, 3 consecutive failures, grace period 10 s).
// Mesos features Flotilla agents do not have (URIs to fetch, custom executors, secrets) are a
// clear 400, never silently dropped. The result passes the command decoder's own schema.
import { taskDefinitionSchema } from '../../state-machine/value-schema.ts';
import { maxArguments, maxEnvironmentVariables, maxLabels } from '../../state-machine/limits.ts';
import type { HealthCheck, TaskCommand, TaskContainer, TaskDefinition } from '../../state-machine/values.ts';
import { HttpError } from '../errors.ts';
import { parseWith } from '../operator/fields.ts';
import {
  enumField,
  type Fields,
  member,
  messageList,
  optionalMessage,
  optionalNumberField,
  optionalString,
  requiredIdField,
  requiredString,
  stringList,
} from './json-fields.ts';
import { parseResources } from './parse-resources.ts';

const millisecondsPerSecond = 1000;
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

/** null when the command has no value (a container's own entrypoint runs). */
export function parseCommand(command: Fields, path: string): TaskCommand | null {
  if (messageList(command, 'uris', `${path}.uris`, 64).length > 0) {
    throw new HttpError(
      'INVALID_BODY',
      `${path}.uris: Flotilla agents do not fetch URIs; bake files into the image or sandbox`,
    );
  }
  const value = optionalString(command, 'value', `${path}.value`);
  const shell = member(command, 'shell') !== false;
  if (value === null || value === '') {
    if (shell) throw new HttpError('INVALID_BODY', `${path}.value is required for a shell command`);
    return null;
  }
  return {
    value,
    shell,
    arguments: stringList(command, 'arguments', `${path}.arguments`, maxArguments),
    environment: environment(command, path),
    user: optionalString(command, 'user', `${path}.user`),
  };
}

export function parseContainer(container: Fields, path: string): TaskContainer {
  const type = enumField(container, 'type', `${path}.type`, ['DOCKER', 'MESOS'], 'MESOS');
  if (type === 'DOCKER') {
    const docker = optionalMessage(container, 'docker', `${path}.docker`);
    if (docker === null) throw new HttpError('INVALID_BODY', `${path}.docker is required for a DOCKER container`);
    const network = enumField(docker, 'network', `${path}.docker.network`, ['HOST', 'BRIDGE', 'NONE'], 'HOST');
    return {
      type,
      image: requiredString(docker, 'image', `${path}.docker.image`),
      network,
      forcePullImage: member(docker, 'force_pull_image') === true,
    };
  }
  const image = optionalMessage(
    optionalMessage(container, 'mesos', `${path}.mesos`) ?? {},
    'image',
    `${path}.mesos.image`,
  );
  if (image === null) return { type, image: null, network: 'HOST', forcePullImage: false };
  if (enumField(image, 'type', `${path}.mesos.image.type`, ['DOCKER', 'APPC'], 'DOCKER') !== 'DOCKER') {
    throw new HttpError('INVALID_BODY', `${path}.mesos.image: Flotilla runs DOCKER images only`);
  }
  const docker = optionalMessage(image, 'docker', `${path}.mesos.image.docker`);
  if (docker === null) throw new HttpError('INVALID_BODY', `${path}.mesos.image.docker is required`);
  // Image.cached defaults to true: false asks for a fresh pull, like force_pull_image.
  return {
    type,
    image: requiredString(docker, 'name', `${path}.mesos.image.docker.name`),
    network: 'HOST',
    forcePullImage: member(image, 'cached') === false,
  };
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

export function parseHealthCheck(check: Fields, path: string): HealthCheck {
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

/** `agentId`: the agent of the accepted offers; a TaskInfo naming another is refused. */
export function parseTaskInfo(task: Fields, path: string): { definition: TaskDefinition; agentId: string } {
  if (optionalMessage(task, 'executor', `${path}.executor`) !== null) {
    throw new HttpError(
      'INVALID_BODY',
      `${path}.executor: Flotilla agents run tasks with their own executor; give a command or a container`,
    );
  }
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
  };
  return {
    definition: parseWith(taskDefinitionSchema, candidate, path),
    agentId: requiredIdField(task, 'agent_id', `${path}.agent_id`),
  };
}
