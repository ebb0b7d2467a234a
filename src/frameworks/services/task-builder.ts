// The Mesos TaskInfo that runs one instance (mesos.proto TaskInfo), with the environment
// Marathon gives its tasks (task-environment-vars.md): PORT0…, PORTS, PORT_<name>, HOST,
// MARATHON_APP_ID, MARATHON_APP_VERSION, MARATHON_APP_RESOURCE_*, MARATHON_APP_LABELS and
// MARATHON_APP_LABEL_<NAME>. A Marathon health check becomes the task's Mesos health check
// (HTTP and TCP ones too: Flotilla has no framework-side checks, the agent runs them).
import { commandInfoUris } from './app-fetch.ts';
import type { CommandInfo, HealthCheck as MesosHealthCheck, Offer, Resource } from '../../protocol/mesos.ts';
import type { TaskInfo } from '../sdk/wire.ts';
import { type AppDefinition, type HealthCheck, usesPortMappings } from './app-definition.ts';

/** ContainerInfo with the Docker fields Marathon sets that the SDK's type leaves out. */
interface DockerContainerInfo {
  readonly type: 'DOCKER' | 'MESOS';
  readonly docker?: {
    readonly image: string;
    readonly network: 'HOST' | 'BRIDGE' | 'NONE';
    readonly force_pull_image: boolean;
    readonly privileged: boolean;
    readonly parameters: readonly { readonly key: string; readonly value: string }[];
    readonly port_mappings: readonly {
      readonly host_port: number;
      readonly container_port: number;
      readonly protocol: string;
    }[];
  };
  readonly volumes?: readonly {
    readonly container_path: string;
    readonly host_path: string;
    readonly mode: 'RO' | 'RW';
  }[];
}

export interface LaunchPlan {
  readonly app: AppDefinition;
  readonly taskId: string;
  readonly offer: Offer;
  readonly resources: readonly Resource[];
  readonly hostPorts: readonly number[];
}

function envName(text: string): string {
  return text.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function taskEnvironment(plan: LaunchPlan): Record<string, string> {
  const { app, hostPorts } = plan;
  const environment: Record<string, string> = {};
  hostPorts.forEach((port, index) => {
    environment[`PORT${index}`] = String(port);
  });
  if (hostPorts.length > 0) {
    environment.PORT = String(hostPorts[0]);
    environment.PORTS = hostPorts.join(',');
  }
  const names = usesPortMappings(app)
    ? (app.container?.portMappings ?? []).map((mapping) => mapping.name)
    : app.portDefinitions.map((definition) => definition.name);
  names.forEach((name, index) => {
    if (name !== null && hostPorts[index] !== undefined)
      environment[`PORT_${envName(name)}`] = String(hostPorts[index]);
  });
  for (const [index, mapping] of (usesPortMappings(app) ? (app.container?.portMappings ?? []) : []).entries()) {
    if (mapping.containerPort !== 0 && hostPorts[index] !== undefined)
      environment[`PORT_${mapping.containerPort}`] = String(hostPorts[index]);
  }
  Object.assign(environment, {
    HOST: plan.offer.hostname,
    MARATHON_APP_ID: app.id,
    MARATHON_APP_VERSION: app.version,
    MARATHON_APP_DOCKER_IMAGE: app.container?.docker?.image ?? '',
    MARATHON_APP_RESOURCE_CPUS: String(app.cpus),
    MARATHON_APP_RESOURCE_MEM: String(app.mem),
    MARATHON_APP_RESOURCE_DISK: String(app.disk),
    MARATHON_APP_RESOURCE_GPUS: String(app.gpus),
    MARATHON_APP_LABELS: Object.keys(app.labels).map(envName).join(' '),
    MESOS_TASK_ID: plan.taskId,
  });
  for (const [key, value] of Object.entries(app.labels)) {
    if (value.length <= 512) environment[`MARATHON_APP_LABEL_${envName(key)}`] = value;
  }
  return { ...environment, ...app.env };
}

function commandInfo(plan: LaunchPlan): CommandInfo | undefined {
  const { app } = plan;
  const variables = Object.entries(taskEnvironment(plan)).map(([name, value]) => ({
    name,
    type: 'VALUE' as const,
    value,
  }));
  const user = {
    ...(app.user === null ? {} : { user: app.user }),
    ...(app.fetch.length === 0 ? {} : { uris: commandInfoUris(app.fetch) }),
  };
  if (app.cmd !== null) return { value: app.cmd, shell: true, environment: { variables }, ...user };
  if (app.args !== null && app.args.length > 0) {
    // argv[0] runs, with args as its argv; in a Docker container too, as the container's command
    // (Flotilla's master ignores `arguments` without a value; README, "Services").
    return { value: app.args[0]!, shell: false, arguments: [...app.args], environment: { variables }, ...user };
  }
  return { value: '', shell: false, environment: { variables }, ...user };
}

function containerInfo(plan: LaunchPlan): DockerContainerInfo | undefined {
  const container = plan.app.container;
  if (container === null || container.docker === null) return undefined;
  const bridged = usesPortMappings(plan.app);
  return {
    type: 'DOCKER',
    docker: {
      image: container.docker.image,
      network: bridged ? 'BRIDGE' : (container.docker.network ?? 'HOST'),
      force_pull_image: container.docker.forcePullImage,
      privileged: container.docker.privileged,
      parameters: container.docker.parameters,
      port_mappings: bridged
        ? container.portMappings.map((mapping, index) => ({
            host_port: plan.hostPorts[index]!,
            container_port: mapping.containerPort,
            protocol: mapping.protocol,
          }))
        : [],
    },
    volumes: container.volumes.map((volume) => ({
      container_path: volume.containerPath,
      host_path: volume.hostPath,
      mode: volume.mode,
    })),
  };
}

export function mesosHealthCheck(check: HealthCheck, hostPorts: readonly number[]): MesosHealthCheck {
  const timing = {
    delay_seconds: check.delaySeconds,
    interval_seconds: check.intervalSeconds,
    timeout_seconds: check.timeoutSeconds,
    consecutive_failures: check.maxConsecutiveFailures,
    grace_period_seconds: check.gracePeriodSeconds,
  };
  const port = check.port ?? hostPorts[check.portIndex ?? 0] ?? 0;
  switch (check.protocol) {
    case 'COMMAND':
      return { type: 'COMMAND', ...timing, command: { value: check.command ?? 'true', shell: true } };
    case 'TCP':
    case 'MESOS_TCP':
      return { type: 'TCP', ...timing, tcp: { port } };
    default:
      return { type: 'HTTP', ...timing, http: { port, ...(check.path === null ? {} : { path: check.path }) } };
  }
}

export function buildTaskInfo(plan: LaunchPlan): TaskInfo {
  const { app } = plan;
  const command = commandInfo(plan);
  const container = containerInfo(plan);
  const check = app.healthChecks[0];
  const grace = app.taskKillGracePeriodSeconds;
  const task: TaskInfo = {
    name: app.id.slice(1).replaceAll('/', '.'),
    task_id: { value: plan.taskId },
    agent_id: plan.offer.agent_id,
    resources: plan.resources,
    ...(command === undefined ? {} : { command }),
    ...(container === undefined ? {} : { container: container as TaskInfo['container'] }),
    ...(check === undefined ? {} : { health_check: mesosHealthCheck(check, plan.hostPorts) }),
    ...(grace === null ? {} : { kill_policy: { grace_period: { nanoseconds: Math.round(grace * 1e9) } } }),
    labels: { labels: Object.entries(app.labels).map(([key, value]) => ({ key, value })) },
  };
  return task;
}
