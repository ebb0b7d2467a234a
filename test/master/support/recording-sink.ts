// A scheduler stream's sink that keeps what was sent, for tests of what a session writes.
import type { EventSink } from '../../../src/master/scheduler/event-sink.ts';
import type { SchedulerEvent } from '../../../src/protocol/scheduler.ts';

export class RecordingSink implements EventSink {
  readonly sent: SchedulerEvent[] = [];
  send(event: SchedulerEvent): void {
    this.sent.push(event);
  }
  end(): void {}
  onClose(): void {}
}
