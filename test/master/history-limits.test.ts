// The history-limits leader service (src/master/history-limits.ts) on a real single-voter master:
// once it leads, the replicated state's limits are its flags (Mesos' names), and a state whose
// limits already match gets no new command.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { historyLimitsCommand } from '../../src/master/history-limits.ts';
import { reconcileEvents } from '../../src/master/scheduler/task-updates.ts';
import type { SchedulerEvent } from '../../src/protocol/scheduler.ts';
import { offerId, taskId } from '../../src/state-machine/ids.ts';
import { unboundedHistory } from '../../src/state-machine/state.ts';
import {
  A1,
  accept,
  baseTime,
  cpus,
  createOffers,
  F1,
  F2,
  Harness,
  launch,
  mem,
  offerDefinition,
  partitionAware,
  registerAgent,
  resources,
  subscribe,
  taskDefinition,
  updateStatus,
  uuid,
} from '../state-machine/support/fixtures.ts';
import { startSingleMaster } from '../support/master.ts';

const flags = {
  maxCompletedFrameworks: 3,
  maxCompletedTasksPerFramework: 7,
  registryMaxAgentAgeMs: 600_000,
  registryMaxAgentCount: 11,
};

test('a leading master puts its history flags into the replicated state before serving', async () => {
  const cluster = await startSingleMaster(flags);
  try {
    const { modifyIndex, ...limits } = cluster.master.machine.state.historyLimits;
    assert.ok(modifyIndex > 0, 'set by a command');
    assert.equal(limits, {
      maxCompletedFrameworks: 3,
      maxCompletedTasksPerFramework: 7,
      maxRemovedAgentAgeMs: 600_000,
      maxRemovedAgentCount: 11,
    });
    assert.is(historyLimitsCommand(cluster.master.machine.state.historyLimits, flags), null, 'nothing left to set');
  } finally {
    await cluster.stop();
  }
});

test('the command carries the flags when the state differs (a log from before limits: unbounded)', () => {
  const command = historyLimitsCommand(unboundedHistory, flags);
  assert.equal(command?.type, 'update_history_limits');
  assert.is(command?.maxCompletedTasksPerFramework, 7);
  assert.is(command?.maxRemovedAgentCount, 11);
});

/** `framework` ran t1 and t2 on a1, both finished and acknowledged; a limit of 1 pruned t1. */
function prunedHarness(framework: typeof F1): Harness {
  const harness = new Harness([
    registerAgent(A1),
    subscribe(F1),
    subscribe(F2, { capabilities: partitionAware }),
    { ...historyLimitsCommand(unboundedHistory, { ...flags, maxCompletedTasksPerFramework: 1 })!, at: baseTime },
  ]);
  for (const [seed, name] of ['t1', 't2'].entries()) {
    const offer = offerId(`o-${name}`);
    const small = resources(cpus(0.1), mem(16));
    harness.ok(createOffers(offerDefinition(offer, small, { frameworkId: framework, agentId: A1 })));
    harness.ok(accept([offer], [launch(taskDefinition(taskId(name), small))], framework));
    harness.ok(updateStatus(taskId(name), 'TASK_FINISHED', { uuid: uuid(seed + 1) }, framework, A1));
    harness.ok({
      type: 'acknowledge_task_status',
      at: baseTime,
      frameworkId: framework,
      taskId: taskId(name),
      agentId: A1,
      uuid: uuid(seed + 1),
    });
  }
  return harness;
}

const answered = (event: SchedulerEvent) => {
  assert.is(event.type, 'UPDATE');
  const { status } = (event as Extract<SchedulerEvent, { type: 'UPDATE' }>).update;
  return { task: status.task_id.value, state: status.state, reason: status.reason, uuid: status.uuid };
};

test('a pruned task reconciles as unknown (reconciliation.md): TASK_LOST, or TASK_GONE when partition-aware', () => {
  for (const [framework, expected] of [
    [F1, 'TASK_LOST'],
    [F2, 'TASK_GONE'],
  ] as const) {
    const harness = prunedHarness(framework);
    assert.ok(!harness.state.tasks.has(`${framework}/t1` as never), 't1 was pruned');
    const events = reconcileEvents(
      harness.state,
      harness.state.frameworks.get(framework)!,
      [
        { taskId: 't1', agentId: A1 },
        { taskId: 't2', agentId: A1 },
      ],
      baseTime,
    ).map(answered);
    // Both are unknown to Mesos' master: t1 forgotten, t2 completed (kept only for the views).
    assert.equal(events, [
      { task: 't1', state: expected, reason: 'REASON_RECONCILIATION', uuid: undefined },
      { task: 't2', state: expected, reason: 'REASON_RECONCILIATION', uuid: undefined },
    ]);
    assert.equal(reconcileEvents(harness.state, harness.state.frameworks.get(framework)!, [], baseTime), []);
  }
});

test.run();
