// What a `flotilla` command can fail with. Each failure has a stable code (tests and scripts
// match codes, never message text), the process exit status it ends with, and a message that
// says what went wrong and what to do. docs/errors.md lists the codes; test/cli/errors.test.ts
// checks the list against it both ways.

export const cliErrorCodes = {
  USAGE: { exitStatus: 2, meaning: 'the command line is wrong: a missing or malformed argument or flag' },
  NO_MASTER: { exitStatus: 3, meaning: 'no master answered at any of the addresses tried' },
  NO_LEADER: { exitStatus: 3, meaning: 'masters answer, but none leads (no quorum, or an election that does not end)' },
  REFUSED: { exitStatus: 1, meaning: 'the cluster refused the request (a 4xx answer: bad input, conflict, not found)' },
  SERVER_FAILED: { exitStatus: 1, meaning: 'a master failed the request (a 5xx answer other than 503/504)' },
  OUTCOME_UNKNOWN: { exitStatus: 1, meaning: 'a write timed out on every try: it may or may not have been applied' },
  BAD_ANSWER: { exitStatus: 1, meaning: 'a master or an agent answered something that is not the Flotilla API' },
  NOT_FOUND: { exitStatus: 1, meaning: 'the task, agent or framework named does not exist in the cluster state' },
  AMBIGUOUS: { exitStatus: 1, meaning: 'the id names tasks of several frameworks: add --framework' },
  AGENT_UNREACHABLE: { exitStatus: 1, meaning: "the task's agent is not registered or does not answer" },
  TASK_TERMINAL: { exitStatus: 1, meaning: 'the task has already ended' },
  KILL_FAILED: { exitStatus: 1, meaning: 'the kill was sent but the task did not end in time' },
  TRANSFER_NOT_DONE: { exitStatus: 1, meaning: 'the leader accepted a transfer, but the target does not lead in time' },
  BACKUP_INVALID: {
    exitStatus: 1,
    meaning: 'the backup file is damaged, cut short, of an unknown format, or its state does not check out',
  },
  DATA_DIR_NOT_EMPTY: { exitStatus: 1, meaning: "restore: the data directory already holds a master's data" },
  DATA_DIR_INTACT: {
    exitStatus: 1,
    meaning: "raft rebuild: the master's Raft files check out (or are absent); nothing to rebuild without --force",
  },
  MASTER_RUNNING: { exitStatus: 1, meaning: 'raft rebuild: the master to rebuild is running; stop it first' },
} as const satisfies Record<string, { readonly exitStatus: number; readonly meaning: string }>;

export type CliErrorCode = keyof typeof cliErrorCodes;

export class CliError extends Error {
  override name = 'CliError';
  readonly exitStatus: number;
  constructor(
    readonly code: CliErrorCode,
    message: string,
    /** What to do about it, one sentence; printed on its own line after the message. */
    readonly hint: string | null = null,
    /** The HTTP status of the answer that caused it, when there was one. */
    readonly status: number | null = null,
    /** The server's error code (`VERSION_MISMATCH`, …), when it sent one. */
    readonly serverCode: string | null = null,
  ) {
    super(message);
    this.exitStatus = cliErrorCodes[code].exitStatus;
  }
}

export function usageError(message: string, hint: string | null = null): CliError {
  return new CliError('USAGE', message, hint);
}
