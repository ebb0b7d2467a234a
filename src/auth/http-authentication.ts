// The fastify hook that authenticates every request of a master's or an agent's HTTP API and
// puts who sent it on the request (`request.requester`), before any route runs. A route added
// later is authenticated without doing anything; a route that must answer strangers (GET
// /health for load balancers, the web UI's static files) opts out with `config: { public: true }`.
//
// - Without credentials (no --credentials): everyone is anonymous, as before authentication
//   existed; an Authorization header is not looked at.
// - With them: a request without `Authorization: Basic|Bearer …`, or with credentials that do
//   not match, is answered 401 UNAUTHORIZED with `WWW-Authenticate` naming both schemes (Bearer
//   only to a browser's fetch: challengeFor), in the
//   {"error": {"code", "message"}} envelope of both APIs. The message is the same for an unknown
//   principal and a wrong secret, and never quotes what was sent.
// - An agent also takes the cluster secret (x-flotilla-secret) from the masters, who read
//   sandboxes for their own, already authorized, callers.
// CORS preflights (OPTIONS) carry no credentials by design and are never challenged.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  authorizationHeader,
  isMalformed,
  parseAuthorization,
  type PresentedCredentials,
} from '../protocol/http-authorization.ts';
import { type SecretCheck, secretHeader } from '../util/shared-secret.ts';
import type { CredentialStore } from './credential-store.ts';
import { authenticationRealm } from './limits.ts';
import { anonymousRequester, clusterRequester, principalRequester, type Requester } from './requester.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request: set by the authentication hook before any route runs. */
    requester: Requester;
  }
  interface FastifyContextConfig {
    /** Answered without credentials (health, static UI files). */
    public?: boolean;
  }
}

export interface AuthenticationOptions {
  /** null: no --credentials, every request is anonymous. */
  readonly credentials: CredentialStore | null;
  /** An agent's: the masters present the cluster secret. null on a master. */
  readonly clusterSecret: SecretCheck | null;
}

export const unauthorizedCode = 'UNAUTHORIZED';
export const wwwAuthenticate = `Basic realm="${authenticationRealm}", Bearer realm="${authenticationRealm}"`;

/** Every value of header `name` as sent (node keeps only the first Authorization it reads). */
function headerValues(request: FastifyRequest, name: string): string[] {
  const raw = request.raw.rawHeaders;
  const values: string[] = [];
  for (let position = 0; position + 1 < raw.length; position += 2) {
    if (raw[position]!.toLowerCase() === name) values.push(raw[position + 1]!);
  }
  return values;
}

type Outcome = { readonly requester: Requester } | { readonly refused: string };

function presentedCredentials(request: FastifyRequest): PresentedCredentials | { readonly refused: string } {
  const values = headerValues(request, authorizationHeader);
  if (values.length === 0)
    return { refused: 'this API needs credentials: send Authorization: Basic (principal:secret) or Bearer (token)' };
  if (values.length > 1) return { refused: 'send one Authorization header' };
  const presented = parseAuthorization(values[0]!);
  return isMalformed(presented) ? { refused: presented.malformed } : presented;
}

function authenticate(request: FastifyRequest, options: AuthenticationOptions): Outcome {
  const secrets = headerValues(request, secretHeader);
  if (options.clusterSecret !== null && secrets.length > 0) {
    return secrets.length === 1 && options.clusterSecret.matches(secrets[0])
      ? { requester: clusterRequester }
      : { refused: 'the cluster secret does not match' };
  }
  if (options.credentials === null) return { requester: anonymousRequester };
  const presented = presentedCredentials(request);
  if ('refused' in presented) return presented;
  const principal = options.credentials.authenticate(presented);
  if (principal === null) return { refused: 'the credentials do not match any principal' };
  return { requester: principalRequester(principal) };
}

/**
 * The challenge: both schemes, except to a script's fetch in a browser (Sec-Fetch-Mode other
 * than navigate), which gets Bearer only: a Basic challenge makes the browser hold the request
 * and ask for a password in its own dialog, where the web UI shows its login form instead.
 * (Node's fetch sends Sec-Fetch-Mode too; no client reads the challenge, they know their scheme.)
 */
export function challengeFor(request: FastifyRequest): string {
  const mode = request.headers['sec-fetch-mode'];
  return typeof mode === 'string' && mode !== 'navigate' ? bearerChallenge : wwwAuthenticate;
}

const bearerChallenge = `Bearer realm="${authenticationRealm}"`;

function refuse(request: FastifyRequest, reply: FastifyReply, message: string): FastifyReply {
  return reply
    .code(401)
    .header('www-authenticate', challengeFor(request))
    .header('cache-control', 'no-store')
    .send({ error: { code: unauthorizedCode, message } });
}

export function registerAuthentication(app: FastifyInstance, options: AuthenticationOptions): void {
  // A null placeholder (fastify refuses objects as request decorations); the hook sets it on every request.
  app.decorateRequest('requester', null as never);
  // A callback hook, not an async one: an async hook costs every request a promise and a microtask
  // turn (issue 19). A refusal answers here and so does not go on (done is not called); fastify runs
  // no further onRequest hook once an answer is sent. A throw is the request's error, as before.
  app.addHook('onRequest', (request, reply, done) => {
    request.requester = anonymousRequester;
    if (request.method === 'OPTIONS' || request.routeOptions.config.public === true) {
      done();
      return;
    }
    const outcome = authenticate(request, options);
    if ('refused' in outcome) {
      refuse(request, reply, outcome.refused);
      return;
    }
    request.requester = outcome.requester;
    done();
  });
}
