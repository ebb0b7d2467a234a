// What an executor is handed, in Mesos v1 JSON (mesos.proto TaskInfo, ExecutorInfo,
// FrameworkInfo, AgentInfo, Resource), made from the agent wire's specs: the TaskInfo of a
// LAUNCH as the framework gave it (its command, container, checks, kill policy, labels, data,
// and the executor it names), and SUBSCRIBED's infos.
import type {
  WireAgentInfo,
  WireCommand,
  WireContainer,
  WireExecutorInfo,
  WireFrameworkInfo,
  WireHealthCheck,
  WireResource,
  WireTaskSpec,
} from '../../protocol/agent.ts';
import type { ExecutorInfoJson, TaskInfoJson } from '../../protocol/executor.ts';

type Json = Record<string, unknown>;

const nanosecondsPerMillisecond = 1_000_000;
const value = (id: string): { value: string } => ({ value: id });

/** The endpoint format: a reserved resource names its role, and its reservation (DYNAMIC, as RESERVE makes them). */
export function resourcesJson(resources: readonly WireResource[]): Json[] {
  return resources.map((resource) => ({
    name: resource.name,
    ...(resource.type === 'SCALAR'
      ? { type: 'SCALAR', scalar: { value: resource.scalar } }
      : { type: 'RANGES', ranges: { range: resource.ranges.map(({ begin, end }) => ({ begin, end })) } }),
    role: resource.role,
    ...(resource.role === '*' ? {} : { reservations: [{ type: 'DYNAMIC', role: resource.role }] }),
  }));
}

function labelsJson(labels: Readonly<Record<string, string>>): Json {
  return { labels: Object.entries(labels).map(([key, text]) => ({ key, value: text })) };
}

function commandJson(command: WireCommand, user: string | null): Json {
  const variables = Object.entries(command.environment).map(([name, text]) => ({ name, type: 'VALUE', value: text }));
  return {
    value: command.value,
    shell: command.shell,
    ...(command.arguments.length === 0 ? {} : { arguments: [...command.arguments] }),
    ...(variables.length === 0 ? {} : { environment: { variables } }),
    ...(user === null ? {} : { user }),
  };
}

function containerJson(container: WireContainer): Json {
  if (container.image === null) return { type: container.type };
  if (container.type === 'MESOS')
    return { type: 'MESOS', mesos: { image: { type: 'DOCKER', docker: { name: container.image } } } };
  return {
    type: 'DOCKER',
    docker: {
      image: container.image,
      network: container.network,
      force_pull_image: container.forcePullImage,
      privileged: container.privileged,
      port_mappings: container.portMappings.map((mapping) => ({
        host_port: mapping.hostPort,
        container_port: mapping.containerPort,
        protocol: mapping.protocol,
      })),
      parameters: [...container.parameters],
    },
    volumes: container.volumes.map((volume) => ({
      container_path: volume.containerPath,
      host_path: volume.hostPath,
      mode: volume.mode,
    })),
    ...(container.hostname === null ? {} : { hostname: container.hostname }),
  };
}

function healthCheckJson(check: WireHealthCheck): Json {
  const seconds = (milliseconds: number): number => milliseconds / 1000;
  return {
    type: check.type,
    delay_seconds: seconds(check.delayMs),
    interval_seconds: seconds(check.intervalMs),
    timeout_seconds: seconds(check.timeoutMs),
    consecutive_failures: check.consecutiveFailures,
    grace_period_seconds: seconds(check.gracePeriodMs),
    ...(check.type === 'COMMAND' ? { command: { value: check.command ?? '', shell: true } } : {}),
    ...(check.type === 'HTTP'
      ? { http: { port: check.port ?? 0, ...(check.path === null ? {} : { path: check.path }) } }
      : {}),
    ...(check.type === 'TCP' ? { tcp: { port: check.port ?? 0 } } : {}),
  };
}

export function executorInfoJson(frameworkId: string, executor: WireExecutorInfo): ExecutorInfoJson {
  return {
    type: executor.type,
    executor_id: value(executor.id),
    framework_id: value(frameworkId),
    ...(executor.command === null ? {} : { command: commandJson(executor.command, executor.user) }),
    resources: resourcesJson(executor.resources),
    ...(executor.name === null ? {} : { name: executor.name }),
    ...(executor.shutdownGracePeriodMs === null
      ? {}
      : { shutdown_grace_period: { nanoseconds: executor.shutdownGracePeriodMs * nanosecondsPerMillisecond } }),
    ...(Object.keys(executor.labels).length === 0 ? {} : { labels: labelsJson(executor.labels) }),
    ...(executor.container === null ? {} : { container: containerJson(executor.container) }),
  };
}

/** The TaskInfo of a LAUNCH: `executor` is the one it names (a framework's), or null (a group's task, a command task). */
export function taskInfoJson(agentId: string, spec: WireTaskSpec, executor: ExecutorInfoJson | null): TaskInfoJson {
  return {
    name: spec.name,
    task_id: value(spec.id),
    agent_id: value(agentId),
    resources: resourcesJson(spec.resources),
    ...(executor === null ? {} : { executor }),
    ...(spec.command === null ? {} : { command: commandJson(spec.command, spec.user) }),
    ...(spec.container === null ? {} : { container: containerJson(spec.container) }),
    ...(spec.healthCheck === null ? {} : { health_check: healthCheckJson(spec.healthCheck) }),
    ...(spec.killGracePeriodMs === null
      ? {}
      : { kill_policy: { grace_period: { nanoseconds: spec.killGracePeriodMs * nanosecondsPerMillisecond } } }),
    ...(Object.keys(spec.labels).length === 0 ? {} : { labels: labelsJson(spec.labels) }),
    ...(spec.data === null ? {} : { data: spec.data }),
  };
}

/** FrameworkInfo: `user` is required in Mesos ("" when none); agents checkpoint every framework. */
export function frameworkInfoJson(framework: WireFrameworkInfo): Json {
  return {
    id: value(framework.id),
    name: framework.name,
    user: framework.user ?? '',
    roles: [...framework.roles],
    ...(framework.roles.length === 1 ? { role: framework.roles[0] } : {}),
    checkpoint: true,
    ...(framework.principal === null ? {} : { principal: framework.principal }),
    ...(framework.hostname === null ? {} : { hostname: framework.hostname }),
    capabilities: framework.capabilities.map((type) => ({ type })),
  };
}

export function agentInfoJson(agentId: string, info: WireAgentInfo): Json {
  return {
    id: value(agentId),
    hostname: info.hostname,
    port: info.address.port,
    resources: resourcesJson(info.resources),
    attributes: Object.entries(info.attributes).map(([name, text]) => ({ name, type: 'TEXT', text: { value: text } })),
  };
}
