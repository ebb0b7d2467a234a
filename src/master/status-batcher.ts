// The leader's status updates (from agents) and acknowledgements (from frameworks) of one
// event-loop turn, proposed as one task_status_batch command instead of one command each. Each
// launched task used to cost its own Raft entry per update and per acknowledgement: a decode and
// schema check, a checksum, a log row, an AppendEntries slot and an apply round trip each (issue
// 12, launch bench). Callers still get one answer per item, after the commit, as before: the
// item's own ApplyResult, so an agent is acknowledged only once its update is recorded.
//
// Order: items are proposed in the order they were given, and a turn's batches in order, so
// updates of one task keep the order the agent sent them in (the agent also resends in order).
import { assert } from '../util/assert.ts';
import type { Command, TaskStatusBatchItem } from '../state-machine/commands.ts';
import type { ApplyResult } from '../state-machine/errors.ts';
import { maxCommandBytes, maxTaskStatusBatchItems } from '../state-machine/limits.ts';
import { stampedOnSubmit, type ReplicatedMaster } from './interface.ts';

/** The envelope and the batch's own fields, beside its items, with room to spare. */
export const batchOverheadBytes = 4096;
/** What one item may add to the encoded command besides its strings (field names, numbers, enums). */
const itemFixedBytes = 1024;
/** JSON escapes a control character as `\u00XX`: six bytes for one UTF-16 unit, the worst case. */
const jsonBytesPerCharacterMax = 6;

interface Pending {
  readonly item: TaskStatusBatchItem;
  readonly bytesMax: number;
  readonly resolve: (answer: BatchedAnswer) => void;
  readonly reject: (error: unknown) => void;
}

export interface BatchedAnswer {
  /** The Raft index of the entry that carried the item. */
  readonly index: number;
  readonly result: ApplyResult;
}

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

/** Cuts `pending` into batches of at most `maxItems` items and, by their bytes' bounds, maxCommandBytes. */
export function cutBatches<T extends { readonly bytesMax: number }>(
  pending: readonly T[],
  maxItems: number = maxTaskStatusBatchItems,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = batchOverheadBytes;
  for (const each of pending) {
    const full = current.length === maxItems || bytes + each.bytesMax > maxCommandBytes;
    if (current.length > 0 && full) {
      batches.push(current);
      current = [];
      bytes = batchOverheadBytes;
    }
    current.push(each);
    bytes += each.bytesMax;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export class TaskStatusBatcher {
  #pending: Pending[] = [];
  #scheduled = false;

  constructor(readonly master: Pick<ReplicatedMaster, 'submit'>) {}

  /**
   * Resolves with the item's own result once the entry carrying it is applied; rejects (a
   * MasterError: not the leader, leadership changed, outcome unknown…) when the entry was not
   * committed here, exactly as `submit` of the single command would.
   */
  submit(item: TaskStatusBatchItem): Promise<BatchedAnswer> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, bytesMax: itemBytesMax(item), resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // The check phase: after every socket and HTTP request read in this turn's poll phase.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    for (const batch of cutBatches(pending)) void this.#propose(batch);
  }

  async #propose(batch: readonly Pending[]): Promise<void> {
    assert(batch.length > 0 && batch.length <= maxTaskStatusBatchItems, `a batch of ${batch.length} items`);
    // One item alone goes as its single command: the same entry as before batching existed.
    const command: Command =
      batch.length === 1
        ? { ...batch[0]!.item, at: stampedOnSubmit }
        : { type: 'task_status_batch', at: stampedOnSubmit, items: batch.map((each) => each.item) };
    let answer: BatchedAnswer;
    try {
      answer = await this.master.submit(command);
    } catch (error) {
      for (const each of batch) each.reject(error);
      return;
    }
    if (batch.length === 1) {
      batch[0]!.resolve(answer);
      return;
    }
    const results = answer.result.ok ? answer.result.items : undefined;
    // A batch is never rejected as a whole unless it did not decode: a bug here, not an answer
    // to give the items (an agent told "rejected" would stop resending an update never recorded).
    assert(results !== undefined && results.length === batch.length, `task_status_batch at ${answer.index} refused`);
    for (const [position, each] of batch.entries()) each.resolve({ index: answer.index, result: results[position]! });
  }
}
