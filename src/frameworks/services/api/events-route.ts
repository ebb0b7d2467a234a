// GET /v2/events: Marathon's event stream as server-sent events (event-bus.md): `event: <type>`
// and `data: <json>` lines, a blank line after each; `event_stream_attached` first; filtered by
// `event_type` (repeatable; the filter holds for `event_stream_attached` too, as on Marathon's bus);
// a blank line every eventStreamHeartbeatIntervalMs. A subscriber more than maxSseBufferBytes
// behind is disconnected.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServicesFramework } from '../framework.ts';
import { MarathonApiError } from '../api-error.ts';
import { eventStreamHeartbeatIntervalMs } from '../limits.ts';
import type { MarathonEvent } from '../events.ts';
import { queryList } from './query.ts';

export const maxSseBufferBytes = 8 * 1024 * 1024;

export function sseFrame(event: MarathonEvent): string {
  return `event: ${event.eventType}\ndata: ${JSON.stringify(event)}\n\n`;
}

export function registerEventsRoute(scope: FastifyInstance, services: ServicesFramework): void {
  scope.get('/v2/events', (request: FastifyRequest, reply: FastifyReply) => {
    const accept = request.headers.accept ?? '';
    if (!accept.includes('text/event-stream') && !accept.includes('*/*')) {
      throw new MarathonApiError(406, 'Only text/event-stream is supported on /v2/events');
    }
    const types = queryList(request.query, 'event_type');
    const filter = types.length === 0 ? null : new Set(types);
    const raw = reply.raw;
    let unsubscribe: (() => void) | null = null;
    const write = (event: MarathonEvent): void => {
      if (raw.writableLength > maxSseBufferBytes) {
        raw.end();
        return;
      }
      raw.write(sseFrame(event));
    };
    unsubscribe = services.events.subscribe(filter, write, () => raw.end());
    if (unsubscribe === null) throw new MarathonApiError(503, 'Too many event stream subscribers');
    reply.hijack();
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    // Now, not with the first event: a filtered stream may wait long for one, and a follower
    // relaying it gives up on headers that do not come.
    raw.flushHeaders();
    const remoteAddress = request.ip;
    if (filter === null || filter.has('event_stream_attached'))
      write({ eventType: 'event_stream_attached', timestamp: new Date().toISOString(), remoteAddress });
    const heartbeat = setInterval(() => {
      if (raw.writableLength <= maxSseBufferBytes) raw.write('\r\n');
    }, eventStreamHeartbeatIntervalMs);
    raw.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe?.();
      services.events.publish('event_stream_detached', { remoteAddress });
    });
  });
}
