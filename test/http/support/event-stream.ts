// Reading an operator SUBSCRIBE stream in tests: through fetch, records decoded with the
// protocol's RecordIO decoder; and through a raw socket, to see the HTTP chunks themselves
// (fetch and node:http join and split chunks, so only the raw bytes show the framing).
import { connect } from 'node:net';
import type { Event as OperatorEvent, EventType as OperatorEventType } from '../../../src/protocol/operator.ts';
import { RecordIoDecoder } from '../../../src/protocol/recordio.ts';
import { isJsonObject } from '../../support/answers.ts';
import { withTimeout } from '../../support/wait.ts';

const maxRecordBytes = 16 * 1024 * 1024;
const maxQuotedRecordChars = 300;
const textDecoder = new TextDecoder();

/**
 * An event stream's record as the event union it belongs to. Only `type` is checked: the fields
 * are what the tests' assertions check.
 */
export function asEvent<Event extends { readonly type: string }>(record: unknown): Event {
  if (!isJsonObject(record) || typeof record.type !== 'string')
    throw new Error(`not an event: ${String(JSON.stringify(record)).slice(0, maxQuotedRecordChars)}`);
  return record as unknown as Event;
}

/** The records of a streamed RecordIO body (an operator or scheduler SUBSCRIBE), parsed as JSON. */
export class RecordReader<Parsed> {
  readonly #decoder = new RecordIoDecoder({ maxRecordBytes });
  readonly #pending: Parsed[] = [];
  #ended = false;

  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly controller: AbortController,
    private readonly parse: (json: unknown) => Parsed,
  ) {}

  /** The next record; rejects once the stream has ended. */
  async next(): Promise<Parsed> {
    while (this.#pending.length === 0) {
      if (this.#ended) throw new Error('the stream ended');
      const { done, value } = await this.reader.read();
      if (done) {
        this.#decoder.finish();
        this.#ended = true;
        continue;
      }
      for (const record of this.#decoder.decode(value))
        this.#pending.push(this.parse(JSON.parse(textDecoder.decode(record))));
    }
    return this.#pending.shift() as Parsed;
  }

  /**
   * The next record for which `match` holds, skipping others, within `timeoutMs`. A search that
   * timed out reads no further: the record it was waiting for goes back for the next reader.
   */
  async nextWhere<Match extends Parsed>(
    match: (record: Parsed) => record is Match,
    timeoutMs: number,
    what: string,
  ): Promise<Match> {
    let abandoned = false;
    try {
      const found = await withTimeout(
        (async (): Promise<Match | undefined> => {
          for (;;) {
            const record = await this.next();
            if (abandoned) {
              this.#pending.unshift(record);
              return undefined;
            }
            if (match(record)) return record;
          }
        })(),
        timeoutMs,
        what,
      );
      // Only an abandoned search finds nothing, and it is abandoned once withTimeout has rejected.
      if (found === undefined) throw new Error(`unreachable: the search for ${what} found nothing`);
      return found;
    } finally {
      abandoned = true;
    }
  }

  /** Resolves true once the server ends the stream (reading and dropping events meanwhile). */
  ended(timeoutMs: number): Promise<boolean> {
    return withTimeout(
      (async () => {
        while (!this.#ended) {
          try {
            await this.next();
          } catch (error) {
            if (this.#ended) break;
            throw error;
          }
        }
        return true;
      })(),
      timeoutMs,
      'the end of the stream',
    );
  }

  close(): void {
    this.controller.abort();
  }
}

export class EventStream {
  private constructor(
    readonly response: Response,
    private readonly records: RecordReader<OperatorEvent>,
  ) {}

  static async open(baseUrl: string, headers: Record<string, string> = {}, query = ''): Promise<EventStream> {
    const controller = new AbortController();
    const response = await fetch(`${baseUrl}/api/v1${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ type: 'SUBSCRIBE' }),
      signal: controller.signal,
    });
    if (response.status !== 200 || response.body === null)
      throw new Error(`SUBSCRIBE answered ${response.status}: ${await response.text()}`);
    return new EventStream(response, new RecordReader(response.body.getReader(), controller, asEvent<OperatorEvent>));
  }

  /** The next event, parsed. */
  async next(timeoutMs = 5000): Promise<OperatorEvent> {
    return withTimeout(this.records.next(), timeoutMs, 'the next operator event');
  }

  /** Skips events until one of `type` (HEARTBEATs arrive at any time). */
  async nextOf<Type extends OperatorEventType>(
    type: Type,
    timeoutMs = 5000,
  ): Promise<Extract<OperatorEvent, { type: Type }>> {
    return this.records.nextWhere(
      (event): event is Extract<OperatorEvent, { type: Type }> => event.type === type,
      timeoutMs,
      `a ${type} event`,
    );
  }

  /** Resolves true once the server ends the stream (reading and dropping events meanwhile). */
  ended(timeoutMs = 5000): Promise<boolean> {
    return this.records.ended(timeoutMs);
  }

  close(): void {
    this.records.close();
  }
}

/** One RecordIO record as it came over the raw socket. */
export interface RawRecord {
  /** The length line's number. */
  readonly declaredBytes: number;
  /** The record's data (what the length line counts). */
  readonly data: Buffer;
  /** It begins its HTTP chunk: no earlier record's bytes share that chunk. */
  readonly startsChunk: boolean;
  /** HTTP chunks its length line and data came in (more than one: a large record, written in slices). */
  readonly chunkCount: number;
}

export interface RawRecords {
  readonly head: string;
  readonly records: RawRecord[];
}

/**
 * Sends SUBSCRIBE over a bare socket and returns the first `count` RecordIO records of the
 * chunked body, decoded from the chunks' bytes: TCP joins and splits chunks, and the server may
 * split one record over several chunks (a SUBSCRIBED snapshot made in time-bounded slices,
 * operator/subscriptions.ts), so records are never assumed to be one chunk each; each says
 * how it was framed. `onRecords` hears how many whole records have arrived so far.
 */
export function readRawRecords(
  host: string,
  port: number,
  count: number,
  onRecords: (received: number) => void = () => {},
  timeoutMs = 5000,
): Promise<RawRecords> {
  const body = JSON.stringify({ type: 'SUBSCRIBE' });
  const request = `POST /api/v1 HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
  return withTimeout(
    new Promise<RawRecords>((resolve, reject) => {
      const socket = connect({ host, port }, () => socket.write(request));
      let received = Buffer.alloc(0);
      socket.on('data', (data: Buffer) => {
        received = Buffer.concat([received, data]);
        const chunks = parseChunked(received);
        if (chunks === null) return;
        const records = recordsOf(chunks.chunks, count);
        if (records.length < count) {
          onRecords(records.length);
          return;
        }
        socket.destroy();
        resolve({ head: chunks.head, records });
      });
      socket.on('error', reject);
    }),
    timeoutMs,
    `${count} RecordIO records`,
  );
}

/** The head and every whole chunk so far, or null before the head is complete. */
function parseChunked(bytes: Buffer): { head: string; chunks: Buffer[] } | null {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const chunks: Buffer[] = [];
  let position = headEnd + 4;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', position);
    if (lineEnd < 0) break;
    const size = Number.parseInt(bytes.subarray(position, lineEnd).toString('ascii'), 16);
    if (bytes.length < lineEnd + 2 + size + 2) break;
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    position = lineEnd + 2 + size + 2;
  }
  return { head: bytes.subarray(0, headEnd).toString('latin1'), chunks };
}

/** The whole records (at most `count`) in the chunks' bytes, each with how the chunks framed it. */
function recordsOf(chunks: readonly Buffer[], count: number): RawRecord[] {
  const starts: number[] = [];
  let total = 0;
  for (const chunk of chunks) {
    starts.push(total);
    total += chunk.length;
  }
  const stream = Buffer.concat(chunks);
  const chunkAt = (offset: number): number => {
    let index = 0;
    while (index + 1 < starts.length && starts[index + 1]! <= offset) index += 1;
    return index;
  };
  const records: RawRecord[] = [];
  let position = 0;
  while (records.length < count) {
    const newline = stream.indexOf(0x0a, position);
    if (newline < 0) break;
    const lengthText = stream.subarray(position, newline).toString('ascii');
    if (!/^[0-9]+$/.test(lengthText)) throw new Error(`a record's length line is "${lengthText.slice(0, 40)}"`);
    const declaredBytes = Number(lengthText);
    if (stream.length < newline + 1 + declaredBytes) break;
    const end = newline + 1 + declaredBytes;
    records.push({
      declaredBytes,
      data: stream.subarray(newline + 1, end),
      startsChunk: starts.includes(position),
      chunkCount: chunkAt(end - 1) - chunkAt(position) + 1,
    });
    position = end;
  }
  return records;
}
