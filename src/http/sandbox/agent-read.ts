// One READ_FILE on a task's agent (the agent's POST /api/v1, src/agent/http-files.ts), for the
// master's sandbox read route. The agent confines the read to the task's sandbox (no `..`, no
// symlink out of it); this side bounds time and bytes, and turns every way an agent can fail
// into one of three stable codes, never a 500: the file is not there, the agent refused the
// path, or the agent is not answering as an agent should.
import { secretHeader } from '../../util/shared-secret.ts';
import { type ClientTls, fetchWithTls, httpScheme } from '../../protocol/tls-client.ts';
import { HttpError } from '../errors.ts';

export interface AgentReadRequest {
  /** The agent's API address as it registered: an IPv4/IPv6 address or a hostname, and a port. */
  readonly agent: { readonly ip: string; readonly port: number };
  readonly frameworkId: string;
  readonly taskId: string;
  /** Relative to the task's sandbox. */
  readonly path: string;
  readonly offset: number;
  readonly length: number;
  readonly timeoutMs: number;
  /**
   * The cluster secret: the agent's API takes it from the masters, who have authorized the read
   * for their own caller (routes/sandbox.ts).
   */
  readonly clusterSecret: string;
  /** The cluster's CA and this master's certificate when agents serve HTTPS (--tls-*); null: plain HTTP. */
  readonly tls: ClientTls | null;
}

export interface AgentReadResult {
  /** The whole file's size (bytes) when the agent read it. */
  readonly size: number;
  readonly data: Buffer;
}

/** base64 takes 4 bytes per 3; the envelope a few more. Anything longer is not our answer. */
const answerOverheadBytes = 4096;

function agentUrl(request: AgentReadRequest): string {
  const { agent } = request;
  const host = agent.ip.includes(':') ? `[${agent.ip}]` : agent.ip;
  return `${httpScheme(request.tls)}://${host}:${agent.port}/api/v1`;
}

/** The body, or null when it is longer than `maxBytes` (reading stops there). */
async function boundedText(response: Response, maxBytes: number): Promise<string | null> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function unavailable(request: AgentReadRequest, why: string): HttpError {
  return new HttpError('AGENT_UNAVAILABLE', `agent ${agentUrl(request)}: ${why}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The agent's own error envelope, as one of our codes. */
function agentError(request: AgentReadRequest, status: number, body: unknown): HttpError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof error?.code === 'string' ? error.code : '';
  const message = typeof error?.message === 'string' ? error.message.slice(0, 512) : '';
  if (status === 404 && code === 'SANDBOX_FILE_NOT_FOUND') {
    return new HttpError('SANDBOX_FILE_NOT_FOUND', `task ${request.taskId}: ${message || request.path}`);
  }
  if (status === 400 && code.startsWith('SANDBOX_')) {
    return new HttpError('SANDBOX_FILE_REFUSED', `task ${request.taskId}: ${code}: ${message}`);
  }
  return unavailable(request, `answered ${status} ${code}`.trim());
}

export async function readFromAgent(request: AgentReadRequest): Promise<AgentReadResult> {
  const call = {
    type: 'READ_FILE',
    read_file: {
      framework_id: request.frameworkId,
      task_id: request.taskId,
      path: request.path,
      offset: request.offset,
      length: request.length,
    },
  };
  let response: Response;
  let text: string | null;
  try {
    response = await fetchWithTls(request.tls, agentUrl(request), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        [secretHeader]: request.clusterSecret,
      },
      body: JSON.stringify(call),
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    text = await boundedText(response, Math.ceil((request.length * 4) / 3) + answerOverheadBytes);
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return Promise.reject(unavailable(request, timedOut ? `no answer in ${request.timeoutMs} ms` : 'no connection'));
  }
  if (text === null) throw unavailable(request, 'the answer is longer than the read asked for');
  const body = parseJson(text);
  if (response.status !== 200) throw agentError(request, response.status, body);
  const read = (body as { read_file?: { size?: unknown; data?: unknown } } | undefined)?.read_file;
  if (typeof read?.size !== 'number' || !Number.isSafeInteger(read.size) || typeof read.data !== 'string') {
    throw unavailable(request, 'the answer has no read_file.size and read_file.data');
  }
  const data = Buffer.from(read.data, 'base64');
  if (data.byteLength > request.length) throw unavailable(request, 'the answer is longer than the read asked for');
  return { size: read.size, data };
}
