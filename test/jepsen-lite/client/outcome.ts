// What an answer means for the history (Jepsen's :ok / :fail / :info). The one rule: a write is
// a definite failure only when it certainly did not and will not take effect; everything else
// that is not a success is indeterminate. Reads change nothing, so a read that did not answer
// is simply retried or failed.
//
// Definite, per the master's code (src/master/errors.ts, src/http/master-errors.ts):
//   307 NOT_LEADER          a follower answered before proposing anything
//   503 NO_LEADER           no leader known: refused before proposing, or the core refused it
//   503 UNAVAILABLE         the core refused the proposal (leadership moving, not leader), or
//                           the entry was overwritten by another leader's (it can never commit)
//   429, 412, other 4xx     refused before proposing, or rejected when applied (412, 409)
//   connection refused      the request never reached the master
// Indeterminate:
//   504 TIMEOUT             "its outcome is unknown"
//   503 UNAVAILABLE whose message says (stopped): the master stopped with the proposal pending
//                           (it may still commit through the others). The HTTP layer gives no
//                           code of its own for this yet, hence the message test.
//   500, any other status, a reset or timed-out connection after the request was sent
// This is the verdict on one attempt. kv-client.ts turns attempts into an operation: it repeats
// a write after an indeterminate attempt with the same Idempotency-Key, and then only a 200 or
// a 412 (decided at apply, recorded under the key) settles the operation.
import type { HttpResult } from './http.ts';

export type WriteVerdict =
  | { readonly kind: 'ok'; readonly body: unknown }
  /** Not applied; repeat at the leader the Location names. */
  | { readonly kind: 'redirect'; readonly location: string; readonly code: string }
  /** Not applied; may succeed if tried again (elsewhere, or after a pause). */
  | { readonly kind: 'retry'; readonly code: string }
  /** Not applied, and trying again would not help. */
  | { readonly kind: 'fail'; readonly code: string }
  /** May or may not have been applied, now or later. */
  | { readonly kind: 'unknown'; readonly code: string };

export type ReadVerdict =
  | { readonly kind: 'ok'; readonly body: unknown }
  | { readonly kind: 'absent' }
  | { readonly kind: 'redirect'; readonly location: string; readonly code: string }
  | { readonly kind: 'retry'; readonly code: string };

export function errorCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | null)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === 'string' ? message : '';
}

export function classifyWrite(result: HttpResult): WriteVerdict {
  if (result.kind === 'transport')
    return result.sent ? { kind: 'unknown', code: result.code } : { kind: 'retry', code: result.code };
  const code = errorCode(result.body) ?? `HTTP_${result.status}`;
  switch (result.status) {
    case 200:
      return { kind: 'ok', body: result.body };
    case 307: {
      const location = result.headers.location;
      return typeof location === 'string' ? { kind: 'redirect', location, code } : { kind: 'retry', code };
    }
    case 429:
      return { kind: 'retry', code };
    case 503:
      if (code === 'NO_LEADER') return { kind: 'retry', code };
      if (code !== 'UNAVAILABLE') return { kind: 'unknown', code };
      return /\(stopped\)/.test(errorMessage(result.body))
        ? { kind: 'unknown', code: 'UNAVAILABLE_STOPPED' }
        : { kind: 'retry', code };
    default:
      if (result.status >= 400 && result.status < 500) return { kind: 'fail', code };
      return { kind: 'unknown', code };
  }
}

export function classifyRead(result: HttpResult): ReadVerdict {
  if (result.kind === 'transport') return { kind: 'retry', code: result.code };
  const code = errorCode(result.body) ?? `HTTP_${result.status}`;
  if (result.status === 200) return { kind: 'ok', body: result.body };
  if (result.status === 404 && code === 'KEY_NOT_FOUND') return { kind: 'absent' };
  if (result.status === 307 && typeof result.headers.location === 'string')
    return { kind: 'redirect', location: result.headers.location, code };
  return { kind: 'retry', code };
}

/** host:port of a Location such as //127.0.0.1:5051/api/v1/kv/ns/key (or http://…). */
export function locationAddress(location: string): string | undefined {
  const match = /^(?:https?:)?\/\/([^/]+)/.exec(location);
  return match?.[1];
}
