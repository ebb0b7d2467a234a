// A linearizability checker: the Wing–Gong search as improved by Lowe ("Testing for
// Linearizability", 2016) with the memoisation Porcupine uses (Horn & Kroening, "Faster
// linearizability checking via P-compositionality", 2015): a depth-first search over the
// history's call and return entries in time order that tries to linearize each pending call
// before the first return it has not passed, and remembers every (linearized set, model state)
// it has seen so that no configuration is explored twice. Partitioning (one search per key)
// is the caller's business: see register-checker.ts.
//
// Indeterminate operations (info) have their return at +∞: they may be linearized at any point
// after their call, or — when every operation with a known return has been placed — never.
// Their output is `undefined`, and the model must accept any outcome for them.
//
// The search is bounded (STYLE.md rule 7): when it runs out of steps or time it answers
// "unknown", never "linearizable".
import { LinearizedSet } from './bitset.ts';

export interface Model<State, Input, Output> {
  readonly init: State;
  /** The state after `input` answered `output`, or undefined if that is impossible in `state`.
   *  `output` is undefined when the outcome is unknown (an info operation). */
  step(state: State, input: Input, output: Output | undefined): State | undefined;
  /** Equal states have equal keys; it is part of the memo key. */
  stateKey(state: State): string;
}

export interface LinearizableOperation<Input, Output> {
  /** The caller's id for the operation (its history index); reported back in results. */
  readonly id: number;
  readonly callNs: number;
  /** +∞ for an operation whose outcome is unknown. */
  readonly returnNs: number;
  readonly input: Input;
  readonly output: Output | undefined;
}

export interface SearchLimits {
  readonly maxSteps: number;
  readonly deadlineMs: number;
}

export const defaultSearchLimits: SearchLimits = { maxSteps: 5_000_000, deadlineMs: 60_000 };

/** Where the search got furthest before it had to give up on every branch. */
export interface Stuck {
  /** The longest partial linearization, in order, as operation ids. */
  readonly linearized: readonly number[];
  /** The model state after it. */
  readonly state: string;
  /** The operation whose return could not be passed: it could not be linearized in time. */
  readonly blocking: number;
  /** The operations that were pending (callable) at that point. */
  readonly pending: readonly number[];
}

export type SearchResult =
  | { readonly verdict: 'linearizable'; readonly steps: number; readonly linearization: readonly number[] }
  | { readonly verdict: 'not-linearizable'; readonly steps: number; readonly stuck: Stuck }
  | { readonly verdict: 'unknown'; readonly steps: number; readonly reason: string };

interface Entry {
  readonly kind: 'call' | 'return';
  readonly position: number;
  readonly timeNs: number;
  /** For a call: its return entry. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

interface CacheRecord {
  readonly words: Uint32Array;
}

export function checkLinearizable<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly LinearizableOperation<Input, Output>[],
  limits: SearchLimits = defaultSearchLimits,
): SearchResult {
  for (const operation of operations) {
    if (!(operation.returnNs >= operation.callNs))
      throw new Error(`operation ${operation.id} returns before it is called`);
  }
  const head = buildEntryList(operations);
  return search(model, operations, head, limits);
}

/** The call and return entries in time order (calls before returns at equal times), linked. */
function buildEntryList(operations: readonly LinearizableOperation<unknown, unknown>[]): Entry {
  const entries: Entry[] = [];
  operations.forEach((operation, position) => {
    const ret: Entry = { kind: 'return', position, timeNs: operation.returnNs, match: null, prev: null, next: null };
    const call: Entry = { kind: 'call', position, timeNs: operation.callNs, match: ret, prev: null, next: null };
    entries.push(call, ret);
  });
  entries.sort(
    (left, right) =>
      left.timeNs - right.timeNs ||
      (left.kind === right.kind ? 0 : left.kind === 'call' ? -1 : 1) ||
      left.position - right.position,
  );
  const head: Entry = { kind: 'call', position: -1, timeNs: -Infinity, match: null, prev: null, next: null };
  let previous = head;
  for (const entry of entries) {
    previous.next = entry;
    entry.prev = previous;
    previous = entry;
  }
  return head;
}

/** Takes a call and its return out of the list (Lowe's "lift"). */
function lift(call: Entry): void {
  call.prev!.next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Puts them back, in the reverse order of lift. */
function unlift(call: Entry): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next !== null) call.next.prev = call;
}

function search<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly LinearizableOperation<Input, Output>[],
  head: Entry,
  limits: SearchLimits,
): SearchResult {
  const linearized = new LinearizedSet(operations.length);
  const cache = new Map<string, CacheRecord[]>();
  const calls: { entry: Entry; state: State }[] = [];
  const startedMs = performance.now();
  let state = model.init;
  let entry = head.next;
  let steps = 0;
  let stuck: Stuck | null = null;
  while (head.next !== null) {
    if (entry === null) throw new Error('linearizability: ran past the end of the entry list');
    if (entry.kind === 'return') {
      // Every operation with a known return is placed; the rest are info operations, which
      // may never have taken effect.
      if (entry.timeNs === Infinity) break;
      if (stuck === null || calls.length > stuck.linearized.length)
        stuck = describeStuck(operations, calls, entry, head, model.stateKey(state));
      const top = calls.pop();
      if (top === undefined) return { verdict: 'not-linearizable', steps, stuck };
      linearized.flip(top.entry.position);
      state = top.state;
      unlift(top.entry);
      entry = top.entry.next;
      continue;
    }
    steps += 1;
    if (steps > limits.maxSteps)
      return { verdict: 'unknown', steps, reason: `search budget of ${limits.maxSteps} steps ran out` };
    if ((steps & 0xfff) === 0 && performance.now() - startedMs > limits.deadlineMs) {
      return { verdict: 'unknown', steps, reason: `search ran longer than ${limits.deadlineMs} ms` };
    }
    const operation = operations[entry.position]!;
    const next = model.step(state, operation.input, operation.output);
    if (next !== undefined && remember(cache, linearized, entry.position, model.stateKey(next))) {
      calls.push({ entry, state });
      state = next;
      lift(entry);
      entry = head.next;
    } else {
      entry = entry.next;
    }
  }
  return { verdict: 'linearizable', steps, linearization: calls.map((call) => operations[call.entry.position]!.id) };
}

/**
 * Adds `position` to the linearized set; keeps it there and returns true if (set, state) is new,
 * otherwise takes it out again and returns false (the configuration was explored before).
 */
function remember(
  cache: Map<string, CacheRecord[]>,
  linearized: LinearizedSet,
  position: number,
  stateKey: string,
): boolean {
  linearized.flip(position);
  const key = `${linearized.hashKey()}|${stateKey}`;
  const records = cache.get(key);
  if (records?.some((record) => linearized.equals(record.words))) {
    linearized.flip(position);
    return false;
  }
  const record = { words: linearized.snapshot() };
  if (records === undefined) cache.set(key, [record]);
  else records.push(record);
  return true;
}

function describeStuck<Input, Output>(
  operations: readonly LinearizableOperation<Input, Output>[],
  calls: readonly { entry: Entry }[],
  blocking: Entry,
  head: Entry,
  state: string,
): Stuck {
  const pending: number[] = [];
  for (let entry = head.next; entry !== null && entry !== blocking; entry = entry.next) {
    if (entry.kind === 'call') pending.push(operations[entry.position]!.id);
  }
  return {
    linearized: calls.map((call) => operations[call.entry.position]!.id),
    state,
    blocking: operations[blocking.position]!.id,
    pending,
  };
}
