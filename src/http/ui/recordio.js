// RecordIO as Mesos frames its event streams ("<length in bytes>\n<record>", repeated), decoded
// from the chunks a fetch body reader yields. Chunks and records do not line up: a record may
// span many chunks (the SUBSCRIBED snapshot of 10,000 tasks is megabytes) and a chunk may hold
// many records. Each record's bytes are copied once into a buffer of its announced size, so a
// big record costs linear time, never a re-concatenation per chunk. Pure: runs in Node too.

/** A record larger than this is a broken stream, not a state this page could draw. */
export const maxRecordBytes = 256 * 1024 * 1024;
/** Digits of a length header; 2^53 has 16. */
const maxHeaderDigits = 16;
const newline = 0x0a;
const zero = 0x30;
const nine = 0x39;

export class RecordIoError extends Error {
  constructor(message) {
    super(message);
    this.name = 'RecordIoError';
  }
}

export class RecordIoDecoder {
  #header = '';
  /** The record being filled, once its header is read. */
  #body = null;
  #filled = 0;
  #textDecoder = new TextDecoder('utf-8');

  constructor(maxBytes = maxRecordBytes) {
    if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) throw new RangeError(`bad record bound ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** True between records: a stream that ends now ended cleanly. */
  get idle() {
    return this.#body === null && this.#header === '';
  }

  /** Feeds one chunk; returns the records it completed, as text, in order. */
  push(chunk) {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('a RecordIO chunk must be a Uint8Array');
    const records = [];
    let position = 0;
    while (position < chunk.length) {
      position =
        this.#body === null ? this.#readHeader(chunk, position, records) : this.#readBody(chunk, position, records);
    }
    return records;
  }

  #readHeader(chunk, start, records) {
    let position = start;
    while (position < chunk.length) {
      const byte = chunk[position];
      position += 1;
      if (byte === newline) {
        this.#startRecord();
        // An empty record is complete at its header; no byte of the next chunk belongs to it.
        if (this.#body.length === 0) this.#readBody(chunk, position, records);
        return position;
      }
      if (byte < zero || byte > nine || this.#header.length >= maxHeaderDigits) {
        throw new RecordIoError(`not a RecordIO length header: "${this.#header}${String.fromCharCode(byte)}"`);
      }
      this.#header += String.fromCharCode(byte);
    }
    return position;
  }

  #startRecord() {
    if (this.#header === '') throw new RecordIoError('an empty RecordIO length header');
    const length = Number(this.#header);
    if (length > this.maxBytes) throw new RecordIoError(`a record of ${length} bytes exceeds ${this.maxBytes}`);
    this.#header = '';
    this.#body = new Uint8Array(length);
    this.#filled = 0;
  }

  #readBody(chunk, start, records) {
    const body = this.#body;
    const take = Math.min(body.length - this.#filled, chunk.length - start);
    body.set(chunk.subarray(start, start + take), this.#filled);
    this.#filled += take;
    if (this.#filled === body.length) {
      records.push(this.#textDecoder.decode(body));
      this.#body = null;
      this.#filled = 0;
    }
    return start + take;
  }
}
