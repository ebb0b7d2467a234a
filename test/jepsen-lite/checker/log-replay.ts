// Replays a master's committed Raft log into a fresh state machine that checks every invariant
// after every apply: no agent's allocated resources exceed its total, no offer overlaps a task
// or another offer, terminal task states never change (src/state-machine/invariants.ts). So
// "no agent was over-committed at any applied index" is checked at every index, not only at the
// end. It also collects each task's sequence of states, in apply order, for the path checker.
import { StateMachineHost } from '../../../src/raft/state-machine-host.ts';
import { SqliteRaftStorage } from '../../../src/raft/storage.ts';
import { ClusterStateMachine } from '../../../src/state-machine/machine.ts';
import type { TaskState } from '../../../src/protocol/task-states.ts';
import { stateHash } from '../../../src/state-machine/hash.ts';
import { committedThrough } from './committed-logs.ts';
import type { ReadonlyState } from '../../../src/state-machine/state.ts';

export interface ReplayResult {
  /** First index replayed (after the snapshot, if any) and the last one (the commit index). */
  readonly fromIndex: number;
  readonly throughIndex: number;
  /** True when the log starts at 1: every index was checked. */
  readonly complete: boolean;
  /** The first invariant that broke, with its index; null when none did. */
  readonly violation: { readonly index: number; readonly message: string } | null;
  /** `framework/task` → its states in apply order (from its launch on, when the log holds it). */
  readonly taskPaths: ReadonlyMap<string, readonly TaskState[]>;
  readonly state: ReadonlyState;
  readonly stateHash: string;
}

const emptyMembership = { voters: [], learners: [], addresses: {} };

export interface ReplayOptions {
  /** Replay only up to this index (to compare masters at one index; not below a master's snapshot). */
  readonly upToIndex?: number;
  /** Check every invariant after every apply (default true): O(state) per entry. */
  readonly checkInvariants?: boolean;
  /** The commit index the master reported while it ran (see committed-logs.ts readCommittedLog). */
  readonly reportedCommit?: number;
}

/** Reads `dataDir` (a stopped master's) and replays its committed entries. */
export function replayMasterLog(dataDir: string, options: ReplayOptions = {}): ReplayResult {
  const upToIndex = options.upToIndex;
  const storage = SqliteRaftStorage.open(dataDir);
  try {
    const persisted = storage.load(emptyMembership);
    const machine = new ClusterStateMachine({
      checkInvariants: options.checkInvariants ?? true,
      onListenerError: (error) => {
        throw error;
      },
    });
    const host = new StateMachineHost(machine);
    if (persisted.snapshot !== null) host.restore(persisted.snapshot.data);
    const taskPaths = new Map<string, TaskState[]>();
    machine.subscribe((event) => {
      if (event.type !== 'TASK_ADDED' && event.type !== 'TASK_UPDATED') return;
      const key = `${event.task.frameworkId}/${event.task.id}`;
      const path = taskPaths.get(key) ?? [];
      path.push(event.type === 'TASK_ADDED' ? event.task.state : event.status.state);
      taskPaths.set(key, path);
    });
    const known = committedThrough(
      persisted.hardState.commit,
      options.reportedCommit ?? 0,
      persisted.entries.at(-1)?.index ?? 0,
    );
    const commit = Math.min(known, upToIndex ?? Number.POSITIVE_INFINITY);
    if ((persisted.snapshot?.meta.index ?? 0) > commit)
      throw new Error(`${dataDir}: its snapshot is at ${persisted.snapshot?.meta.index}, past ${commit}`);
    const fromIndex = (persisted.snapshot?.meta.index ?? 0) + 1;
    let violation: ReplayResult['violation'] = null;
    let throughIndex = fromIndex - 1;
    for (const entry of persisted.entries) {
      if (entry.index > commit) break;
      try {
        host.apply(entry);
      } catch (error) {
        violation = { index: entry.index, message: (error as Error).message };
        break;
      }
      throughIndex = entry.index;
    }
    return {
      fromIndex,
      throughIndex,
      complete: persisted.snapshot === null,
      violation,
      taskPaths,
      state: machine.state,
      stateHash: stateHash(machine.state),
    };
  } finally {
    storage.close();
  }
}
