// POST /api/v1/executor on the agent's port: the Mesos v1 executor HTTP API in JSON
// (executor-http-api.md), with http.cpp's `executor` handler's checks in its order: only POST
// (405); a Content-Type is required (400) and must be JSON (415: Flotilla does not speak
// protobuf); the call is validated (400); SUBSCRIBE needs an Accept that allows JSON (406) and
// answers 200 with the RecordIO event stream; the other calls answer 202 Accepted. Error bodies
// keep the agent's JSON envelope where Mesos sends plain text; the statuses are Mesos'.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ExecutorCallError, executorApiPath, parseExecutorCall } from '../../protocol/executor.ts';
import { executorApiLimits } from '../../protocol/limits.ts';
import { AgentHttpError } from '../errors.ts';
import { HttpExecutorStream } from './event-stream.ts';
import type { ExecutorRegistry } from './registry.ts';

function checkContentType(request: FastifyRequest): void {
  const contentType = request.headers['content-type'];
  if (contentType === undefined || contentType.trim() === '')
    throw new AgentHttpError('BAD_REQUEST', "Expecting 'Content-Type' to be present");
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/json')
    throw new AgentHttpError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Expecting 'Content-Type' of application/json (Flotilla does not speak protobuf), not ${mediaType}`,
    );
}

const allowsJson = (accept: string): boolean =>
  accept.trim() === '' || /application\/json|\*\/\*|application\/\*/.test(accept);

/** The event stream is RecordIO of JSON either way; `application/recordio` only names the framing. */
function streamContentType(request: FastifyRequest): Record<string, string> {
  const accept = request.headers.accept ?? '';
  if (accept.includes('application/recordio')) {
    const messageAccept = request.headers['message-accept'];
    const messages = Array.isArray(messageAccept) ? messageAccept.join(',') : (messageAccept ?? '');
    if (!allowsJson(messages))
      throw new AgentHttpError('NOT_ACCEPTABLE', `Expecting 'Message-Accept' to allow application/json`);
    return { 'content-type': 'application/recordio', 'message-content-type': 'application/json' };
  }
  if (!allowsJson(accept))
    throw new AgentHttpError('NOT_ACCEPTABLE', `Expecting 'Accept' to allow application/json, not ${accept}`);
  return { 'content-type': 'application/json' };
}

export function registerExecutorRoute(app: FastifyInstance, registry: ExecutorRegistry): void {
  app.post<{ Body: unknown }>(
    executorApiPath,
    {
      bodyLimit: executorApiLimits.maxCallBodyBytes,
      onRequest: async (request) => checkContentType(request),
    },
    async (request, reply) => {
      let call: ReturnType<typeof parseExecutorCall>;
      try {
        call = parseExecutorCall(request.body);
      } catch (error) {
        if (error instanceof ExecutorCallError) throw new AgentHttpError(error.code, error.message);
        throw error;
      }
      if (call.type !== 'SUBSCRIBE') {
        registry.handleCall(call, null, true);
        return reply.code(202).send();
      }
      const headers = streamContentType(request);
      const stream = new HttpExecutorStream();
      registry.handleCall(call, stream, true);
      return reply
        .code(200)
        .headers({ ...headers, 'cache-control': 'no-store' })
        .send(stream.body);
    },
  );
  app.route({
    method: ['GET', 'PUT', 'DELETE', 'PATCH'],
    url: executorApiPath,
    handler: async (request, reply) => {
      void reply.header('allow', 'POST');
      throw new AgentHttpError('METHOD_NOT_ALLOWED', `${request.method} ${executorApiPath}: use POST`);
    },
  });
}
