// The page's live link to the cluster: find the leader, follow its operator event stream into
// the store, and when the stream ends or its master stops leading, find the leader again and
// follow it instead — without a reload, and also when the master that served the page is the
// one that died (the other members answer cross-origin; see src/http/routes/cors.ts).
//
// Finding the leader: ask /health of the best candidates in turn (leader-finder.js); a
// follower's answer names the leader, which is asked next. While no master names a leader (an
// election) the page asks again for a few seconds; with still none (a lost quorum) it follows
// any master that answers, with ?stale=true reads, and says so; the poller's next GET_RAFT that
// names a reachable leader moves it there.
//
// A stream that falls silent (a master frozen, a network path dropped without a reset) is
// given up after two heartbeat intervals and a margin.
import { MasterClient } from './api.js';

const firstRetryMs = 250;
const maxRetryMs = 5000;
/** A stream that lived this long was healthy: the next failure retries at once again. */
const healthyStreamMs = 10_000;
/** A leader the page could not reach is not tried again by the poller's nudge for this long. */
const unreachableForgetMs = 30_000;
/** /health questions per search; the candidates are the members, so this is never reached. */
const maxProbesPerSearch = 24;
const defaultHeartbeatSeconds = 15;
/**
 * Searches that find masters but no leader before the page settles for a follower: with the
 * wait between them, a few election timeouts (300–600 ms each on the lan profile).
 */
const maxLeaderlessSearches = 6;
const electionWaitMs = 500;
const silenceMarginMs = 5000;

function describe(error) {
  return error instanceof Error ? error.message : String(error);
}

export class LiveConnection {
  /** phase: "finding" | "live" | "waiting"; master: {origin, id, role} of the stream. */
  status = { phase: 'finding', master: null, error: null, sinceMs: Date.now(), reconnects: 0 };
  #stopped = false;
  #abort = null;
  #wake = null;
  #unreachable = new Map();
  #leaderHint = null;

  /** `onChange(what)`: "connection", or what the store says an event changed. */
  constructor({ directory, store, onChange }) {
    this.directory = directory;
    this.store = store;
    this.onChange = onChange;
  }

  start() {
    void this.#run();
  }

  stop() {
    this.#stopped = true;
    this.#abort?.abort(new Error('stopped'));
    this.#wake?.();
  }

  /** The master the page talks to now: the stream's, or the page's own before the first. */
  client() {
    return new MasterClient(this.status.master?.origin ?? this.directory.pageOrigin);
  }

  /**
   * The poller's GET_RAFT of the followed master. A master that stopped leading, while a leader
   * the page has not failed to reach is named, ends the stream: the loop moves to that leader.
   */
  observe(origin, raft) {
    const live = this.status.master;
    if (live === null || live.origin !== origin || this.#abort === null) return;
    // The followed master may have become the leader itself (the page came to it mid-election).
    if (raft.role !== live.role) this.#setStatus({ master: { ...live, role: raft.role } });
    if (raft.role === 'leader' || raft.leaderAddress === null || raft.leaderId === raft.id) return;
    const leaderOrigin = this.directory.originOf(raft.leaderAddress);
    const failedAtMs = this.#unreachable.get(leaderOrigin);
    if (leaderOrigin === null || (failedAtMs !== undefined && Date.now() - failedAtMs < unreachableForgetMs)) return;
    this.#leaderHint = raft.leaderAddress;
    this.#abort.abort(new Error(`${raft.id} is not the leader any more; the leader is ${raft.leaderId}`));
  }

  async #run() {
    let failures = 0;
    let leaderlessSearches = 0;
    while (!this.#stopped) {
      this.#setStatus({ phase: 'finding' });
      const found = await this.#findLeader();
      if (this.#stopped) return;
      // Mid-election: wait for the leader rather than load a follower's snapshot and then the leader's.
      if (found !== null && !found.leads && leaderlessSearches < maxLeaderlessSearches) {
        leaderlessSearches += 1;
        await this.#sleep(electionWaitMs);
        continue;
      }
      leaderlessSearches = 0;
      if (found === null) {
        failures += 1;
        this.#setStatus({ phase: 'waiting', master: null, error: 'no master answers' });
        await this.#sleep(this.#retryDelayMs(failures));
        continue;
      }
      const startedAtMs = Date.now();
      try {
        await this.#follow(found);
        this.#setStatus({ error: `${found.health.id} ended the event stream` });
      } catch (error) {
        this.#setStatus({ error: describe(error) });
      }
      failures = Date.now() - startedAtMs > healthyStreamMs ? 1 : failures + 1;
      this.status.reconnects += 1;
      await this.#sleep(this.#retryDelayMs(failures));
    }
  }

  #retryDelayMs(failures) {
    const ceiling = Math.min(maxRetryMs, firstRetryMs * 2 ** Math.max(0, failures - 1));
    // Equal jitter: many open tabs do not all come back in the same millisecond.
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /** The leader ({origin, health, leads: true}), else any master that answers, else null. */
  async #findLeader() {
    const queue = this.directory.candidates(this.#leaderHint, this.status.master?.origin ?? null);
    this.#leaderHint = null;
    const asked = new Set();
    let fallback = null;
    while (queue.length > 0 && asked.size < maxProbesPerSearch && !this.#stopped) {
      const origin = queue.shift();
      if (asked.has(origin)) continue;
      asked.add(origin);
      let health;
      try {
        health = await new MasterClient(origin).health();
      } catch {
        this.#unreachable.set(origin, Date.now());
        continue;
      }
      this.#unreachable.delete(origin);
      if (health.role === 'leader') return { origin, health, leads: true };
      fallback ??= { origin, health, leads: false };
      const named = typeof health.leader === 'string' ? this.directory.originOf(health.leader) : null;
      if (named !== null && !asked.has(named)) queue.unshift(named);
    }
    return fallback;
  }

  /** Follows one master's stream until it ends (resolves) or breaks (rejects). */
  async #follow(found) {
    const abort = new AbortController();
    this.#abort = abort;
    const client = new MasterClient(found.origin);
    let silence = null;
    let heartbeatSeconds = defaultHeartbeatSeconds;
    const expectWithin = (seconds) => {
      clearTimeout(silence);
      silence = setTimeout(
        () => abort.abort(new Error(`${found.health.id} fell silent`)),
        seconds * 2000 + silenceMarginMs,
      );
    };
    expectWithin(defaultHeartbeatSeconds);
    try {
      // A follower serves the stream too; without a leader it needs ?stale=true to answer at all.
      for await (const event of client.subscribe({ signal: abort.signal, stale: !found.leads })) {
        if (event?.type === 'SUBSCRIBED') {
          heartbeatSeconds = Number(event.subscribed?.heartbeat_interval_seconds) || defaultHeartbeatSeconds;
          expectWithin(heartbeatSeconds);
          this.store.reset(event.subscribed?.get_state);
          const master = { origin: found.origin, id: found.health.id, role: found.health.role };
          this.#setStatus({ phase: 'live', master, error: null });
          this.onChange('tasks');
          this.onChange('agents');
          this.onChange('frameworks');
          continue;
        }
        expectWithin(heartbeatSeconds);
        const changed = this.store.apply(event);
        if (changed !== null) this.onChange(changed);
      }
      if (abort.signal.aborted) throw abort.signal.reason;
    } finally {
      clearTimeout(silence);
      this.#abort = null;
    }
  }

  #setStatus(change) {
    this.status = { ...this.status, ...change, sinceMs: Date.now() };
    this.onChange('connection');
  }

  #sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
