// RecordIO framing, as Mesos streams events (scheduler-http-api.md, "RecordIO response format"):
// every record is its length in bytes as ASCII decimal digits, a line feed, then exactly that
// many bytes — `<length>\n<bytes>` — with nothing between records. Shared by the master (operator
// and scheduler SUBSCRIBE streams), the agent, the scheduler SDK and the CLI.
//
// The decoder is incremental (HTTP chunks split records anywhere, even inside the length) and
// bounded: a length above `maxRecordBytes` is refused before a byte of the record is buffered,
// so a hostile or broken peer cannot make a reader allocate without limit.

export type RecordIoErrorCode = 'INVALID_LENGTH' | 'RECORD_TOO_LARGE' | 'TRUNCATED';

export class RecordIoError extends Error {
  override name = 'RecordIoError';
  constructor(
    readonly code: RecordIoErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const lineFeed = 0x0a;
const digitZero = 0x30;
const digitNine = 0x39;
const textEncoder = new TextEncoder();

/** One record: its length line, then its bytes (a string is sent as UTF-8). */
export function encodeRecord(record: Uint8Array | string): Uint8Array {
  const body = typeof record === 'string' ? textEncoder.encode(record) : record;
  const header = textEncoder.encode(`${body.byteLength}\n`);
  const framed = new Uint8Array(header.byteLength + body.byteLength);
  framed.set(header, 0);
  framed.set(body, header.byteLength);
  return framed;
}

export interface RecordIoDecoderOptions {
  /** The largest record accepted; a longer one fails the stream with RECORD_TOO_LARGE. */
  readonly maxRecordBytes: number;
}

/**
 * Feed it chunks as they arrive; it returns the records each chunk completes, in order. After
 * an error the stream is unusable (the framing is lost), so every later call throws again.
 */
export class RecordIoDecoder {
  readonly #maxRecordBytes: number;
  readonly #maxLengthDigits: number;
  /** Digits of the length line read so far (reading a length when `#body` is null). */
  #lengthDigits = 0;
  #length = 0;
  #body: Uint8Array | null = null;
  #bodyFilled = 0;
  #failure: RecordIoError | null = null;

  constructor(options: RecordIoDecoderOptions) {
    if (!Number.isSafeInteger(options.maxRecordBytes) || options.maxRecordBytes < 0) {
      throw new RangeError(`maxRecordBytes must be a whole number of bytes, got ${options.maxRecordBytes}`);
    }
    this.#maxRecordBytes = options.maxRecordBytes;
    this.#maxLengthDigits = String(options.maxRecordBytes).length;
  }

  /** The records completed by `chunk`; their bytes are copies, never views of `chunk`. */
  decode(chunk: Uint8Array): Uint8Array[] {
    if (this.#failure !== null) throw this.#failure;
    const records: Uint8Array[] = [];
    let position = 0;
    while (position < chunk.byteLength) {
      position = this.#body === null ? this.#readLength(chunk, position) : this.#readBody(chunk, position, records);
    }
    // A zero-length record completes as soon as its length line does.
    if (this.#body !== null && this.#length === 0) this.#completeRecord(records);
    return records;
  }

  /** Whether the input so far ended on a record boundary (a stream may close here). */
  get atBoundary(): boolean {
    return this.#failure === null && this.#body === null && this.#lengthDigits === 0;
  }

  /** Call when the input ends: throws TRUNCATED if a record was cut off. */
  finish(): void {
    if (this.#failure !== null) throw this.#failure;
    if (!this.atBoundary) this.#fail('TRUNCATED', 'the stream ended inside a record');
  }

  #readLength(chunk: Uint8Array, start: number): number {
    let position = start;
    while (position < chunk.byteLength) {
      const byte = chunk[position]!;
      position += 1;
      if (byte === lineFeed) {
        if (this.#lengthDigits === 0) this.#fail('INVALID_LENGTH', 'a record length line is empty');
        this.#startBody();
        return position;
      }
      if (byte < digitZero || byte > digitNine)
        this.#fail('INVALID_LENGTH', `a record length has the byte 0x${byte.toString(16)}, not a digit`);
      this.#lengthDigits += 1;
      this.#length = this.#length * 10 + (byte - digitZero);
      if (this.#lengthDigits > this.#maxLengthDigits || this.#length > this.#maxRecordBytes) {
        this.#fail('RECORD_TOO_LARGE', `a record is longer than the ${this.#maxRecordBytes} bytes allowed`);
      }
    }
    return position;
  }

  #startBody(): void {
    this.#body = new Uint8Array(this.#length);
    this.#bodyFilled = 0;
  }

  #readBody(chunk: Uint8Array, start: number, records: Uint8Array[]): number {
    const body = this.#body!;
    const take = Math.min(body.byteLength - this.#bodyFilled, chunk.byteLength - start);
    body.set(chunk.subarray(start, start + take), this.#bodyFilled);
    this.#bodyFilled += take;
    if (this.#bodyFilled === body.byteLength) this.#completeRecord(records);
    return start + take;
  }

  #completeRecord(records: Uint8Array[]): void {
    records.push(this.#body!);
    this.#body = null;
    this.#bodyFilled = 0;
    this.#length = 0;
    this.#lengthDigits = 0;
  }

  #fail(code: RecordIoErrorCode, message: string): never {
    this.#failure = new RecordIoError(code, message);
    throw this.#failure;
  }
}
