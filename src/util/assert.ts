// Programmer errors crash (TigerBeetle style, STYLE.md rule 5): a broken assertion means this
// process can no longer be trusted (a replica to compute the same state as the others, a leader
// to offer what is free), so it must stop loudly rather than carry on. Bad input is never
// asserted: it is rejected. The one home of assertions for every layer.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** The default of every exhaustive switch: a new union member breaks the build where unhandled. */
export function assertNever(value: never): never {
  throw new AssertionError(`unhandled variant: ${JSON.stringify(value)}`);
}
