// mesos.proto CommandInfo.URI: what the agent fetches into a sandbox before the task (or custom
// executor) starts. Shared by the master (a bad URI is a 400), the state machine's schema and the
// agent (which checks again: a checkpoint or a buggy master must not write outside a sandbox).
// Schemes are http, https, file, or an absolute local path: no hdfs/s3 (Mesos hands those to a
// Hadoop client, which a Flotilla agent has not), no ftp.

/** One URI to fetch, with mesos.proto's defaults applied (executable false, extract true, cache false). */
export interface CommandUri {
  readonly value: string;
  /** Sets mode 0755 on the fetched file; an executable is never extracted. */
  readonly executable: boolean;
  /** Unpacks .tar, .tar.gz/.tgz, .tar.bz2, .tar.xz and .zip into the sandbox. */
  readonly extract: boolean;
  /** Accepted and ignored: the agent has no fetcher cache, every launch downloads afresh. */
  readonly cache: boolean;
  /** The file's name in the sandbox (a relative path inside it); null: the URI's last path segment. */
  readonly outputFile: string | null;
}

/** mesos.proto sets no limit; a launch fetching more than this is a mistake, not a use. */
export const maxCommandUris = 64;
export const maxUriChars = 4096;
export const maxOutputFileChars = 1024;

const allowedSchemes = ['http:', 'https:', 'file:'];

/** Why `value` cannot be fetched, or null. */
export function uriValueProblem(value: string): string | null {
  if (value === '') return 'must not be empty';
  if (value.length > maxUriChars) return `must be at most ${maxUriChars} characters`;
  if (value.includes('\0')) return 'must not contain NUL';
  if (value.startsWith('/')) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an http, https or file URI, or an absolute local path';
  }
  if (!allowedSchemes.includes(url.protocol))
    return `scheme ${url.protocol.replace(/:$/, '')} is not fetched (http, https, file, or an absolute local path)`;
  if (url.protocol === 'file:' && url.host !== '' && url.host !== 'localhost')
    return 'a file URI names a path on the agent (file:///path), not another host';
  return null;
}

/** Why `outputFile` cannot name a file inside the sandbox, or null. */
export function outputFileProblem(outputFile: string): string | null {
  if (outputFile === '') return 'must not be empty';
  if (outputFile.length > maxOutputFileChars) return `must be at most ${maxOutputFileChars} characters`;
  if (outputFile.includes('\0')) return 'must not contain NUL';
  if (outputFile.startsWith('/')) return 'must be a path relative to the sandbox, not an absolute path';
  if (outputFile.split('/').includes('..')) return 'must stay inside the sandbox (no ".." segment)';
  if (outputFile.endsWith('/')) return 'must name a file, not a folder';
  return null;
}

/** The first problem of `uri` as "<field>: <problem>", or null. */
export function commandUriProblem(uri: CommandUri): string | null {
  const value = uriValueProblem(uri.value);
  if (value !== null) return `value ${value}`;
  const output = uri.outputFile === null ? null : outputFileProblem(uri.outputFile);
  return output === null ? null : `output_file ${output}`;
}

/** The name the fetched file takes in the sandbox: output_file, else the URI's last path segment. */
export function fetchedFileName(uri: CommandUri): string | null {
  if (uri.outputFile !== null) return uri.outputFile;
  const pathname = uri.value.startsWith('/') ? uri.value : new URL(uri.value).pathname;
  let name = pathname.split('/').pop() ?? '';
  try {
    if (!uri.value.startsWith('/')) name = decodeURIComponent(name);
  } catch {
    // A malformed escape: the name stays as the URI spells it.
  }
  return name === '' || name === '.' || name === '..' || name.includes('/') ? null : name;
}
