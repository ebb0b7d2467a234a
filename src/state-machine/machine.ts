// The cluster state machine as the Raft driver sees it: bytes in, result out, snapshots as
// bytes. It decodes each command (a malformed one is rejected, never thrown), applies it, and
// tells its listeners what changed. It is the only stateful shell around the pure `apply`.
import { apply } from './apply.ts';
import { assert } from '../util/assert.ts';
import { decodeCommand } from './codec.ts';
import type { ApplyResult } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { LogIndex } from './ids.ts';
import { checkInvariants } from './invariants.ts';
import { maxChangeListeners, snapshotSliceBudgetMs, snapshotWorkerMinimumRows } from './limits.ts';
import {
  captureState,
  readSnapshot,
  fallbackSnapshotFormat,
  readSnapshotInSlices,
  type RestoredSnapshot,
  writeSnapshot,
  writeSnapshotInSlices,
} from './snapshot.ts';
import { SliceClock, type SliceTimeline } from './snapshot-slices.ts';
import { emptyState, type ReadonlyState, type State } from './state.ts';

/**
 * Structurally the Raft driver's `ReplicatedStateMachine` (src/raft/state-machine-host.ts),
 * declared here because the state machine may not import the Raft layer (DESIGN.md, layers).
 */
export interface ReplicatedStateMachine {
  apply(command: Uint8Array, index: LogIndex): unknown;
  snapshot(): Uint8Array;
  beginSnapshot(): (prefix?: Uint8Array) => Promise<Uint8Array>;
  restore(data: Uint8Array): void;
  prepareRestore(data: Uint8Array, cancelled: () => boolean): Promise<(() => void) | null>;
}

/** Called after each applied command that changed something, once per change, in order. */
export type ChangeListener = (event: ChangeEvent, index: LogIndex) => void;

export interface ClusterStateMachineOptions {
  /** Check every invariant after every apply: O(state) per command, for tests and debugging. */
  readonly checkInvariants?: boolean;
  /** Where a throwing listener's error goes; by default it is rethrown outside apply. */
  readonly onListenerError?: (error: unknown) => void;
  /** Event-loop time one slice of the sliced snapshot writer may take (tests set 0: yield at every step). */
  readonly snapshotSliceBudgetMs?: number;
  /** Rows from which the sliced snapshot writer uses the worker thread (tests set 0: always). */
  readonly snapshotWorkerMinimumRows?: number;
  /**
   * The snapshot format to write now (snapshot.ts snapshotFormatFor): the newest only once every
   * member reads it, which the Raft handshake tells. By default the older format, which any
   * replica of this and the previous builds reads.
   */
  readonly snapshotFormat?: () => number;
  /** Told each sliced write's and restore's timeline when it ends (the daemon logs it). */
  readonly onSnapshotTimeline?: (timeline: SnapshotTimeline) => void;
}

/** A sliced snapshot write or restore, as it went (snapshot-slices.ts). */
export interface SnapshotTimeline extends SliceTimeline {
  readonly kind: 'write' | 'restore';
  /**
   * A write's last slice and its wait for the worker's bytes (the database's last rows, its
   * `serialize()`), not counted in the slices; 0 for a restore.
   */
  readonly finishMs: number;
  readonly wholeMs: number;
}

export class ClusterStateMachine implements ReplicatedStateMachine {
  #state: State = emptyState();
  #lastAppliedIndex: LogIndex = 0;
  readonly #listeners: ChangeListener[] = [];
  readonly #checkInvariants: boolean;
  readonly #onListenerError: (error: unknown) => void;
  readonly #snapshotSliceBudgetMs: number;
  readonly #snapshotWorkerMinimumRows: number;
  readonly #snapshotFormat: () => number;
  readonly #onSnapshotTimeline: (timeline: SnapshotTimeline) => void;

  constructor(options: ClusterStateMachineOptions = {}) {
    this.#checkInvariants = options.checkInvariants ?? false;
    this.#snapshotSliceBudgetMs = options.snapshotSliceBudgetMs ?? snapshotSliceBudgetMs;
    assert(this.#snapshotSliceBudgetMs >= 0, 'a snapshot slice budget is not negative');
    this.#snapshotWorkerMinimumRows = options.snapshotWorkerMinimumRows ?? snapshotWorkerMinimumRows;
    this.#snapshotFormat = options.snapshotFormat ?? (() => fallbackSnapshotFormat);
    this.#onSnapshotTimeline = options.onSnapshotTimeline ?? (() => {});
    // A listener is the master's code (an HTTP stream, a metric): its failure must not tear an
    // apply in half, but it must not vanish either, so by default it surfaces as uncaught.
    this.#onListenerError =
      options.onListenerError ??
      ((error) =>
        queueMicrotask(() => {
          throw error;
        }));
  }

  get state(): ReadonlyState {
    return this.#state;
  }

  get lastAppliedIndex(): LogIndex {
    return this.#lastAppliedIndex;
  }

  apply(command: Uint8Array, index: LogIndex): ApplyResult {
    assert(
      Number.isSafeInteger(index) && index > this.#lastAppliedIndex,
      `apply: index ${index} after ${this.#lastAppliedIndex}`,
    );
    const decoded = decodeCommand(command);
    this.#lastAppliedIndex = index;
    if (!decoded.ok) return decoded;
    const events: ChangeEvent[] = [];
    const result = apply(this.#state, decoded.command, index, events);
    if (this.#checkInvariants) checkInvariants(this.#state);
    this.#emit(events, index);
    return result;
  }

  snapshot(): Uint8Array {
    return writeSnapshot(this.#state, this.#lastAppliedIndex, undefined, this.#snapshotFormat());
  }

  /**
   * Captures the state now (arrays of entity pointers: snapshot.ts captureState) and returns the
   * function that writes it in slices of about `snapshotSliceBudgetMs`, giving the event loop back
   * between them: at 10,000 tasks the straight write held the loop for 175–455 ms, longer than a
   * heartbeat and up to an election timeout. The SQLite database is built and serialised in the
   * snapshot worker thread (snapshot-worker.ts); the bytes come after `prefix` if given.
   */
  beginSnapshot(): (prefix?: Uint8Array) => Promise<Uint8Array> {
    const captured = captureState(this.#state);
    const index = this.#lastAppliedIndex;
    const budgetMs = this.#snapshotSliceBudgetMs;
    const format = this.#snapshotFormat();
    return async (prefix) => {
      const startedMs = performance.now();
      const clock = new SliceClock(budgetMs);
      const bytes = await writeSnapshotInSlices(
        captured,
        index,
        () => clock.yieldIfDue(),
        prefix,
        this.#snapshotWorkerMinimumRows,
        format,
      );
      const endedMs = performance.now();
      // The last slice runs on to the worker's bytes: its wait is counted apart from the slices.
      const timeline = clock.timeline(false);
      this.#onSnapshotTimeline({
        kind: 'write',
        ...timeline,
        finishMs: Math.round(endedMs - clock.sliceStartMs),
        wholeMs: Math.round(endedMs - startedMs),
      });
      return bytes;
    };
  }

  /** Replaces the whole state; throws SnapshotError (and keeps the old state) if `data` is bad. */
  restore(data: Uint8Array): void {
    this.#install(readSnapshot(data));
  }

  /**
   * restore in slices of about `snapshotSliceBudgetMs`, giving the event loop back between them
   * (one turn restoring 3.2 MB held it for 250 ms): the new state is read, hashed and checked
   * aside while this one stays as it was. Resolves with the function that swaps it in, in one
   * turn, or with null if `cancelled()` turned true between slices; rejects with SnapshotError
   * (nothing changed) if `data` is bad.
   */
  async prepareRestore(data: Uint8Array, cancelled: () => boolean): Promise<(() => void) | null> {
    const startedMs = performance.now();
    const clock = new SliceClock(this.#snapshotSliceBudgetMs);
    const abandoned = new RestoreAbandoned();
    const yieldToLoop = async (): Promise<void> => {
      if (!clock.due()) return;
      clock.paused();
      await new Promise((resolve) => setImmediate(resolve));
      if (cancelled()) throw abandoned;
      clock.resumed();
    };
    let restored: RestoredSnapshot;
    try {
      restored = await readSnapshotInSlices(data, yieldToLoop);
    } catch (error) {
      if (error === abandoned) return null;
      throw error;
    }
    this.#onSnapshotTimeline({
      kind: 'restore',
      ...clock.timeline(),
      finishMs: 0,
      wholeMs: Math.round(performance.now() - startedMs),
    });
    return () => this.#install(restored);
  }

  #install(restored: RestoredSnapshot): void {
    this.#state = restored.state;
    this.#lastAppliedIndex = restored.appliedIndex;
    this.#emit([{ type: 'STATE_RESTORED' }], restored.appliedIndex);
  }

  /** Returns the function that removes the listener. */
  subscribe(listener: ChangeListener): () => void {
    if (this.#listeners.length >= maxChangeListeners) {
      throw new RangeError(`at most ${maxChangeListeners} change listeners; remove one first`);
    }
    this.#listeners.push(listener);
    return () => {
      const position = this.#listeners.indexOf(listener);
      if (position >= 0) this.#listeners.splice(position, 1);
    };
  }

  #emit(events: readonly ChangeEvent[], index: LogIndex): void {
    if (events.length === 0) return;
    for (const listener of [...this.#listeners]) {
      for (const event of events) {
        try {
          listener(event, index);
        } catch (error) {
          this.#onListenerError(error);
        }
      }
    }
  }
}

/** Thrown through the sliced reader when its restore was called off (prepareRestore's `cancelled`). */
class RestoreAbandoned extends Error {
  override name = 'RestoreAbandoned';
}
