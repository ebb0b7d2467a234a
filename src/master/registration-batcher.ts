// The leader's agent registrations and re-registrations of one event-loop turn, proposed as one
// agent_registration_batch command instead of one command each (turn-batcher.ts). After a leader
// failover every agent re-registers within moments: one Raft entry per agent was a decode, schema
// check, checksum, log row, AppendEntries slot and apply round trip each (issue 12, scale bench).
import type { AgentRegistrationBatchItem } from '../state-machine/commands.ts';
import { maxAgentRegistrationBatchItems } from '../state-machine/limits.ts';
import type { ReplicatedMaster } from './interface.ts';
import { maxRegistrationBatchBytes } from './limits.ts';
import { TurnBatcher } from './turn-batcher.ts';

/**
 * The bytes `item` adds to the encoded batch: its JSON's UTF-8 length, plus a comma. Exact, not
 * a bound, since an agent's resources and reported tasks have no small fixed shape; the cost is
 * one more stringify of what the entry encodes anyway.
 */
export function registrationItemBytes(item: AgentRegistrationBatchItem): number {
  return Buffer.byteLength(JSON.stringify(item), 'utf8') + 1;
}

export class AgentRegistrationBatcher extends TurnBatcher<AgentRegistrationBatchItem> {
  constructor(master: Pick<ReplicatedMaster, 'submit'>) {
    super(master, {
      commandType: 'agent_registration_batch',
      maxItems: maxAgentRegistrationBatchItems,
      maxBatchBytes: maxRegistrationBatchBytes,
      bytesMax: registrationItemBytes,
    });
  }
}
