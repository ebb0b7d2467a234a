// Reading a credentials or ACL file: bounded in size, JSON, and every failure one plain-English
// line naming the file (the daemons turn it into an option error and exit 2). The message never
// quotes the file's content: a credentials file holds secrets.
import { readFileSync, statSync } from 'node:fs';
import { maxAuthFileBytes } from './limits.ts';

export class AuthFileError extends Error {
  override name = 'AuthFileError';
}

/** The file's JSON, or AuthFileError saying why not (`what`: "credentials", "ACL"). */
export function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > maxAuthFileBytes)
      throw new AuthFileError(`${file}: the ${what} file is larger than ${maxAuthFileBytes} bytes`);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof AuthFileError) throw error;
    throw new AuthFileError(
      `${file}: cannot read the ${what} file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new AuthFileError(`${file}: the ${what} file is not JSON`);
  }
}

/** A plain object (not an array, not null), or AuthFileError naming `path`. */
export function jsonObject(value: unknown, path: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new AuthFileError(`${path} must be an object`);
  return value as Record<string, unknown>;
}

/** Fails on any member not in `known`: a typo in a security file must not pass silently. */
export function onlyKnownMembers(
  value: Readonly<Record<string, unknown>>,
  known: readonly string[],
  path: string,
): void {
  const unknown = Object.keys(value).filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new AuthFileError(`${path} has unknown members ${unknown.join(', ')}; known: ${known.join(', ')}`);
}
