// GET /health and the operator API of one master, as the harness uses them to find the leader
// and change the membership.
import type { AddressBook } from '../client/endpoint.ts';
import { type HttpAnswer, sendRequest } from '../client/http.ts';

export interface Health {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  /** The leader as this master knows it: the node id, resolved from its address. */
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
}

const healthTimeoutMs = 1_000;

export async function fetchHealth(book: AddressBook, node: string): Promise<Health | null> {
  const result = await sendRequest(book.endpoint(node), { method: 'GET', path: '/health', timeoutMs: healthTimeoutMs });
  if (result.kind !== 'answer' || result.status !== 200) return null;
  const body = result.body as {
    id?: unknown;
    role?: unknown;
    term?: unknown;
    leader?: unknown;
    commitIndex?: unknown;
    appliedIndex?: unknown;
  };
  if (typeof body?.id !== 'string' || typeof body.role !== 'string' || typeof body.term !== 'number') return null;
  return {
    id: body.id,
    role: body.role,
    term: body.term,
    leader: typeof body.leader === 'string' ? (book.nodeAt(body.leader) ?? null) : null,
    commitIndex: Number(body.commitIndex ?? 0),
    appliedIndex: Number(body.appliedIndex ?? 0),
  };
}

export async function operatorCall(
  book: AddressBook,
  node: string,
  call: unknown,
  timeoutMs = 5_000,
): Promise<HttpAnswer | null> {
  const result = await sendRequest(book.endpoint(node), { method: 'POST', path: '/api/v1', body: call, timeoutMs });
  return result.kind === 'answer' ? result : null;
}
