// A cluster of real masters on a Network: starting them, finding the leader, and the process
// and membership operations the nemeses are made of.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpAnswer } from '../client/http.ts';
import { errorCode } from '../client/outcome.ts';
import type { Network } from '../net/network.ts';
import { fetchHealth, type Health, operatorCall } from './health.ts';
import { type MasterLaunch, MasterProcess } from './master-process.ts';

export interface ClusterOptions {
  readonly network: Network;
  readonly runDir: string;
  readonly size: number;
  /** Flags for every master (timing). */
  readonly extraArguments: readonly string[];
}

const leaderPollMs = 50;
/**
 * A first leader, from the masters' launch: at load 50 on two cores (niced, as helpers run it)
 * a master took 38 s from its spawn to its first log line, and 30 s failed every run there.
 */
const startLeaderWaitMs = 120_000;

export class Cluster {
  readonly masters = new Map<string, MasterProcess>();
  private readonly launches = new Map<string, MasterLaunch>();
  /** The members as the harness last made them, voters and learners, in id order. */
  private memberIds: string[] = [];
  private lastNumber = 0;

  private constructor(private readonly options: ClusterOptions) {}

  get network(): Network {
    return this.options.network;
  }

  static async start(options: ClusterOptions): Promise<Cluster> {
    const cluster = new Cluster(options);
    mkdirSync(path.join(options.runDir, 'logs'), { recursive: true });
    const ids = Array.from({ length: options.size }, () => cluster.nextId());
    for (const id of ids) await cluster.place(id);
    cluster.memberIds = ids;
    for (const id of ids)
      cluster.launch(id, {
        peers: options.network.peersFlag(id, ids),
        join: false,
        extraArguments: options.extraArguments,
      });
    try {
      await cluster.waitForLeader(startLeaderWaitMs);
    } catch (error) {
      // Not handed to the caller, so nobody else stops them: running children keep the runner alive.
      await cluster.stopAll();
      throw error;
    }
    return cluster;
  }

  members(): readonly string[] {
    return this.memberIds;
  }

  /** Members whose process runs (not killed, not paused). */
  runningMembers(): string[] {
    return this.memberIds.filter((id) => this.masters.get(id)?.state === 'running');
  }

  master(id: string): MasterProcess {
    const master = this.masters.get(id);
    if (master === undefined) throw new Error(`cluster: no master ${id}`);
    return master;
  }

  async health(id: string): Promise<Health | null> {
    return this.masters.get(id)?.state === 'running' ? fetchHealth(this.network.book, id) : null;
  }

  /** The member that says it leads, in the highest term any leader claims; null if none. */
  async leader(excluding: readonly string[] = []): Promise<string | null> {
    const candidates = this.memberIds.filter((id) => !excluding.includes(id));
    const answers = await Promise.all(candidates.map((id) => this.health(id)));
    let best: Health | null = null;
    for (const health of answers)
      if (health?.role === 'leader' && (best === null || health.term > best.term)) best = health;
    return best?.id ?? null;
  }

  async waitForLeader(timeoutMs: number, excluding: readonly string[] = []): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const leader = await this.leader(excluding);
      if (leader !== null) return leader;
      await sleep(leaderPollMs);
    }
    throw new Error(
      `no leader among ${this.memberIds.filter((id) => !excluding.includes(id)).join(', ')} within ${timeoutMs} ms`,
    );
  }

  /**
   * True once every member answers /health and knows a leader (a restarted master has booted
   * and rejoined the quorum); false if that has not happened within `timeoutMs`.
   */
  async waitUntilWhole(timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const answers = await Promise.all(this.memberIds.map((id) => this.health(id)));
      if (answers.every((health) => health !== null && health.leader !== null)) return true;
      await sleep(leaderPollMs);
    }
    return false;
  }

  /** Resolves once the leader lists `count` registered agents; throws after `timeoutMs`. */
  async waitForAgents(count: number, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    let registered = 0;
    while (performance.now() < deadline) {
      const answer = await this.leaderCall({ type: 'GET_AGENTS' }, Math.max(1, deadline - performance.now()));
      const body = answer?.status === 200 ? (answer.body as { get_agents?: { agents?: unknown[] } }) : null;
      registered = body?.get_agents?.agents?.length ?? 0;
      if (registered >= count) return;
      await sleep(leaderPollMs);
    }
    throw new Error(`${registered} of ${count} agents registered within ${timeoutMs} ms`);
  }

  async kill(id: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL'): Promise<void> {
    await this.master(id).stop(signal);
  }

  /** Starts a stopped master again with the flags it first had (its data dir holds the rest). */
  restart(id: string): void {
    const master = this.master(id);
    if (master.state !== 'stopped') return;
    master.start(this.launches.get(id)!);
  }

  pause(id: string): void {
    this.master(id).pause();
  }

  resume(id: string): void {
    this.master(id).resume();
  }

  /**
   * An operator call sent to the leader (following 307s): retried while the cluster has no
   * leader or another membership change is pending, until `timeoutMs`. Null if no leader
   * answered at all. A membership call that timed out may still have happened: callers check
   * the membership afterwards instead of trusting the answer (see removeMaster).
   */
  async leaderCall(call: unknown, timeoutMs: number, excluding: readonly string[] = []): Promise<HttpAnswer | null> {
    const deadline = performance.now() + timeoutMs;
    let last: HttpAnswer | null = null;
    while (performance.now() < deadline) {
      const leader = await this.leader(excluding);
      const answer = leader === null ? null : await operatorCall(this.network.book, leader, call);
      if (answer !== null) {
        last = answer;
        if (answer.status === 200) return answer;
        const code = errorCode(answer.body);
        const retryable =
          answer.status === 307 ||
          answer.status === 503 ||
          code === 'MEMBERSHIP_CHANGE_PENDING' ||
          code === 'NO_COMMIT_IN_TERM' ||
          code === 'NOT_CAUGHT_UP';
        if (!retryable) return answer;
      }
      await sleep(200);
    }
    return last;
  }

  /** The members and their roles as the cluster's leader (other than `excluding`) sees them. */
  async raftMembers(
    timeoutMs: number,
    excluding: readonly string[] = [],
  ): Promise<{ id: string; role: string }[] | null> {
    const answer = await this.leaderCall({ type: 'GET_RAFT' }, timeoutMs, excluding);
    const members = (answer?.body as { get_raft?: { members?: { id: string; role: string }[] } } | null)?.get_raft
      ?.members;
    return members ?? null;
  }

  /**
   * REMOVE_MASTER, then the removed master is stopped. The answer alone does not tell: a leader
   * that removes itself may never answer (the others drop it as soon as they append the change),
   * so the membership is read back from a leader among the others.
   */
  async removeMaster(id: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const answer = await this.leaderCall({ type: 'REMOVE_MASTER', remove_master: { id } }, timeoutMs);
    const said = answer === null ? 'no answer' : `${answer.status} ${JSON.stringify(answer.body)}`;
    const members = await this.raftMembers(timeoutMs, [id]);
    if (members === null || members.some((member) => member.id === id)) {
      return {
        ok: false,
        detail: `REMOVE_MASTER answered ${said}; ${members === null ? 'no leader to confirm it' : `${id} is still a member`}`,
      };
    }
    this.memberIds = this.memberIds.filter((member) => member !== id);
    await this.kill(id);
    await this.network.removeNode(id);
    return {
      ok: true,
      detail: answer?.status === 200 ? 'removed' : `removed, although REMOVE_MASTER answered ${said}`,
    };
  }

  /** A fresh master (new id, empty data dir) started with --join and added with ADD_MASTER; it
   *  is promoted by the leader once caught up. Resolves when it is a voter, or says why not. */
  async addFreshMaster(timeoutMs: number): Promise<{ id: string; ok: boolean; detail: string }> {
    const id = this.nextId();
    await this.place(id);
    const peers = this.network.peersFlag(id, [...this.memberIds, id]);
    this.launch(id, { peers, join: true, extraArguments: this.options.extraArguments });
    const deadline = performance.now() + timeoutMs;
    const answer = await this.leaderCall(
      { type: 'ADD_MASTER', add_master: { id, address: this.network.advertisedAddress(id) } },
      timeoutMs,
    );
    if (answer?.status !== 200) {
      const members = await this.raftMembers(10_000);
      if (!members?.some((member) => member.id === id)) {
        await this.kill(id);
        return {
          id,
          ok: false,
          detail: `ADD_MASTER answered ${answer === null ? 'nothing' : `${answer.status} ${JSON.stringify(answer.body)}`}`,
        };
      }
    }
    this.memberIds = [...this.memberIds, id].sort(compareIds);
    while (performance.now() < deadline) {
      const members = await this.raftMembers(2_000);
      if (members?.some((member) => member.id === id && member.role === 'voter'))
        return { id, ok: true, detail: 'added and promoted to voter' };
      await sleep(200);
    }
    return { id, ok: false, detail: `${id} was added but not promoted within ${timeoutMs} ms` };
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.masters.values()].map((master) => master.stop('SIGKILL')));
  }

  private nextId(): string {
    this.lastNumber += 1;
    return `m${this.lastNumber}`;
  }

  private async place(id: string): Promise<void> {
    const placement = await this.network.addNode(id);
    const master = new MasterProcess(
      placement,
      path.join(this.options.runDir, 'data', id),
      path.join(this.options.runDir, 'logs', `${id}.log`),
    );
    this.masters.set(id, master);
  }

  private launch(id: string, launch: MasterLaunch): void {
    this.launches.set(id, launch);
    this.master(id).start(launch);
  }
}

/** m2 before m10. */
export function compareIds(left: string, right: string): number {
  return left.localeCompare(right, 'en', { numeric: true });
}
