// The SUBSCRIBE response body as events: HTTP chunks → RecordIO records (src/protocol/
// recordio.ts, which survives records split anywhere) → parsed events. A record that is not
// an event, or a framing error, ends the stream with an error; the client then reconnects.
import { maxEventBytes } from './limits.ts';
import type { IncomingMessage } from 'node:http';
import { RecordIoDecoder } from '../../protocol/recordio.ts';
import { parseEvent, type SchedulerEvent } from './wire.ts';

export async function* readEvents(response: IncomingMessage): AsyncGenerator<SchedulerEvent, void, undefined> {
  const decoder = new RecordIoDecoder({ maxRecordBytes: maxEventBytes });
  for await (const chunk of response as AsyncIterable<Buffer>) {
    for (const record of decoder.decode(chunk)) {
      const event = parseEvent(record);
      if (event !== null) yield event;
    }
  }
  decoder.finish();
}
