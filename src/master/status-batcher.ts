// The leader's status updates (from agents) and acknowledgements (from frameworks) of one
// event-loop turn, proposed as one task_status_batch command instead of one command each. Each
// launched task used to cost its own Raft entry per update and per acknowledgement: a decode and
// schema check, a checksum, a log row, an AppendEntries slot and an apply round trip each (issue
// 12, launch bench). Callers still get one answer per item, after the commit, as before: the
// item's own ApplyResult, so an agent is acknowledged only once its update is recorded.
// Updates of one task keep the order the agent sent them in (turn-batcher.ts keeps the order;
// the agent also resends in order).
import type { TaskStatusBatchItem } from '../state-machine/commands.ts';
import { maxTaskStatusBatchItems } from '../state-machine/limits.ts';
import type { ReplicatedMaster } from './interface.ts';
import { TurnBatcher } from './turn-batcher.ts';

/** What one item may add to the encoded command besides its strings (field names, numbers, enums). */
const itemFixedBytes = 1024;
/** JSON escapes a control character as `\u00XX`: six bytes for one UTF-16 unit, the worst case. */
const jsonBytesPerCharacterMax = 6;

/** An upper bound of the bytes `item` adds to the encoded batch, without encoding it. */
export function itemBytesMax(item: TaskStatusBatchItem): number {
  const strings =
    item.type === 'update_task_status'
      ? [item.status.message ?? '', item.status.uuid ?? '', item.status.data ?? '']
      : [item.uuid];
  let characters = item.frameworkId.length + item.taskId.length + item.agentId.length;
  for (const text of strings) characters += text.length;
  return itemFixedBytes + characters * jsonBytesPerCharacterMax;
}

export class TaskStatusBatcher extends TurnBatcher<TaskStatusBatchItem> {
  constructor(master: Pick<ReplicatedMaster, 'submit'>) {
    super(master, { commandType: 'task_status_batch', maxItems: maxTaskStatusBatchItems, bytesMax: itemBytesMax });
  }
}
