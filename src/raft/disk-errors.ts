// A write to the replica's disk failed: the disk is full, the device reports an I/O error, or an
// fsync failed. This is an operating error, not a bug, but the replica cannot go on after it.
//
// Why stop instead of retrying ("fsyncgate", PostgreSQL 2018; etcd and TigerBeetle do the same):
// after a failed fsync Linux may drop the dirty pages and mark them clean, so a retried fsync
// "succeeds" with the data never on disk. A replica that went on would acknowledge entries or a
// vote it may not hold after its next restart — an acknowledged write lost, or two votes in one
// term (paper §5.2, §5.4: both rest on "persist before you answer"). And the core already
// counts the failed batch as written (its unstable log, its term and vote); undoing that in
// memory is exactly what a restart does from the verified files. So the driver logs one line
// naming the cause and exits with exitCodeStorageWriteFailed; SQLite rolled the transaction
// back, so the files hold every earlier Ready whole and nothing of the failed one, and a
// restart on a disk with room catches up from the leader.

/** sysexits.h EX_IOERR: an error while doing I/O on some file. */
export const exitCodeStorageWriteFailed = 74;
/** sysexits.h EX_SOFTWARE: an internal software error (a broken invariant, a corrupt log read back). */
export const exitCodeInternalError = 70;

/** SQLite result codes (primary or extended, e.g. SQLITE_IOERR_FSYNC) and errno codes of a failing disk. */
const sqliteDiskCodePrefixes = ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_READONLY', 'SQLITE_CANTOPEN'] as const;
const errnoDiskCodes: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG']);

export class StorageWriteError extends Error {
  readonly code = 'RAFT_STORAGE_WRITE_FAILED';
  constructor(
    readonly path: string,
    /** What was being written: 'persist', 'save-snapshot', 'compact'. */
    readonly operation: string,
    /** The SQLite or errno code that failed, e.g. SQLITE_FULL, ENOSPC, SQLITE_IOERR_FSYNC. */
    readonly causeCode: string,
    cause: Error,
  ) {
    super(`raft storage ${path}: ${operation} failed with ${causeCode} (${cause.message})`, { cause });
    this.name = 'StorageWriteError';
  }
}

/** The code of a disk failure (SQLite's or the errno), or null when `error` is something else (a bug). */
export function diskFailureCode(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return null;
  if (errnoDiskCodes.has(code)) return code;
  return sqliteDiskCodePrefixes.some((prefix) => code === prefix || code.startsWith(`${prefix}_`)) ? code : null;
}
