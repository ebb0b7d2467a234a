// POST /api/v1: the Mesos v1 operator API. The body is {"type": "<CALL>", "<call>": {...}};
// a missing Accept means JSON; anything but JSON is refused with 406/415 as Mesos does.
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.ts';
import type { MasterFacade } from '../facade.ts';
import { requireLeader } from '../leader.ts';
import { readConsistency } from '../reads.ts';
import { basicCalls } from '../operator/basic-calls.ts';
import { raftCalls } from '../operator/raft-calls.ts';
import type { OperatorCallTable } from '../operator/registry.ts';

export const operatorPath = '/api/v1';

export function operatorCallTable(): OperatorCallTable {
  return { ...basicCalls, ...raftCalls };
}

const callSchema = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export function registerOperatorRoutes(app: FastifyInstance, master: MasterFacade, table = operatorCallTable()): void {
  app.post<{ Body: Record<string, unknown>; Querystring: { stale?: string } }>(operatorPath, { schema: { body: callSchema } }, async (request, reply) => {
    checkAccept(request.headers.accept);
    const type = request.body.type as string;
    const handler = Object.hasOwn(table, type) ? table[type]! : undefined;
    if (handler === undefined) throw new HttpError('UNKNOWN_CALL', `unknown operator call type "${type}"`);
    if (handler.write) requireLeader(master, operatorPath);
    else if (type !== 'GET_HEALTH' && type !== 'GET_VERSION' && type !== 'GET_FLAGS' && type !== 'GET_RAFT' && type !== 'GET_MASTER') {
      await readConsistency(master, request.query.stale);
    }
    const response = await handler.handle({ master, call: request.body, stale: request.query.stale });
    if (response === null) return reply.code(200).send();
    return reply.code(200).header('content-type', 'application/json').send(response);
  });
  app.route({ method: ['GET', 'PUT', 'DELETE', 'PATCH'], url: operatorPath, handler: async (request) => {
    throw new HttpError('METHOD_NOT_ALLOWED', `${request.method} ${operatorPath}: use POST`);
  } });
}

function checkAccept(accept: string | undefined): void {
  if (accept === undefined || accept === '' || accept.includes('application/json') || accept.includes('*/*') || accept.includes('application/*')) return;
  throw new HttpError('NOT_ACCEPTABLE', `this API answers application/json, not ${accept}`);
}
