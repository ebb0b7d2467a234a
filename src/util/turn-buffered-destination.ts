// Log lines that leave in one write(2) per event-loop turn instead of one per line: for the audit
// line (http/audit.ts), which the leader writes for every KV write. Written one by one those lines
// were one write(2) per acknowledged write, a sixth of the leader's system calls at 16 clients
// (bench/peers/syscalls-per-write.ts, issue 19), while one turn answers a whole group commit of
// writes. The lines of a turn are written at the next turn's check phase, in order, in one write.
//
// What a buffer would lose is kept: the lines of the turn a process exits in (process.exit, a
// fatal Raft error's exit 74, the end of the loop) are written by the 'exit' event, synchronously,
// and an uncaught exception's by 'uncaughtExceptionMonitor', before Node prints the error. Only a
// process killed outright (SIGKILL, a native abort) loses its last turn's lines.
import type { DestinationStream } from 'pino';

export interface LineSink {
  /** Writes `text` whole (pino's stderr SonicBoom with sync: true, or a test's capture). */
  write(text: string): unknown;
}

/** The destinations with lines that the process's exit must write; one pair of listeners for all. */
const open = new Set<TurnBufferedDestination>();
let exitListening = false;

function flushAll(): void {
  for (const destination of open) destination.flush();
}

export class TurnBufferedDestination implements DestinationStream {
  private pending: string[] = [];
  private flushScheduled = false;
  private readonly flushTurn = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  constructor(private readonly sink: LineSink) {
    open.add(this);
    if (exitListening) return;
    exitListening = true;
    process.on('exit', flushAll);
    process.on('uncaughtExceptionMonitor', flushAll);
  }

  write(line: string): void {
    this.pending.push(line);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushTurn);
  }

  /** Writes what is buffered now, in one write (pino's logger.flush(callback) calls this). */
  flush(callback?: (error?: Error) => void): void {
    if (this.pending.length > 0) {
      const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
      this.pending = [];
      this.sink.write(text);
    }
    callback?.();
  }

  /** Writes what is buffered; later lines are written per turn still, but no longer at exit. */
  close(): void {
    this.flush();
    open.delete(this);
  }
}
