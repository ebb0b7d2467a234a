// Tasks and their status updates in Mesos v1 JSON (mesos.proto Task, TaskStatus, ContainerInfo,
// HealthCheck, KillPolicy). `Task` has no `command` (only TaskInfo has), whatever a doc example
// shows: the .proto wins.
import type * as Mesos from '../../protocol/mesos.ts';
import type { Task, TaskStatus } from '../../state-machine/state.ts';
import type { HealthCheck, TaskContainer } from '../../state-machine/values.ts';
import { idValue, mesosLabels, mesosResources, nanoseconds } from './mesos-json.ts';

const millisecondsPerSecond = 1000;

/**
 * Mesos' evolve(StatusUpdateMessage) copies the update's executor_id into the status: an update
 * the executor or the agent sent names the executor: the task's own (a framework's, or its
 * group's), else the command executor, named after the task, as Mesos names a command task's
 * executor (slave.cpp getExecutorInfo); the master's own updates name none, as Mesos' master
 * sends for a task with no ExecutorInfo. Clients read it (mesos-framework keeps it to SHUTDOWN or
 * MESSAGE the executor).
 */
export function mesosTaskStatus(task: Task, status: TaskStatus): Mesos.TaskStatus {
  return {
    task_id: idValue(task.id),
    ...(status.source === 'SOURCE_MASTER' ? {} : { executor_id: idValue(task.executor?.id ?? task.id) }),
    state: status.state,
    ...(status.message === null ? {} : { message: status.message }),
    source: status.source,
    ...(status.reason === null ? {} : { reason: status.reason }),
    agent_id: idValue(task.agentId),
    timestamp: status.timestampMs / millisecondsPerSecond,
    ...(status.uuid === null ? {} : { uuid: status.uuid }),
    ...(status.healthy === null ? {} : { healthy: status.healthy }),
    ...(status.data === null ? {} : { data: status.data }),
  };
}

function mesosContainer(container: TaskContainer): Mesos.ContainerInfo {
  if (container.image === null) return { type: container.type };
  if (container.type === 'DOCKER') {
    return {
      type: 'DOCKER',
      docker: {
        image: container.image,
        network: container.network,
        force_pull_image: container.forcePullImage,
        ...(container.portMappings.length === 0
          ? {}
          : {
              port_mappings: container.portMappings.map((mapping) => ({
                host_port: mapping.hostPort,
                container_port: mapping.containerPort,
                protocol: mapping.protocol,
              })),
            }),
        ...(container.privileged ? { privileged: true } : {}),
        ...(container.parameters.length === 0 ? {} : { parameters: [...container.parameters] }),
      },
      ...(container.volumes.length === 0
        ? {}
        : {
            volumes: container.volumes.map((volume) => ({
              container_path: volume.containerPath,
              host_path: volume.hostPath,
              mode: volume.mode,
            })),
          }),
      ...(container.hostname === null ? {} : { hostname: container.hostname }),
    };
  }
  return {
    type: 'MESOS',
    mesos: { image: { type: 'DOCKER', docker: { name: container.image }, cached: !container.forcePullImage } },
  };
}

function mesosHealthCheck(check: HealthCheck): Mesos.HealthCheck {
  const timing = {
    delay_seconds: check.delayMs / millisecondsPerSecond,
    interval_seconds: check.intervalMs / millisecondsPerSecond,
    timeout_seconds: check.timeoutMs / millisecondsPerSecond,
    consecutive_failures: check.consecutiveFailures,
    grace_period_seconds: check.gracePeriodMs / millisecondsPerSecond,
  };
  switch (check.type) {
    case 'COMMAND':
      return { type: 'COMMAND', ...timing, command: { value: check.command ?? '', shell: true } };
    case 'HTTP':
      return {
        type: 'HTTP',
        ...timing,
        http: { port: check.port ?? 0, ...(check.path === null ? {} : { path: check.path }) },
      };
    case 'TCP':
      return { type: 'TCP', ...timing, tcp: { port: check.port ?? 0 } };
  }
}

/**
 * `status_update_state`/`_uuid` name the newest update that carries a uuid (one the framework
 * acknowledges); both are set or neither, as master.proto requires.
 */
function latestUpdate(task: Task): Pick<Mesos.Task, 'status_update_state' | 'status_update_uuid'> {
  const latest = task.statuses[task.statuses.length - 1];
  if (latest === undefined || latest.uuid === null) return {};
  return { status_update_state: latest.state, status_update_uuid: latest.uuid };
}

/**
 * A status as a Mesos master keeps it in its Task: without `data`, which the master clears from
 * every status it stores (master.cpp updateTask, MESOS-1746: an executor's data, up to megabytes
 * per task, is the framework's, delivered in its update). The state answers carry no more.
 */
function storedStatus(status: Mesos.TaskStatus): Mesos.TaskStatus {
  if (status.data === undefined) return status;
  const { data: _data, ...kept } = status;
  return kept;
}

export function mesosTask(task: Task): Mesos.Task {
  const user = task.user;
  return {
    name: task.name,
    task_id: idValue(task.id),
    framework_id: idValue(task.frameworkId),
    ...(task.executor === null ? {} : { executor_id: idValue(task.executor.id) }),
    agent_id: idValue(task.agentId),
    state: task.state,
    resources: mesosResources(task.resources, task.role),
    statuses: task.statuses.map((status) => storedStatus(mesosTaskStatus(task, status))),
    ...latestUpdate(task),
    ...(Object.keys(task.labels).length === 0 ? {} : { labels: mesosLabels(task.labels) }),
    ...(task.container === null ? {} : { container: mesosContainer(task.container) }),
    ...(task.healthCheck === null ? {} : { health_check: mesosHealthCheck(task.healthCheck) }),
    ...(task.killGracePeriodMs === null ? {} : { kill_policy: { grace_period: nanoseconds(task.killGracePeriodMs) } }),
    ...(user === null ? {} : { user }),
  };
}
