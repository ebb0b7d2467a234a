// The nemesis starts a fault only on a whole cluster. A SIGKILLed master restarted on a loaded
// machine boots for seconds (tsx compiles, the HTTP server binds, Raft rejoins); a kill-leader
// sent meanwhile leaves one master of three and no quorum at all, and the run sees no launch
// acknowledged after the first kill (issue 12). The cluster here is a stand-in whose restarted
// members finish booting only after some /health polls: counts, not wall time, decide.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SeededRandom } from '../../src/raft/random.ts';
import type { Cluster } from './cluster/cluster.ts';
import { MonotonicClock } from './history/clock.ts';
import { Nemesis } from './nemesis/nemesis.ts';
import type { ScheduledFault } from './nemesis/schedule.ts';

const pollsToBoot = 3;

/** Three masters; the lowest-numbered one that is up leads. */
class BootingCluster {
  private readonly ids = ['m1', 'm2', 'm3'];
  private readonly down = new Set<string>();
  /** Restarted members still booting: health polls left before they answer. */
  private readonly booting = new Map<string, number>();
  /** How many members were up (running and booted) at each kill. */
  readonly upAtKills: number[] = [];

  members(): readonly string[] {
    return this.ids;
  }

  private up(): string[] {
    return this.ids.filter((id) => !this.down.has(id) && !this.booting.has(id));
  }

  async waitForLeader(): Promise<string> {
    const [leader] = this.up();
    if (leader === undefined || this.up().length < 2) throw new Error('no quorum');
    return leader;
  }

  async kill(id: string): Promise<void> {
    this.upAtKills.push(this.up().length);
    this.down.add(id);
  }

  restart(id: string): void {
    this.down.delete(id);
    this.booting.set(id, pollsToBoot);
  }

  async waitUntilWhole(): Promise<boolean> {
    for (;;) {
      for (const [id, left] of this.booting) {
        if (left <= 1) this.booting.delete(id);
        else this.booting.set(id, left - 1);
      }
      if (this.up().length === this.ids.length) return true;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

const rejoin = suite('nemesis waits for a whole cluster');

rejoin('a kill-leader never starts while the last killed master is still booting', async () => {
  const cluster = new BootingCluster();
  const nemesis = new Nemesis(cluster as unknown as Cluster, new SeededRandom(1), new MonotonicClock());
  const schedule: ScheduledFault[] = [0, 1, 2].map((index) => ({
    atMs: index * 1_050,
    durationMs: 1_000,
    plan: { kind: 'kill-leader' },
  }));
  await nemesis.run(schedule, 60_000);
  assert.equal(cluster.upAtKills, [3, 3, 3]);
  assert.equal(
    nemesis.records.map((record) => record.applied),
    [true, true, true],
  );
  for (const record of nemesis.records) assert.match(record.detail, /whole again/);
  for (let index = 1; index < nemesis.records.length; index++)
    assert.ok(nemesis.records[index]!.startMs >= nemesis.records[index - 1]!.endMs);
});

rejoin.run();
