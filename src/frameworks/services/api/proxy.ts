// A standby instance answers the Marathon API by proxying to the leading one, as Marathon's
// non-leaders do (the leader is the lease holder, lease.ts): method, path, query, headers and
// body go through; the answer (status, headers, body, or an event stream) comes back as is.
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';

const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length']);
const proxyTimeoutMs = 30_000;

export async function proxyTo(leader: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!hopByHop.has(name) && typeof value === 'string') headers[name] = value;
  }
  headers['x-marathon-via'] = '1.1 flotilla-services';
  const hasBody = request.body !== undefined && request.method !== 'GET' && request.method !== 'DELETE';
  const streaming = request.url.startsWith('/v2/events');
  const response = await fetch(`http://${leader}${request.url}`, {
    method: request.method,
    headers,
    ...(hasBody ? { body: JSON.stringify(request.body) } : {}),
    redirect: 'manual',
    ...(streaming ? {} : { signal: AbortSignal.timeout(proxyTimeoutMs) }),
  });
  reply.code(response.status);
  response.headers.forEach((value, name) => {
    if (!hopByHop.has(name) && name !== 'content-encoding') void reply.header(name, value);
  });
  if (streaming && response.body !== null) {
    const stream = Readable.fromWeb(response.body as never);
    request.raw.on('close', () => stream.destroy());
    return reply.send(stream);
  }
  return reply.send(Buffer.from(await response.arrayBuffer()));
}
