// One active instance of the framework at a time: a lease in the KV store. The holder renews it
// every ttl/3 with a compare-and-set on the version it last wrote, and counts itself leading only
// until `ttl × leadingFraction` after it sent its last successful renewal (its own monotonic
// clock). A standby takes the lease over only after it saw the same version for a whole ttl (its
// own clock), with a compare-and-set on that version, so two takers cannot both win, and the old
// holder stopped counting itself leading before the new one starts (clock rates differing by
// less than 1 − leadingFraction). What the lease cannot fence — a paused process's write already
// on the wire — is fenced elsewhere: the master accepts calls only on the newest SUBSCRIBE
// stream, and every KV write is a compare-and-set (see README, "Services").
//
// Hosted by the leading master (hosted.ts), an instance takes over at once a lease whose holder
// was hosted by a leader of an older Raft term (or by its own master in the same term: an
// establish retried). That holder acted only through its own master, at its term, and nothing of
// an older term commits after the new leader's no-op, which committed — with the ReadIndex
// barrier — before the new leader's services started (src/master/leadership/lifecycle.ts); its
// master also halted it synchronously when it stopped leading. Waiting out its ttl would
// protect nothing. A lease held by a standalone process is waited out as before.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../util/logger.ts';
import type { KvClient } from '../kv/client.ts';

/** The master hosting an instance, and the Raft term it leads. */
export interface HostedBy {
  readonly masterId: string;
  readonly term: number;
}

export interface LeaseValue {
  readonly owner: string;
  /** Where the holder serves the Marathon API (standbys proxy to it). */
  readonly address: string;
  readonly epoch: number;
  readonly ttlMs: number;
  /** Absent for a standalone `flotilla services` process. */
  readonly hostedBy?: HostedBy;
}

export interface LeaseOptions {
  readonly client: KvClient;
  readonly key: string;
  readonly owner: string;
  readonly address: string;
  readonly ttlMs: number;
  readonly hostedBy?: HostedBy;
  readonly logger: Logger;
  readonly onAcquired: (epoch: number) => void;
  readonly onLost: (reason: string) => void;
}

const leadingFraction = 0.75;

export class LeaseKeeper {
  #version = 0;
  #epoch = 0;
  #validUntil = 0;
  #holding = false;
  #observed: { version: number; sinceMs: number; value: LeaseValue | null } = { version: -1, sinceMs: 0, value: null };
  readonly #stop = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(readonly options: LeaseOptions) {
    if (!(options.ttlMs >= 300)) throw new Error(`lease ttl must be at least 300 ms, got ${options.ttlMs}`);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** True while this instance may act: it holds the lease and its validity has not run out. */
  isValid(): boolean {
    return this.#holding && performance.now() < this.#validUntil;
  }

  get epoch(): number {
    return this.#epoch;
  }

  /** The holder as last seen (this instance when it holds the lease). */
  holder(): LeaseValue | null {
    if (this.#holding) return this.#value();
    return this.#observed.value;
  }

  /** Stops renewing; a holder deletes the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop?.catch(() => undefined);
    if (this.#holding) {
      this.#holding = false;
      await this.options.client.delete(this.options.key, this.#version).catch(() => undefined);
    }
  }

  /**
   * Stops at once, without releasing (hosted: the next leader takes the lease over by term).
   * A renewal in flight is cut off by the KV client's signal, which the framework aborts.
   */
  halt(): void {
    this.#stop.abort();
    this.#holding = false;
  }

  #value(): LeaseValue {
    const hosted = this.options.hostedBy === undefined ? {} : { hostedBy: this.options.hostedBy };
    return {
      owner: this.options.owner,
      address: this.options.address,
      epoch: this.#epoch,
      ttlMs: this.options.ttlMs,
      ...hosted,
    };
  }

  /** The holder seen can be replaced at once (see the header), not only after a ttl of silence. */
  #supersedes(holder: LeaseValue | null): boolean {
    const mine = this.options.hostedBy;
    const theirs = holder?.hostedBy;
    if (mine === undefined || theirs === undefined) return false;
    return theirs.term < mine.term || (theirs.term === mine.term && theirs.masterId === mine.masterId);
  }

  async #run(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        if (this.#holding) await this.#renew();
        else await this.#tryAcquire();
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        this.options.logger.warn({ error: (error as Error).message }, 'lease round failed');
        if (this.#holding && performance.now() >= this.#validUntil)
          this.#lose('the lease could not be renewed in time');
      }
      const pauseMs = this.#holding ? this.options.ttlMs / 3 : this.options.ttlMs / 4;
      await sleep(pauseMs, undefined, { signal: this.#stop.signal }).catch(() => undefined);
    }
  }

  async #renew(): Promise<void> {
    const sentAt = performance.now();
    const written = await this.options.client.put(this.options.key, JSON.stringify(this.#value()), this.#version);
    if (!written.ok) {
      this.#lose('another instance took the lease');
      return;
    }
    this.#version = written.version;
    this.#validUntil = sentAt + this.options.ttlMs * leadingFraction;
  }

  async #tryAcquire(): Promise<void> {
    const entry = await this.options.client.get(this.options.key);
    const version = entry?.version ?? 0;
    const nowMs = performance.now();
    if (version !== this.#observed.version) {
      this.#observed = { version, sinceMs: nowMs, value: entry === null ? null : parseLease(entry.value) };
      if (entry !== null && !this.#supersedes(this.#observed.value)) return;
    }
    const silentMs = nowMs - this.#observed.sinceMs;
    const waited = silentMs >= (this.#observed.value?.ttlMs ?? this.options.ttlMs);
    if (entry !== null && !waited && !this.#supersedes(this.#observed.value)) return;
    const previousEpoch = this.#observed.value?.epoch ?? 0;
    this.#epoch = previousEpoch + 1;
    const sentAt = performance.now();
    const written = await this.options.client.put(this.options.key, JSON.stringify(this.#value()), version);
    if (!written.ok || this.#stop.signal.aborted) return;
    this.#version = written.version;
    this.#validUntil = sentAt + this.options.ttlMs * leadingFraction;
    this.#holding = true;
    this.options.logger.info({ epoch: this.#epoch }, 'lease acquired: this instance leads');
    this.options.onAcquired(this.#epoch);
  }

  #lose(reason: string): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#observed = { version: -1, sinceMs: 0, value: null };
    this.options.logger.warn({ reason, epoch: this.#epoch }, 'lease lost: this instance stops acting');
    this.options.onLost(reason);
  }
}

export function parseLease(text: string): LeaseValue | null {
  try {
    const value = JSON.parse(text) as Partial<LeaseValue>;
    if (typeof value.owner !== 'string' || typeof value.address !== 'string' || typeof value.epoch !== 'number') {
      return null;
    }
    const hostedBy =
      typeof value.hostedBy?.masterId === 'string' && typeof value.hostedBy.term === 'number'
        ? { hostedBy: { masterId: value.hostedBy.masterId, term: value.hostedBy.term } }
        : {};
    return {
      owner: value.owner,
      address: value.address,
      epoch: value.epoch,
      ttlMs: value.ttlMs ?? 10_000,
      ...hostedBy,
    };
  } catch {
    return null;
  }
}
