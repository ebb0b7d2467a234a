// The replicated key-value store (DESIGN.md, "Key-value API"). A key's version is the Raft index
// of its last write, so it grows with every write and is the same on every replica; 0 stands for
// "absent", which makes `expectedVersion: 0` a create-if-absent.
import type { KvDelete, KvPut } from './commands.ts';
import { reject, type ApplyResult, type Rejection } from './errors.ts';
import type { LogIndex } from './ids.ts';
import { maxKvEntries } from './limits.ts';
import { kvKey, type KvEntry, type State } from './state.ts';

function checkVersion(entry: KvEntry | undefined, expected: number | null): Rejection | null {
  const current = entry?.version ?? 0;
  if (expected === null || expected === current) return null;
  return reject(
    'VERSION_MISMATCH',
    `expected version ${expected}, the key is at ${current === 0 ? 'absent' : `version ${current}`}`,
  );
}

export function applyKvPut(state: State, command: KvPut, index: LogIndex): ApplyResult {
  const key = kvKey(command.namespace, command.key);
  const entry = state.kv.get(key);
  const mismatch = checkVersion(entry, command.expectedVersion);
  if (mismatch !== null) return mismatch;
  if (entry === undefined && state.kv.size >= maxKvEntries)
    return reject('KV_LIMIT_EXCEEDED', `the store holds ${maxKvEntries} keys`);
  state.kv.set(key, {
    namespace: command.namespace,
    key: command.key,
    value: command.value,
    version: index,
    createIndex: entry?.createIndex ?? index,
  });
  return { ok: true, version: index };
}

/** Deleting an absent key succeeds (with version null) unless a version was expected. */
export function applyKvDelete(state: State, command: KvDelete): ApplyResult {
  const key = kvKey(command.namespace, command.key);
  const entry = state.kv.get(key);
  const mismatch = checkVersion(entry, command.expectedVersion);
  if (mismatch !== null) return mismatch;
  state.kv.delete(key);
  return { ok: true, version: entry?.version ?? null };
}
