// Reading a task's sandbox files from its agent: the agent operator API's READ_FILE (Mesos v1
// agent API, POST /api/v1 on the agent) with an offset, so a caller can follow stdout/stderr
// as `tail -f` does. A Flotilla agent names a sandbox file by a path relative to its
// frameworks folder, `<framework>/tasks/<task>/<file>` (src/agent/http-files.ts); Apache Mesos
// would want its virtual path /frameworks/<fw>/executors/<executor>/runs/latest/<file>.
import { maxReadBytes } from './limits.ts';
import { SchedulerError, rejectionError } from './errors.ts';
import type { Offer } from '../../protocol/mesos.ts';
import { type MasterAddress, parseMasterAddress } from './masters.ts';
import { postJson } from './transport.ts';
import type { ClientTls } from '../../protocol/tls-client.ts';

export const agentApiPath = '/api/v1';
const readTimeoutMs = 5_000;

export function sandboxFilePath(frameworkId: string, taskId: string, file: 'stdout' | 'stderr'): string {
  return `${frameworkId}/tasks/${taskId}/${file}`;
}

export interface FileChunk {
  /** The file's size when read (bytes). */
  readonly size: number;
  readonly data: Buffer;
}

/**
 * READ_FILE at `offset`; rejects with a SchedulerError (CALL_REJECTED 404 when the file is not there yet).
 * `headers`: the Authorization for an agent with --credentials (transport.ts credentialHeaders);
 * `tls`: the CA of an agent with --tls-* (HTTPS).
 */
export async function readAgentFile(
  agent: MasterAddress,
  path: string,
  offset: number,
  length = maxReadBytes,
  headers: Readonly<Record<string, string>> = {},
  tls: ClientTls | null = null,
): Promise<FileChunk> {
  const call = { type: 'READ_FILE', read_file: { path, offset, length: Math.min(length, maxReadBytes) } };
  const response = await postJson(agent, call, { path: agentApiPath, timeoutMs: readTimeoutMs, headers, tls });
  if (response.status !== 200) throw rejectionError(response.status, response.body, `READ_FILE ${path} at ${agent}`);
  let parsed: { read_file?: { size?: unknown; data?: unknown } };
  try {
    parsed = JSON.parse(response.body) as typeof parsed;
  } catch {
    throw new SchedulerError('BAD_RESPONSE', `READ_FILE at ${agent}: the answer is not JSON`);
  }
  const size = parsed.read_file?.size;
  const data = parsed.read_file?.data ?? '';
  if (typeof size !== 'number' || typeof data !== 'string') {
    throw new SchedulerError('BAD_RESPONSE', `READ_FILE at ${agent}: no read_file.size and read_file.data`);
  }
  return { size, data: Buffer.from(data, 'base64') };
}

/** The agent's API address from an offer's `url` (Mesos fills url.address with the agent's). */
export function agentAddressOfOffer(offer: Offer): MasterAddress | null {
  const address = offer.url?.address;
  const host = address?.ip ?? address?.hostname;
  if (host === undefined || address === undefined) return null;
  try {
    return parseMasterAddress(`${host.includes(':') ? `[${host}]` : host}:${address.port}`);
  } catch {
    return null;
  }
}
