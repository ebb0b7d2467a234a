// The scheduler API's authentication and authorization rules (Mesos http.cpp `scheduler`,
// master.cpp `authorizeFramework`, authorization of ACCEPT's operations):
// - a framework authenticates as the principal of its FrameworkInfo: a SUBSCRIBE (or
//   UPDATE_FRAMEWORK) whose `principal` is not the authenticated one is 403 PRINCIPAL_MISMATCH,
//   and so is any call for a registered framework whose principal is another (which would
//   otherwise let one principal re-subscribe, and so disconnect, another's framework);
// - registering needs register_frameworks for every role the framework subscribes to (403);
// - ACCEPT's operations need run_tasks (the task's user), reserve/unreserve_resources and
//   create/destroy_volumes (the role), judged per operation by the master (OperationApproval);
// - a framework's own TEARDOWN and KILL of its own tasks need nothing more.
// Anonymous requests (a master without --credentials) claim what they like, as before.
import type { FastifyRequest } from 'fastify';
import { describeRequester } from '../../auth/requester.ts';
import type { OperationApproval } from '../../master/scheduler/operation-approval.ts';
import type { FrameworkInfo } from '../../state-machine/values.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import type { FrameworkId } from '../../state-machine/ids.ts';
import { isAllowed, requestAccess, requireAllowed, type RequestAccess } from '../access.ts';
import { HttpError } from '../errors.ts';

function mismatch(request: FastifyRequest, claimed: string | null, what: string): HttpError {
  return new HttpError(
    'PRINCIPAL_MISMATCH',
    `${describeRequester(request.requester)} authenticated, but ${what} principal ${claimed === null ? '(none)' : JSON.stringify(claimed)}`,
  );
}

/** SUBSCRIBE and UPDATE_FRAMEWORK: the principal claimed, the framework's registered one, the roles. */
export function authorizeSubscription(
  request: FastifyRequest,
  state: ReadonlyState,
  frameworkId: string | null,
  info: FrameworkInfo,
): void {
  const requester = request.requester;
  if (requester.kind === 'principal' && info.principal !== requester.principal)
    throw mismatch(request, info.principal, 'the FrameworkInfo names');
  if (frameworkId !== null) requireFrameworkPrincipal(request, state, frameworkId);
  for (const role of info.roles) requireAllowed(request, 'register_frameworks', role);
}

/** A call for framework `frameworkId` comes from its principal (an unknown framework is the master's to answer). */
export function requireFrameworkPrincipal(request: FastifyRequest, state: ReadonlyState, frameworkId: string): void {
  const requester = request.requester;
  if (requester.kind !== 'principal') return;
  const framework = state.frameworks.get(frameworkId as FrameworkId);
  if (framework === undefined || framework.info.principal === requester.principal) return;
  throw mismatch(request, framework.info.principal, `framework ${frameworkId} is registered with`);
}

function refusal(access: RequestAccess, allowed: boolean, what: string): string | null {
  return allowed ? null : `${describeRequester(access.requester)} is not allowed to ${what}`;
}

/** The ACLs' answers for the master's ACCEPT (operation-approval.ts). */
export function operationApproval(request: FastifyRequest): OperationApproval {
  const access = requestAccess(request);
  return {
    launch: (user) =>
      refusal(
        access,
        isAllowed(access, 'run_tasks', user),
        `run_tasks as user ${user ?? "ANY (a task without a user runs as the agent's)"}`,
      ),
    reserve: (role) =>
      refusal(access, isAllowed(access, 'reserve_resources', role), `reserve_resources for role ${role}`),
    unreserve: (role) =>
      refusal(access, isAllowed(access, 'unreserve_resources', role), `unreserve_resources for role ${role}`),
    createVolumes: (role) =>
      refusal(access, isAllowed(access, 'create_volumes', role), `create_volumes for role ${role}`),
    destroyVolumes: (role) =>
      refusal(access, isAllowed(access, 'destroy_volumes', role), `destroy_volumes for role ${role}`),
  };
}
