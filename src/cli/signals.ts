// A daemon stops on SIGTERM or SIGINT (once, however many signals come): it logs why, runs its
// own stop, and exits 0 — or 1, with the reason, if the stop failed.
import type { Logger } from '../util/logger.ts';
import type { TlsIdentity } from '../util/tls.ts';

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

/**
 * SIGHUP rereads --tls-cert, --tls-key and --tls-ca (as nginx and Nomad do): servers take the new
 * context for new connections, clients for new dials; open connections keep the old one. Bad
 * files are refused and logged, and the old certificate keeps serving. Without TLS, SIGHUP keeps
 * its default meaning (the process ends), as before.
 */
export function reloadTlsOnHangup(logger: Logger, tls: TlsIdentity | null): void {
  if (tls === null) return;
  process.on('SIGHUP', () => {
    const outcome = tls.reload();
    const files = { cert: tls.files.certFile, key: tls.files.keyFile, ca: tls.files.caFile };
    if (outcome.ok) logger.info({ ...files, fingerprint: outcome.fingerprint }, 'TLS certificates reloaded');
    else
      logger.error(
        { ...files, fingerprint: outcome.fingerprint, error: outcome.error },
        'TLS reload refused: keeping the certificates in use',
      );
  });
}
