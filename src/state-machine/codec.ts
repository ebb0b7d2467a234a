// Commands on the wire (in Raft entries): UTF-8 JSON `{"version": 1, "command": {...}}`. The
// decoder trusts nothing: the bytes were written by a leader that may be buggy or older, and
// every replica must reach the same verdict on them. So a bad entry decodes to a rejection with
// a stable code, never an exception.
import type { Command } from './commands.ts';
import { commandSchema } from './command-schema.ts';
import { reject, type Rejection } from './errors.ts';
import { maxCommandBytes } from './limits.ts';
import { SchemaError } from './schema.ts';

/**
 * Bumped on any incompatible change of a command's shape; old versions get a `COMPAT:` shim.
 * 2: task containers gained port mappings, volumes, privileged, parameters and hostname, and
 * framework infos a user. A replica of format 1 must refuse them rather than drop them.
 * 3: tasks gained `executor` and `data`, statuses `data`; LAUNCH_GROUP and remove_executor.
 * 4: reregister_agent's tasks gained `state`: a returning agent's running tasks are no longer
 *    left TASK_UNREACHABLE, which a replica of format 3 would do if it dropped the member.
 * 5: deactivate_agent, reactivate_agent, drain_agent, mark_agent_drained; update_agent_state sets
 *    UNREACHABLE only (its ACTIVE and DRAINING of formats 1–4 decode as reactivate and deactivate);
 *    reregister_agent gained `keepsReservations` (formats 1–4: false, as they applied then), and
 *    reserve_resources/unreserve_resources the operator's `principal` (formats 1–4: null).
 * 6: executors gained `container` (an executor in a Docker image); a replica of format 5 would drop it.
 * 7: commands (of tasks and executors) gained `uris`, fetched by the agent; a replica of format 6
 *    would drop them and its agents would start tasks without their files.
 * 8: task_status_batch (status updates and acknowledgements of one leader turn in one entry); a
 *    replica of format 7 cannot apply it. The single commands stay, and old logs replay as before.
 * 9: agent_registration_batch (agent registrations and re-registrations of one leader turn in one
 *    entry); a replica of format 8 cannot apply it. Formats 1–8 replay as before.
 * 10: acknowledge_task_status's `completesTerminalTask` (Mesos' rule: the terminal update's
 *    acknowledgement completes the task). A replica of format 9 would drop the member and apply
 *    the old rule, so only a command that carries it is written as format 10 (`formatOf`), and
 *    a leader sets it only while every replica reads format 10.
 * 11: reregister_agent's `restoresLostTasks` (Mesos re-adds an unreachable agent's tasks when it
 *    returns: a task made TASK_LOST only because its agent was unreachable comes back live). A
 *    replica of format 10 would drop the member and keep the task lost, so only a command that
 *    carries it is written as format 11, and a leader sets it only while every replica reads 11.
 * 12: reregister_agent's `restoresLostTasks: 'checked'`: a lost task comes back only if its
 *    executor is still on the agent with the ExecutorInfo it was launched with (format 11 revived
 *    a task whose executor was removed while its agent was away: a live task without its executor,
 *    a state no snapshot of it restores from). A replica of format 11 cannot read it, so only a
 *    command that carries it is written as format 12, and a leader sets it only while every
 *    replica reads 12; format 11's `true` keeps format 11's rule.
 */
export const commandFormatVersion = 12;
/** The format that brought acknowledge_task_status's `completesTerminalTask`. */
const terminalAcknowledgementFormat = 10;
/** The format that brought reregister_agent's `restoresLostTasks: true`. */
const lostTaskReturnFormat = 11;
/** The newest format before 10: what every command without format 10's, 11's or 12's member is written as. */
const formatBeforeTerminalAcknowledgement = 9;
/** COMPAT: formats 1–11 read through the same schemas; later members take their defaults (addedIn…Format…). */
const readableCommandFormats: readonly unknown[] = [
  1,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  terminalAcknowledgementFormat,
  lostTaskReturnFormat,
  commandFormatVersion,
];

const completesTerminalTask = (item: { readonly type: string; readonly completesTerminalTask?: true }): boolean =>
  item.type === 'acknowledge_task_status' && item.completesTerminalTask === true;

type LostTaskReturnItem = { readonly type: string; readonly restoresLostTasks?: true | 'checked' };

/** The format of one item's `restoresLostTasks` (0: none). */
const lostTaskReturnFormatOf = (item: LostTaskReturnItem): number => {
  if (item.type !== 'reregister_agent' || item.restoresLostTasks === undefined) return 0;
  return item.restoresLostTasks === 'checked' ? commandFormatVersion : lostTaskReturnFormat;
};

/**
 * The oldest format that carries `command` whole: a replica of an older build reads every entry
 * a new leader writes until the cluster agrees to use format 10's, 11's and 12's rules (rolling upgrades).
 */
export function formatOf(command: Command): number {
  const lostTaskReturn =
    command.type === 'agent_registration_batch'
      ? command.items.reduce((format, item) => Math.max(format, lostTaskReturnFormatOf(item)), 0)
      : lostTaskReturnFormatOf(command);
  if (lostTaskReturn > 0) return lostTaskReturn;
  const carriesTerminalAcknowledgement =
    command.type === 'task_status_batch' ? command.items.some(completesTerminalTask) : completesTerminalTask(command);
  return carriesTerminalAcknowledgement ? terminalAcknowledgementFormat : formatBeforeTerminalAcknowledgement;
}

export type DecodeResult = { readonly ok: true; readonly command: Command } | Rejection;

export function encodeCommand(command: Command): Uint8Array {
  const bytes = Buffer.from(JSON.stringify({ version: formatOf(command), command }), 'utf8');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(bytes: Uint8Array): { readonly ok: true; readonly value: unknown } | Rejection {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) as unknown };
  } catch {
    // Not the engine's message: it differs between Node versions, and results are replicated.
    return reject('MALFORMED_COMMAND', 'the entry is not UTF-8 JSON');
  }
}

export function decodeCommand(bytes: Uint8Array): DecodeResult {
  if (bytes.byteLength > maxCommandBytes) {
    return reject('COMMAND_TOO_LARGE', `command is ${bytes.byteLength} bytes, the limit is ${maxCommandBytes}`);
  }
  const parsed = parseJson(bytes);
  if (!parsed.ok) return parsed;
  const envelope = parsed.value;
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    return reject('MALFORMED_COMMAND', 'the entry is not a JSON object');
  }
  const version = Object.hasOwn(envelope, 'version') ? (envelope as { version: unknown }).version : undefined;
  if (!readableCommandFormats.includes(version)) {
    return reject(
      'UNSUPPORTED_COMMAND_VERSION',
      `command format version ${JSON.stringify(version) ?? 'missing'}, this replica reads ${commandFormatVersion}`,
    );
  }
  const command = Object.hasOwn(envelope, 'command') ? (envelope as { command: unknown }).command : undefined;
  try {
    return { ok: true, command: commandSchema(command, 'command') };
  } catch (error) {
    if (error instanceof SchemaError) return reject('MALFORMED_COMMAND', error.message);
    throw error;
  }
}
