// The leader's big commands are cut so that applying one entry stays near the apply slice's
// budget (issue 12: one entry is applied in one go, however long): a turn's re-registrations go as
// agent_registration_batch entries of at most maxRegistrationBatchBytes, an allocation cycle's
// offers as create_offers of at most offersPerCreateCommand. Counted on a real single master: the
// items per entry, not time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { maxRegistrationBatchBytes, offersPerCreateCommand } from '../../src/master/limits.ts';
import { AgentRegistrationBatcher } from '../../src/master/registration-batcher.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import type { AgentRegistrationBatchItem, Command } from '../../src/state-machine/commands.ts';
import { agentId, frameworkId, taskId } from '../../src/state-machine/ids.ts';
import { agentInfo, baseTime, cpus, mem, resources, subscribe } from '../state-machine/support/fixtures.ts';
import { startSingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';

const agentName = (position: number): string => `agent-${String(position).padStart(4, '0')}`;
const register = (position: number): AgentRegistrationBatchItem => ({
  type: 'register_agent',
  agentId: agentId(agentName(position)),
  info: agentInfo({ hostname: agentName(position), resources: resources(cpus(8), mem(8192)) }),
});

/** `count` agents in the state, proposed as batches of 100 (the test's own commands). */
async function registerAgents(submit: (command: Command) => Promise<unknown>, count: number): Promise<void> {
  for (let start = 0; start < count; start += 100) {
    const items = Array.from({ length: Math.min(100, count - start) }, (_, k) => register(start + k));
    await submit({ type: 'agent_registration_batch', at: baseTime, items });
  }
}

test('a turn of re-registrations reporting 15 tasks each goes as entries of at most maxRegistrationBatchBytes', async () => {
  const cluster = await startSingleMaster();
  try {
    const { facade } = cluster.master;
    const agents = 120;
    await registerAgents((command) => facade.submit(command), agents);
    const batcher = new AgentRegistrationBatcher(facade);
    const items = Array.from(
      { length: agents },
      (_, position): AgentRegistrationBatchItem => ({
        type: 'reregister_agent',
        keepsReservations: true,
        agentId: agentId(agentName(position)),
        info: agentInfo({ hostname: agentName(position), resources: resources(cpus(8), mem(8192)) }),
        tasks: Array.from({ length: 15 }, (_, k) => ({
          frameworkId: frameworkId('scale-framework'),
          taskId: taskId(`task-${position}-${k}-of-the-launch-bench`),
          state: 'TASK_RUNNING' as const,
        })),
      }),
    );
    // One turn: every submit before the batcher's flush.
    const answers = await Promise.all(items.map((item) => batcher.submit(item)));
    assert.ok(
      answers.every((answer) => answer.result.ok),
      'every re-registration applied',
    );
    const itemsByEntry = new Map<number, AgentRegistrationBatchItem[]>();
    for (const [position, answer] of answers.entries())
      itemsByEntry.set(answer.index, [...(itemsByEntry.get(answer.index) ?? []), items[position]!]);
    const bytes = [...itemsByEntry.values()].map(
      (entryItems) => encodeCommand({ type: 'agent_registration_batch', at: baseTime, items: entryItems }).length,
    );
    const allBytes = encodeCommand({ type: 'agent_registration_batch', at: baseTime, items }).length;
    // 120 agents of 15 tasks are ~170 KB: one entry before the bound.
    assert.ok(allBytes > 2 * maxRegistrationBatchBytes, `${allBytes} bytes in all`);
    assert.is(batcher.entries, itemsByEntry.size);
    assert.ok(batcher.entries >= Math.ceil(allBytes / maxRegistrationBatchBytes), `${batcher.entries} entries`);
    for (const each of bytes) assert.ok(each <= maxRegistrationBatchBytes, `an entry of ${each} bytes`);
  } finally {
    await cluster.stop();
  }
});

test('an allocation cycle over 600 agents proposes create_offers of at most offersPerCreateCommand offers', async () => {
  const cluster = await startSingleMaster();
  try {
    const { facade, machine } = cluster.master;
    const offersByEntry = new Map<number, number>();
    const unsubscribe = machine.subscribe((event, index) => {
      if (event.type === 'OFFER_ADDED') offersByEntry.set(index, (offersByEntry.get(index) ?? 0) + 1);
    });
    try {
      const agents = 600;
      await registerAgents((command) => facade.submit(command), agents);
      await facade.submit(subscribe(frameworkId('f1')));
      await waitFor(() => facade.state().offers.size === agents, {
        timeoutMs: 20_000,
        what: `an offer on each of the ${agents} agents`,
      });
      const sizes = [...offersByEntry.values()];
      assert.is(
        sizes.reduce((total, each) => total + each, 0),
        agents,
      );
      // Before the bound: one create_offers of 600 offers.
      assert.ok(Math.max(...sizes) <= offersPerCreateCommand, `entries of ${sizes.join(', ')} offers`);
      assert.ok(sizes.length >= Math.ceil(agents / offersPerCreateCommand));
    } finally {
      unsubscribe();
    }
  } finally {
    await cluster.stop();
  }
});

test.run();
