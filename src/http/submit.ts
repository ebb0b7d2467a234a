// Submitting a command and turning the state machine's answer into HTTP: a rejection keeps its
// stable code and the status the state machine's code table gives it.
import type { Command } from '../state-machine/commands.ts';
import { type Rejection, rejectionCodes, type Success } from '../state-machine/errors.ts';
import { HttpError, type HttpErrorCode } from './errors.ts';
import type { MasterFacade } from './facade.ts';

export async function submitOrFail(master: MasterFacade, command: Command): Promise<Success> {
  const { result } = await master.submit(command);
  if (result.ok) return result;
  throw rejectionToHttp(result);
}

const kindByStatus: Record<number, HttpErrorCode> = {
  400: 'BAD_REQUEST',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  410: 'GONE',
  412: 'VERSION_MISMATCH',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'REJECTED',
  429: 'TOO_MANY_REQUESTS',
  503: 'UNAVAILABLE',
};

/** The state machine's code table says the status; its code goes in the body unchanged. */
export function rejectionToHttp(rejection: Rejection): HttpError {
  const status = rejectionCodes[rejection.code].status;
  return new HttpError(kindByStatus[status] ?? 'CONFLICT', rejection.message, {}, rejection.code);
}

/** The `at` of a command built in the HTTP layer: MasterFacade.submit stamps the leader's clock over it. */
export const stampedOnSubmit = 0;
