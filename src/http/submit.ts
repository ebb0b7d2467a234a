// Submitting a command and turning the state machine's answer into HTTP: a rejection keeps its
// stable code (VERSION_MISMATCH is 412, unknown entities 404, the rest 409 or 422).
import type { Command } from '../state-machine/commands.ts';
import type { Rejection, Success } from '../state-machine/errors.ts';
import { HttpError, type HttpErrorCode } from './errors.ts';
import type { MasterFacade } from './facade.ts';

export async function submitOrFail(master: MasterFacade, command: Command): Promise<Success> {
  const { result } = await master.submit(command);
  if (result.ok) return result;
  throw rejectionToHttp(result);
}

export function rejectionToHttp(rejection: Rejection): HttpError {
  const status: HttpErrorCode = rejection.code === 'VERSION_MISMATCH'
    ? 'VERSION_MISMATCH'
    : rejection.code.endsWith('_NOT_FOUND') ? 'NOT_FOUND' : 'CONFLICT';
  // The state machine's own code is the precise one; keep it in the body.
  return new HttpError(status, rejection.message, {}, rejection.code);
}
