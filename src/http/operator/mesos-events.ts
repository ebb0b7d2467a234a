// The state machine's change events as master.proto `Event`s for the operator SUBSCRIBE stream.
// Offer events are the scheduler API's business and have no operator event; STATE_RESTORED has
// none either (subscriptions.ts ends the streams: their snapshot no longer holds).
import type * as Operator from '../../protocol/operator.ts';
import { assertNever } from '../../util/assert.ts';
import type { ChangeEvent } from '../../state-machine/events.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import { mesosAgent, mesosFrameworkInfo } from '../../master/mesos/mesos-entities.ts';
import { idValue } from '../../master/mesos/mesos-json.ts';
import { mesosTask, mesosTaskStatus } from '../../master/mesos/mesos-tasks.ts';
import { frameworkView, getState } from './state-view.ts';
import { seeEverything, type Visibility } from './visibility.ts';

export function subscribedEvent(
  state: ReadonlyState,
  heartbeatIntervalSeconds: number,
  visibility: Visibility = seeEverything,
): Operator.Event {
  return {
    type: 'SUBSCRIBED',
    subscribed: {
      get_state: getState(state, undefined, visibility),
      heartbeat_interval_seconds: heartbeatIntervalSeconds,
    },
  };
}

export const heartbeatEvent: Operator.Event = { type: 'HEARTBEAT' };

/** `state` is the state right after the command that emitted `event` (for framework holdings). */
export function mesosEvent(event: ChangeEvent, state: ReadonlyState): Operator.Event | null {
  switch (event.type) {
    case 'TASK_ADDED':
      return { type: 'TASK_ADDED', task_added: { task: mesosTask(event.task) } };
    case 'TASK_UPDATED':
      return {
        type: 'TASK_UPDATED',
        task_updated: {
          framework_id: idValue(event.task.frameworkId),
          status: mesosTaskStatus(event.task, event.status),
          state: event.task.state,
        },
      };
    case 'AGENT_ADDED':
      return { type: 'AGENT_ADDED', agent_added: { agent: mesosAgent(event.agent) } };
    case 'AGENT_REMOVED':
      return { type: 'AGENT_REMOVED', agent_removed: { agent_id: idValue(event.agentId) } };
    case 'FRAMEWORK_ADDED':
      return { type: 'FRAMEWORK_ADDED', framework_added: { framework: frameworkView(state, event.framework) } };
    case 'FRAMEWORK_UPDATED':
      return { type: 'FRAMEWORK_UPDATED', framework_updated: { framework: frameworkView(state, event.framework) } };
    case 'FRAMEWORK_REMOVED':
      return { type: 'FRAMEWORK_REMOVED', framework_removed: { framework_info: mesosFrameworkInfo(event.framework) } };
    // Readers see deactivation and drains in GET_AGENTS (deactivated, drain_info).
    case 'AGENT_UPDATED':
    case 'OFFER_ADDED':
    case 'OFFER_REMOVED':
    case 'TASK_KILL_REQUESTED':
    case 'STATE_RESTORED':
    // master.proto's Event has no executor events; GET_EXECUTORS answers who runs where.
    case 'EXECUTOR_ADDED':
    case 'EXECUTOR_REMOVED':
    // Mesos forgets completed tasks, frameworks and removed agents without an operator event.
    case 'TASK_PRUNED':
    case 'FRAMEWORK_PRUNED':
    case 'AGENT_PRUNED':
    // Mesos reports volume changes through GET_AGENTS and GET_OPERATIONS, not as an event.
    case 'AGENT_VOLUMES_CHANGED':
      return null;
    default:
      return assertNever(event);
  }
}
