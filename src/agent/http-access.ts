// Authorization on the agent's own API, with the agent's --acls (the authentication hook has put
// `request.requester` on the request): reading a sandbox is access_sandboxes, by the user the
// task runs as, as Mesos' agent authorizes /files/read; GET_STATE and /monitor/statistics leave
// out the tasks the caller may not view (view_tasks); GET_FLAGS is view_flags. A master reading
// a sandbox for its own caller presents the cluster secret and is the cluster: always allowed
// (it authorized its caller with its own ACLs, src/http/routes/sandbox.ts).
import type { FastifyRequest } from 'fastify';
import type { AclAction } from '../auth/acls.ts';
import { type Authorizer, allowEverything } from '../auth/authorizer.ts';
import type { CredentialStore } from '../auth/credential-store.ts';
import { describeRequester, type Requester } from '../auth/requester.ts';
import { AgentHttpError } from './errors.ts';

export interface AgentHttpAccess {
  /** null: no --credentials, every request is anonymous. */
  readonly credentials: CredentialStore | null;
  readonly authorizer: Authorizer;
}

export const openAgentAccess: AgentHttpAccess = { credentials: null, authorizer: allowEverything };

/** What one request to the agent may do. */
export interface AgentRequestAccess {
  readonly requester: Requester;
  readonly authorizer: Authorizer;
}

export function agentRequestAccess(request: FastifyRequest, authorizer: Authorizer): AgentRequestAccess {
  return { requester: request.requester, authorizer };
}

export function agentAllows(access: AgentRequestAccess, action: AclAction, object: string | null): boolean {
  return access.authorizer.allows(access.requester, action, object);
}

/** Throws 403 FORBIDDEN unless the agent's ACLs allow it. */
export function requireAgentAllowed(access: AgentRequestAccess, action: AclAction, object: string | null): void {
  if (agentAllows(access, action, object)) return;
  throw new AgentHttpError(
    'FORBIDDEN',
    `${describeRequester(access.requester)} is not allowed to ${action} for ${object === null ? 'ANY' : JSON.stringify(object)}`,
  );
}
