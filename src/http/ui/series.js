// Time series the page keeps in memory for its charts: a ring of the last `capacity` samples,
// so an open tab's memory stays flat however long it runs. Pure: runs in Node too.

export class TimeSeries {
  #times;
  #columns;
  #next = 0;
  #length = 0;

  /** `names`: one per value column; `capacity`: samples kept (older ones are overwritten). */
  constructor(names, capacity) {
    if (!(Array.isArray(names) && names.length > 0)) throw new TypeError('a series needs at least one column');
    if (!(Number.isSafeInteger(capacity) && capacity >= 2)) throw new RangeError(`bad series capacity ${capacity}`);
    this.names = Object.freeze([...names]);
    this.capacity = capacity;
    this.#times = new Float64Array(capacity);
    this.#columns = names.map(() => new Float64Array(capacity));
  }

  get length() {
    return this.#length;
  }

  /** One sample: a value per column, in `names` order (NaN draws as a gap). */
  push(timeMs, values) {
    if (values.length !== this.#columns.length) {
      throw new RangeError(`${values.length} values for ${this.#columns.length} columns`);
    }
    this.#times[this.#next] = timeMs / 1000;
    values.forEach((value, column) => {
      this.#columns[column][this.#next] = typeof value === 'number' ? value : Number.NaN;
    });
    this.#next = (this.#next + 1) % this.capacity;
    this.#length = Math.min(this.#length + 1, this.capacity);
  }

  /** uPlot's data: [times in seconds, column 0, column 1, …], oldest first; NaN as null (a gap). */
  data() {
    const start = this.#length < this.capacity ? 0 : this.#next;
    const ordered = (source, gapsAsNull) => {
      const out = new Array(this.#length);
      for (let offset = 0; offset < this.#length; offset += 1) {
        const value = source[(start + offset) % this.capacity];
        out[offset] = gapsAsNull && Number.isNaN(value) ? null : value;
      }
      return out;
    };
    return [ordered(this.#times, false), ...this.#columns.map((column) => ordered(column, true))];
  }

  /** The newest sample's values, or null before the first. */
  latest() {
    if (this.#length === 0) return null;
    const last = (this.#next - 1 + this.capacity) % this.capacity;
    return this.#columns.map((column) => column[last]);
  }
}

/**
 * Entries per second from successive readings of a growing counter (the Raft commit index). A
 * counter that went back (a new leader that has not caught up its view, a restarted master)
 * yields no rate for that step rather than a negative one.
 */
export class RateMeter {
  #lastValue = null;
  #lastTimeMs = null;

  /** The rate since the previous reading, or NaN for the first reading or a counter that went back. */
  read(value, timeMs) {
    const previousValue = this.#lastValue;
    const previousTimeMs = this.#lastTimeMs;
    this.#lastValue = value;
    this.#lastTimeMs = timeMs;
    if (previousValue === null || !(timeMs > previousTimeMs) || value < previousValue) return Number.NaN;
    return ((value - previousValue) * 1000) / (timeMs - previousTimeMs);
  }
}
