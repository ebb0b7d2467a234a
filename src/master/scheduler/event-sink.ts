// Where one framework's events go. The sessions know nothing of HTTP: src/http implements this
// with its bounded RecordIO response stream (src/http/scheduler/stream.ts), and tests can
// implement it with an array.
import type { SchedulerEvent } from '../../protocol/scheduler.ts';

export interface EventSink {
  /** Queues one event; dropped once the sink is closed or ending. */
  send(event: SchedulerEvent): void;
  /** Ends the stream once what is queued has gone out. */
  end(): void;
  /**
   * `listener` runs once when the stream closes, whoever closed it: the scheduler went away, it
   * read too slowly and was cut off, or `end()` finished.
   */
  onClose(listener: () => void): void;
}
