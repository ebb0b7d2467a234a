// Restoring a backup (backup-file.ts) into a master's empty data directory, offline, as etcd's
// `snapshot restore` does: the state becomes the Raft snapshot of a fresh log whose membership
// is the masters named now. Every master of the new cluster is restored from the same file with
// the same `peers` (each with its own id and data directory), then started as usual; or one
// master is restored with itself as the only peer and the others join it (--join, ADD_MASTER).
//
// The snapshot sits at the backup's applied index in term 1 with nothing after it, so every
// restored master starts from the same log position and state hash and the first election is
// in term 2. Nothing is written unless the backup checks out: its checksum, then the state
// machine's own checks of the snapshot (its state hash, its invariants).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ReplicatedStateMachine, StateMachineHost } from '../../raft/state-machine-host.ts';
import { databaseFileName, SqliteRaftStorage } from '../../raft/storage.ts';
import { type Membership, NO_NODE, nodeId } from '../../raft/types.ts';
import { stateHash } from '../../state-machine/hash.ts';
import { ClusterStateMachine } from '../../state-machine/machine.ts';
import { type BackupHeader, decodeBackup } from './backup-file.ts';

/** The term of the restored snapshot: the new cluster's history starts over. */
const restoredTerm = 1;

export class RestoreTargetError extends Error {
  override name = 'RestoreTargetError';
}

export interface CheckedBackup {
  readonly header: BackupHeader;
  readonly stateHash: string;
  /** What the data directory's Raft snapshot holds: the idempotency table's envelope around the state. */
  readonly envelope: Uint8Array;
}

/**
 * Decodes and checks a backup: BackupFormatError for a damaged file, the state machine's
 * SnapshotError for a snapshot that does not hold (a wrong hash, a broken invariant).
 */
export function checkBackup(file: Uint8Array): CheckedBackup {
  const { header, snapshot } = decodeBackup(file);
  const machine = new ClusterStateMachine();
  machine.restore(snapshot);
  if (machine.lastAppliedIndex !== header.appliedIndex) {
    throw new RestoreTargetError(
      `the snapshot is at index ${machine.lastAppliedIndex}, the backup header says ${header.appliedIndex}`,
    );
  }
  // The driver's envelope, with an empty idempotency table (backup-file.ts says why).
  const envelope = new StateMachineHost(machine as ReplicatedStateMachine).snapshot();
  return { header, stateHash: stateHash(machine.state), envelope };
}

/** Writes the backup into `dataDir`, which must hold no Raft data yet. */
export function restoreBackup(
  file: Uint8Array,
  target: { readonly dataDir: string; readonly peers: Readonly<Record<string, string>> },
): CheckedBackup {
  const checked = checkBackup(file);
  if (existsSync(join(target.dataDir, databaseFileName)) || hasSnapshots(target.dataDir)) {
    throw new RestoreTargetError(`${target.dataDir} already holds a master's data: restore only into an empty folder`);
  }
  const voters = Object.keys(target.peers).sort().map(nodeId);
  const membership: Membership = { voters, learners: [], addresses: { ...target.peers } };
  const index = checked.header.appliedIndex;
  const storage = SqliteRaftStorage.open(target.dataDir);
  try {
    storage.persist({
      hardState: { term: restoredTerm, vote: NO_NODE, commit: index },
      entries: [],
      snapshot: { meta: { index, term: restoredTerm, membership }, data: checked.envelope },
    });
  } finally {
    storage.close();
  }
  return checked;
}

function hasSnapshots(dataDir: string): boolean {
  const folder = join(dataDir, 'snapshots');
  return existsSync(folder) && readdirSync(folder).length > 0;
}
