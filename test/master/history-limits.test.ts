// The history-limits leader service (src/master/history-limits.ts) on a real single-voter master:
// once it leads, the replicated state's limits are its flags (Mesos' names), and a state whose
// limits already match gets no new command.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { historyLimitsCommand } from '../../src/master/history-limits.ts';
import { unboundedHistory } from '../../src/state-machine/state.ts';
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

test.run();
