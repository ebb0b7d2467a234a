// The key-value API (DESIGN.md "Key-value API"): linearizable, with compare-and-set through
// If-Match on a version that grows with every write of a key (the Raft index of the write), and
// a paginated list of a namespace's keys (by prefix, after a key), linearizable like a GET, so a
// framework keeps no index of its own keys.
// Authorized by KV prefix: read_kv and write_kv, whose objects are "<namespace>/<key>" matched
// by prefix (an ACL value "flotilla-jobs/" covers that whole namespace). Writes are audited.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { maxKvKeyLength, maxKvNamespaceLength, maxKvValueBytes } from '../../state-machine/limits.ts';
import { kvList } from '../../state-machine/queries.ts';
import { kvKey } from '../../state-machine/state.ts';
import { HttpError } from '../errors.ts';
import type { MasterCore } from '../../master/interface.ts';
import { requireAllowed } from '../access.ts';
import { auditCall } from '../audit.ts';
import { idempotentRequest, withIdempotency } from '../idempotency.ts';
import { defaultKvListLimit, maxKvListLimit, maxKvListValueBytes } from '../limits.ts';
import { requireLeader } from '../leader.ts';
import { readConsistency } from '../reads.ts';
import { submitOrFail } from '../submit.ts';

const namespacePattern = /^[A-Za-z0-9._-]+$/;
const keyPattern = /^[A-Za-z0-9._:@/-]+$/;

interface KvParams {
  namespace: string;
  '*': string;
}

const putBodySchema = {
  type: 'object',
  required: ['value'],
  properties: { value: { type: 'string', maxLength: maxKvValueBytes } },
} as const;

interface ListQuery {
  prefix?: string;
  after?: string;
  limit?: string;
  stale?: string;
}

export function registerKvRoutes(app: FastifyInstance, master: MasterCore): void {
  app.get<{ Params: { namespace: string }; Querystring: ListQuery }>('/api/v1/kv/:namespace', async (request) => {
    const namespace = parseNamespace(request.params.namespace);
    const prefix = parseKeyPart(request.query.prefix, 'prefix');
    const after = parseKeyPart(request.query.after, 'after');
    const limit = parseListLimit(request.query.limit);
    // A listing reads every key under its prefix, so the ACL must cover the prefix itself.
    requireAllowed(request, 'read_kv', `${namespace}/${prefix}`);
    await readConsistency(master, request.query.stale);
    // One more than the page, to know whether another page follows.
    const found = kvList(master.state(), namespace, { prefix, after, limit: limit + 1 });
    return listPage(found, limit);
  });
  const path = '/api/v1/kv/:namespace/*';
  app.get<{ Params: KvParams; Querystring: { stale?: string } }>(path, async (request) => {
    const { namespace, key } = parseKeyPath(request.params);
    requireAllowed(request, 'read_kv', `${namespace}/${key}`);
    await readConsistency(master, request.query.stale);
    const entry = master.state().kv.get(kvKey(namespace, key));
    if (entry === undefined) throw new HttpError('KEY_NOT_FOUND', `no key ${key} in namespace ${namespace}`);
    return { key, value: entry.value, version: entry.version };
  });

  app.put<{ Params: KvParams; Body: { value: string } }>(path, { schema: { body: putBodySchema } }, async (request) => {
    const { namespace, key } = parseKeyPath(request.params);
    auditCall(request, 'KV PUT', `${namespace}/${key}`);
    requireAllowed(request, 'write_kv', `${namespace}/${key}`);
    const keyed = withIdempotency(master, idempotentRequest(request));
    if (Buffer.byteLength(request.body.value, 'utf8') > maxKvValueBytes) {
      throw new HttpError('PAYLOAD_TOO_LARGE', `a value is at most ${maxKvValueBytes} bytes`);
    }
    requireLeader(master, request.url);
    const expectedVersion = parseIfMatch(request);
    const outcome = await submitOrFail(keyed, {
      type: 'kv_put',
      namespace,
      key,
      value: request.body.value,
      expectedVersion,
    });
    return { key, version: (outcome as { version: number }).version };
  });

  app.delete<{ Params: KvParams }>(path, async (request, reply: FastifyReply) => {
    const { namespace, key } = parseKeyPath(request.params);
    auditCall(request, 'KV DELETE', `${namespace}/${key}`);
    requireAllowed(request, 'write_kv', `${namespace}/${key}`);
    const keyed = withIdempotency(master, idempotentRequest(request));
    requireLeader(master, request.url);
    const expectedVersion = parseIfMatch(request);
    const outcome = await submitOrFail(keyed, { type: 'kv_delete', namespace, key, expectedVersion });
    return reply.send({ key, version: (outcome as { version: number | null }).version });
  });
}

function parseKeyPath(params: KvParams): { namespace: string; key: string } {
  const namespace = parseNamespace(params.namespace);
  const key = params['*'];
  if (key.length === 0 || key.length > maxKvKeyLength || !keyPattern.test(key)) {
    throw new HttpError('INVALID_KEY', `a key is 1–${maxKvKeyLength} characters of A-Z a-z 0-9 . _ : @ / -`);
  }
  return { namespace, key };
}

function parseNamespace(namespace: string): string {
  if (namespace.length === 0 || namespace.length > maxKvNamespaceLength || !namespacePattern.test(namespace)) {
    throw new HttpError('INVALID_KEY', `a namespace is 1–${maxKvNamespaceLength} characters of A-Z a-z 0-9 . _ -`);
  }
  return namespace;
}

/** `prefix` and `after` of a list: empty, or what a key may hold. */
function parseKeyPart(text: string | string[] | undefined, name: string): string {
  if (text === undefined || text === '') return '';
  if (typeof text !== 'string' || text.length > maxKvKeyLength || !keyPattern.test(text)) {
    throw new HttpError('INVALID_KEY', `${name} is at most ${maxKvKeyLength} characters of A-Z a-z 0-9 . _ : @ / -`);
  }
  return text;
}

function parseListLimit(text: string | string[] | undefined): number {
  if (text === undefined) return defaultKvListLimit;
  const value = typeof text === 'string' && /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= maxKvListLimit)) {
    throw new HttpError(
      'BAD_REQUEST',
      `limit must be a whole number from 1 to ${maxKvListLimit}, got "${String(text)}"`,
    );
  }
  return value;
}

/** At most `limit` entries and about maxKvListValueBytes of values; `next` is the `after` of the next page. */
function listPage(
  found: readonly { key: string; value: string; version: number }[],
  limit: number,
): { entries: { key: string; value: string; version: number }[]; next: string | null } {
  const entries: { key: string; value: string; version: number }[] = [];
  let bytes = 0;
  for (const entry of found.slice(0, limit)) {
    if (entries.length > 0 && bytes + entry.value.length > maxKvListValueBytes) break;
    entries.push({ key: entry.key, value: entry.value, version: entry.version });
    bytes += entry.value.length;
  }
  const more = entries.length < found.length;
  return { entries, next: more ? entries[entries.length - 1]!.key : null };
}

/** If-Match: <version>; "0" means "only if absent". A quoted ETag form ("7") is accepted too. */
function parseIfMatch(request: FastifyRequest): number | null {
  const header = request.headers['if-match'];
  if (header === undefined) return null;
  const raw = (Array.isArray(header) ? header[0]! : header).trim().replace(/^"(.*)"$/, '$1');
  if (!/^\d{1,15}$/.test(raw))
    throw new HttpError('INVALID_VERSION', `If-Match must be a version number, got "${raw}"`);
  return Number(raw);
}
