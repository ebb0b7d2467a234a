// POST /api/v1/scheduler: the Mesos v1 scheduler HTTP API in JSON (scheduler-http-api.md), with
// http.cpp's `scheduler` handler's checks in its order: a follower redirects (307, Location
// `//leader/api/v1/scheduler`); only POST (405); a Content-Type is required (400) and must be
// JSON (415: Flotilla does not speak protobuf); SUBSCRIBE needs an Accept that allows JSON (406;
// none means JSON) and no Mesos-Stream-Id (400). Error bodies keep Flotilla's JSON envelope
// where Mesos sends plain text; the statuses are Mesos'. Who may subscribe and call, and as
// which principal: scheduler/authorization.ts. Every call but RECONCILE is audited.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { schedulerApiPath, streamIdHeader } from '../../protocol/scheduler.ts';
import type { MasterCore } from '../../master/interface.ts';
import type { SchedulerCall } from '../../master/scheduler/call.ts';
import type { FrameworkId } from '../../state-machine/ids.ts';
import { auditCall } from '../audit.ts';
import { HttpError } from '../errors.ts';
import { checkedUnkeyed, idempotentRequest, requestIdempotency } from '../idempotency.ts';
import { requireLeader } from '../leader.ts';
import { maxQueuedBytesPerStream, rateLimitRefusalLogIntervalMs } from '../limits.ts';
import { authorizeSubscription, operationApproval, requireFrameworkPrincipal } from '../scheduler/authorization.ts';
import { parseSchedulerCall } from '../scheduler/parse-call.ts';
import type { SchedulerRateLimiter } from '../scheduler/rate-limiter.ts';
import { SchedulerStream } from '../scheduler/stream.ts';

const protobufContentType = 'application/x-protobuf';

function checkContentType(request: FastifyRequest): void {
  const contentType = request.headers['content-type'];
  if (contentType === undefined || contentType.trim() === '')
    throw new HttpError('BAD_REQUEST', "Expecting 'Content-Type' to be present");
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType === protobufContentType) {
    throw new HttpError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Flotilla's scheduler API speaks JSON only: send 'Content-Type: application/json', not ${protobufContentType}`,
    );
  }
  if (mediaType !== 'application/json')
    throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `Expecting 'Content-Type' of application/json, not ${mediaType}`);
}

const allowsJson = (accept: string): boolean =>
  accept.trim() === '' || /application\/json|\*\/\*|application\/\*/.test(accept);

type StreamEncoding = 'json' | 'recordio';

/** The event stream is RecordIO of JSON either way; `application/recordio` names the framing. */
function negotiateStream(request: FastifyRequest): StreamEncoding {
  const accept = request.headers.accept ?? '';
  if (accept.includes('application/recordio')) {
    const messageAccept = request.headers['message-accept'];
    const messages = Array.isArray(messageAccept) ? messageAccept.join(',') : (messageAccept ?? '');
    if (allowsJson(messages)) return 'recordio';
    throw new HttpError('NOT_ACCEPTABLE', `Expecting 'Message-Accept' to allow application/json, not ${messages}`);
  }
  if (allowsJson(accept)) return 'json';
  throw new HttpError(
    'NOT_ACCEPTABLE',
    `Expecting 'Accept' to allow application/json (Flotilla does not speak protobuf), not ${accept}`,
  );
}

function headerValue(request: FastifyRequest, name: string): string | null {
  const value = request.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Whose rate a call counts against: its framework's principal, as Mesos throttles (null: none). */
function callPrincipal(master: MasterCore, call: SchedulerCall): string | null {
  if (call.type === 'SUBSCRIBE') return call.info.principal;
  return master.state().frameworks.get(call.frameworkId as FrameworkId)?.info.principal ?? null;
}

/**
 * Waits for the call's turn under --rate-limits, or throws 429 RATE_LIMIT_EXCEEDED (logged at most
 * once per interval: a throttled framework retrying in a loop would otherwise flood the log).
 */
function throttler(
  limiter: SchedulerRateLimiter | null,
): (request: FastifyRequest, reply: FastifyReply, principal: string | null) => Promise<void> {
  let loggedAtMs = Number.NEGATIVE_INFINITY;
  let refusedAtLastLog = 0;
  return async (request, reply, principal) => {
    if (limiter === null) return;
    const admission = limiter.admit(principal);
    if (admission.kind === 'now') return;
    if (admission.kind === 'refused') {
      const nowMs = Date.now();
      if (nowMs - loggedAtMs >= rateLimitRefusalLogIntervalMs) {
        request.log.warn(
          { principal, refusedSinceLastLine: limiter.refused - refusedAtLastLog, refusedTotal: limiter.refused },
          'refused a scheduler call over its rate limit',
        );
        loggedAtMs = nowMs;
        refusedAtLastLog = limiter.refused;
      }
      throw admission.error;
    }
    // A caller that hangs up while it waits gives its place back at once.
    const gone = new AbortController();
    const onClose = (): void => gone.abort();
    reply.raw.once('close', onClose);
    try {
      await sleep(admission.delayMs, undefined, { signal: gone.signal });
    } catch (error) {
      if (!gone.signal.aborted) throw error;
      // Nobody reads this answer; it keeps the hang-up out of the 5xx counts and error logs.
      throw new HttpError('RATE_LIMIT_EXCEEDED', 'the caller hung up while its call waited its turn');
    } finally {
      reply.raw.off('close', onClose);
      admission.done();
    }
  };
}

export function registerSchedulerRoutes(
  app: FastifyInstance,
  master: MasterCore,
  rateLimiter: SchedulerRateLimiter | null = null,
): void {
  const throttle = throttler(rateLimiter);
  app.post<{ Body: unknown }>(
    schedulerApiPath,
    {
      schema: { body: { type: 'object' } },
      onRequest: async (request) => {
        requireLeader(master, schedulerApiPath);
        checkContentType(request);
      },
    },
    async (request, reply) => {
      const call = parseSchedulerCall(request.body);
      const streamId = headerValue(request, streamIdHeader);
      if (call.type === 'SUBSCRIBE') {
        auditCall(request, call.type, `framework ${call.frameworkId ?? '(new)'} ${JSON.stringify(call.info.name)}`);
        const encoding = negotiateStream(request);
        if (streamId !== null)
          throw new HttpError('BAD_REQUEST', "Subscribe calls should not include the 'Mesos-Stream-Id' header");
        authorizeSubscription(request, master.state(), call.frameworkId, call.info);
        await throttle(request, reply, callPrincipal(master, call));
        const stream = new SchedulerStream(maxQueuedBytesPerStream);
        const subscription = await master.scheduler.subscribe(call, stream);
        const contentType =
          encoding === 'recordio'
            ? { 'content-type': 'application/recordio', 'message-content-type': 'application/json' }
            : { 'content-type': 'application/json' };
        return reply
          .code(200)
          .headers({
            ...contentType,
            'cache-control': 'no-store',
            [streamIdHeader]: subscription.streamId ?? randomUUID(),
          })
          .send(stream.body);
      }
      if (call.type !== 'RECONCILE') auditCall(request, call.type, `framework ${call.frameworkId}`);
      if (call.type === 'UPDATE_FRAMEWORK') authorizeSubscription(request, master.state(), call.frameworkId, call.info);
      else requireFrameworkPrincipal(request, master.state(), call.frameworkId);
      await throttle(request, reply, callPrincipal(master, call));
      // SUBSCRIBE above ignores an Idempotency-Key: it opens a stream, and a retry is a new one.
      // An ACKNOWLEDGE's command carries no key (master/scheduler/calls.ts `acknowledge`): its key
      // is checked, but no fingerprint (a canonical JSON and a sha256, for every acknowledgement:
      // 1.7% of the churn bench leader's busy time) is computed for nothing.
      const idempotent = call.type === 'ACKNOWLEDGE' ? checkedUnkeyed(request) : idempotentRequest(request);
      await master.scheduler.call(call, {
        streamId,
        idempotency: idempotent === null ? null : requestIdempotency(idempotent),
        approval: operationApproval(request),
      });
      // Mesos answers 202 Accepted, and 200 OK to UPDATE_FRAMEWORK.
      return reply.code(call.type === 'UPDATE_FRAMEWORK' ? 200 : 202).send();
    },
  );
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url: schedulerApiPath,
    handler: async (request, reply) => {
      requireLeader(master, schedulerApiPath);
      void reply.header('allow', 'POST');
      throw new HttpError('METHOD_NOT_ALLOWED', `${request.method} ${schedulerApiPath}: use POST`);
    },
  });
}
