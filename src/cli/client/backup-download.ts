// `flotilla backup`'s download: GET /api/v1/backup from the first master that answers (any
// master serves it, after a ReadIndex round), read as bytes — a backup is binary, so not through
// the JSON client — bounded in size and time. A 503 (no leader, an election) moves on to the next
// master and, after a round, tries them all again after a pause.
import { setTimeout as sleep } from 'node:timers/promises';
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import { backoffDelayMs } from '../../util/backoff.ts';
import { backupDownloadTimeoutMs, maxAttempts, maxBackupBytes } from '../limits.ts';
import { retryBackoff } from './cluster-client.ts';
import { CliError } from './errors.ts';
import { openRequest, readAnswerBody, TransportError } from './http.ts';
import type { ClientTls } from '../../protocol/tls-client.ts';

export interface DownloadedBackup {
  readonly address: MasterAddress;
  readonly file: Buffer;
}

/** `credentials`: the CLI's Authorization (credentials.ts), for masters with --credentials. */
export async function downloadBackup(
  masters: readonly MasterAddress[],
  stale: boolean,
  credentials: Readonly<Record<string, string>> = {},
  tls: ClientTls | null = null,
): Promise<DownloadedBackup> {
  const path = `/api/v1/backup${stale ? '?stale=true' : ''}`;
  const problems: string[] = [];
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    if (attempt > 0) await sleep(backoffDelayMs(attempt - 1, retryBackoff, Math.random));
    for (const address of masters) {
      const outcome = await tryMaster(address, path, credentials, tls);
      if (outcome.file !== null) return { address, file: outcome.file };
      problems.push(`${address}: ${outcome.problem}`);
    }
  }
  throw new CliError(
    'NO_MASTER',
    `no master served a backup (${problems.slice(-masters.length).join('; ')})`,
    'is the cluster running, with a leader? See `flotilla status`; --stale takes one without a leader',
  );
}

async function tryMaster(
  address: MasterAddress,
  path: string,
  credentials: Readonly<Record<string, string>>,
  tls: ClientTls | null,
): Promise<{ file: Buffer | null; problem: string }> {
  try {
    const response = await openRequest(address, {
      tls,
      method: 'GET',
      path,
      headers: { ...credentials, accept: 'application/octet-stream' },
      timeoutMs: backupDownloadTimeoutMs,
    });
    const status = response.statusCode ?? 0;
    if (status !== 200) {
      const body = await readAnswerBody(address, response, backupDownloadTimeoutMs);
      if (status === 503 || status === 504) return { file: null, problem: `${status} ${errorMessage(body)}` };
      throw new CliError('REFUSED', `${address} refused the backup: ${status} ${errorMessage(body)}`, null, status);
    }
    return { file: await readBytes(response), problem: '' };
  } catch (error) {
    if (error instanceof TransportError) return { file: null, problem: error.message };
    throw error;
  }
}

function readBytes(response: import('node:http').IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    response.on('data', (chunk: Buffer) => {
      length += chunk.byteLength;
      if (length > maxBackupBytes) response.destroy(new Error(`a backup larger than ${maxBackupBytes} bytes`));
      else chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks)));
    response.on('error', (error) =>
      reject(new CliError('BAD_ANSWER', `the backup download failed: ${error.message}`, 'try again')),
    );
  });
}

function errorMessage(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200);
  }
}
