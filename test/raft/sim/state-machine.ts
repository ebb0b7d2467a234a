// The state machine of a simulated replica: the payloads applied so far, the idempotency table
// (so a retried, key-stamped proposal applies once, §6.3), the membership carried by applied
// config entries, and a running digest of every applied entry. Two replicas that applied the
// same entries have the same digest at the same index; the checkers compare digests instead of
// whole histories. A snapshot is the JSON of all of it, deterministic byte for byte.
import { crc32 } from 'node:zlib';
import { entryChecksum } from '../../../src/raft/checksum.ts';
import { decodeConfigEntry } from '../../../src/raft/membership.ts';
import { IdempotencyTable } from '../../../src/raft/idempotency.ts';
import type { Entry, IdempotencyStamp, LogIndex, Membership, Snapshot, Term } from '../../../src/raft/types.ts';

export const simStateFormatVersion = 2;

/** A simulated client's request: its id and the number of the request, retried until seen applied. */
export interface SimRequest {
  readonly client: string;
  readonly sequence: number;
}

export type ApplyOutcome = 'applied' | 'duplicate' | 'noop' | 'config';

interface SerializedState {
  version: number;
  index: LogIndex;
  term: Term;
  digest: number;
  membership: Membership;
  payloads: string[];
  /** The idempotency table's own encoding, as text. */
  idempotency: string;
}

export function stampKey(request: SimRequest): string {
  return `${request.client}/${request.sequence}`;
}

/**
 * The stamp of a request: its key, a fingerprint of what it means (a retry means the same), and
 * the simulated time, one millisecond per tick: a run is far shorter than the table's window, so
 * no key expires under a retry (expiry is tested in test/raft/idempotency.test.ts).
 */
export function simStamp(request: SimRequest, ticks: number): IdempotencyStamp {
  const key = stampKey(request);
  return { key, fingerprint: `payload:${key}`, atMs: ticks };
}

export class SimStateMachine {
  appliedIndex: LogIndex = 0;
  appliedTerm: Term = 0;
  digest = 0;
  membership: Membership;
  readonly payloads: string[] = [];
  private table = new IdempotencyTable();
  /** Stamps whose entries changed the state: the exactly-once checker reads it. */
  private readonly appliedStamps = new Set<string>();

  constructor(membership: Membership) {
    this.membership = membership;
  }

  hasApplied(key: string): boolean {
    return this.appliedStamps.has(key);
  }

  /** Applies one committed entry; the caller (checkers) has already vetted its position. */
  apply(entry: Entry): ApplyOutcome {
    if (entryChecksum(entry.term, entry.index, entry.type, entry.data, entry.idempotency) !== entry.checksum) {
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
    const stamp = entry.idempotency;
    if (stamp === undefined) {
      this.payloads.push(payload);
      return 'applied';
    }
    const { outcome } = this.table.apply(stamp, entry.index, () => {
      this.appliedStamps.add(stamp.key);
      return this.payloads.push(payload);
    });
    if (outcome.type === 'key-reused') throw new Error(`state machine: ${stamp.key} reused with another payload`);
    return outcome.type === 'applied' ? 'applied' : 'duplicate';
  }

  serialize(): Uint8Array {
    const state: SerializedState = {
      version: simStateFormatVersion,
      index: this.appliedIndex,
      term: this.appliedTerm,
      digest: this.digest,
      membership: this.membership,
      payloads: this.payloads,
      idempotency: this.table.encode().toString('utf8'),
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
    machine.table = IdempotencyTable.decode(Buffer.from(state.idempotency, 'utf8'));
    for (const payload of state.payloads) {
      const stamp = stampOfPayload(payload);
      if (stamp !== null) machine.appliedStamps.add(stamp);
    }
    return machine;
  }
}

/** Stamped payloads are written "<client>/<sequence>" by the workload; unstamped ones start with "u". */
export function stampedPayload(request: SimRequest): string {
  return stampKey(request);
}

function stampOfPayload(payload: string): string | null {
  return payload.startsWith('u') ? null : payload;
}
