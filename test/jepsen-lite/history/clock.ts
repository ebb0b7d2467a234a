// The run's clock: monotonic nanoseconds since the run started. Wall time jumps (NTP, a
// suspended VM); process.hrtime does not, and the checker orders operations by it.

export class MonotonicClock {
  private readonly originNs = process.hrtime.bigint();

  /** Nanoseconds since the clock was made; a double is exact for 104 days of nanoseconds. */
  nowNs(): number {
    return Number(process.hrtime.bigint() - this.originNs);
  }

  nowMs(): number {
    return this.nowNs() / 1e6;
  }
}
