// Conversions between the agent wire (plain JSON, src/protocol/agent.ts) and the state machine's
// types: resources become canonical, enum names are checked against the state machine's lists.
// A conversion that fails throws WireConversionError with a message fit for an `error` reply.
import type {
  MasterMessageBody,
  WireAgentInfo,
  WireCommand,
  WireExecutorInfo,
  WireFrameworkInfo,
  WireStatus,
  WireTaskSpec,
} from '../protocol/agent.ts';
import { canonicalize, InvalidResourcesError, volumesOf, type Resource } from '../state-machine/resources.ts';
import type { Agent, Framework, Task } from '../state-machine/state.ts';
import { boundedStatusMessage } from '../protocol/status-message.ts';
import { taskReasons, taskStates, type TaskReason, type TaskState } from '../protocol/task-states.ts';
import { maxTextLength } from '../state-machine/limits.ts';
import { SchemaError } from '../state-machine/schema.ts';
import { statusReportSchema } from '../state-machine/value-schema.ts';
import type { AgentInfo, ExecutorDefinition, StatusReport, TaskCommand } from '../state-machine/values.ts';
import { assert } from '../util/assert.ts';

export class WireConversionError extends Error {
  override name = 'WireConversionError';
}

export function toAgentInfo(wire: WireAgentInfo): AgentInfo {
  try {
    return { ...wire, resources: canonicalize(wire.resources as readonly Resource[]) };
  } catch (error) {
    if (error instanceof InvalidResourcesError) throw new WireConversionError(`invalid resources: ${error.message}`);
    throw error;
  }
}

/**
 * The update as the state machine will record it, checked against its schema here: one it would
 * refuse at apply (MALFORMED_COMMAND) would be acknowledged, and the agent would forget it, so it
 * is refused now instead (no acknowledgement: it stays with the agent, which says so in its log).
 */
export function toStatusReport(wire: WireStatus): StatusReport {
  const report = wireStatusReport(wire);
  try {
    return statusReportSchema(report, 'status');
  } catch (error) {
    if (error instanceof SchemaError) throw new WireConversionError(error.message);
    throw error;
  }
}

function wireStatusReport(wire: WireStatus): StatusReport {
  if (!(taskStates as readonly string[]).includes(wire.state))
    throw new WireConversionError(`unknown task state ${wire.state}`);
  if (wire.reason !== null && !(taskReasons as readonly string[]).includes(wire.reason)) {
    throw new WireConversionError(`unknown reason ${wire.reason}`);
  }
  return {
    state: wire.state as TaskState,
    reason: wire.reason as TaskReason | null,
    // The replicated text is bounded (textSchema): a longer one would be applied as MALFORMED_COMMAND,
    // acknowledged, and the update lost. Agents cut their own; older ones may not have.
    message: boundedStatusMessage(wire.message, maxTextLength),
    source: wire.source,
    uuid: wire.uuid,
    timestampMs: Math.round(wire.timestampMs),
    healthy: wire.healthy,
    data: wire.data,
  };
}

function toWireCommand(command: TaskCommand | null): WireCommand | null {
  if (command === null) return null;
  return {
    value: command.value,
    shell: command.shell,
    arguments: command.arguments,
    environment: command.environment,
    ...(command.uris === undefined ? {} : { uris: command.uris }),
  };
}

/** The launch spec the agent runs: the task's definition, nothing of its replicated bookkeeping. */
export function toWireTaskSpec(task: Task): WireTaskSpec {
  return {
    id: task.id,
    name: task.name,
    resources: task.resources,
    command: toWireCommand(task.command),
    container: task.container,
    user: task.user,
    healthCheck: task.healthCheck,
    killGracePeriodMs: task.killGracePeriodMs,
    labels: task.labels,
    executorId: task.executor?.id ?? null,
    data: task.data,
    taskGroup: task.taskGroup,
  };
}

/** Mesos (slave.cpp): an executor runs as its command's user, else its framework's. */
export function toWireExecutorInfo(executor: ExecutorDefinition, framework: Framework | undefined): WireExecutorInfo {
  return {
    id: executor.id,
    type: executor.type,
    name: executor.name,
    command: toWireCommand(executor.command),
    resources: executor.resources,
    shutdownGracePeriodMs: executor.shutdownGracePeriodMs,
    labels: executor.labels,
    user: executor.command?.user ?? framework?.info.user ?? null,
    container: executor.container,
  };
}

export function toWireFrameworkInfo(framework: Framework): WireFrameworkInfo {
  const info = framework.info;
  return {
    id: framework.id,
    name: info.name,
    user: info.user,
    roles: info.roles,
    principal: info.principal,
    hostname: info.hostname,
    capabilities: info.capabilities,
  };
}

/** The launch of a task that is not in a task group (a group launches as one: launchGroupMessage). */
export function launchMessage(task: Task, framework: Framework | undefined): MasterMessageBody {
  const executor = task.executor;
  return {
    type: 'launch',
    frameworkId: task.frameworkId,
    task: toWireTaskSpec(task),
    executor: executor === null ? null : toWireExecutorInfo(executor, framework),
    framework: executor === null || framework === undefined ? null : toWireFrameworkInfo(framework),
  };
}

/** The tasks of one group, launched by one accept, in launch order: one message, so the agent starts them together. */
export function launchGroupMessage(tasks: readonly Task[], framework: Framework): MasterMessageBody {
  const first = tasks[0];
  assert(first !== undefined && first.executor !== null, 'a task group has tasks, run by an executor');
  assert(
    tasks.every((task) => task.taskGroup === first.taskGroup && task.executor?.id === first.executor?.id),
    'the tasks of a group share its group id and executor',
  );
  return {
    type: 'launch_group',
    frameworkId: first.frameworkId,
    executor: toWireExecutorInfo(first.executor, framework),
    framework: toWireFrameworkInfo(framework),
    tasks: tasks.map(toWireTaskSpec),
  };
}

/**
 * The kill of a task the master asked to die: on an agent being drained (DRAIN_AGENT), the drain
 * says why, and its max_grace_period caps the task's kill grace period (the agent takes the
 * smaller, as Mesos' agent does); otherwise `why`.
 */
export function killMessage(task: Task, agent: Agent | undefined, why: string): MasterMessageBody {
  const drain = agent?.drain ?? null;
  return {
    type: 'kill',
    frameworkId: task.frameworkId,
    taskId: task.id,
    message: drain === null ? why : `agent ${task.agentId} is being drained`,
    maxGracePeriodMs: drain?.maxGracePeriodMs ?? null,
  };
}

/** The `volumes` message: every persistent volume the replicated state has on the agent. */
export function volumesMessage(agent: Agent | undefined): MasterMessageBody {
  const volumes = agent === undefined ? [] : volumesOf(agent.resources);
  return {
    type: 'volumes',
    volumes: volumes.map((volume) => ({ role: volume.role, persistenceId: volume.disk.persistenceId })),
  };
}
