// The audit log: every mutating call writes one JSON line — who (principal), what (the call),
// on what (its target), and how it ended (HTTP status and error code; code null on success) —
// through the master's logger with `"audit": true`, so `jq 'select(.audit)'` reads them all.
// A route marks a request as a mutating call with `auditCall(request, call, target)` *before*
// authorizing it, so a refusal (403) is audited like a success. A write refused before any route
// ran (401: no or wrong credentials) is audited as its method and path. The line is written when
// the answer's head goes out (onSend), so a stream (SUBSCRIBE) is audited when it opens.
// Secrets never appear: the requester is named by principal, the target is the call's body.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Logger, turnBufferedChild } from '../util/logger.ts';
import { principalOf } from '../auth/requester.ts';
import { maxAuditedErrorBodyChars, maxAuditTargetChars } from './limits.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by a route for a mutating call (auditCall); null for reads. */
    auditRecord: AuditRecord | null;
  }
}

export interface AuditRecord {
  /** The call: an operator call type, a scheduler call type, or "KV PUT" … */
  readonly call: string;
  /** What it acts on, as text (the call's part of the body, a KV key, a framework id). */
  readonly target: string;
}

const readMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export function auditCall(request: FastifyRequest, call: string, target: string): void {
  const cut = target.length > maxAuditTargetChars ? `${target.slice(0, maxAuditTargetChars)}…` : target;
  request.auditRecord = { call, target: cut };
}

/** The `{"error": {"code"}}` of an error answer, or null. */
function errorCode(status: number, payload: unknown): string | null {
  if (status < 400 || typeof payload !== 'string' || payload.length > maxAuditedErrorBodyChars) return null;
  try {
    const code = (JSON.parse(payload) as { error?: { code?: unknown } }).error?.code;
    return typeof code === 'string' ? code : null;
  } catch {
    return null;
  }
}

function recordOf(request: FastifyRequest, reply: FastifyReply): AuditRecord | null {
  if (request.auditRecord !== null) return request.auditRecord;
  if (reply.statusCode === 401 && !readMethods.has(request.method)) {
    return { call: `${request.method} ${request.url.split('?')[0]}`, target: '' };
  }
  return null;
}

export function registerAudit(app: FastifyInstance, logger: Logger): void {
  // `audit: true` is serialized once, as the child's binding, and the line skips the logger's
  // redaction: its wildcard path ran every value through fast-redact (the audit line was 3% of the
  // leader's samples at 256 clients, issue 19). Nothing here can match a redacted path: the fields
  // are fixed names holding strings, numbers and null. The line is byte for byte what it was.
  // Written once per turn, not per answer: one write(2) per request was a sixth of the leader's
  // system calls at 16 clients (issue 19; turn-buffered-destination.ts). The app's close writes
  // what its last turn buffered.
  const { logger: auditLogger, destination } = turnBufferedChild(logger, { audit: true }, { redact: [] });
  app.addHook('onClose', (_instance, done) => {
    destination.close();
    done();
  });
  app.decorateRequest('auditRecord', null);
  // A callback hook: an async one costs every answer a promise and a microtask turn (issue 19).
  app.addHook('onSend', (request, reply, payload, done) => {
    const record = recordOf(request, reply);
    if (record === null) {
      done(null, payload);
      return;
    }
    // A 401 proved nothing: the requester the hook started from is not who sent it.
    const requester = reply.statusCode === 401 ? null : request.requester;
    auditLogger.info(
      {
        principal: requester === null ? null : principalOf(requester),
        requester: requester === null ? 'unauthenticated' : requester.kind,
        call: record.call,
        target: record.target,
        status: reply.statusCode,
        code: errorCode(reply.statusCode, payload),
        remoteAddress: request.ip,
      },
      'audit',
    );
    done(null, payload);
  });
}
