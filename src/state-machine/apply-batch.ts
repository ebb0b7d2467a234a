// task_status_batch and agent_registration_batch: the status updates and acknowledgements, or the
// agent registrations and re-registrations, of one event-loop turn on the leader, in one Raft
// entry. Each item is applied by the very function that applies its single command (the caller
// passes `apply` itself), at the batch's index and with the batch's `at`, so a batch leaves the
// state exactly as the same commands one after another at that index would: the same rejections
// (a uuid already recorded, also by an earlier item of the same batch, is DUPLICATE_STATUS_UUID;
// an agent id registered by an earlier item is AGENT_ALREADY_REGISTERED), the same change events
// in the same order, the same history pruning.
import { assert } from '../util/assert.ts';
import type { AgentRegistrationBatch, Command, TaskStatusBatch, TaskStatusBatchItem } from './commands.ts';
import type { ApplyResult, Success } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { LogIndex } from './ids.ts';
import { maxAgentRegistrationBatchItems, maxTaskStatusBatchItems } from './limits.ts';
import type { State } from './state.ts';

export type SingleApply = (state: State, command: Command, index: LogIndex, events: ChangeEvent[]) => ApplyResult;

/**
 * The item as its single command (`{ ...item, at }`), built field by field: the spread of a decoded
 * item took V8's slow copy path, once per launched task and status (issue 12, launch bench).
 */
function stamped(item: TaskStatusBatchItem, at: number): Command {
  const { frameworkId, taskId, agentId } = item;
  return item.type === 'update_task_status'
    ? { type: item.type, at, frameworkId, taskId, agentId, status: item.status }
    : item.completesTerminalTask === true
      ? { type: item.type, at, frameworkId, taskId, agentId, uuid: item.uuid, completesTerminalTask: true }
      : { type: item.type, at, frameworkId, taskId, agentId, uuid: item.uuid };
}

/** Never rejected as a whole: its result is a success holding each item's result (Success.items). */
export function applyTaskStatusBatch(
  state: State,
  command: TaskStatusBatch,
  index: LogIndex,
  events: ChangeEvent[],
  applySingle: SingleApply,
): Success {
  assert(
    command.items.length > 0 && command.items.length <= maxTaskStatusBatchItems,
    `task_status_batch of ${command.items.length} items passed decoding`,
  );
  const items: ApplyResult[] = [];
  for (const item of command.items) {
    assert(item.type === 'update_task_status' || item.type === 'acknowledge_task_status', 'a batch item type');
    items.push(applySingle(state, stamped(item, command.at), index, events));
  }
  assert(items.length === command.items.length, 'one result per batch item');
  return { ok: true, items };
}

/** Never rejected as a whole: its result is a success holding each item's result (Success.items). */
export function applyAgentRegistrationBatch(
  state: State,
  command: AgentRegistrationBatch,
  index: LogIndex,
  events: ChangeEvent[],
  applySingle: SingleApply,
): Success {
  assert(
    command.items.length > 0 && command.items.length <= maxAgentRegistrationBatchItems,
    `agent_registration_batch of ${command.items.length} items passed decoding`,
  );
  const items: ApplyResult[] = [];
  for (const item of command.items) {
    assert(item.type === 'register_agent' || item.type === 'reregister_agent', 'a registration batch item type');
    items.push(applySingle(state, { ...item, at: command.at }, index, events));
  }
  assert(items.length === command.items.length, 'one result per registration batch item');
  return { ok: true, items };
}
