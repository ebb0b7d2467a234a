// The key-value API (DESIGN.md "Key-value API") through a ClusterClient: GET, PUT and DELETE of
// `/api/v1/kv/<namespace>/<key>`, with `If-Match: <version>` for a compare-and-set.
import type { ClusterClient } from './cluster-client.ts';
import { CliError } from './errors.ts';
import { parseAnswer } from './operator.ts';

export interface KvEntry {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}

export interface KvWrite {
  readonly key: string;
  /** The key's version after the write (null after deleting a key that was absent). */
  readonly version: number | null;
}

export function kvPath(namespace: string, key: string): string {
  const encodedKey = key
    .split('/')
    .map((part) => encodeURIComponent(part))
    .join('/');
  return `/api/v1/kv/${encodeURIComponent(namespace)}/${encodedKey}`;
}

function ifMatch(version: number | null): Record<string, string> {
  return version === null ? {} : { 'if-match': String(version) };
}

/** The entry, or null when the key does not exist (404). */
export async function kvGet(client: ClusterClient, namespace: string, key: string): Promise<KvEntry | null> {
  const answer = await client.request({ method: 'GET', path: kvPath(namespace, key), mutating: false });
  if (answer.status === 404) return null;
  const entry = parseAnswer<KvEntry>(answer, `kv get ${namespace} ${key}`);
  if (entry === null || typeof entry.version !== 'number')
    throw new CliError('BAD_ANSWER', `kv get ${namespace} ${key}: no version in the answer`);
  return entry;
}

export async function kvPut(
  client: ClusterClient,
  namespace: string,
  key: string,
  value: string,
  expectedVersion: number | null,
): Promise<KvWrite> {
  const answer = await client.request({
    method: 'PUT',
    path: kvPath(namespace, key),
    body: { value },
    headers: ifMatch(expectedVersion),
    mutating: true,
  });
  return parseWrite(parseAnswer<KvWrite>(answer, `kv put ${namespace} ${key}`), `kv put ${namespace} ${key}`);
}

export async function kvDelete(
  client: ClusterClient,
  namespace: string,
  key: string,
  expectedVersion: number | null,
): Promise<KvWrite> {
  const answer = await client.request({
    method: 'DELETE',
    path: kvPath(namespace, key),
    headers: ifMatch(expectedVersion),
    mutating: true,
  });
  return parseWrite(parseAnswer<KvWrite>(answer, `kv del ${namespace} ${key}`), `kv del ${namespace} ${key}`);
}

function parseWrite(write: KvWrite | null, what: string): KvWrite {
  if (write === null || (typeof write.version !== 'number' && write.version !== null))
    throw new CliError('BAD_ANSWER', `${what}: no version in the answer`);
  return write;
}
