// Leader services follow leadership, and only leadership, under load: three real `flotilla
// master` processes hosting the built-in services and jobs frameworks (the last two leader
// services, as in a default deployment), one real agent, and a scheduler (the SDK) launching
// short tasks without pause. Leadership is handed from master to master 20 times with TRANSFER_LEADERSHIP. All the
// while every master's GET_RAFT is sampled: at any sample at most one master runs leader
// services, and it is the leader of the term they run in. Afterwards the masters' JSON logs
// ("leader service started" / "leader service stopped", with term and durationMs) show that the
// intervals in which services ran never overlap across masters, that every term started them in
// the fixed order and stopped them in reverse, and a task launched after the last transfer
// finishes.
// flotilla-test-timeout-seconds: 600
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import type { LeaderServicesView } from '../../src/master/leadership/view.ts';
import { AgentProcess } from '../agent/support/daemon-support.ts';
import { newClient } from '../frameworks/support/cluster.ts';
import { ProcessCluster, type ReplicaProcess } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const transfers = 20;
const serviceOrder = [
  'history-limits',
  'agent-gateway',
  'scheduler-sessions',
  'framework-failover',
  'allocation-loop',
  'agent-drains',
  'learner-promoter',
  'master-zones',
  'zone-preference',
  'services-framework',
  'jobs-framework',
];
/** The masters host the built-in frameworks, as `flotilla master` does by default. */
const hostedFrameworks = ['--services', 'hosted', '--jobs', 'hosted'];
/** Live tasks the scheduler keeps at most: load, without filling the agent. */
const maxLiveTasks = 4;
/** Pause between GET_RAFT rounds: frequent, and still leaving the two cores to the cluster. */
const sampleIntervalMs = 20;
/** Log times have millisecond resolution. */
const clockResolutionMs = 1;

// ---------------------------------------------------------------- the masters' log lines

interface ServiceLogLine {
  readonly master: string;
  readonly event: 'started' | 'stopped';
  readonly service: string;
  readonly term: number;
  /** When the start began (its log time less its duration), or when the stop returned. */
  readonly atMs: number;
}

/** Collects every master's leader-service log lines, from its first output on, whole lines only. */
class ServiceLog {
  readonly lines: ServiceLogLine[] = [];

  follow(replica: ReplicaProcess): void {
    let partial = '';
    const take = (text: string): void => {
      const chunks = (partial + text).split('\n');
      partial = chunks.pop() ?? '';
      for (const chunk of chunks) this.#parse(replica.id, chunk);
    };
    // What the replica wrote before we listened is in its output (nothing is lost in between:
    // output arrives in later turns of the event loop).
    take(replica.output);
    replica.child?.stdout?.on('data', (data: Buffer) => take(data.toString('utf8')));
    replica.child?.stderr?.on('data', (data: Buffer) => take(data.toString('utf8')));
  }

  #parse(master: string, line: string): void {
    if (!line.includes('"leader service ')) return;
    const entry = JSON.parse(line) as { msg: string; time: string; service: string; term: number; durationMs: number };
    if (entry.msg !== 'leader service started' && entry.msg !== 'leader service stopped') return;
    const timeMs = Date.parse(entry.time);
    const started = entry.msg === 'leader service started';
    this.lines.push({
      master,
      event: started ? 'started' : 'stopped',
      service: entry.service,
      term: entry.term,
      atMs: started ? timeMs - entry.durationMs : timeMs,
    });
  }
}

interface RunInterval {
  readonly master: string;
  readonly term: number;
  readonly fromMs: number;
  /** Infinity: still running when the test ended. */
  readonly toMs: number;
}

/** Per (master, term): from the first start to the last stop; checks the order within the term. */
function runIntervals(lines: readonly ServiceLogLine[]): RunInterval[] {
  const byRun = new Map<string, ServiceLogLine[]>();
  for (const line of lines) {
    const key = `${line.master}/${line.term}`;
    byRun.set(key, [...(byRun.get(key) ?? []), line]);
  }
  return [...byRun.values()].map((run) => {
    const { master, term } = run[0]!;
    const started = run.filter((line) => line.event === 'started').map((line) => line.service);
    const stopped = run.filter((line) => line.event === 'stopped').map((line) => line.service);
    assert.equal(started, serviceOrder.slice(0, started.length), `${master} term ${term} starts in order`);
    assert.equal(stopped, [...started].reverse().slice(0, stopped.length), `${master} term ${term} stops in reverse`);
    const open = stopped.length < started.length;
    return {
      master,
      term,
      fromMs: Math.min(...run.map((line) => line.atMs)),
      toMs: open ? Number.POSITIVE_INFINITY : Math.max(...run.map((line) => line.atMs)),
    };
  });
}

// ---------------------------------------------------------------- sampling GET_RAFT

interface Sample {
  readonly master: string;
  readonly role: string;
  readonly term: number;
  readonly services: LeaderServicesView;
}

async function sampleOf(replica: ReplicaProcess): Promise<Sample | null> {
  try {
    const response = await fetch(`http://${replica.address}/api/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'GET_RAFT' }),
      signal: AbortSignal.timeout(2_000),
    });
    const body = (await response.json()) as {
      get_raft: { role: string; term: number; leader_services: LeaderServicesView };
    };
    const raft = body.get_raft;
    return { master: replica.id, role: raft.role, term: raft.term, services: raft.leader_services };
  } catch {
    return null; // busy or restarting: this round goes without it
  }
}

/** Samples every master until stopped, and keeps what broke the invariant. */
class LeadershipSampler {
  readonly violations: string[] = [];
  rounds = 0;
  readonly mastersSeenRunning = new Set<string>();
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(private readonly cluster: ProcessCluster) {
    this.#done = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const samples = (await Promise.all(this.cluster.replicas.map(sampleOf))).filter((sample) => sample !== null);
      this.#check(samples);
      this.rounds += 1;
      await new Promise((resolve) => setTimeout(resolve, sampleIntervalMs));
    }
  }

  #check(samples: readonly Sample[]): void {
    const running = samples.filter((sample) => sample.services.services.some((service) => service.running));
    if (running.length > 1)
      this.violations.push(`round ${this.rounds}: services run on ${running.map((s) => s.master).join(' and ')}`);
    for (const sample of running) {
      this.mastersSeenRunning.add(sample.master);
      if (sample.role !== 'leader' || sample.services.term !== sample.term)
        this.violations.push(
          `round ${this.rounds}: ${sample.master} runs services of term ${sample.services.term} as ${sample.role} of term ${sample.term}`,
        );
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }
}

// ---------------------------------------------------------------- the load

/** Launches a short task on every offer while fewer than `maxLiveTasks` run; records every task's end. */
class ContinuousScheduler {
  /** Every task launched, with when. */
  readonly launchedAtMs = new Map<string, number>();
  readonly #live = new Set<string>();
  readonly finished = new Set<string>();
  readonly failed: string[] = [];
  #sequence = 0;

  constructor(readonly client: SchedulerClient) {
    client.on('OFFERS', (event) => {
      for (const offer of event.offers.offers) {
        const match = this.#live.size < maxLiveTasks ? matchOffer(offer, { cpus: 0.1, memMb: 32 }) : null;
        if (match === null) {
          void client.decline([offer.id], { refuse_seconds: 0.5 }).catch(() => undefined);
          continue;
        }
        const taskId = `load-${++this.#sequence}`;
        this.launchedAtMs.set(taskId, Date.now());
        this.#live.add(taskId);
        const task = buildTaskInfo(offer, match, {
          name: 'load',
          taskId,
          command: { kind: 'shell', line: 'sleep 0.2' },
        });
        // A launch refused while leadership moves (503, 504) leaves the live set; one that went
        // through ends with an update like any other.
        void client.launch(offer, [task], { refuse_seconds: 0.1 }).catch(() => this.#live.delete(taskId));
      }
    });
    client.on('UPDATE', (event) => {
      const status = event.update.status;
      const taskId = status.task_id.value;
      if (status.state === 'TASK_FINISHED') this.finished.add(taskId);
      else if (['TASK_FAILED', 'TASK_ERROR', 'TASK_KILLED'].includes(status.state))
        this.failed.push(`${taskId}: ${status.state} ${status.message ?? ''}`);
      if (!['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING'].includes(status.state)) this.#live.delete(taskId);
    });
  }

  /** A task launched at or after `sinceMs` that finished. */
  finishedSince(sinceMs: number): string | null {
    for (const taskId of this.finished) if ((this.launchedAtMs.get(taskId) ?? -1) >= sinceMs) return taskId;
    return null;
  }
}

// ---------------------------------------------------------------- the test

async function transferLeadership(from: ReplicaProcess, to: ReplicaProcess): Promise<void> {
  const response = await fetch(`http://${from.address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'TRANSFER_LEADERSHIP', transfer_leadership: { id: to.id } }),
    signal: AbortSignal.timeout(5_000),
  });
  assert.is(response.status, 200, `TRANSFER_LEADERSHIP ${from.id} → ${to.id}: ${await response.text()}`);
}

async function leadingServices(replica: ReplicaProcess): Promise<boolean> {
  const sample = await sampleOf(replica);
  return sample !== null && sample.role === 'leader' && sample.services.state === 'leading';
}

test(`leader services follow ${transfers} leadership transfers under scheduler and agent load`, async () => {
  const cluster = await ProcessCluster.start(makeTempDir('leadership-transfer-'), 3, hostedFrameworks, 'master');
  const log = new ServiceLog();
  for (const replica of cluster.replicas) log.follow(replica);
  const masters = cluster.replicas.map((replica) => replica.address).join(',');
  const agent = await AgentProcess.start(masters);
  const client = newClient(masters);
  const scheduler = new ContinuousScheduler(client);
  let sampler: LeadershipSampler | null = null;
  try {
    await client.subscribe();
    await waitFor(() => scheduler.finished.size >= 3, { timeoutMs: 120_000, what: 'the first tasks to finish' });
    sampler = new LeadershipSampler(cluster);
    for (let transfer = 1; transfer <= transfers; transfer++) {
      const leader = await cluster.waitForLeader();
      await waitFor(() => leadingServices(leader), { timeoutMs: 30_000, what: `${leader.id}'s services to run` });
      const position = cluster.replicas.indexOf(leader);
      const target = cluster.replicas[(position + 1) % cluster.replicas.length]!;
      const finishedBefore = scheduler.finished.size;
      await transferLeadership(leader, target);
      await waitFor(() => leadingServices(target), {
        timeoutMs: 30_000,
        what: `transfer ${transfer}: ${target.id} to lead with its services running`,
      });
      // Under load: the scheduler, re-subscribed to the new leader, gets tasks finished there.
      await waitFor(() => scheduler.finished.size > finishedBefore, {
        timeoutMs: 60_000,
        what: `transfer ${transfer}: a task to finish under ${target.id}`,
      });
    }
    await sampler.stop();
    const afterTransfersMs = Date.now();
    const lastTask = await waitFor(() => scheduler.finishedSince(afterTransfersMs), {
      timeoutMs: 60_000,
      what: 'a task launched after the transfers to finish',
    });
    assert.ok(lastTask);
    assert.equal(sampler.violations, [], 'at any sample, only the leader of the term runs leader services');
    assert.ok(sampler.rounds > transfers, `sampled ${sampler.rounds} rounds`);
    assert.is(sampler.mastersSeenRunning.size, 3, 'every master ran the services at some sample');
    assert.equal(scheduler.failed, [], 'no task failed');
    const intervals = runIntervals(log.lines).sort((left, right) => left.fromMs - right.fromMs);
    assert.ok(intervals.length >= transfers + 1, `${intervals.length} leadership runs for ${transfers} transfers`);
    const gapsMs = intervals.slice(1).map((next, index) => next.fromMs - intervals[index]!.toMs);
    console.log(
      JSON.stringify({
        transfers,
        samplingRounds: sampler.rounds,
        tasksFinished: scheduler.finished.size,
        leadershipRuns: intervals.length,
        smallestGapBetweenRunsMs: Math.min(...gapsMs),
      }),
    );
    for (let index = 1; index < intervals.length; index++) {
      const previous = intervals[index - 1]!;
      const next = intervals[index]!;
      assert.ok(
        previous.toMs <= next.fromMs + clockResolutionMs,
        `${previous.master} (term ${previous.term}) ran services until ${previous.toMs}, after ${next.master} (term ${next.term}) started them at ${next.fromMs}`,
      );
    }
  } finally {
    await sampler?.stop();
    client.close();
    await agent.stop();
    await cluster.stop();
  }
});

test.run();
