// Reading the HTTP APIs' JSON answers in tests. A parsed body is `unknown`. An error is read
// through `errorOf`, which fails the test with the body in the message when the answer is not
// one (rather than a TypeError on a field of `undefined`); a success is cast to the shape the
// test expects (the types below, or src/protocol's), which its assertions then check.
import * as assert from 'uvu/assert';

export type JsonObject = Readonly<Record<string, unknown>>;

/** The error every API answers with: `{ "error": { "code", "message" } }` (src/http/errors.ts, src/agent/http.ts). */
export interface ErrorAnswer {
  readonly code: string;
  readonly message: string;
}

const maxQuotedBodyChars = 300;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `error` of an error answer's body; `label` names the call in the failure. */
export function errorOf(body: unknown, label = 'the answer'): ErrorAnswer {
  const error = isJsonObject(body) ? body.error : undefined;
  assert.ok(
    isJsonObject(error) && typeof error.code === 'string' && typeof error.message === 'string',
    `${label} is not an error answer: ${String(JSON.stringify(body)).slice(0, maxQuotedBodyChars)}`,
  );
  return { code: error.code as string, message: error.message as string };
}

/** A key's answer (src/http/routes/kv.ts): a write answers the key and its version, a read the value too. */
export interface KeyAnswer {
  readonly key: string;
  readonly value: string;
  readonly version: number;
}
