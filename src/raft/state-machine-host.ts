// Applies committed entries to the user's state machine, deduplicating client-stamped retries
// through the replicated session table, and packs both into one snapshot blob.
import { SessionTable } from './sessions.ts';
import type { ClientStamp, Entry, LogIndex } from './types.ts';

/** What a replicated state machine gives the Raft driver. `apply` must be deterministic. */
export interface ReplicatedStateMachine {
  apply(command: Uint8Array, index: LogIndex): unknown;
  snapshot(): Uint8Array;
  /**
   * Optional: captures the state at once and returns the function that writes it later, off
   * the hot path (the driver then takes snapshots in the background). Without it, `snapshot()`
   * runs where the core asks for one.
   */
  beginSnapshot?(): () => Promise<Uint8Array>;
  restore(data: Uint8Array): void;
}

export const SNAPSHOT_ENVELOPE_VERSION = 1;
const maxSessionsDefault = 10_000;

export interface AppliedEntry {
  readonly index: LogIndex;
  readonly result: unknown;
  readonly duplicate: boolean;
}

export class StateMachineHost {
  private sessions: SessionTable;

  constructor(
    private readonly machine: ReplicatedStateMachine,
    private readonly maxSessions = maxSessionsDefault,
  ) {
    this.sessions = new SessionTable(maxSessions);
  }

  /** Applies one committed entry; no-op and config entries have no result. */
  apply(entry: Entry): AppliedEntry {
    if (entry.type !== 'normal') return { index: entry.index, result: undefined, duplicate: false };
    const stamp: ClientStamp | undefined = entry.client;
    if (stamp !== undefined) {
      const decision = this.sessions.check(stamp);
      if (decision.duplicate) return { index: entry.index, result: decision.result, duplicate: true };
    }
    const result = this.machine.apply(entry.data, entry.index);
    if (stamp !== undefined) this.sessions.record(stamp, result, entry.index);
    return { index: entry.index, result, duplicate: false };
  }

  /** [version u8][sessions JSON length u32][sessions JSON][state machine bytes] */
  snapshot(): Uint8Array {
    return envelope(Buffer.from(JSON.stringify(this.sessions.toJSON()), 'utf8'), this.machine.snapshot());
  }

  /** The session table and the machine's state as they are now; the bytes come later (see ReplicatedStateMachine). */
  beginSnapshot(): () => Promise<Uint8Array> {
    const sessions = Buffer.from(JSON.stringify(this.sessions.toJSON()), 'utf8');
    if (this.machine.beginSnapshot === undefined) {
      const machine = this.machine.snapshot();
      return () => Promise.resolve(envelope(sessions, machine));
    }
    const finishMachine = this.machine.beginSnapshot();
    return async () => envelope(sessions, await finishMachine());
  }

  restore(data: Uint8Array): void {
    const blob = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (blob.byteLength < 5 || blob.readUInt8(0) !== SNAPSHOT_ENVELOPE_VERSION) {
      throw new Error(`snapshot envelope: unknown version ${blob.byteLength < 1 ? 'none' : blob.readUInt8(0)}`);
    }
    const sessionsLength = blob.readUInt32BE(1);
    if (5 + sessionsLength > blob.byteLength) throw new Error('snapshot envelope: truncated session table');
    const sessions: unknown = JSON.parse(blob.subarray(5, 5 + sessionsLength).toString('utf8'));
    this.sessions = SessionTable.fromJSON(sessions, this.maxSessions);
    this.machine.restore(blob.subarray(5 + sessionsLength));
  }
}

/** [version u8][sessions JSON length u32][sessions JSON][state machine bytes] */
function envelope(sessions: Buffer, machine: Uint8Array): Uint8Array {
  const blob = Buffer.allocUnsafe(5 + sessions.byteLength + machine.byteLength);
  blob.writeUInt8(SNAPSHOT_ENVELOPE_VERSION, 0);
  blob.writeUInt32BE(sessions.byteLength, 1);
  sessions.copy(blob, 5);
  Buffer.from(machine.buffer, machine.byteOffset, machine.byteLength).copy(blob, 5 + sessions.byteLength);
  return blob;
}
