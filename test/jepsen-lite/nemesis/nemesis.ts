// Runs the fault schedule against the cluster, one fault at a time, and records each fault's
// band (start, heal, end) on the run clock for the report and the timeline. After the last
// fault, healAll() leaves the cluster whole: every member running, the network clean, as many
// members as at the start.
import { setTimeout as sleep } from 'node:timers/promises';
import type { SeededRandom } from '../../../src/raft/random.ts';
import type { Cluster } from '../cluster/cluster.ts';
import type { MonotonicClock } from '../history/clock.ts';
import { runFault } from './faults.ts';
import { describePlan, type FaultKind, type ScheduledFault } from './schedule.ts';

export interface FaultRecord {
  readonly kind: FaultKind | 'heal';
  readonly description: string;
  readonly targets: readonly string[];
  readonly detail: string;
  readonly applied: boolean;
  readonly startMs: number;
  /** When the fault was undone; the band in the timeline runs from start to heal. */
  readonly healMs: number;
  readonly endMs: number;
}

/** A fault shorter than this is not worth starting at the end of the window. */
const minimumFaultMs = 1_000;
const healMembershipAttempts = 5;
/** How long a healed fault waits for every member to answer with a leader before the next one. */
const wholeWaitMs = 60_000;

export class Nemesis {
  readonly records: FaultRecord[] = [];
  /** What is happening now, for the live status line. */
  current: string | null = null;
  private stopped = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly random: SeededRandom,
    private readonly clock: MonotonicClock,
  ) {}

  /**
   * Runs the schedule; no fault is still active at `endMs` (the start of the quiet period).
   * A fault is over when the cluster is whole again, not when its heal was sent: a master
   * restarted on a loaded machine boots for seconds, and the next kill-leader would otherwise
   * take a majority down. The time spent waiting pushes the rest of the schedule back, so each
   * fault keeps its planned gap of a whole cluster before it.
   */
  async run(schedule: readonly ScheduledFault[], endMs: number): Promise<void> {
    let lateMs = 0;
    for (const fault of schedule) {
      if (this.stopped) return;
      const waitMs = fault.atMs + lateMs - this.clock.nowMs();
      if (waitMs > 0) await sleep(waitMs);
      const durationMs = Math.min(fault.durationMs, endMs - this.clock.nowMs());
      if (durationMs < minimumFaultMs) return;
      await this.runOne(fault, durationMs);
      lateMs = Math.max(lateMs, this.clock.nowMs() - (fault.atMs + fault.durationMs));
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Every member running and resumed, the network clean, the membership back to `size`. */
  async healAll(size: number): Promise<void> {
    const startMs = this.clock.nowMs();
    const notes: string[] = [];
    for (const id of this.cluster.members()) {
      const master = this.cluster.master(id);
      if (master.state === 'paused') this.cluster.resume(id);
      if (master.state === 'stopped') {
        this.cluster.restart(id);
        notes.push(`restarted ${id}`);
      }
    }
    this.cluster.network.faults.healAll();
    await this.cluster.network.apply();
    for (let attempt = 0; attempt < healMembershipAttempts && this.cluster.members().length < size; attempt++) {
      const added = await this.cluster.addFreshMaster(30_000);
      notes.push(`ADD_MASTER ${added.id}: ${added.detail}`);
    }
    if (notes.length > 0) {
      const endMs = this.clock.nowMs();
      this.records.push({
        kind: 'heal',
        description: 'heal everything',
        targets: [],
        detail: notes.join('; '),
        applied: true,
        startMs,
        healMs: endMs,
        endMs,
      });
    }
  }

  /** The cluster could not be made whole again: said in the report, and the run goes on. */
  noteFailedHeal(error: Error): void {
    const now = this.clock.nowMs();
    this.records.push({
      kind: 'heal',
      description: 'heal everything',
      targets: [],
      detail: `healing failed: ${error.message}`,
      applied: false,
      startMs: now,
      healMs: now,
      endMs: now,
    });
  }

  private async runOne(fault: ScheduledFault, durationMs: number): Promise<void> {
    const description = describePlan(fault.plan);
    const startMs = this.clock.nowMs();
    let healMs: number | null = null;
    this.current = description;
    try {
      const outcome = await runFault(
        {
          cluster: this.cluster,
          random: this.random,
          healed: () => {
            healMs ??= this.clock.nowMs();
          },
        },
        fault.plan,
        durationMs,
      );
      const whole = await this.cluster.waitUntilWhole(wholeWaitMs);
      const endMs = this.clock.nowMs();
      const wholeAfterMs = Math.round(endMs - (healMs ?? endMs));
      const detail = `${outcome.detail}; ${whole ? `whole again ${wholeAfterMs} ms after the heal` : `not whole ${wholeAfterMs} ms after the heal`}`;
      this.records.push({
        kind: fault.plan.kind,
        description,
        ...outcome,
        detail,
        startMs,
        healMs: healMs ?? endMs,
        endMs,
      });
    } catch (error) {
      const endMs = this.clock.nowMs();
      this.records.push({
        kind: fault.plan.kind,
        description,
        targets: [],
        detail: `the fault failed: ${(error as Error).message}`,
        applied: false,
        startMs,
        healMs: healMs ?? endMs,
        endMs,
      });
    } finally {
      this.current = null;
    }
  }
}
