// A daemon stops on SIGTERM or SIGINT (once, however many signals come): it logs why, runs its
// own stop, and exits 0 — or 1, with the reason, if the stop failed.
import type { Logger } from '../util/logger.ts';

export function stopOnSignals(logger: Logger, message: string, stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, message);
    stop().then(
      () => process.exit(process.exitCode ?? 0),
      (error: Error) => {
        logger.error({ error: error.message }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
