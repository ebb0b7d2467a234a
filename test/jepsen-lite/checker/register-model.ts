// The compare-and-set register of the KV API, as the checker sees one key.
//
// Every write in the register workload writes a value never written before, so a value names
// the write that produced it, and the version the server gave that write (its Raft index) is
// a function of the value. Compare-and-set on a version (If-Match: 7) is then compare-and-set
// on the value that version belongs to: the client only ever sends a version it saw together
// with its value. So the state is just the value (null: absent), which keeps the memo small.
//
// Versions still constrain the order: a key's versions grow with every write, so a write may
// only follow a state whose known version is lower than its own.
//
// A 412 (VERSION_MISMATCH) is decided when the command is applied (apply-kv.ts), so it is an
// observation like a read: the key was not at that version at some moment of the call. It
// enters the search as a `mismatch` output rather than being dropped as a failure.
import type { Model } from './linearizability.ts';

export type RegisterValue = string | null;

export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: string }
  | { readonly f: 'cas'; readonly expected: RegisterValue; readonly value: string };

/** read: what was read; write/cas: 'ok', or 'mismatch' for a cas answered 412. */
export type RegisterOutput = { readonly read: RegisterValue } | 'ok' | 'mismatch';

/** The version a value was written at, when some answer told it; 0 for absent. */
export type VersionLookup = (value: RegisterValue) => number | undefined;

export function registerModel(versionOf: VersionLookup): Model<RegisterValue, RegisterInput, RegisterOutput> {
  /** The state after a write of `value` over `state`, unless versions forbid that order. */
  const overwrite = (state: RegisterValue, value: string): RegisterValue | undefined => {
    const before = versionOf(state);
    const after = versionOf(value);
    if (before !== undefined && after !== undefined && after <= before) return undefined;
    return value;
  };
  return {
    init: null,
    stateKey: (state) => (state === null ? '∅' : `=${state}`),
    step(state, input, output) {
      switch (input.f) {
        case 'read':
          if (output === undefined || output === 'ok' || output === 'mismatch')
            throw new Error('a read needs what it read');
          return output.read === state ? state : undefined;
        case 'write':
          return overwrite(state, input.value);
        case 'cas':
          if (output === 'mismatch') return state !== input.expected ? state : undefined;
          if (output === 'ok') return state === input.expected ? overwrite(state, input.value) : undefined;
          // Unknown outcome: it applied if the comparison held (and versions allow it), else it failed.
          if (state !== input.expected) return state;
          return overwrite(state, input.value) ?? state;
      }
    },
  };
}
