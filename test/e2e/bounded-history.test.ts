// flotilla-test-timeout-seconds: 900
// Issue 12, "done when": three real masters (default history flags: 1,000 completed tasks per
// framework) and a real agent; a framework runs 1,500 `true` tasks. Afterwards the masters keep
// exactly the newest 1,000 completed ones (the framework acknowledges terminal updates one at a
// time, so it knows the order in which its tasks completed), every master's state hash agrees at
// one index (their logs and snapshots replayed with every invariant checked), and explicit
// reconciliation of a pruned task gets Mesos' documented answer (reconciliation.md: a task the
// master does not know, on a registered agent: TASK_LOST for a framework that is not
// PARTITION_AWARE, with REASON_RECONCILIATION), as does a completed task still kept.
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { matchOffer, scalarTotal } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import type { Offer, TaskStatus } from '../../src/protocol/mesos.ts';
import { isTerminalTaskState } from '../../src/protocol/task-states.ts';
import { taskKey } from '../../src/state-machine/ids.ts';
import type { ReadonlyState, Task } from '../../src/state-machine/state.ts';
import { newClient } from '../frameworks/support/cluster.ts';
import { replayMasterLog } from '../jepsen-lite/checker/log-replay.ts';
import { waitFor } from '../support/wait.ts';
import { E2eCluster } from './support/cluster.ts';

const taskCount = 1_500;
const kept = 1_000;
const tasksPerAccept = 100;
const requirement = { cpus: 0.02, memMb: 8 };

let cluster: E2eCluster;
test.before(async () => {
  cluster = await E2eCluster.start(
    'bounded',
    ['cpus:4;mem:4096;disk:1000;ports:[31000-31009]'],
    ['--snapshot-entries', '2000'],
  );
});
test.after(async () => {
  await cluster?.stop();
});

/** Launches `true` tasks on every offer until `taskCount` are launched; declines what is left. */
class ManyTasks {
  launched = 0;
  /** Task ids in the order their terminal update's acknowledgement committed: the order they completed. */
  readonly completed: string[] = [];
  readonly terminal = new Map<string, TaskStatus>();
  readonly reconciled: TaskStatus[] = [];
  readonly #seenUuids = new Set<string>();
  readonly #taskAcks = new Map<string, Promise<void>>();
  #completions: Promise<void> = Promise.resolve();

  constructor(readonly client: SchedulerClient) {
    client.on('OFFERS', (event) => {
      for (const offer of event.offers.offers) void this.#onOffer(offer);
    });
    client.on('UPDATE', (event) => this.#onUpdate(event.update.status));
  }

  async #onOffer(offer: Offer): Promise<void> {
    const single = matchOffer(offer, requirement);
    const fits = Math.floor(
      Math.min(
        scalarTotal(offer.resources, 'cpus') / requirement.cpus,
        scalarTotal(offer.resources, 'mem') / requirement.memMb,
      ),
    );
    const count = single === null ? 0 : Math.min(fits, tasksPerAccept, taskCount - this.launched);
    if (single === null || count <= 0) return this.client.decline([offer.id], { refuse_seconds: 1 });
    const tasks = Array.from({ length: count }, () => {
      const taskId = `t${String(this.launched++).padStart(4, '0')}`;
      return buildTaskInfo(offer, single, { name: 'bounded', taskId, command: { kind: 'shell', line: 'true' } });
    });
    await this.client.launch(offer, tasks, { refuse_seconds: 0 });
  }

  /**
   * A task's updates are acknowledged in order; terminal ones one at a time across all tasks,
   * each after its task's earlier ones, so a task completes exactly when its terminal
   * acknowledgement commits, in the order of `completed`.
   */
  #onUpdate(status: TaskStatus): void {
    const taskId = status.task_id.value;
    if (status.reason === 'REASON_RECONCILIATION') {
      this.reconciled.push(status);
      return;
    }
    if (status.uuid === undefined || this.#seenUuids.has(status.uuid)) return;
    this.#seenUuids.add(status.uuid);
    const earlier = this.#taskAcks.get(taskId) ?? Promise.resolve();
    if (!isTerminalTaskState(status.state)) {
      this.#taskAcks.set(
        taskId,
        earlier.then(() => this.client.acknowledge(status)),
      );
      return;
    }
    this.terminal.set(taskId, status);
    this.#completions = this.#completions.then(async () => {
      await earlier;
      await this.client.acknowledge(status);
      this.completed.push(taskId);
    });
  }
}

interface WireTask {
  readonly task_id: { readonly value: string };
  readonly framework_id: { readonly value: string };
  readonly state: string;
}

function isCompletedTaskOf(state: ReadonlyState, task: Task): boolean {
  return (
    state.derived.completedTasksByFramework.get(task.frameworkId)?.has(taskKey(task.frameworkId, task.id)) ?? false
  );
}

test('a framework that ran 1,500 tasks keeps the newest 1,000 completed; replicas agree; a pruned task reconciles as unknown', async () => {
  const client = newClient(cluster.masterList, { autoAcknowledge: false, reconcileOnSubscribe: false });
  const framework = new ManyTasks(client);
  try {
    const frameworkId = await client.subscribe();
    await waitFor(() => framework.completed.length === taskCount, {
      timeoutMs: 300_000,
      intervalMs: 500,
      what: `${taskCount} tasks to complete (launched ${framework.launched}, completed ${framework.completed.length})`,
    });
    const notFinished = [...framework.terminal.values()].filter((status) => status.state !== 'TASK_FINISHED');
    assert.is(notFinished.length, 0, `tasks that did not finish: ${JSON.stringify(notFinished.slice(0, 3))}`);
    await client.suppress();

    const answer = await cluster.operator<{
      get_tasks: { tasks?: WireTask[]; completed_tasks?: WireTask[] };
    }>({ type: 'GET_TASKS' });
    const ours = (list: readonly WireTask[] | undefined) =>
      (list ?? []).filter((task) => task.framework_id.value === frameworkId).map((task) => task.task_id.value);
    assert.is(ours(answer.get_tasks.tasks).length, 0, 'nothing of the framework is live or unacknowledged');
    const completed = ours(answer.get_tasks.completed_tasks).sort();
    assert.is(completed.length, kept);
    assert.equal(completed, framework.completed.slice(taskCount - kept).sort(), 'the newest 1,000 completions');

    const agentId = framework.terminal.get(framework.completed[0]!)!.agent_id!;
    const oldest = framework.completed[0]!;
    const newest = framework.completed[taskCount - 1]!;
    await client.reconcile([
      { task_id: { value: oldest }, agent_id: agentId },
      { task_id: { value: newest }, agent_id: agentId },
    ]);
    const answers = await waitFor(() => (framework.reconciled.length >= 2 ? framework.reconciled : null), {
      timeoutMs: 30_000,
      what: 'the reconciliation answers',
    });
    for (const status of answers) {
      assert.is(status.state, 'TASK_LOST', `${status.task_id.value}: ${status.state}`);
      assert.is(status.reason, 'REASON_RECONCILIATION');
      assert.is(status.source, 'SOURCE_MASTER');
      assert.is(status.uuid, undefined, 'a reconciliation answer needs no acknowledgement');
    }
    assert.equal(answers.map((status) => status.task_id.value).sort(), [oldest, newest].sort());
  } finally {
    client.close();
  }

  // Every master at one index: wait until all have applied the same, then stop them at once.
  const applied = await waitFor(
    async () => {
      const statuses = await Promise.all(cluster.masters.replicas.map((replica) => cluster.masters.status(replica)));
      const indexes = statuses.map((status) => status?.applied ?? -1);
      return indexes.every((index) => index > 0 && index === indexes[0]) ? indexes[0]! : null;
    },
    { timeoutMs: 60_000, what: 'every master to apply the same index' },
  );
  await Promise.all(cluster.masters.replicas.map((replica) => cluster.masters.kill(replica, 'SIGKILL')));
  // A master persists its commit index after applying (it may have applied one entry more than
  // its log says is committed): compare all at the lowest index every log says is committed.
  const replayAt = (upToIndex: number) =>
    cluster.masters.replicas.map((replica) =>
      replayMasterLog(path.join(cluster.masters.dataRoot, replica.id), { upToIndex }),
    );
  const common = Math.min(...replayAt(applied).map((replay) => replay.throughIndex));
  assert.ok(common > 0 && common <= applied, `a common committed index (${common}, applied ${applied})`);
  const replays = replayAt(common);
  for (const replay of replays) {
    assert.is(replay.violation, null, `an invariant broke: ${JSON.stringify(replay.violation)}`);
    assert.is(replay.throughIndex, common);
  }
  assert.is(new Set(replays.map((replay) => replay.stateHash)).size, 1, 'every master has the same state hash');
  const state = replays[0]!.state;
  // The last acknowledgement may lie past the index every log says is committed: that task is
  // terminal but not yet completed (its update unacknowledged), and kept beside the 1,000.
  const completed = [...state.derived.completedTasksByFramework.values()].reduce((sum, keys) => sum + keys.size, 0);
  assert.is(completed, kept, 'the masters hold the newest 1,000 completed tasks');
  const others = [...state.tasks.values()].filter((task) => !isCompletedTaskOf(state, task));
  assert.ok(
    others.length <= 1 && others.every((task) => isTerminalTaskState(task.state)),
    `besides them only a task awaiting its last acknowledgement: ${others.map((task) => `${task.id} ${task.state}`)}`,
  );
  assert.is(state.historyLimits.maxCompletedTasksPerFramework, kept, 'the leader put its flags in the state');
});

test.run();
