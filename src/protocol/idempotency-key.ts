// The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header; Stripe's
// convention) as every Flotilla API reads it: the masters' own APIs (src/http/idempotency.ts)
// and the frameworks' Marathon and Metronome APIs (src/frameworks/idempotent-requests.ts).
// One reading, so a key a client sends means the same on every route.
//
// - The key: 1–255 printable ASCII characters, bare or as a structured-field string ("…").
//   The header twice, or anything else, is a problem the caller answers with 400.
// - The canonical body: JSON with object keys sorted, so a retry that serialises its body
//   differently is still the same request.
import { maxFingerprintDepth, maxIdempotencyKeyLength } from './limits.ts';

export const idempotencyKeyHeader = 'idempotency-key';

const printableAscii = /^[\x20-\x7e]+$/;

/** A malformed key, or a body too deep to fingerprint: the caller answers 400 with `message`. */
export class IdempotencyKeyProblem extends Error {
  override name = 'IdempotencyKeyProblem';
}

/** The key in `rawHeaders` (node's flat name/value list), or null without the header. */
export function idempotencyKeyOf(rawHeaders: readonly string[]): string | null {
  const values: string[] = [];
  for (let position = 0; position + 1 < rawHeaders.length; position += 2) {
    if (rawHeaders[position]!.toLowerCase() === idempotencyKeyHeader) values.push(rawHeaders[position + 1]!);
  }
  if (values.length === 0) return null;
  if (values.length > 1)
    throw new IdempotencyKeyProblem(`send one ${idempotencyKeyHeader} header, not ${values.length}`);
  const key = unquote(values[0]!.trim());
  if (key.length === 0 || key.length > maxIdempotencyKeyLength || !printableAscii.test(key)) {
    throw new IdempotencyKeyProblem(
      `an ${idempotencyKeyHeader} is 1–${maxIdempotencyKeyLength} printable ASCII characters, optionally in double quotes`,
    );
  }
  return key;
}

/** A structured-field string (RFC 8941 §3.3.3): "…" with \" and \\ escapes; a bare value as it is. */
function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  if (value.length < 2 || !value.endsWith('"'))
    throw new IdempotencyKeyProblem('a quoted key must end with a double quote');
  let key = '';
  for (let position = 1; position < value.length - 1; position++) {
    let character = value[position]!;
    if (character === '"') throw new IdempotencyKeyProblem('a double quote inside a quoted key must be escaped');
    if (character === '\\') {
      position += 1;
      character = value[position]!;
      if (position === value.length - 1 || (character !== '"' && character !== '\\')) {
        throw new IdempotencyKeyProblem('in a quoted key, a backslash escapes only a double quote or a backslash');
      }
    }
    key += character;
  }
  return key;
}

/**
 * JSON with object keys sorted (undefined as null); a body deeper than maxFingerprintDepth is a
 * problem. Built by appending to one string, not by mapping and joining arrays at every level:
 * every ACCEPT carries a key and its tasks made this a few percent of the leader's time in the
 * launch bench (issue 12). The text must stay byte for byte what it was: fingerprints of requests
 * already recorded are compared with it.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > maxFingerprintDepth) {
    throw new IdempotencyKeyProblem(`a body nested deeper than ${maxFingerprintDepth} levels cannot carry a key`);
  }
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let text = '[';
    for (let position = 0; position < value.length; position++) {
      if (position > 0) text += ',';
      text += canonicalJson(value[position], depth + 1);
    }
    return `${text}]`;
  }
  const record = value as Record<string, unknown>;
  const names = Object.keys(record).sort();
  let text = '{';
  for (let position = 0; position < names.length; position++) {
    const name = names[position]!;
    if (position > 0) text += ',';
    text += `${JSON.stringify(name)}:${canonicalJson(record[name], depth + 1)}`;
  }
  return `${text}}`;
}
