// Applies committed entries to the user's state machine, deciding idempotency-stamped entries
// through the replicated idempotency table (idempotency.ts), and packs both into one snapshot
// blob, so the table always describes exactly the state it is stored with.
import { IdempotencyTable, type IdempotencyOutcome } from './idempotency.ts';
import type { Entry, LogIndex } from './types.ts';

/** What a replicated state machine gives the Raft driver. `apply` must be deterministic. */
export interface ReplicatedStateMachine {
  apply(command: Uint8Array, index: LogIndex): unknown;
  snapshot(): Uint8Array;
  /**
   * Optional: captures the state at once and returns the function that writes it later, off
   * the hot path (the driver then takes snapshots in the background). The bytes must come after
   * `prefix` (the envelope's header), in one buffer: a big state is then not copied again.
   * Without it, `snapshot()` runs where the core asks for one.
   */
  beginSnapshot?(): (prefix?: Uint8Array) => Promise<Uint8Array>;
  restore(data: Uint8Array): void;
  /**
   * Optional: `restore` in slices that give the event loop back, the new state built aside.
   * Resolves with the function that swaps it in (in one turn), or null once `cancelled()` is
   * true; rejects, changing nothing, if `data` is bad. Without it, the swap runs `restore`.
   */
  prepareRestore?(data: Uint8Array, cancelled: () => boolean): Promise<(() => void) | null>;
}

/**
 * The envelope's format version, first byte of every snapshot blob:
 *   2  [2 u8][table length u32 BE][idempotency table JSON][state machine bytes]
 *   1  [1 u8][sessions length u32 BE][client session table JSON][state machine bytes] (read only, COMPAT)
 */
export const SNAPSHOT_ENVELOPE_VERSION = 2;
const sessionEnvelopeVersion = 1;
const envelopeHeaderBytes = 5;

export class SnapshotEnvelopeError extends Error {
  readonly code = 'RAFT_SNAPSHOT_ENVELOPE_INVALID';
  constructor(detail: string) {
    super(`snapshot envelope: ${detail}`);
    this.name = 'SnapshotEnvelopeError';
  }
}

export interface AppliedEntry {
  readonly index: LogIndex;
  /** The state machine's result; for a duplicate, the first attempt's; none when the key was reused. */
  readonly result: unknown;
  /** Null for an entry without an idempotency stamp. */
  readonly idempotency: IdempotencyOutcome | null;
}

export class StateMachineHost {
  private table = new IdempotencyTable();

  constructor(private readonly machine: ReplicatedStateMachine) {}

  /** Applies one committed entry; no-op and config entries have no result. */
  apply(entry: Entry): AppliedEntry {
    if (entry.type !== 'normal') return { index: entry.index, result: undefined, idempotency: null };
    const stamp = entry.idempotency;
    if (stamp === undefined) {
      return { index: entry.index, result: this.machine.apply(entry.data, entry.index), idempotency: null };
    }
    const applied = this.table.apply(stamp, entry.index, () => this.machine.apply(entry.data, entry.index));
    return { index: entry.index, result: applied.result, idempotency: applied.outcome };
  }

  /** The table, read-only, for tests and metrics. */
  idempotencyTable(): Pick<IdempotencyTable, 'size' | 'clockMs' | 'lookup'> {
    return this.table;
  }

  snapshot(): Uint8Array {
    return withEnvelope(this.table.encode(), this.machine.snapshot());
  }

  /** The table and the machine's state as they are now; the bytes come later (see ReplicatedStateMachine). */
  beginSnapshot(): () => Promise<Uint8Array> {
    const finishTable = this.table.beginEncode();
    const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    if (this.machine.beginSnapshot === undefined) {
      const machine = this.machine.snapshot();
      return async () => withEnvelope(await finishTable(yieldToEventLoop), machine);
    }
    const finishMachine = this.machine.beginSnapshot();
    // The machine writes its bytes after the envelope's header: a 110 MB state is not copied again here.
    return async () => finishMachine(envelopeHeader(await finishTable(yieldToEventLoop)));
  }

  /** Replaces the table and the machine's state; refuses an envelope it cannot read, changing nothing. */
  restore(data: Uint8Array): void {
    const { table, machineBytes } = openEnvelope(data);
    this.machine.restore(machineBytes);
    this.table = table;
  }

  /**
   * restore, the machine's part in slices when it can (ReplicatedStateMachine.prepareRestore):
   * resolves with the function that swaps the table and the state in, in one turn, or with null
   * once `cancelled()` is true. A bad envelope or state rejects and changes nothing.
   */
  async prepareRestore(data: Uint8Array, cancelled: () => boolean): Promise<(() => void) | null> {
    const { table, machineBytes } = openEnvelope(data);
    const installMachine =
      this.machine.prepareRestore === undefined
        ? () => this.machine.restore(machineBytes)
        : await this.machine.prepareRestore(machineBytes, cancelled);
    if (installMachine === null) return null;
    return () => {
      installMachine();
      this.table = table;
    };
  }
}

/** The idempotency table and the machine's bytes of a snapshot blob; throws SnapshotEnvelopeError. */
function openEnvelope(data: Uint8Array): { readonly table: IdempotencyTable; readonly machineBytes: Uint8Array } {
  const blob = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (blob.byteLength < envelopeHeaderBytes) {
    throw new SnapshotEnvelopeError(`${blob.byteLength} bytes is shorter than the ${envelopeHeaderBytes}-byte header`);
  }
  const version = blob.readUInt8(0);
  if (version !== SNAPSHOT_ENVELOPE_VERSION && version !== sessionEnvelopeVersion) {
    throw new SnapshotEnvelopeError(
      `unknown version ${version}; this build reads versions ${sessionEnvelopeVersion} and ${SNAPSHOT_ENVELOPE_VERSION}`,
    );
  }
  const tableLength = blob.readUInt32BE(1);
  if (envelopeHeaderBytes + tableLength > blob.byteLength) {
    throw new SnapshotEnvelopeError(`table of ${tableLength} bytes does not fit in ${blob.byteLength} bytes`);
  }
  const tableBytes = blob.subarray(envelopeHeaderBytes, envelopeHeaderBytes + tableLength);
  // COMPAT: a version 1 envelope holds the client session table of src/raft/sessions.ts
  // (removed), which only tests ever filled: the master never stamped a proposal. Its sessions
  // mean nothing to the idempotency table, which starts empty.
  const table = version === sessionEnvelopeVersion ? new IdempotencyTable() : IdempotencyTable.decode(tableBytes);
  return { table, machineBytes: blob.subarray(envelopeHeaderBytes + tableLength) };
}

/** The envelope up to the state machine's bytes: version, the table's length, the table. */
function envelopeHeader(table: Buffer): Buffer {
  const header = Buffer.alloc(envelopeHeaderBytes + table.byteLength);
  header.writeUInt8(SNAPSHOT_ENVELOPE_VERSION, 0);
  header.writeUInt32BE(table.byteLength, 1);
  table.copy(header, envelopeHeaderBytes);
  return header;
}

/** The whole envelope around a machine's finished bytes (copied into it). */
function withEnvelope(table: Buffer, machine: Uint8Array): Uint8Array {
  return Buffer.concat([envelopeHeader(table), machine]);
}
