// "Loopback stays easy; the network does not" (issue 18): a daemon that takes no credentials
// lets anyone who reaches its port do anything, which is fine when only this machine can reach
// it. So a master or agent listening on a non-loopback address refuses to start without
// --credentials, and without --cluster-secret-file (the development secret is public), unless
// --insecure-allow-anonymous says the operator means it; then it warns every minute.
import type { Logger } from '../util/logger.ts';
import { insecureWarningIntervalMs } from './limits.ts';

/** localhost, 127.0.0.0/8 and ::1: addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  const octets = bare.split('.');
  return (
    octets.length === 4 &&
    octets[0] === '127' &&
    octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255)
  );
}

export interface Exposure {
  /** The --listen host. */
  readonly host: string;
  readonly hasCredentials: boolean;
  readonly hasClusterSecret: boolean;
  readonly insecureAllowAnonymous: boolean;
}

/** What an exposed daemon lacks, in flags: [] when it may start quietly. */
export function missingProtection(exposure: Exposure): string[] {
  if (isLoopbackHost(exposure.host)) return [];
  const missing: string[] = [];
  if (!exposure.hasCredentials) missing.push('--credentials FILE');
  if (!exposure.hasClusterSecret) missing.push('--cluster-secret-file FILE');
  return missing;
}

/** Null when the daemon may start; else the one line it stops with (exit 2). */
export function exposureRefusal(exposure: Exposure): string | null {
  const missing = missingProtection(exposure);
  if (missing.length === 0 || exposure.insecureAllowAnonymous) return null;
  return (
    `--listen ${exposure.host} is not a loopback address, so anyone who can reach it could run commands on ` +
    `this cluster: give ${missing.join(' and ')}, or --insecure-allow-anonymous if you mean it`
  );
}

/**
 * While an exposed daemon runs without protection (--insecure-allow-anonymous), one warning at
 * start and one every `intervalMs`; returns the function that stops them. Nothing when protected.
 */
export function warnWhileInsecure(
  exposure: Exposure,
  logger: Logger,
  intervalMs: number = insecureWarningIntervalMs,
): () => void {
  const missing = missingProtection(exposure);
  if (missing.length === 0) return () => undefined;
  const warn = (): void =>
    logger.warn(
      { insecure: true, listen: exposure.host, missing },
      `--insecure-allow-anonymous: listening on ${exposure.host} without ${missing.join(' and ')}; anyone who can reach this port can act on the cluster`,
    );
  warn();
  const timer = setInterval(warn, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
