// POST /api/v1/scheduler: the Mesos v1 scheduler HTTP API in JSON (scheduler-http-api.md), with
// http.cpp's `scheduler` handler's checks in its order: a follower redirects (307, Location
// `//leader/api/v1/scheduler`); only POST (405); a Content-Type is required (400) and must be
// JSON (415: Flotilla does not speak protobuf); SUBSCRIBE needs an Accept that allows JSON (406;
// none means JSON) and no Mesos-Stream-Id (400). Error bodies keep Flotilla's JSON envelope
// where Mesos sends plain text; the statuses are Mesos'. Who may subscribe and call, and as
// which principal: scheduler/authorization.ts. Every call but RECONCILE is audited.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { schedulerApiPath, streamIdHeader } from '../../protocol/scheduler.ts';
import type { MasterCore } from '../../master/interface.ts';
import { auditCall } from '../audit.ts';
import { HttpError } from '../errors.ts';
import { idempotentRequest, requestIdempotency } from '../idempotency.ts';
import { requireLeader } from '../leader.ts';
import { maxQueuedBytesPerStream } from '../limits.ts';
import { authorizeSubscription, operationApproval, requireFrameworkPrincipal } from '../scheduler/authorization.ts';
import { parseSchedulerCall } from '../scheduler/parse-call.ts';
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

export function registerSchedulerRoutes(app: FastifyInstance, master: MasterCore): void {
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
      // SUBSCRIBE above ignores an Idempotency-Key: it opens a stream, and a retry is a new one.
      const idempotent = idempotentRequest(request);
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
