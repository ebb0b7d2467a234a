// The leader's agent registrations and re-registrations of one event-loop turn, proposed as one
// agent_registration_batch command instead of one command each. After a leader failover every
// agent re-registers within moments: one Raft entry per agent was a decode, schema check,
// checksum, log row, AppendEntries slot and apply round trip each (issue 12, scale bench). As
// with task_status_batch (status-batcher.ts, the model): each caller gets its item's own
// ApplyResult once the entry is applied, or the error the single command's submit would have
// given; a batch of one goes as the single command, the very entry of before batching.
import { assert } from '../util/assert.ts';
import type { AgentRegistrationBatchItem, Command } from '../state-machine/commands.ts';
import { maxAgentRegistrationBatchItems } from '../state-machine/limits.ts';
import { stampedOnSubmit, type ReplicatedMaster } from './interface.ts';
import { type BatchedAnswer, cutBatches } from './status-batcher.ts';

interface Pending {
  readonly item: AgentRegistrationBatchItem;
  readonly bytesMax: number;
  readonly resolve: (answer: BatchedAnswer) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * The bytes `item` adds to the encoded batch: its JSON's UTF-8 length, plus a comma. Exact, not
 * a bound, since an agent's resources and reported tasks have no small fixed shape; the cost is
 * one more stringify of what the entry encodes anyway.
 */
export function registrationItemBytes(item: AgentRegistrationBatchItem): number {
  return Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;
}

export class AgentRegistrationBatcher {
  #pending: Pending[] = [];
  #scheduled = false;
  /** Entries proposed, and items they carried (a failover's re-registrations in few entries). */
  entries = 0;
  items = 0;

  constructor(readonly master: Pick<ReplicatedMaster, 'submit'>) {}

  /**
   * Resolves with the item's own result once the entry carrying it is applied; rejects (a
   * MasterError: not the leader, leadership changed, outcome unknown…) when the entry was not
   * committed here, exactly as `submit` of the single command would.
   */
  submit(item: AgentRegistrationBatchItem): Promise<BatchedAnswer> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, bytesMax: registrationItemBytes(item), resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // The check phase: after every socket read in this turn's poll phase.
      setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    for (const batch of cutBatches(pending, maxAgentRegistrationBatchItems)) void this.#propose(batch);
  }

  async #propose(batch: readonly Pending[]): Promise<void> {
    assert(
      batch.length > 0 && batch.length <= maxAgentRegistrationBatchItems,
      `a registration batch of ${batch.length} items`,
    );
    this.entries += 1;
    this.items += batch.length;
    const command: Command =
      batch.length === 1
        ? { ...batch[0]!.item, at: stampedOnSubmit }
        : { type: 'agent_registration_batch', at: stampedOnSubmit, items: batch.map((each) => each.item) };
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
    // Never refused as a whole once decoded: anything else is a bug, not an answer for the agents.
    assert(
      results !== undefined && results.length === batch.length,
      `agent_registration_batch at ${answer.index} refused`,
    );
    for (const [position, each] of batch.entries()) each.resolve({ index: answer.index, result: results[position]! });
  }
}
