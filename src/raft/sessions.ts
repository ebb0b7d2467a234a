// Client sessions (§6.3): a client stamps each proposal with its id and a sequence number; if
// the proposal is retried (the leader died before answering), the retry must not apply twice.
// The table is part of the replicated state: it lives in snapshots and is updated only by
// apply, in log order, so every replica makes the same decision. Expiry is by log index, not
// wall time, for the same reason.
import type { ClientStamp, LogIndex } from './types.ts';

export const SESSIONS_FORMAT_VERSION = 1;

interface Session {
  lastSequence: number;
  lastResult: unknown;
  lastIndex: LogIndex;
}

export type SessionDecision<R> = { duplicate: true; result: R } | { duplicate: false };

export class SessionTable {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly maxSessions: number) {
    if (!Number.isInteger(maxSessions) || maxSessions <= 0)
      throw new RangeError('maxSessions must be a positive integer');
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Before applying a stamped entry: a sequence at or below the client's last one is a
   * retry, answered with the result kept (only the latest result is kept: a client has one
   * request outstanding per sequence number and retries only its newest one).
   */
  check<R>(stamp: ClientStamp): SessionDecision<R> {
    const session = this.sessions.get(stamp.client);
    if (session !== undefined && stamp.sequence <= session.lastSequence) {
      return { duplicate: true, result: session.lastResult as R };
    }
    return { duplicate: false };
  }

  record(stamp: ClientStamp, result: unknown, index: LogIndex): void {
    this.sessions.delete(stamp.client); // Re-insert so Map order is "least recently used first".
    this.sessions.set(stamp.client, { lastSequence: stamp.sequence, lastResult: result, lastIndex: index });
    while (this.sessions.size > this.maxSessions) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
  }

  toJSON(): { version: number; sessions: [string, Session][] } {
    return { version: SESSIONS_FORMAT_VERSION, sessions: [...this.sessions.entries()] };
  }

  static fromJSON(raw: unknown, maxSessions: number): SessionTable {
    const record = raw as { version?: unknown; sessions?: unknown };
    if (record?.version !== SESSIONS_FORMAT_VERSION || !Array.isArray(record.sessions)) {
      throw new Error(`session table: unknown format ${JSON.stringify(record?.version)}`);
    }
    const table = new SessionTable(maxSessions);
    for (const [client, session] of record.sessions as [string, Session][]) table.sessions.set(client, { ...session });
    return table;
  }
}
