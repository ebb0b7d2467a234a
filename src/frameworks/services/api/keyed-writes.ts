// Idempotency-Key on Marathon's write routes (src/frameworks/hosting/remembered-requests.ts):
// a deployment made by a keyed request remembers its answer in every changed app's entry, in
// the same KV write as the change, so a retry — after a timeout, or on the instance that leads
// after a failover — is answered the first answer again instead of 409 "already exists".
// Marathon has no such header; a request without it is answered as before.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IdempotencyKeyProblem } from '../../../protocol/idempotency-key.ts';
import {
  keyedOf,
  keyedRequest,
  markKeyed,
  recall,
  type RememberedAnswer,
  remember,
  sendAnswer,
} from '../../hosting/remembered-requests.ts';
import { MarathonApiError } from '../api-error.ts';
import type { ServicesFramework } from '../framework.ts';
import type { ChangeRequest, DeploymentResult, DeployStamp } from '../operations.ts';

export const keyReusedMessage = 'This Idempotency-Key was used for a different request; nothing was changed';

/** preHandler: a write whose key an app remembers is answered from memory (or 422) before its route runs. */
export async function recallKeyed(
  services: ServicesFramework,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<unknown> {
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  let keyed: ReturnType<typeof keyedRequest>;
  try {
    keyed = keyedRequest(request);
  } catch (error) {
    if (error instanceof IdempotencyKeyProblem) throw new MarathonApiError(400, error.message);
    throw error;
  }
  if (keyed === null) return undefined;
  const remembered = [...services.state.apps.values()].map((entry) => entry.requests);
  const recalled = recall(remembered, keyed, services.engine.now());
  if (recalled.kind === 'replay') return sendAnswer(reply, recalled.answer, true);
  if (recalled.kind === 'reused') throw new MarathonApiError(422, keyReusedMessage);
  markKeyed(request, keyed);
  return undefined;
}

/**
 * Deploys `requests` and sends `render(result)`. A keyed request's answer is rendered once the
 * state changed, remembered in each changed app's entry and sent exactly as remembered.
 */
export async function keyedDeploy(
  services: ServicesFramework,
  request: FastifyRequest,
  reply: FastifyReply,
  requests: readonly ChangeRequest[],
  force: boolean,
  render: (result: DeploymentResult) => RememberedAnswer,
): Promise<FastifyReply> {
  const keyed = keyedOf(request);
  const memo: { answer: RememberedAnswer | null } = { answer: null };
  const stamp: DeployStamp | undefined =
    keyed === null
      ? undefined
      : (result, entries) => {
          const answer = render(result);
          const atMs = services.engine.now();
          memo.answer = answer;
          for (const entry of entries) entry.requests = remember(entry.requests, { ...keyed, atMs, answer }, atMs);
        };
  const result = await services.operations.deploy(requests, force, stamp);
  return sendAnswer(reply, memo.answer ?? render(result), false);
}
