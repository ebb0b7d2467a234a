// Authorization at the master's enforcement points. The authentication hook (src/auth/
// http-authentication.ts) has put `request.requester` on every request; a route or an operator
// call that acts on something opts into authorization with one line:
//   requireAllowed(request, 'update_quotas', role);        // 403 FORBIDDEN unless the ACLs allow it
// and a read filters what it answers with `isAllowed` or a Visibility (operator/visibility.ts).
// The authorizer is the server's (`app.authorizer`, decorated by buildHttpServer).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type AclAction, aclActions } from '../auth/acls.ts';
import type { Authorizer } from '../auth/authorizer.ts';
import { describeRequester, principalOf, type Requester } from '../auth/requester.ts';
import { HttpError } from './errors.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The ACLs this master enforces (allow-all without --acls). */
    authorizer: Authorizer;
  }
}

/** What one request may do: its requester and the server's authorizer. */
export interface RequestAccess {
  readonly requester: Requester;
  readonly authorizer: Authorizer;
}

export function requestAccess(request: FastifyRequest): RequestAccess {
  return { requester: request.requester, authorizer: request.server.authorizer };
}

export function isAllowed(access: RequestAccess, action: AclAction, object: string | null): boolean {
  return access.authorizer.allows(access.requester, action, object);
}

/** Throws 403 FORBIDDEN naming who, what and on what, unless the ACLs allow it. */
export function requireAllowed(access: RequestAccess | FastifyRequest, action: AclAction, object: string | null): void {
  const resolved = 'server' in access ? requestAccess(access) : access;
  if (isAllowed(resolved, action, object)) return;
  const objectName = aclActions[action];
  throw new HttpError(
    'FORBIDDEN',
    `${describeRequester(resolved.requester)} is not allowed to ${action} for ${objectName} ${object === null ? 'ANY' : JSON.stringify(object)}`,
  );
}

/**
 * `isAllowed` for one action as a function of the object, remembered per object: a read that
 * filters 100,000 tasks asks the ACLs once per distinct user. Without a rule that could refuse
 * (no --acls, or a permissive file silent on the action), it answers true without asking.
 */
export function allowedObjects(access: RequestAccess, action: AclAction): (object: string | null) => boolean {
  if (access.authorizer.allowsEverything(action) || access.requester.kind === 'cluster') return () => true;
  const known = new Map<string | null, boolean>();
  return (object) => {
    let allowed = known.get(object);
    if (allowed === undefined) {
      allowed = isAllowed(access, action, object);
      known.set(object, allowed);
    }
    return allowed;
  };
}

/** The scope of a request's Idempotency-Key: its principal, so two principals' keys never meet. */
export function idempotencyScope(request: FastifyRequest): string {
  const principal = principalOf(request.requester);
  return principal === null ? 'anonymous' : `principal:${principal}`;
}

export function decorateAuthorizer(app: FastifyInstance, authorizer: Authorizer): void {
  app.decorate('authorizer', authorizer);
}
