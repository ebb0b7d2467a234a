// The operator API (`POST /api/v1 {"type": …}`) and the KV API through a ClusterClient: a 2xx
// answer is parsed, a 4xx becomes a CliError REFUSED quoting the server's code and message.
import type { ClusterAnswer, ClusterClient } from './cluster-client.ts';
import { parseErrorBody } from './cluster-client.ts';
import { CliError } from './errors.ts';

export const operatorPath = '/api/v1';

/** The calls that change state or must run on the leader; everything else is a read. */
const mutatingCalls: ReadonlySet<string> = new Set([
  'ADD_MASTER',
  'PROMOTE_MASTER',
  'REMOVE_MASTER',
  'TRANSFER_LEADERSHIP',
  'UPDATE_WEIGHTS',
  'UPDATE_QUOTA',
  'UPDATE_MAINTENANCE_SCHEDULE',
  'START_MAINTENANCE',
  'STOP_MAINTENANCE',
  'MARK_AGENT_GONE',
  'DRAIN_AGENT',
  'DEACTIVATE_AGENT',
  'REACTIVATE_AGENT',
  'TEARDOWN',
  'KILL_TASK',
]);

export type OperatorCall = { readonly type: string } & Readonly<Record<string, unknown>>;

export interface ReadOptions {
  /** Answer from the master's applied state without a ReadIndex round (works without a leader). */
  readonly stale?: boolean;
}

/** The parsed answer of a 2xx, or null for an empty 200 (a write). */
export async function operatorCall<Answer>(
  client: ClusterClient,
  call: OperatorCall,
  options: ReadOptions = {},
): Promise<Answer | null> {
  const answer = await client.request({
    method: 'POST',
    path: options.stale === true ? `${operatorPath}?stale=true` : operatorPath,
    body: call,
    mutating: mutatingCalls.has(call.type),
  });
  return parseAnswer<Answer>(answer, call.type);
}

/** Like operatorCall, for reads that always answer a body. */
export async function operatorRead<Answer>(
  client: ClusterClient,
  call: OperatorCall,
  options: ReadOptions = {},
): Promise<Answer> {
  const answer = await operatorCall<Answer>(client, call, options);
  if (answer === null) throw new CliError('BAD_ANSWER', `${call.type} answered an empty body`);
  return answer;
}

export function parseAnswer<Answer>(answer: ClusterAnswer, what: string): Answer | null {
  if (answer.status >= 400) throw refusedError(answer, what);
  if (answer.status < 200 || answer.status >= 300) {
    throw new CliError('BAD_ANSWER', `${what}: ${answer.address} answered ${answer.status}`, null, answer.status);
  }
  if (answer.body.trim() === '') return null;
  try {
    return JSON.parse(answer.body) as Answer;
  } catch {
    throw new CliError('BAD_ANSWER', `${what}: ${answer.address} answered something that is not JSON`);
  }
}

export function refusedError(answer: ClusterAnswer, what: string): CliError {
  const { code, message } = parseErrorBody(answer.body);
  const codePart = code === null ? '' : ` ${code}`;
  const failed = answer.status >= 500 ? 'SERVER_FAILED' : 'REFUSED';
  return new CliError(failed, `${what}: ${message} (${answer.status}${codePart})`, hintFor(code), answer.status, code);
}

/** What to do about the server codes an operator meets most. */
function hintFor(code: string | null): string | null {
  switch (code) {
    case 'MEMBERSHIP_CHANGE_PENDING':
      return 'one membership change at a time: wait until the last one has committed, then repeat';
    case 'UNKNOWN_CALL':
      return 'the masters are of another version than this CLI: see `flotilla version` and GET_VERSION';
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return 'the masters want credentials this CLI was not given';
    default:
      return null;
  }
}
