// No double-booking across a leader failure (issue 6, "the leader is killed between offer and
// ACCEPT and no resource is ever double-booked"): three real masters, two real agents. A
// framework holds offers for the whole cluster, the leader is SIGKILLed, and the framework
// ACCEPTs the old offers on the new leader while a rival takes whatever the new leader offers.
// Offers live in the replicated state, so an old offer is either honoured exactly once or
// refused as Mesos refuses a stale one (TASK_LOST, REASON_INVALID_OFFERS); in both cases no
// agent runs more than it has, by the masters' account and by the agents' own.
//
// The other half of that issue's failover line, "a scheduler that reconnects after a master
// failover gets every update it missed", is test/frameworks/sdk-failover.test.ts.
// flotilla-test-timeout-seconds: 300
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TaskInfo } from '../../src/frameworks/sdk/wire.ts';
import type { Offer, TaskStatus } from '../../src/protocol/mesos.ts';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';
import { liveTaskStates, SlotFramework, tearDownFrameworks } from './support/framework.ts';

const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31009]';
const clusterCpus = 4;
const waitTimeoutMs = 120_000;

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start('kill-accept', [agentResources, agentResources]);
});
test.after(async () => {
  await cluster?.stop();
});

function framework(name: string, mode: 'launch' | 'hold'): SlotFramework {
  const created = new SlotFramework({
    name,
    role: 'shared',
    cpus: 0.25,
    memMb: 32,
    masters: cluster.masterList,
    runsFile: cluster.runsFile,
    tasksPerOffer: 1000,
    acceptRefuseSeconds: 5,
  });
  created.mode = mode;
  return created;
}

const cpusOf = (offer: Offer): number =>
  offer.resources
    .filter((resource) => resource.name === 'cpus')
    .reduce((total, resource) => total + (resource.scalar?.value ?? 0), 0);

type Verdict = 'honoured' | 'refused' | 'lost before launch';

/**
 * Honoured (RUNNING), refused as a stale offer (Mesos: TASK_LOST, REASON_INVALID_OFFERS), or
 * accepted by the new leader before the agent re-registered with it and then dropped because
 * the agent did not report it (Mesos' agent reconciliation: TASK_LOST, REASON_RECONCILIATION;
 * the launch never reached the agent). Anything else fails the test.
 */
function verdict(status: TaskStatus): Verdict {
  if (status.state === 'TASK_RUNNING') return 'honoured';
  assert.is(status.state, 'TASK_LOST', `a launch that did not run is TASK_LOST: ${JSON.stringify(status)}`);
  if (status.reason === 'REASON_RECONCILIATION') return 'lost before launch';
  assert.is(status.reason, 'REASON_INVALID_OFFERS', `a refused launch names the offers: ${JSON.stringify(status)}`);
  return 'refused';
}

/** The masters' books and the agents' own task lists both fit every agent; no task ran twice. */
async function assertNothingOverCommitted(
  frameworks: readonly SlotFramework[],
  cpusByTask: ReadonlyMap<string, number>,
): Promise<void> {
  for (const view of await cluster.agentViews()) {
    for (const name of ['cpus', 'mem']) {
      const total = view.total[name] ?? 0;
      assert.ok(
        (view.allocated[name] ?? 0) + (view.offered[name] ?? 0) <= total + 1e-9,
        `agent ${view.hostname}: ${name} allocated ${view.allocated[name]} + offered ${view.offered[name]} > total ${total}`,
      );
    }
  }
  for (const agent of cluster.agents) {
    // Asked again while the agent does not answer in time (the operator calls are, too): at load
    // 55 on two cores, niced with the test, an agent right after this burst of launches missed
    // the single 5 s bound in 3 of 6 runs while its log showed it working on.
    let asked = 0;
    const tasks = await waitFor(
      () => {
        asked += 1;
        return cluster.agentTasks(agent);
      },
      { timeoutMs: waitTimeoutMs, what: `agent ${agent.hostname} to answer GET_STATE`, intervalMs: 200 },
    );
    if (asked > 1) console.log(`agent ${agent.hostname} answered GET_STATE when asked the ${asked}th time`);
    const live = tasks.filter((task) => liveTaskStates.has(task.state));
    const used = live.reduce((total, task) => total + (cpusByTask.get(task.taskId) ?? Number.NaN), 0);
    assert.ok(
      used <= 2 + 1e-9,
      `agent ${agent.hostname} itself runs ${used} cpus of tasks (${live.map((task) => task.taskId).join(', ')})`,
    );
  }
  const allRuns = cluster.runs().map((run) => run.taskId);
  assert.is(new Set(allRuns).size, allRuns.length, `a task ran twice: ${allRuns.join(', ')}`);
  const ours = new Set(frameworks.flatMap((one) => [...one.launched().keys()]));
  const runs = allRuns.filter((taskId) => ours.has(taskId));
  const running = new Set(frameworks.flatMap((one) => one.running()));
  for (const taskId of runs) assert.ok(running.has(taskId), `${taskId} ran but its framework does not see it RUNNING`);
  for (const taskId of running) assert.ok(runs.includes(taskId), `${taskId} is RUNNING but never started`);
}

function tearDownAll(frameworks: readonly SlotFramework[]): Promise<void> {
  return tearDownFrameworks(cluster, frameworks);
}

test('offers held across a SIGKILL of the leader are ACCEPTed on the new leader at most once, and nothing is double-booked', async () => {
  const holder = framework('holder', 'hold');
  const rival = framework('rival', 'launch');
  const cpusByTask = new Map<string, number>();
  try {
    await holder.subscribe();
    await waitFor(() => holder.held.reduce((total, offer) => total + cpusOf(offer), 0) === clusterCpus, {
      timeoutMs: waitTimeoutMs,
      what: 'the holder to hold offers of every cpu',
      intervalMs: 100,
    });
    await rival.subscribe();
    const oldLeader = await cluster.leader();
    assert.is(holder.client.master, oldLeader.address);
    const oldOffers = holder.held.splice(0);
    await cluster.masters.kill(oldLeader, 'SIGKILL');
    await waitFor(() => holder.client.state === 'subscribed' && holder.client.master !== oldLeader.address, {
      timeoutMs: waitTimeoutMs,
      what: 'the holder to re-subscribe on a new leader',
      intervalMs: 100,
    });

    // Each offer of the old leader is ACCEPTed whole: one task of all its cpus. (Offers the new
    // leader makes meanwhile wait in `held` until resume().)
    const launches: TaskInfo[] = [];
    for (const offer of oldOffers) {
      const task = holder.taskFrom(offer, offer.resources, { cpus: cpusOf(offer), memMb: 32 });
      assert.ok(task !== null, 'the offer holds its own cpus');
      cpusByTask.set(task.task_id.value, cpusOf(offer));
      launches.push(task);
      await holder.launch(offer, [task]);
    }
    holder.resume();
    const verdicts = await Promise.all(
      launches.map(async (task) =>
        verdict(
          await holder.waitForState(task.task_id.value, [
            'TASK_RUNNING',
            'TASK_LOST',
            'TASK_DROPPED',
            'TASK_ERROR',
            'TASK_FAILED',
          ]),
        ),
      ),
    );

    // Steady state: the rival (and the holder, now launching) fill whatever is left.
    await waitFor(
      async () => {
        const views = await cluster.agentViews();
        const everyCpuRuns = views.every((view) => view.allocated.cpus === view.total.cpus);
        const settled = [holder, rival].every((one) =>
          one.live().every((id) => one.statuses.get(id)?.state === 'TASK_RUNNING'),
        );
        return everyCpuRuns && settled;
      },
      {
        timeoutMs: waitTimeoutMs,
        what: `the cluster to fill (holder ${holder.running().length}, rival ${rival.running().length} running)`,
        intervalMs: 250,
      },
    );
    for (const one of [holder, rival])
      for (const id of one.launched().keys()) if (!cpusByTask.has(id)) cpusByTask.set(id, 0.25);
    await assertNothingOverCommitted([holder, rival], cpusByTask);

    const runs = cluster.runs().map((run) => run.taskId);
    launches.forEach((task, position) => {
      const started = runs.filter((id) => id === task.task_id.value).length;
      assert.is(
        started,
        verdicts[position] === 'honoured' ? 1 : 0,
        `${task.task_id.value} was ${verdicts[position]} and started ${started} times`,
      );
    });
  } finally {
    await tearDownAll([holder, rival]);
    // Back to three masters for the next test.
    for (const replica of cluster.masters.replicas) if (replica.child === null) cluster.masters.launch(replica);
    await waitFor(
      async () =>
        (await Promise.all(cluster.masters.replicas.map((replica) => cluster.masters.status(replica)))).every(
          (status) => status !== null,
        ),
      {
        timeoutMs: 60_000,
        what: 'every master to serve again',
        intervalMs: 200,
      },
    );
  }
});

test('two concurrent ACCEPTs of one offer launch exactly one task', async () => {
  const doubler = framework('doubler', 'hold');
  try {
    await doubler.subscribe();
    const offer = await waitFor(() => doubler.held.find((candidate) => cpusOf(candidate) >= 1), {
      timeoutMs: waitTimeoutMs,
      what: 'an offer with a cpu',
      intervalMs: 100,
    });
    const first = doubler.taskFrom(offer, offer.resources, { cpus: 0.5, memMb: 32 })!;
    const second = doubler.taskFrom(offer, offer.resources, { cpus: 0.5, memMb: 32 })!;
    const calls = await Promise.allSettled([doubler.launch(offer, [first]), doubler.launch(offer, [second])]);
    assert.equal(
      calls.map((call) => call.status),
      ['fulfilled', 'fulfilled'],
      'both calls are accepted for processing (202), as in Mesos',
    );
    const finalStates = ['TASK_RUNNING', 'TASK_LOST', 'TASK_DROPPED', 'TASK_ERROR', 'TASK_FAILED'];
    const verdicts = await Promise.all(
      [first, second].map(async (task) => verdict(await doubler.waitForState(task.task_id.value, finalStates))),
    );
    assert.equal(verdicts.filter((one) => one === 'honoured').length, 1, `exactly one launch: ${verdicts.join(', ')}`);
    assert.ok(verdicts.includes('refused'), `the other ACCEPT is refused: ${verdicts.join(', ')}`);
    const runs = cluster
      .runs()
      .map((run) => run.taskId)
      .filter((id) => id === first.task_id.value || id === second.task_id.value);
    assert.is(runs.length, 1, `one of the two started: ${runs.join(', ')}`);
    await assertNothingOverCommitted(
      [doubler],
      new Map([
        [first.task_id.value, 0.5],
        [second.task_id.value, 0.5],
      ]),
    );
  } finally {
    await tearDownAll([doubler]);
  }
});

test.run();
