// Sampling the usage of many tasks in one turn reads /proc once, not once per task, and still
// gives each task its own group's members. Real processes, each leading its own group.
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { listGroupMembers, readProcStat } from '../../src/agent/containerizer/proc-fs.ts';
import { processTableScans } from '../../src/agent/containerizer/process-groups.ts';
import { processGroupUsage } from '../../src/agent/containerizer/process-usage.ts';
import { exitOf } from '../support/child-exit.ts';
import { waitFor } from '../support/wait.ts';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function startGroupLeader(): ChildProcess {
  // `sh` leads the group and keeps a `sleep` child in it: two members each.
  return spawn('sh', ['-c', 'sleep 30; true'], { detached: true, stdio: 'ignore' });
}

const spec = { memMb: null, cpus: null };

/** Until the child has left our group for its own (setsid runs in the child, after the fork). */
async function leadsItsGroup(leader: ChildProcess): Promise<void> {
  while (readProcStat(leader.pid!)?.processGroupId !== leader.pid)
    await new Promise((resolve) => setTimeout(resolve, 10));
}

test('one /proc scan serves every task sampled in a turn; the next turn scans again', async () => {
  const leaders = [startGroupLeader(), startGroupLeader(), startGroupLeader()];
  try {
    for (const leader of leaders) await leadsItsGroup(leader);
    await nextTurn();
    const before = processTableScans();
    const usages = await Promise.all(leaders.map((leader) => processGroupUsage(leader.pid!, spec, null)));
    assert.is(processTableScans() - before, 1, 'three tasks sampled in one turn: one scan');
    for (const usage of usages) {
      assert.ok(usage !== null, 'every live group is found');
      assert.ok(usage.memRssBytes > 0);
    }
    await nextTurn();
    const again = processTableScans();
    await processGroupUsage(leaders[0]!.pid!, spec, null);
    assert.is(processTableScans() - again, 1, 'a later turn reads /proc afresh');
  } finally {
    for (const leader of leaders) process.kill(-leader.pid!, 'SIGKILL');
  }
});

test('a group whose processes ended has no usage', async () => {
  const leader = startGroupLeader();
  await leadsItsGroup(leader);
  process.kill(-leader.pid!, 'SIGKILL');
  await exitOf(leader, { timeoutMs: 10_000, what: 'the SIGKILLed group leader' });
  // The leader's exit is seen once the shell is reaped; its `sleep` may still be running on a busy
  // machine until the kernel has scheduled it to die (seen: not null under load). Ended means no
  // member left that is not a zombie.
  await waitFor(() => listGroupMembers(leader.pid!).length === 0, { timeoutMs: 10_000, what: 'the group to end' });
  await nextTurn();
  assert.is(await processGroupUsage(leader.pid!, spec, null), null);
});

test.run();
