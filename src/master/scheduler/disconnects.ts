// A framework whose stream closed while this master leads (the scheduler went away, or read too
// slowly) is marked disconnected: a replicated `disconnect_framework`, so its failover timeout
// starts now and any later leader continues the countdown (framework-failover.ts).
import type { Logger } from 'pino';
import type { FrameworkId } from '../../state-machine/ids.ts';
import { type MasterCore, stampedOnSubmit } from '../interface.ts';

export function proposeDisconnect(master: Pick<MasterCore, 'submit'>, frameworkId: string, logger: Logger): void {
  master
    .submit({ type: 'disconnect_framework', at: stampedOnSubmit, frameworkId: frameworkId as FrameworkId })
    .catch((error: unknown) => {
      logger.warn({ frameworkId, err: error }, 'could not mark a framework disconnected');
    });
}
