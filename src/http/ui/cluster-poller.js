// What the event stream does not carry, asked for on a timer, each answer small next to the
// state: every known master's own GET_RAFT (its role, term, indexes and zone, whether it answers
// at all; the leader's answer has each follower's match index, so the lag), GET_AGENTS (offered
// resources and drain state), and — while a page shows it — the leader's GET_ALLOCATION. One
// round at a time; a hidden tab asks nothing but the Raft views the charts need.
import { MasterClient } from './api.js';

export const raftPollIntervalMs = 2000;
export const agentsPollIntervalMs = 5000;
export const allocationPollIntervalMs = 3000;

function describe(error) {
  return error instanceof Error ? error.message : String(error);
}

export class ClusterPoller {
  /** Per master origin: {id, address, ok, raft, error, atMs}. */
  views = new Map();
  /** The leader's GET_ALLOCATION and when it came, or the reason there is none. */
  allocation = { report: null, error: null, atMs: null };
  wantsAllocation = false;
  #timers = [];
  #running = new Set();

  /** `onChange(what)`: "raft", "agents" or "allocation". */
  constructor({ directory, connection, store, onChange, isHidden = () => false }) {
    this.directory = directory;
    this.connection = connection;
    this.store = store;
    this.onChange = onChange;
    this.isHidden = isHidden;
  }

  start() {
    const every = (what, ms, work) => {
      const tick = () => {
        if (!this.#running.has(what)) {
          this.#running.add(what);
          work()
            .catch(() => undefined)
            .finally(() => this.#running.delete(what));
        }
      };
      tick();
      this.#timers.push(setInterval(tick, ms));
    };
    every('raft', raftPollIntervalMs, () => this.pollRaft());
    every('agents', agentsPollIntervalMs, () => (this.isHidden() ? Promise.resolve() : this.pollAgents()));
    every('allocation', allocationPollIntervalMs, () =>
      this.wantsAllocation && !this.isHidden() ? this.pollAllocation() : Promise.resolve(),
    );
  }

  stop() {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }

  /** The newest view that says it leads (highest term), or null. */
  leaderView() {
    let best = null;
    for (const view of this.views.values()) {
      if (view.ok && view.raft.role === 'leader' && (best === null || view.raft.term > best.raft.term)) best = view;
    }
    return best;
  }

  /** `again`: this is the extra round for masters the previous one taught (one at most). */
  async pollRaft(again = false) {
    const members = this.directory.members();
    const answers = await Promise.all(
      members.map(async (member) => {
        try {
          return { member, raft: await new MasterClient(member.origin).call('GET_RAFT') };
        } catch (error) {
          return { member, error: describe(error) };
        }
      }),
    );
    const atMs = Date.now();
    const views = new Map();
    for (const { member, raft, error } of answers) {
      views.set(member.origin, {
        id: raft?.id ?? member.id,
        address: member.address,
        origin: member.origin,
        ok: raft !== undefined && raft !== null,
        raft: raft ?? null,
        error: error ?? null,
        atMs,
      });
      if (raft) this.directory.learn(raft, member.origin);
    }
    this.views = views;
    const leader = this.leaderView();
    // The leader's member list is the current one; a lagging follower may still list a removed master.
    if (leader !== null) this.directory.learn(leader.raft, leader.origin);
    const followed = this.connection.status.master;
    const followedView = followed === null ? undefined : views.get(followed.origin);
    if (followedView?.ok) this.connection.observe(followed.origin, followedView.raft);
    this.onChange('raft');
    // The first answer names the other masters: ask them now rather than a period later.
    if (!again && this.directory.members().length > members.length) await this.pollRaft(true);
  }

  async pollAgents() {
    const followed = this.connection.status.master;
    if (followed === null || !this.store.loaded) return;
    const asked = this.store.position();
    const answer = await new MasterClient(followed.origin).call(
      'GET_AGENTS',
      {},
      { stale: followed.role !== 'leader' },
    );
    if (this.store.mergeAgents(answer, asked)) this.onChange('agents');
  }

  async pollAllocation() {
    const leader = this.leaderView();
    if (leader === null) {
      this.allocation = { report: null, error: 'no leader answers now', atMs: Date.now() };
    } else {
      try {
        const report = await new MasterClient(leader.origin).call('GET_ALLOCATION');
        this.allocation = { report, error: null, atMs: Date.now() };
      } catch (error) {
        this.allocation = { report: this.allocation.report, error: describe(error), atMs: Date.now() };
      }
    }
    this.onChange('allocation');
  }
}
