// Cross-origin requests from the other masters' web UI (and from no one else). The page a master
// serves follows the leader: when its own master dies, it talks to another member, which is a
// different origin (host:port). That member answers it only if the request's Origin is one of the
// Raft members' origins (src/http/member-origins.ts): the members' own pages, which can already
// do anything same-origin on their own master. Any other origin — a web page an operator happens
// to have open — gets no Access-Control-Allow-Origin, so its browser keeps the answer from it,
// and its preflights are refused, so it cannot send JSON calls (TEARDOWN …) either.
//
// No browser credentials are involved (no cookies: the page adds its own `Authorization: Bearer`
// header, which a preflight lets through), so Access-Control-Allow-Credentials is never sent.
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../errors.ts';
import type { MasterCore } from '../../master/interface.ts';
import { memberOrigins, webScheme } from '../member-origins.ts';

/** How long a browser may reuse a preflight answer (seconds). */
export const corsPreflightMaxAgeSeconds = 600;

const allowedMethods = 'GET, POST';
/** What the UI sends: JSON bodies, Accept / Message-Accept for the RecordIO event stream, its token. */
const allowedHeaders = 'content-type, accept, message-accept, authorization';
/** What the UI reads from an answer besides the body. */
const exposedHeaders = 'retry-after, location';

export function registerCors(app: FastifyInstance, master: MasterCore): void {
  // A callback hook, not an async one: most requests carry no Origin, and an async hook costs every
  // request a promise and a microtask turn before routing goes on (issue 19).
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (typeof origin !== 'string') {
      done();
      return;
    }
    // Answers differ by Origin: a cache between browser and master must keep them apart.
    void reply.header('vary', 'origin');
    const allowed = memberOrigins(master, webScheme(request.protocol)).includes(origin);
    if (request.method === 'OPTIONS') {
      if (!allowed) {
        done(
          new HttpError('FORBIDDEN', `cross-origin calls are answered for the masters' own pages only, not ${origin}`),
        );
        return;
      }
      // Answered here: the hook chain stops, so done is not called.
      void reply
        .code(204)
        .headers({
          'access-control-allow-origin': origin,
          'access-control-allow-methods': allowedMethods,
          'access-control-allow-headers': allowedHeaders,
          'access-control-max-age': String(corsPreflightMaxAgeSeconds),
        })
        .send();
      return;
    }
    if (allowed) {
      void reply.headers({ 'access-control-allow-origin': origin, 'access-control-expose-headers': exposedHeaders });
    }
    done();
  });
}
