// POST /api/v1/executor on the agent's port: the Mesos v1 executor HTTP API in JSON
// (executor-http-api.md), with http.cpp's `executor` handler's checks in its order: only POST
// (405); a Content-Type is required (400) and must be JSON (415: Flotilla does not speak
// protobuf); the call is validated (400); SUBSCRIBE needs an Accept that allows JSON (406) and
// answers 200 with the RecordIO event stream; the other calls answer 202 Accepted. Error bodies
// keep the agent's JSON envelope where Mesos sends plain text; the statuses are Mesos'.
//
// The route is outside the agent's authentication hook (executors hold no principal's
// credentials): on an agent with --credentials it checks the executor's own token itself
// (tokens.ts) — present before anything else (401), and the token of the executor the call names
// once the body is read (401 too, whether the token is garbage or another executor's: the check
// compares with the named executor's token only, so it cannot tell, and tells nothing either).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticationRealm } from '../../auth/limits.ts';
import { authorizationHeader, isMalformed, parseAuthorization } from '../../protocol/http-authorization.ts';
import { ExecutorCallError, executorApiPath, parseExecutorCall } from '../../protocol/executor.ts';
import { executorApiLimits } from '../../protocol/limits.ts';
import { AgentHttpError } from '../errors.ts';
import { HttpExecutorStream } from './event-stream.ts';
import type { ExecutorRegistry } from './registry.ts';
import { executorTokenMatches } from './tokens.ts';

const executorChallenge = `Bearer realm="${authenticationRealm}"`;

function unauthorized(reply: FastifyReply, message: string): AgentHttpError {
  void reply.header('www-authenticate', executorChallenge).header('cache-control', 'no-store');
  return new AgentHttpError('UNAUTHORIZED', message);
}

/** The Bearer token of the request; throws 401 (the message never quotes what was sent). */
function presentedToken(request: FastifyRequest, reply: FastifyReply): string {
  const values = request.raw.rawHeaders.filter(
    (_value, position, raw) => position % 2 === 1 && raw[position - 1]!.toLowerCase() === authorizationHeader,
  );
  if (values.length === 0)
    throw unauthorized(reply, 'this agent needs the executor token: send Authorization: Bearer <token>');
  if (values.length > 1) throw unauthorized(reply, 'send one Authorization header');
  const presented = parseAuthorization(values[0]!);
  if (isMalformed(presented)) throw unauthorized(reply, presented.malformed);
  if (presented.scheme !== 'bearer')
    throw unauthorized(reply, 'an executor authenticates with its token: send Authorization: Bearer <token>');
  return presented.token;
}

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

/**
 * `requireTokens`: the agent has --credentials, so every call carries the token of the executor it
 * names; without, calls are anonymous as they always were.
 */
export function registerExecutorRoute(app: FastifyInstance, registry: ExecutorRegistry, requireTokens: boolean): void {
  app.post<{ Body: unknown }>(
    executorApiPath,
    {
      bodyLimit: executorApiLimits.maxCallBodyBytes,
      config: { public: true },
      onRequest: async (request, reply) => {
        if (requireTokens) presentedToken(request, reply);
        checkContentType(request);
      },
    },
    async (request, reply) => {
      let call: ReturnType<typeof parseExecutorCall>;
      try {
        call = parseExecutorCall(request.body);
      } catch (error) {
        if (error instanceof ExecutorCallError) throw new AgentHttpError(error.code, error.message);
        throw error;
      }
      if (
        requireTokens &&
        !executorTokenMatches(presentedToken(request, reply), registry.tokenOf(call.frameworkId, call.executorId))
      )
        throw unauthorized(reply, `the token is not executor ${call.executorId}'s of framework ${call.frameworkId}`);
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
