// The agent's fetcher (Mesos fetcher.md): before a task's or a custom executor's command starts,
// each CommandInfo.uris entry lands in its sandbox. http(s) is streamed to a file (bounded in
// time and size), file:// URIs and absolute paths are copied with `cp`, archives (.tar, .tar.gz,
// .tgz, .tar.bz2, .tar.xz, .zip) are unpacked into the sandbox unless `extract` is false, and an
// `executable` file gets mode 0755 and is never unpacked. Everything lands owned by the task's
// user, and cp, tar and unzip run as that user (as Mesos runs its fetcher): a task cannot copy
// a file its user could not read. There is no cache: `cache` is accepted and every launch fetches
// afresh. The fetcher's lines go to the sandbox's stderr as Mesos' do; one JSON line per URI goes
// to the agent's log. The first failure stops the fetch: the launch fails with
// REASON_CONTAINER_LAUNCH_FAILED and Mesos' wording, naming the URI and the cause.
import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  createWriteStream,
  lstatSync,
  mkdirSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { type CommandUri, commandUriProblem, fetchedFileName } from '../protocol/command-uris.ts';
import type { Logger } from '../util/logger.ts';
import { maxFetchBytes, maxFetchCommandMs, maxFetchCommandOutputChars, maxFetchMs } from './limits.ts';
import type { TaskUser } from './task-user.ts';

/** A URI could not be fetched; the message is the launch failure's, naming the URI and the cause. */
export class FetchError extends Error {
  override name = 'FetchError';
}

/** One URI's own failure; fetchUris wraps it with the container's name. */
class UriError extends Error {}

export interface FetchContext {
  readonly sandbox: string;
  /** Owner of what is fetched, and who runs cp, tar and unzip; null: the agent's own user. */
  readonly user: TaskUser | null;
  readonly logger: Logger;
  /** The task or executor id, for the failure message (Mesos names the container). */
  readonly containerName: string;
  /** Added to each agent log line: framework, task or executor. */
  readonly logFields: Readonly<Record<string, string>>;
}

const executableMode = 0o755;
const archiveSuffixes = ['.tar', '.tar.gz', '.tgz', '.tar.bz2', '.tbz2', '.tar.xz', '.txz', '.zip'] as const;

/** Fetches every URI in order into the sandbox; throws FetchError at the first that fails. */
export async function fetchUris(uris: readonly CommandUri[], context: FetchContext): Promise<void> {
  for (const uri of uris) {
    const startedMs = Date.now();
    sandboxLine(context, `Fetching URI '${uri.value}'`);
    try {
      const fetched = await fetchOne(uri, context);
      sandboxLine(context, `Fetched '${uri.value}' to '${fetched.file}'`);
      context.logger.info(
        {
          ...context.logFields,
          uri: uri.value,
          file: fetched.file,
          bytes: fetched.bytes,
          extracted: fetched.extracted,
          durationMs: Date.now() - startedMs,
        },
        'uri fetched',
      );
    } catch (error) {
      const cause = error instanceof UriError ? error.message : `${(error as Error).message}`;
      sandboxLine(context, `Failed to fetch '${uri.value}': ${cause}`);
      context.logger.warn(
        { ...context.logFields, uri: uri.value, problem: cause, durationMs: Date.now() - startedMs },
        'uri fetch failed',
      );
      throw new FetchError(
        `Failed to fetch all URIs for container '${context.containerName}': Failed to fetch '${uri.value}': ${cause}`,
      );
    }
  }
}

interface Fetched {
  readonly file: string;
  readonly bytes: number;
  readonly extracted: boolean;
}

async function fetchOne(uri: CommandUri, context: FetchContext): Promise<Fetched> {
  const problem = commandUriProblem(uri);
  if (problem !== null) throw new UriError(problem);
  const name = fetchedFileName(uri);
  if (name === null) throw new UriError('the URI names no file; set output_file');
  const file = await prepareDestination(context, name);
  if (/^https?:/i.test(uri.value)) {
    sandboxLine(context, `Downloading resource from '${uri.value}' to '${file}'`);
    await download(uri.value, file);
    if (context.user !== null) chownSync(file, context.user.uid, context.user.gid);
  } else {
    const source = uri.value.startsWith('/') ? uri.value : fileURLToPath(uri.value);
    sandboxLine(context, `Copying resource with command: cp '${source}' '${file}'`);
    await run('cp', ['--', source, file], context);
  }
  const bytes = lstatSync(file).size;
  if (uri.executable) {
    chmodSync(file, executableMode);
    return { file, bytes, extracted: false };
  }
  if (!uri.extract || archiveSuffix(name) === null) return { file, bytes, extracted: false };
  await extract(file, name, context);
  return { file, bytes, extracted: true };
}

/**
 * The path the file takes: its folders made (owned by the user), inside the sandbox even through
 * symlinks an earlier archive made, and nothing there yet (an old symlink would send a write elsewhere).
 */
async function prepareDestination(context: FetchContext, name: string): Promise<string> {
  const file = path.join(context.sandbox, name);
  const folder = path.dirname(file);
  const firstMade = mkdirSync(folder, { recursive: true });
  if (firstMade !== undefined && context.user !== null) {
    for (let made = folder; made.length >= firstMade.length; made = path.dirname(made))
      chownSync(made, context.user.uid, context.user.gid);
  }
  const sandbox = realpathSync(context.sandbox);
  const resolved = realpathSync(folder);
  if (resolved !== sandbox && !resolved.startsWith(`${sandbox}${path.sep}`))
    throw new UriError(`output folder ${folder} leads outside the sandbox (to ${resolved})`);
  try {
    if (lstatSync(file).isDirectory()) throw new UriError(`${file} is a folder`);
    rmSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return file;
}

/** Streams an http(s) resource into `file`, created anew (never through a symlink), within the limits. */
async function download(url: string, file: string): Promise<void> {
  let response: Response;
  const signal = AbortSignal.timeout(maxFetchMs);
  try {
    response = await fetch(url, { signal, redirect: 'follow' });
  } catch (error) {
    throw new UriError(`Error downloading resource: ${describeFetchError(error)}`);
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel();
    throw new UriError(`Error downloading resource, received HTTP return code ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxFetchBytes) {
    await response.body.cancel();
    throw new UriError(`the resource is ${declared} bytes, over the agent's limit of ${maxFetchBytes}`);
  }
  let received = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (received > maxFetchBytes)
        done(new UriError(`the resource is over the agent's limit of ${maxFetchBytes} bytes`));
      else done(null, chunk);
    },
  });
  // "wx": O_CREAT | O_EXCL, which also refuses to follow a symlink left at the path.
  const flags = 'wx';
  try {
    await pipeline(Readable.fromWeb(response.body as never), cap, createWriteStream(file, { flags }));
  } catch (error) {
    rmSync(file, { force: true });
    if (error instanceof UriError) throw error;
    throw new UriError(`Error downloading resource: ${describeFetchError(error)}`);
  }
}

function describeFetchError(error: unknown): string {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  if (timedOut) return `no complete answer within ${maxFetchMs} ms`;
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return cause ?? (error as Error).message;
}

function archiveSuffix(name: string): string | null {
  const lower = name.toLowerCase();
  return archiveSuffixes.find((suffix) => lower.endsWith(suffix)) ?? null;
}

/** Unpacks into the sandbox as Mesos does; GNU tar finds the compression itself. */
async function extract(file: string, name: string, context: FetchContext): Promise<void> {
  if (archiveSuffix(name) === '.zip') {
    sandboxLine(context, `Extracting with command: unzip -o -q '${file}' -d '${context.sandbox}'`);
    const missing = `unzip is not installed on this agent; cannot extract ${name} (install unzip, or set extract false)`;
    await run('unzip', ['-o', '-q', file, '-d', context.sandbox], context, missing);
    return;
  }
  sandboxLine(context, `Extracting with command: tar -C '${context.sandbox}' -xf '${file}'`);
  const missing = `tar is not installed on this agent; cannot extract ${name}`;
  await run('tar', ['--no-same-owner', '-C', context.sandbox, '-xf', file], context, missing);
}

/** Runs a helper as the task's user, bounded in time; its stderr becomes the failure's cause. */
function run(program: string, args: readonly string[], context: FetchContext, missing?: string): Promise<void> {
  const user = context.user === null ? {} : { uid: context.user.uid, gid: context.user.gid };
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { timeout: maxFetchCommandMs, killSignal: 'SIGKILL', ...user },
      (error, _stdout, stderr) => {
        if (error === null) return resolve();
        if ((error as NodeJS.ErrnoException).code === 'ENOENT' && missing !== undefined)
          return reject(new UriError(missing));
        const said = String(stderr).trim().slice(0, maxFetchCommandOutputChars);
        const how = error.killed ? `did not finish within ${maxFetchCommandMs} ms` : `exited with status ${error.code}`;
        reject(new UriError(`${program} ${how}${said === '' ? '' : `: ${said}`}`));
      },
    );
  });
}

/** A fetcher line in the sandbox's stderr, where Mesos' fetcher writes its log. */
function sandboxLine(context: FetchContext, line: string): void {
  try {
    appendFileSync(path.join(context.sandbox, 'stderr'), `${line}\n`);
  } catch {
    // The agent log still has the event; a sandbox stderr that cannot be written must not fail the fetch.
  }
}
