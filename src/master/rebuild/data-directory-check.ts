// An offline check of a master's Raft files, for `flotilla raft rebuild`: open the storage and
// load it exactly as a starting master does (src/raft/storage.ts verifies every entry checksum,
// the log's contiguity and the snapshot file's length and CRC-32). The master must be stopped:
// a running one holds the files and is, by definition, not damaged. A running master — even a
// frozen one that no longer answers — holds raft.db's lock (storage.ts opens it with
// locking_mode=EXCLUSIVE), so SQLITE_BUSY here means "in use", never "damaged".
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { databaseFileName, SqliteRaftStorage } from '../../raft/storage.ts';

export type DataDirectoryCheck =
  | { readonly state: 'absent' }
  | { readonly state: 'in-use' }
  | { readonly state: 'intact'; readonly term: number; readonly snapshotIndex: number; readonly lastIndex: number }
  | { readonly state: 'damaged'; readonly code: string; readonly message: string };

/** What a starting master would make of `dataDirectory`, without starting one. */
export function checkDataDirectory(dataDirectory: string): DataDirectoryCheck {
  if (!existsSync(join(dataDirectory, databaseFileName))) return { state: 'absent' };
  let storage: SqliteRaftStorage | null = null;
  try {
    storage = SqliteRaftStorage.open(dataDirectory);
    const loaded = storage.load({ voters: [], learners: [], addresses: {} });
    const snapshotIndex = loaded.snapshot?.meta.index ?? 0;
    const lastIndex = loaded.entries.at(-1)?.index ?? snapshotIndex;
    return { state: 'intact', term: loaded.hardState.term, snapshotIndex, lastIndex };
  } catch (error) {
    // The named errors of storage.ts and checksum.ts carry a code; SQLite's own (a page so
    // damaged the file no longer reads as a database: SQLITE_CORRUPT, SQLITE_NOTADB) do too.
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) return { state: 'in-use' };
    return {
      state: 'damaged',
      code: typeof code === 'string' ? code : 'UNREADABLE',
      message: (error as Error).message,
    };
  } finally {
    storage?.close();
  }
}

/**
 * Moves the data directory aside (kept for a post-mortem, never deleted here) and returns where.
 * A rename: atomic, and on the same filesystem, so it needs no room on a disk that may be full.
 */
export function moveDataDirectoryAside(dataDirectory: string, nowMs: number): string {
  const aside = `${dataDirectory.replace(/\/+$/, '')}.damaged-${nowMs}`;
  renameSync(dataDirectory, aside);
  return aside;
}
