// One framework's event stream: Mesos v1 scheduler events as RecordIO records of ASCII JSON,
// bounded (record-stream.ts): a scheduler that stops reading is disconnected; it re-subscribes
// and gets its unacknowledged updates again. The master's scheduler sessions write to it as
// their EventSink.
import type { EventSink } from '../../master/scheduler/event-sink.ts';
import { asciiJson } from '../../protocol/ascii-json.ts';
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import { encodeRecord } from '../../protocol/recordio.ts';
import { RecordStream } from '../record-stream.ts';

export const eventRecord = (event: SchedulerEvent): Uint8Array => encodeRecord(asciiJson(event));

export class SchedulerStream extends RecordStream implements EventSink {
  constructor(maxQueuedBytes: number) {
    super(maxQueuedBytes, 'a scheduler');
  }

  send(event: SchedulerEvent): void {
    this.sendRecord(eventRecord(event));
  }

  onClose(listener: () => void): void {
    this.body.once('close', listener);
  }
}
