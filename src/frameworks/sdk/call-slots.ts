// A client's calls wait for one of a fixed number of slots here, in the client, and not in the
// http.Agent's queue: a call reads the master and the stream id it is stamped with only once it
// has a slot, and is sent at once. Stamped when issued, thousands of ACKNOWLEDGEs queued behind
// the agent's busy sockets went out after a leader change with the replaced stream's id or to
// the master it had left; each was refused (STREAM_ID_MISMATCH, FRAMEWORK_NOT_SUBSCRIBED) and
// queued again or dropped, and with a leader change every few seconds almost none got through
// (the churn bench with leader changes: 35,000 acknowledgements refused, 886 accepted).

export class CallSlots {
  #free: number;
  /** Calls waiting for a slot, oldest first from `#head` (a moving head: no O(n) shift per call). */
  #waiting: (() => void)[] = [];
  #head = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`CallSlots: size must be a whole number >= 1, got ${size}`);
    this.#free = size;
  }

  /** Calls waiting for a slot now. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /** Runs `work` once a slot is free (in the order asked), and frees the slot when it settles. */
  async run<Result>(work: () => Promise<Result>): Promise<Result> {
    if (this.#free > 0) this.#free -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      this.#release();
    }
  }

  #release(): void {
    if (this.#head === this.#waiting.length) {
      this.#free += 1;
      return;
    }
    const next = this.#waiting[this.#head]!;
    this.#head += 1;
    if (this.#head === this.#waiting.length) [this.#waiting, this.#head] = [[], 0];
    else if (this.#head >= 1024 && this.#head * 2 >= this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    // The slot passes to the next call as it is: `#free` stays as it was.
    next();
  }
}
