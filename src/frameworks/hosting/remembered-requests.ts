// Exactly-once writes on the frameworks' compatibility APIs (Marathon's /v2, Metronome's /v1 and
// /v0): the `Idempotency-Key` header read as the masters read it (src/protocol/idempotency-key.ts).
// Marathon and Metronome have no such header; a client that sends none sees no change.
//
// Why in the resource's own record: a keyed write remembers its answer in the same KV write
// that makes the change (a job's record, an app's entry), so the change and "this key was
// answered so" land together or not at all. A retry after a timeout or a leader failover then
// finds the key on whichever instance leads by then (it loaded the records) and is answered the
// first answer again, instead of a 409 for its own first attempt.
//
// - The same request: same scope (the Authorization header, hashed; none is `anonymous`), method,
//   path, query string and canonical JSON body. The same key with another request is 422
//   IDEMPOTENCY_KEY_REUSED and changes nothing.
// - Bounded: a resource remembers its last maxRememberedRequests keyed answers, of at most
//   maxRememberedAnswerBytes together, for rememberedRequestWindowMs; an answer too large to
//   keep is not remembered (its retry is an ordinary request again).
// - Not remembered: a write that removes the resource's record (DELETE of a job; an app once
//   its StopApplication finished), and writes that fail (a 4xx changes nothing: its retry is
//   answered the same by itself).
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { canonicalJson, idempotencyKeyOf } from '../../protocol/idempotency-key.ts';

/** As the masters' table (src/raft/limits.ts idempotencyWindowMs): a retry comes within seconds. */
export const rememberedRequestWindowMs = 60 * 60 * 1000;
/** Keyed answers one resource (a job, an app) keeps, newest last. */
export const maxRememberedRequests = 4;
/** Their bodies together: keeps a job's record and an app's entry well under the KV's 64 KiB. */
export const maxRememberedAnswerBytes = 16 * 1024;
/** Set on an answer replayed from memory (Stripe's convention). */
export const replayedHeader = 'idempotent-replayed';

export interface RememberedAnswer {
  readonly status: number;
  /** Headers that are part of the answer (Location, Marathon-Deployment-Id). */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON text sent; '' for no body. */
  readonly body: string;
}

export interface RememberedRequest {
  /** sha256 of the scope and the key: the key itself is not stored. */
  readonly digest: string;
  readonly fingerprint: string;
  /** The deciding instance's clock when the write was decided (epoch ms). */
  readonly atMs: number;
  readonly answer: RememberedAnswer;
}

export interface KeyedRequest {
  readonly digest: string;
  readonly fingerprint: string;
}

export type Recall =
  | { readonly kind: 'new' }
  | { readonly kind: 'replay'; readonly answer: RememberedAnswer }
  | { readonly kind: 'reused' };

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The request's digest and fingerprint, or null without the header (IdempotencyKeyProblem: malformed). */
export function keyedRequest(request: FastifyRequest): KeyedRequest | null {
  const key = idempotencyKeyOf(request.raw.rawHeaders);
  if (key === null) return null;
  const authorization = request.headers.authorization;
  const scope = authorization === undefined ? 'anonymous' : `authorization:${sha256(authorization)}`;
  const [path, query = ''] = request.url.split('?', 2) as [string, string?];
  const material = JSON.stringify([request.method, path, query, canonicalJson(request.body)]);
  return { digest: sha256(JSON.stringify([scope, key])), fingerprint: sha256(material) };
}

/** What the resources remember of this key: nothing, the first answer, or another request's. */
export function recall(
  remembered: Iterable<readonly RememberedRequest[] | undefined>,
  keyed: KeyedRequest,
  nowMs: number,
): Recall {
  for (const list of remembered) {
    for (const entry of list ?? []) {
      if (entry.digest !== keyed.digest || nowMs - entry.atMs > rememberedRequestWindowMs) continue;
      return entry.fingerprint === keyed.fingerprint ? { kind: 'replay', answer: entry.answer } : { kind: 'reused' };
    }
  }
  return { kind: 'new' };
}

/** `list` with `entry` added: expired entries dropped, then the oldest until both bounds hold. */
export function remember(
  list: readonly RememberedRequest[] | undefined,
  entry: RememberedRequest,
  nowMs: number,
): RememberedRequest[] {
  const kept = (list ?? []).filter(
    (old) => old.digest !== entry.digest && nowMs - old.atMs <= rememberedRequestWindowMs,
  );
  if (Buffer.byteLength(entry.answer.body) > maxRememberedAnswerBytes) return kept;
  kept.push(entry);
  const bytes = (entries: readonly RememberedRequest[]) =>
    entries.reduce((sum, one) => sum + Buffer.byteLength(one.answer.body), 0);
  while (kept.length > maxRememberedRequests || bytes(kept) > maxRememberedAnswerBytes) kept.shift();
  return kept;
}

/** An answer as a route sends it: the status, its headers and the JSON of `value` (undefined: no body). */
export function answerOf(status: number, value: unknown, headers: Record<string, string> = {}): RememberedAnswer {
  return { status, headers, body: value === undefined ? '' : JSON.stringify(value) };
}

/** Sends `answer` (the first time, or replayed with the replayed header). */
export function sendAnswer(reply: FastifyReply, answer: RememberedAnswer, replayed: boolean): FastifyReply {
  void reply.code(answer.status);
  for (const [name, value] of Object.entries(answer.headers)) void reply.header(name, value);
  if (replayed) void reply.header(replayedHeader, 'true');
  if (answer.body === '') return reply.send();
  return reply.type('application/json; charset=utf-8').send(answer.body);
}

const keyedRequests = new WeakMap<FastifyRequest, KeyedRequest>();

/** Marks `request` as a new keyed request (the routes' preHandler, after recall said 'new'). */
export function markKeyed(request: FastifyRequest, keyed: KeyedRequest): void {
  keyedRequests.set(request, keyed);
}

/** The keyed request a route handler is answering, or null (no key sent). */
export function keyedOf(request: FastifyRequest): KeyedRequest | null {
  return keyedRequests.get(request) ?? null;
}
