// POST /api/v1: the Mesos v1 operator API. The body is {"type": "<CALL>", "<call>": {...}};
// a missing Accept means JSON; anything but JSON is refused with 406/415 as Mesos does, except
// that a streaming call (SUBSCRIBE) may ask for `application/recordio` with JSON messages.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../errors.ts';
import type { MasterCore } from '../../master/interface.ts';
import { requestAccess } from '../access.ts';
import { auditCall } from '../audit.ts';
import { idempotentRequest, withIdempotency } from '../idempotency.ts';
import { requireLeader } from '../leader.ts';
import { maxQueuedBytesPerSubscriber, operatorHeartbeatIntervalSeconds } from '../limits.ts';
import { maxOperatorSubscribers, maxOperatorSubscribersPerPrincipal } from '../../master/limits.ts';
import { readConsistency } from '../reads.ts';
import { SliceTimeline } from '../sliced-body.ts';
import { allocationCalls } from '../operator/allocation-calls.ts';
import { basicCalls } from '../operator/basic-calls.ts';
import { maintenanceCalls } from '../operator/maintenance-calls.ts';
import { metricsCalls } from '../operator/metrics-calls.ts';
import { quotaCalls } from '../operator/quota-calls.ts';
import { raftCalls } from '../operator/raft-calls.ts';
import { type OperatorCallTable, StreamingResponse } from '../operator/registry.ts';
import { roleCalls } from '../operator/role-calls.ts';
import { stateCalls } from '../operator/state-calls.ts';
import { subscribeCalls } from '../operator/subscribe-call.ts';
import { OperatorSubscriptions } from '../operator/subscriptions.ts';
import { teardownCalls } from '../operator/teardown-calls.ts';
import { drainCalls } from '../operator/drain-calls.ts';
import { reservationCalls } from '../operator/reservation-calls.ts';
import { operationsCalls } from '../operator/operations-call.ts';

export const operatorPath = '/api/v1';

export interface OperatorCallTableParts {
  readonly subscriptions: OperatorSubscriptions;
}

/** Every call type once: a name in two tables is a programmer error, caught at start. */
export function operatorCallTable(parts: OperatorCallTableParts): OperatorCallTable {
  const tables = [
    basicCalls,
    raftCalls,
    metricsCalls,
    stateCalls,
    roleCalls,
    quotaCalls,
    maintenanceCalls,
    teardownCalls,
    drainCalls,
    reservationCalls,
    operationsCalls,
    allocationCalls,
    subscribeCalls(parts.subscriptions),
  ];
  const table: OperatorCallTable = {};
  for (const part of tables) {
    for (const [type, handler] of Object.entries(part)) {
      if (Object.hasOwn(table, type)) throw new Error(`operator call ${type} is defined twice`);
      table[type] = handler;
    }
  }
  return table;
}

const callSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

type Encoding = 'json' | 'recordio';

/** Operator SUBSCRIBE streams one master holds at once, in total and per principal. */
export interface SubscriberLimits {
  readonly total: number;
  readonly perPrincipal: number;
}

export function registerOperatorRoutes(
  app: FastifyInstance,
  master: MasterCore,
  table?: OperatorCallTable,
  subscriberLimits: SubscriberLimits = {
    total: maxOperatorSubscribers,
    perPrincipal: maxOperatorSubscribersPerPrincipal,
  },
): void {
  const subscriptions = new OperatorSubscriptions(master, {
    maxSubscribers: subscriberLimits.total,
    maxSubscribersPerPrincipal: subscriberLimits.perPrincipal,
    maxQueuedBytes: maxQueuedBytesPerSubscriber,
    heartbeatIntervalSeconds: operatorHeartbeatIntervalSeconds,
  });
  app.addHook('onClose', async () => subscriptions.close());
  const calls = table ?? operatorCallTable({ subscriptions });
  const validTypes = Object.keys(calls).sort().join(', ');
  app.post<{ Body: Record<string, unknown>; Querystring: { stale?: string } }>(
    operatorPath,
    { schema: { body: callSchema } },
    async (request, reply) => {
      const type = request.body.type as string;
      const handler = Object.hasOwn(calls, type) ? calls[type]! : undefined;
      if (handler === undefined)
        throw new HttpError('UNKNOWN_CALL', `unknown operator call type "${type}"; the call types are ${validTypes}`);
      const encoding = negotiate(request.headers.accept, request.headers['message-accept'], handler.streaming === true);
      if (handler.write && handler.mutates !== false) auditCall(request, type, auditTarget(request.body, type));
      // Only writes take an Idempotency-Key (reads and SUBSCRIBE ignore it: see ../idempotency.ts).
      const keyed = handler.write ? withIdempotency(master, idempotentRequest(request)) : master;
      if (handler.write) requireLeader(master, operatorPath);
      else if (handler.local !== true) await readConsistency(master, request.query.stale);
      const response = await handler.handle({
        master: keyed,
        call: request.body,
        stale: request.query.stale,
        access: requestAccess(request),
      });
      if (response === null) return reply.code(handler.accepted === true ? 202 : 200).send();
      if (response instanceof StreamingResponse) {
        const headers =
          encoding === 'recordio'
            ? { 'content-type': 'application/recordio', 'message-content-type': 'application/json' }
            : { 'content-type': 'application/json' };
        logSlicedAnswer(request, reply, type, response.body);
        return reply
          .code(200)
          .headers({ ...headers, 'cache-control': 'no-store' })
          .send(response.body);
      }
      return reply.code(200).header('content-type', 'application/json').send(response);
    },
  );
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url: operatorPath,
    handler: async (request) => {
      throw new HttpError('METHOD_NOT_ALLOWED', `${request.method} ${operatorPath}: use POST`);
    },
  });
}

/**
 * One line per answer written in more than one slice: where its time went between the request's
 * arrival and the last byte handed to the kernel (sliced-body.ts SliceTimeline).
 */
function logSlicedAnswer(request: FastifyRequest, reply: FastifyReply, type: string, body: Readable): void {
  if (!('timeline' in body) || !(body.timeline instanceof SliceTimeline)) return;
  const timeline = body.timeline;
  reply.raw.once('finish', () => {
    if (timeline.slices <= 1) return;
    const finishedAt = performance.now();
    request.log.info(
      {
        call: type,
        ...timeline.summary(),
        // Before the body was made: parsing, the ReadIndex round, capturing the view.
        beforeBodyMs: Math.round((reply.elapsedTime - (finishedAt - timeline.startedAt)) * 10) / 10,
        afterLastSliceMs: Math.round((finishedAt - timeline.endedAt) * 10) / 10,
        totalMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'sliced answer written',
    );
  });
}

/** The call's own part of the body (`teardown` of TEARDOWN …), as JSON: what the audit line says it acted on. */
function auditTarget(body: Readonly<Record<string, unknown>>, type: string): string {
  const part = body[type.toLowerCase()];
  return part === undefined ? '' : JSON.stringify(part);
}

const acceptsJson = (accept: string): boolean =>
  accept === '' || accept.includes('application/json') || accept.includes('*/*') || accept.includes('application/*');

/** Mesos' streaming negotiation: Accept names the framing, Message-Accept the records' encoding. */
function negotiate(
  accept: string | undefined,
  messageAccept: string | string[] | undefined,
  streaming: boolean,
): Encoding {
  const wanted = accept ?? '';
  if (streaming && wanted.includes('application/recordio')) {
    const messages = Array.isArray(messageAccept) ? messageAccept.join(',') : (messageAccept ?? '');
    if (acceptsJson(messages)) return 'recordio';
    throw new HttpError('NOT_ACCEPTABLE', `event records are application/json, not ${messages}`);
  }
  if (acceptsJson(wanted)) return 'json';
  throw new HttpError('NOT_ACCEPTABLE', `this API answers application/json, not ${wanted}`);
}
