// The state machine of a simulated replica: the payloads applied so far, a client session table
// (so a retried, client-stamped proposal applies once, §6.3), the membership carried by applied
// config entries, and a running digest of every applied entry. Two replicas that applied the
// same entries have the same digest at the same index; the checkers compare digests instead of
// whole histories. A snapshot is the JSON of all of it, deterministic byte for byte.
import { crc32 } from 'node:zlib';
import { entryChecksum } from '../../../src/raft/checksum.ts';
import { decodeConfigEntry } from '../../../src/raft/membership.ts';
import { SessionTable } from '../../../src/raft/sessions.ts';
import type { ClientStamp, Entry, LogIndex, Membership, Snapshot, Term } from '../../../src/raft/types.ts';

export const simStateFormatVersion = 1;
/** Larger than the clients a simulation ever runs, so no session is evicted (eviction is tested elsewhere). */
export const maxSimSessions = 64;

export type ApplyOutcome = 'applied' | 'duplicate' | 'noop' | 'config';

interface SerializedState {
  version: number;
  index: LogIndex;
  term: Term;
  digest: number;
  membership: Membership;
  payloads: string[];
  sessions: unknown;
}

export function stampKey(stamp: ClientStamp): string {
  return `${stamp.client}/${stamp.sequence}`;
}

export class SimStateMachine {
  appliedIndex: LogIndex = 0;
  appliedTerm: Term = 0;
  digest = 0;
  membership: Membership;
  readonly payloads: string[] = [];
  private sessions = new SessionTable(maxSimSessions);
  /** Stamps whose entries changed the state: the exactly-once checker reads it. */
  private readonly appliedStamps = new Set<string>();

  constructor(membership: Membership) {
    this.membership = membership;
  }

  hasApplied(stamp: ClientStamp): boolean {
    return this.appliedStamps.has(stampKey(stamp));
  }

  /** Applies one committed entry; the caller (checkers) has already vetted its position. */
  apply(entry: Entry): ApplyOutcome {
    if (entryChecksum(entry.term, entry.index, entry.type, entry.data, entry.client) !== entry.checksum) {
      throw new Error(`state machine: entry ${entry.index} is corrupt and must not be applied`);
    }
    this.appliedIndex = entry.index;
    this.appliedTerm = entry.term;
    this.digest = crc32(`${this.digest}:${entry.index}:${entry.term}:${entry.checksum}`);
    if (entry.type === 'noop') return 'noop';
    if (entry.type === 'config') {
      this.membership = decodeConfigEntry(entry.data).membership;
      return 'config';
    }
    const payload = Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength).toString('utf8');
    if (entry.client !== undefined) {
      if (this.sessions.check(entry.client).duplicate) return 'duplicate';
      this.sessions.record(entry.client, this.payloads.length, entry.index);
      this.appliedStamps.add(stampKey(entry.client));
    }
    this.payloads.push(payload);
    return 'applied';
  }

  serialize(): Uint8Array {
    const state: SerializedState = {
      version: simStateFormatVersion,
      index: this.appliedIndex,
      term: this.appliedTerm,
      digest: this.digest,
      membership: this.membership,
      payloads: this.payloads,
      sessions: this.sessions.toJSON(),
    };
    return new Uint8Array(Buffer.from(JSON.stringify(state), 'utf8'));
  }

  static fromSnapshot(snapshot: Snapshot): SimStateMachine {
    const text = Buffer.from(snapshot.data.buffer, snapshot.data.byteOffset, snapshot.data.byteLength).toString('utf8');
    const state = JSON.parse(text) as SerializedState;
    if (state.version !== simStateFormatVersion)
      throw new Error(`state machine: unknown snapshot version ${state.version}`);
    if (state.index !== snapshot.meta.index || state.term !== snapshot.meta.term) {
      throw new Error(
        `state machine: snapshot data is at ${state.index}/${state.term}, its meta says ${snapshot.meta.index}/${snapshot.meta.term}`,
      );
    }
    const machine = new SimStateMachine(state.membership);
    machine.appliedIndex = state.index;
    machine.appliedTerm = state.term;
    machine.digest = state.digest;
    machine.payloads.push(...state.payloads);
    machine.sessions = SessionTable.fromJSON(state.sessions, maxSimSessions);
    for (const payload of state.payloads) {
      const stamp = stampOfPayload(payload);
      if (stamp !== null) machine.appliedStamps.add(stamp);
    }
    return machine;
  }
}

/** Stamped payloads are written "<client>/<sequence>" by the workload; unstamped ones start with "u". */
export function stampedPayload(stamp: ClientStamp): string {
  return stampKey(stamp);
}

function stampOfPayload(payload: string): string | null {
  return payload.startsWith('u') ? null : payload;
}
