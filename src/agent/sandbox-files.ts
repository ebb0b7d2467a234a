// The agent's LIST_FILES and READ_FILE calls (Mesos v1 agent API), confined to one root folder
// (a task's sandbox, or the agent's work directory). A request names a path relative to the
// root; `..`, absolute paths, and symlinks that lead out of the root are refused, so a
// framework can read its task's output and nothing else on the host.
import { maxListedEntries, maxPathChars, maxReadLengthBytes } from './limits.ts';
import { open, readdir, realpath, stat, lstat } from 'node:fs/promises';
import { constants, readFileSync } from 'node:fs';
import path from 'node:path';

export type SandboxFileErrorCode =
  | 'SANDBOX_PATH_INVALID'
  | 'SANDBOX_PATH_ESCAPES'
  | 'SANDBOX_FILE_NOT_FOUND'
  | 'SANDBOX_NOT_A_FILE'
  | 'SANDBOX_RANGE_INVALID';

/** Bad input (a 400 or 404 for the route), never a bug: `code` is stable, the message says why. */
export class SandboxFileError extends Error {
  override name = 'SandboxFileError';
  constructor(
    readonly code: SandboxFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Mesos FileInfo. uid and gid are names, as Mesos gives them; mtime in nanoseconds since the epoch. */
export interface FileInfo {
  readonly path: string;
  readonly nlink: number;
  readonly size: number;
  readonly mtime: { readonly nanoseconds: number };
  readonly mode: number;
  readonly uid: string;
  readonly gid: string;
}

export interface ListFilesResponse {
  readonly type: 'LIST_FILES';
  readonly list_files: { readonly file_infos: readonly FileInfo[] };
}

export interface ReadFileResponse {
  readonly type: 'READ_FILE';
  /** size: of the whole file; data: base64 of the bytes read from `offset`. */
  readonly read_file: { readonly size: number; readonly data: string };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Checks the request path's shape before touching the disk: relative, no `..`, no NUL. */
function checkRelativePath(requested: string): string {
  if (typeof requested !== 'string' || requested.length > maxPathChars || requested.includes('\0')) {
    throw new SandboxFileError(
      'SANDBOX_PATH_INVALID',
      `path must be a string of at most ${maxPathChars} characters without NUL`,
    );
  }
  if (path.isAbsolute(requested))
    throw new SandboxFileError('SANDBOX_PATH_INVALID', `path must be relative to the sandbox, got "${requested}"`);
  const segments = requested.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..'))
    throw new SandboxFileError('SANDBOX_PATH_INVALID', `path must not contain "..", got "${requested}"`);
  return segments.join('/');
}

/** The real location of `requested` inside `root`; throws when it is missing or leads outside. */
async function resolveInside(
  root: string,
  requested: string,
): Promise<{ real: string; relative: string; realRoot: string }> {
  const relative = checkRelativePath(requested);
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(path.join(realRoot, relative));
  } catch (error) {
    throw new SandboxFileError(
      'SANDBOX_FILE_NOT_FOUND',
      `"${requested}" does not exist in the sandbox (${describe(error)})`,
    );
  }
  if (!isInside(realRoot, real)) {
    throw new SandboxFileError('SANDBOX_PATH_ESCAPES', `"${requested}" leads outside the sandbox`);
  }
  return { real, relative, realRoot };
}

function isInside(realRoot: string, real: string): boolean {
  return real === realRoot || real.startsWith(`${realRoot}${path.sep}`);
}

/**
 * Opens what resolveInside() found, and checks again what was opened. The task owns its sandbox
 * and may swap a folder on the resolved path for a symlink between realpath() and open() (a
 * TOCTOU race): O_NOFOLLOW refuses a symlink as the last component, and the descriptor's own
 * path (/proc/self/fd, Linux) must still lie inside the sandbox.
 */
async function openInside(realRoot: string, real: string, requested: string) {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP')
      throw new SandboxFileError('SANDBOX_PATH_ESCAPES', `"${requested}" became a symlink while being opened`);
    throw error;
  }
  let opened: string | null = null;
  try {
    opened = await realpath(`/proc/self/fd/${handle.fd}`);
  } catch {
    // No /proc (not Linux): the checks before open() are all there is.
  }
  if (opened !== null && !isInside(realRoot, opened)) {
    await handle.close();
    throw new SandboxFileError('SANDBOX_PATH_ESCAPES', `"${requested}" leads outside the sandbox`);
  }
  return handle;
}

let namesCache: { users: Map<number, string>; groups: Map<number, string> } | null = null;

function idNames(): { users: Map<number, string>; groups: Map<number, string> } {
  const read = (file: string): Map<number, string> => {
    const names = new Map<number, string>();
    try {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        const [name, , id] = line.split(':');
        if (name !== undefined && id !== undefined && /^\d+$/.test(id)) names.set(Number(id), name);
      }
    } catch {
      // No names: numeric ids it is.
    }
    return names;
  };
  namesCache ??= { users: read('/etc/passwd'), groups: read('/etc/group') };
  return namesCache;
}

function fileInfo(shownPath: string, stats: Awaited<ReturnType<typeof lstat>>): FileInfo {
  const names = idNames();
  return {
    path: shownPath,
    nlink: Number(stats.nlink),
    size: Number(stats.size),
    // Whole seconds times 1e9 is exact as a JSON number; nanosecond digits would not be.
    mtime: { nanoseconds: Math.floor(Number(stats.mtimeMs) / 1000) * 1e9 },
    mode: Number(stats.mode),
    uid: names.users.get(Number(stats.uid)) ?? String(stats.uid),
    gid: names.groups.get(Number(stats.gid)) ?? String(stats.gid),
  };
}

/**
 * LIST_FILES: the entries of a folder (or the one file named), with paths as the request
 * named them. Entries are described by lstat: a symlink is listed as itself, not followed.
 */
export async function listFiles(root: string, requested: string): Promise<ListFilesResponse> {
  const { real, relative } = await resolveInside(root, requested);
  const target = await stat(real);
  if (!target.isDirectory()) return { type: 'LIST_FILES', list_files: { file_infos: [fileInfo(relative, target)] } };
  const names = (await readdir(real)).sort().slice(0, maxListedEntries);
  const infos: FileInfo[] = [];
  for (const name of names) {
    try {
      infos.push(fileInfo(relative === '' ? name : `${relative}/${name}`, await lstat(path.join(real, name))));
    } catch {
      // Removed between readdir and lstat: not listed.
    }
  }
  return { type: 'LIST_FILES', list_files: { file_infos: infos } };
}

/** READ_FILE: up to `length` bytes (all, up to maxReadLengthBytes, when null) from `offset`. */
export async function readSandboxFile(
  root: string,
  requested: string,
  offset: number,
  length: number | null,
): Promise<ReadFileResponse> {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new SandboxFileError('SANDBOX_RANGE_INVALID', `offset must be a whole number of at least 0, got ${offset}`);
  if (length !== null && (!Number.isSafeInteger(length) || length < 0)) {
    throw new SandboxFileError('SANDBOX_RANGE_INVALID', `length must be a whole number of at least 0, got ${length}`);
  }
  const { real, realRoot } = await resolveInside(root, requested);
  // Checked before opening: opening a FIFO for reading would block until a writer comes (and
  // O_NONBLOCK keeps a FIFO swapped in after this check from blocking; it is refused below).
  if (!(await stat(real)).isFile())
    throw new SandboxFileError('SANDBOX_NOT_A_FILE', `"${requested}" is not a regular file`);
  const handle = await openInside(realRoot, real, requested);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new SandboxFileError('SANDBOX_NOT_A_FILE', `"${requested}" is not a regular file`);
    const wanted = Math.min(length ?? maxReadLengthBytes, maxReadLengthBytes, Math.max(0, stats.size - offset));
    const buffer = Buffer.alloc(wanted);
    const { bytesRead } = wanted === 0 ? { bytesRead: 0 } : await handle.read(buffer, 0, wanted, offset);
    return {
      type: 'READ_FILE',
      read_file: { size: stats.size, data: buffer.subarray(0, bytesRead).toString('base64') },
    };
  } finally {
    await handle.close();
  }
}
