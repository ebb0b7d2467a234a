// Exactly-once writes at the HTTP edge: the `Idempotency-Key` request header
// (draft-ietf-httpapi-idempotency-key-header; Stripe's convention). A mutating call that carries
// a key is submitted with it; a retry of the same request with the same key — after a timeout, a
// 503, a lost connection or a leader failover — applies nothing again and answers what the first
// attempt answered, because the key and the first result are replicated state (src/raft/idempotency.ts).
//
// - The key: 1–255 printable ASCII characters, sent bare (`Idempotency-Key: 4f1c…`) or as the
//   draft's structured-field string (`Idempotency-Key: "4f1c…"`). Anything else, or the header
//   twice, is 400 INVALID_IDEMPOTENCY_KEY and changes nothing.
// - "The same request": the same method, path, canonical JSON body (key order and whitespace do
//   not matter) and the headers that change a write's meaning (If-Match). The same key with
//   another request is 422 IDEMPOTENCY_KEY_REUSED. Mesos-Stream-Id is not part of it: a framework
//   retrying after a failover has subscribed again, with a new stream.
// - Keys are per client: the scope (`principal:<name>` for an authenticated request, `anonymous`
//   on a master without --credentials) is part of the replicated key, so two principals' keys
//   never meet.
// - A call that submits several commands (an ACCEPT refused, whose offers are then declined)
//   gives each its own replicated key: the first the key itself, the n-th the key and n. A retry
//   submits in the same order, so each command is applied at most once.
// - Not deduplicated: streams (SUBSCRIBE: the header is ignored), reads, and the Raft membership
//   calls (ADD_MASTER, PROMOTE_MASTER, REMOVE_MASTER, TRANSFER_LEADERSHIP), which are Raft
//   configuration entries the core applies itself; their retries are answered from the
//   membership as it then is.
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from './errors.ts';
import type { RequestIdempotency } from '../master/idempotency.ts';
import type { MasterCore, SubmitOptions } from '../master/interface.ts';
import { idempotencyScope } from './access.ts';
import {
  canonicalJson,
  IdempotencyKeyProblem,
  idempotencyKeyHeader,
  idempotencyKeyOf,
} from '../protocol/idempotency-key.ts';

export { idempotencyKeyHeader } from '../protocol/idempotency-key.ts';
/** Headers that change what a write means, so they are part of "the same request". */
const meaningHeaders = ['if-match'] as const;

export interface IdempotentRequest {
  /** The client's key as sent. */
  readonly key: string;
  /** Who sent it (access.ts idempotencyScope): keys are scoped by principal. */
  readonly scope: string;
  readonly fingerprint: string;
}

/** The request's key, scope and fingerprint, or null without the header; 400 on a malformed key. */
export function idempotentRequest(request: FastifyRequest): IdempotentRequest | null {
  const key = headerKey(request);
  if (key === null) return null;
  return { key, scope: idempotencyScope(request), fingerprint: fingerprintOf(request) };
}

/** For a call whose commands carry no key: a malformed key is still a 400, as for any write; then null. */
export function checkedUnkeyed(request: FastifyRequest): null {
  headerKey(request);
  return null;
}

/** What `submit` gets for the n-th command (1-based) a request submits. */
export function submitOptions(request: IdempotentRequest, ordinal: number): SubmitOptions {
  const parts = ordinal === 1 ? [request.scope, request.key] : [request.scope, request.key, ordinal];
  return { idempotency: { key: JSON.stringify(parts), fingerprint: request.fingerprint } };
}

/** The request's keys as the master's scheduler calls number them (src/master/idempotency.ts). */
export function requestIdempotency(request: IdempotentRequest): RequestIdempotency {
  return (ordinal) => submitOptions(request, ordinal);
}

/**
 * The master as one request's handler sees it: every command it submits carries the request's
 * key (see the header comment for several commands). Without a key, the master itself.
 */
export function withIdempotency(master: MasterCore, request: IdempotentRequest | null): MasterCore {
  if (request === null) return master;
  let submitted = 0;
  const submit: MasterCore['submit'] = (command) => {
    submitted += 1;
    return master.submit(command, submitOptions(request, submitted));
  };
  return new Proxy(master, {
    get(target, property) {
      if (property === 'submit') return submit;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function headerKey(request: FastifyRequest): string | null {
  // Most writes carry no key: node's parsed headers (built already, fastify read the content type
  // from them) answer that without lower-casing every raw header name, which was 0.8% of the
  // leader's busy time at 256 clients (issue 19). Node keeps a repeated header, joined, so a key
  // sent twice is still found here and refused below.
  if (request.raw.headers[idempotencyKeyHeader] === undefined) return null;
  try {
    return idempotencyKeyOf(request.raw.rawHeaders);
  } catch (error) {
    if (error instanceof IdempotencyKeyProblem) throw new HttpError('INVALID_IDEMPOTENCY_KEY', error.message);
    throw error;
  }
}

/** sha256 of method, path, canonical body and the meaning headers. */
function fingerprintOf(request: FastifyRequest): string {
  const path = request.url.split('?')[0]!;
  const headers = meaningHeaders.map((name) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(',') : (value ?? null);
  });
  const material = JSON.stringify([request.method, path, canonicalBody(request.body), headers]);
  return createHash('sha256').update(material).digest('hex');
}

/** The canonical body (src/protocol/idempotency-key.ts); too deep to fingerprint is a 400. */
function canonicalBody(value: unknown): string {
  try {
    return canonicalJson(value);
  } catch (error) {
    if (error instanceof IdempotencyKeyProblem) throw new HttpError('BAD_REQUEST', error.message);
    throw error;
  }
}
