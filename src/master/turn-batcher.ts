// The leader's commands of one event-loop turn, of one kind, proposed as one batch command
// instead of one command each: task status updates and acknowledgements (status-batcher.ts),
// agent registrations (registration-batcher.ts). Each caller gets its own item's ApplyResult
// once the entry is applied, or the error `submit` of its single command would have given; a
// batch of one goes as the single command, the very entry of before batching.
//
// Order: items are proposed in the order they were given, and a turn's batches in order.
import { assert } from '../util/assert.ts';
import type { Command } from '../state-machine/commands.ts';
import type { ApplyResult } from '../state-machine/errors.ts';
import { maxCommandBytes } from '../state-machine/limits.ts';
import { stampedOnSubmit, type ReplicatedMaster } from './interface.ts';

/** The envelope and the batch's own fields, beside its items, with room to spare. */
export const batchOverheadBytes = 4096;

export interface BatchedAnswer {
  /** The Raft index of the entry that carried the item. */
  readonly index: number;
  readonly result: ApplyResult;
}

interface Pending<Item> {
  readonly item: Item;
  readonly bytesMax: number;
  readonly resolve: (answer: BatchedAnswer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Cuts `pending` into batches of at most `maxItems` items and, by their bytes' bounds, `maxBytes`
 * (at most maxCommandBytes; an item larger than that is a batch of its own).
 */
export function cutBatches<T extends { readonly bytesMax: number }>(
  pending: readonly T[],
  maxItems: number,
  maxBytes = maxCommandBytes,
): T[][] {
  assert(maxBytes > batchOverheadBytes && maxBytes <= maxCommandBytes, `a batch bound of ${maxBytes} bytes`);
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = batchOverheadBytes;
  for (const each of pending) {
    const full = current.length === maxItems || bytes + each.bytesMax > maxBytes;
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

export interface BatchKind<Item> {
  /** The batch command's type; its `items` are the single commands without `at`. */
  readonly commandType: 'task_status_batch' | 'agent_registration_batch';
  readonly maxItems: number;
  /**
   * Bytes of one batch, by its items' bounds (maxCommandBytes if absent): a kind whose apply
   * costs by the byte keeps each entry's apply within about a slice's budget with a lower one.
   */
  readonly maxBatchBytes?: number;
  /** An upper bound of the bytes an item adds to the encoded batch. */
  readonly bytesMax: (item: Item) => number;
}

export class TurnBatcher<Item extends { readonly type: string }> {
  #pending: Pending<Item>[] = [];
  #scheduled = false;
  /** Entries proposed, and items they carried. */
  entries = 0;
  items = 0;

  constructor(
    readonly master: Pick<ReplicatedMaster, 'submit'>,
    readonly kind: BatchKind<Item>,
  ) {}

  /**
   * Resolves with the item's own result once the entry carrying it is applied; rejects (a
   * MasterError: not the leader, leadership changed, outcome unknown…) when the entry was not
   * committed here, exactly as `submit` of the single command would.
   */
  submit(item: Item): Promise<BatchedAnswer> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, bytesMax: this.kind.bytesMax(item), resolve, reject });
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
    for (const batch of cutBatches(pending, this.kind.maxItems, this.kind.maxBatchBytes)) void this.#propose(batch);
  }

  async #propose(batch: readonly Pending<Item>[]): Promise<void> {
    const { commandType, maxItems } = this.kind;
    assert(batch.length > 0 && batch.length <= maxItems, `a ${commandType} of ${batch.length} items`);
    this.entries += 1;
    this.items += batch.length;
    const command = (
      batch.length === 1
        ? { ...batch[0]!.item, at: stampedOnSubmit }
        : { type: commandType, at: stampedOnSubmit, items: batch.map((each) => each.item) }
    ) as Command;
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
    assert(results !== undefined && results.length === batch.length, `${commandType} at ${answer.index} refused`);
    for (const [position, each] of batch.entries()) each.resolve({ index: answer.index, result: results[position]! });
  }
}
