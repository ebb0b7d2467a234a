// Conversions between the agent wire (plain JSON, src/protocol/agent.ts) and the state machine's
// types: resources become canonical, enum names are checked against the state machine's lists.
// A conversion that fails throws WireConversionError with a message fit for an `error` reply.
import type { WireAgentInfo, WireStatus, WireTaskSpec } from '../protocol/agent.ts';
import { canonicalize, InvalidResourcesError, type Resource } from '../state-machine/resources.ts';
import type { Task } from '../state-machine/state.ts';
import { taskReasons, taskStates, type TaskReason, type TaskState } from '../protocol/task-states.ts';
import type { AgentInfo, StatusReport } from '../state-machine/values.ts';

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

export function toStatusReport(wire: WireStatus): StatusReport {
  if (!(taskStates as readonly string[]).includes(wire.state))
    throw new WireConversionError(`unknown task state ${wire.state}`);
  if (wire.reason !== null && !(taskReasons as readonly string[]).includes(wire.reason)) {
    throw new WireConversionError(`unknown reason ${wire.reason}`);
  }
  return {
    state: wire.state as TaskState,
    reason: wire.reason as TaskReason | null,
    message: wire.message,
    source: wire.source,
    uuid: wire.uuid,
    timestampMs: Math.round(wire.timestampMs),
    healthy: wire.healthy,
    data: null,
  };
}

/** The launch spec the agent runs: the task's definition, nothing of its replicated bookkeeping. */
export function toWireTaskSpec(task: Task): WireTaskSpec {
  const command = task.command;
  return {
    id: task.id,
    name: task.name,
    resources: task.resources,
    command:
      command === null
        ? null
        : {
            value: command.value,
            shell: command.shell,
            arguments: command.arguments,
            environment: command.environment,
          },
    container: task.container,
    user: task.user,
    healthCheck: task.healthCheck,
    killGracePeriodMs: task.killGracePeriodMs,
    labels: task.labels,
  };
}
