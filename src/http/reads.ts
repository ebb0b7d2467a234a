// Reads are linearizable by default: a ReadIndex round before answering from local state
// (§6.4); `?stale=true` answers from this master's applied state at once, possibly behind.
import { MasterError } from '../master/errors.ts';
import type { MasterCore } from '../master/interface.ts';
import { HttpError } from './errors.ts';
import { retryAfterSeconds } from './limits.ts';

export async function readConsistency(master: MasterCore, stale: string | undefined): Promise<void> {
  if (stale !== undefined && stale !== 'true' && stale !== 'false') {
    throw new HttpError('BAD_REQUEST', `stale must be true or false, got "${stale}"`);
  }
  if (stale === 'true') {
    // Behind is what a stale read accepts; the empty state of a restart still reading its snapshot is not behind but wrong.
    if (master.restoringSnapshot()) {
      throw new HttpError(
        'UNAVAILABLE',
        'this master is restoring its snapshot after a restart; retry, or ask another master',
        {
          'retry-after': retryAfterSeconds,
        },
      );
    }
    return;
  }
  try {
    await master.linearizableRead();
  } catch (error) {
    // The master's own failures are answered at the edge (server.ts); anything else is unexpected.
    if (error instanceof MasterError || error instanceof HttpError) throw error;
    throw new HttpError(
      'UNAVAILABLE',
      `a linearizable read is not possible now (${(error as Error).message}); retry, or ask with ?stale=true`,
      {
        'retry-after': retryAfterSeconds,
      },
    );
  }
}
