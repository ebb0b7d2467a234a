// The leader's registration batcher (src/master/registration-batcher.ts): the agent registrations
// and re-registrations of one event-loop turn become one Raft entry, each caller gets its own
// item's result, no batch can exceed the command size bound, and real agents registering over
// their sockets at once are answered from shared entries.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { registrationItemBytes, AgentRegistrationBatcher } from '../../src/master/registration-batcher.ts';
import { batchOverheadBytes, cutBatches } from '../../src/master/turn-batcher.ts';
import { agentWebSocketPath, encodeMessage, parseMasterMessage } from '../../src/protocol/agent.ts';
import { decodeCommand, encodeCommand } from '../../src/state-machine/codec.ts';
import type { AgentRegistrationBatchItem } from '../../src/state-machine/commands.ts';
import { agentId, frameworkId, taskId } from '../../src/state-machine/ids.ts';
import { maxAgentRegistrationBatchItems, maxCommandBytes } from '../../src/state-machine/limits.ts';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import { agentInfo } from '../state-machine/support/fixtures.ts';
import { startSingleMaster } from '../support/master.ts';
import { waitFor, withTimeout } from '../support/wait.ts';

const register = (name: string): AgentRegistrationBatchItem => ({
  type: 'register_agent',
  agentId: agentId(name),
  info: agentInfo({ hostname: `host-${name}` }),
});
const reregister = (name: string, tasks = 0): AgentRegistrationBatchItem => ({
  type: 'reregister_agent',
  keepsReservations: true,
  agentId: agentId(name),
  info: agentInfo({ hostname: `host-${name}` }),
  tasks: Array.from({ length: tasks }, (_, position) => ({
    frameworkId: frameworkId(`framework-${'f'.repeat(200)}`),
    taskId: taskId(`task-${position}-${'t'.repeat(200)}`),
    state: 'TASK_RUNNING' as const,
  })),
});

test('no batch exceeds maxCommandBytes or maxAgentRegistrationBatchItems, whatever the agents report', () => {
  // Agents reporting thousands of long task ids: a few fill a command.
  const large = Array.from({ length: 12 }, (_, position) => reregister(`large-${position}`, 1_500));
  const small = Array.from({ length: maxAgentRegistrationBatchItems + 5 }, (_, position) => register(`s-${position}`));
  for (const items of [large, small, [...small.slice(0, 3), ...large.slice(0, 3)]]) {
    const pending = items.map((item) => ({ item, bytesMax: registrationItemBytes(item) }));
    const batches = cutBatches(pending, maxAgentRegistrationBatchItems);
    assert.is(batches.flat().length, items.length, 'every item in one batch');
    for (const batch of batches) {
      assert.ok(batch.length <= maxAgentRegistrationBatchItems);
      const bytes = encodeCommand({ type: 'agent_registration_batch', at: 1, items: batch.map((each) => each.item) });
      assert.ok(batch.length === 1 || bytes.length <= maxCommandBytes, `a batch of ${bytes.length} bytes`);
      assert.ok(bytes.length <= batchOverheadBytes + batch.reduce((total, each) => total + each.bytesMax, 0));
      assert.ok(decodeCommand(bytes).ok);
    }
  }
  assert.ok(
    cutBatches(
      large.map((item) => ({ item, bytesMax: registrationItemBytes(item) })),
      maxAgentRegistrationBatchItems,
    ).length > 1,
  );
});

test('registrations given in one turn are one entry on a real master, each answered with its own result', async () => {
  const cluster = await startSingleMaster();
  try {
    const batcher = new AgentRegistrationBatcher(cluster.master.facade);
    const answers = await Promise.all([
      batcher.submit(register('one')),
      batcher.submit(register('one')),
      batcher.submit(reregister('two')),
      batcher.submit(register('two')),
      batcher.submit(reregister('one')),
    ]);
    assert.is(new Set(answers.map((answer) => answer.index)).size, 1, 'one entry for the turn');
    assert.equal(
      answers.map((answer) => (answer.result.ok ? 'ok' : answer.result.code)),
      ['ok', 'AGENT_ALREADY_REGISTERED', 'AGENT_NOT_FOUND', 'ok', 'ok'],
    );
    assert.equal([batcher.entries, batcher.items], [1, 5]);
    const state = cluster.master.facade.state();
    assert.is(state.agents.get(agentId('two'))?.state, 'ACTIVE');
    // A lone item is its single command, as before batching.
    const lone = await batcher.submit(register('three'));
    assert.ok(lone.result.ok && lone.result.items === undefined);
  } finally {
    await cluster.stop();
  }
});

function registerOver(socket: WebSocket, hostname: string): void {
  socket.send(
    encodeMessage({
      type: 'register',
      agentId: null,
      tasks: [],
      executors: [],
      info: {
        hostname,
        address: { ip: '127.0.0.1', port: 1 },
        zone: null,
        attributes: {},
        resources: [{ name: 'cpus', role: '*', type: 'SCALAR', scalar: 1 }],
      },
    }),
  );
}

test('agents registering over their sockets at once share entries, each answered for itself', async () => {
  const cluster = await startSingleMaster();
  const agents = 24;
  const sockets: WebSocket[] = [];
  try {
    const address = cluster.url.replace('http://', '');
    const answered = new Map<number, string>();
    for (let number = 0; number < agents; number++) {
      const socket = new WebSocket(`ws://${address}${agentWebSocketPath}`, {
        headers: { [secretHeader]: developmentSecret },
      });
      socket.on('message', (data) => {
        const parsed = parseMasterMessage(data.toString());
        if (parsed.ok && parsed.message.type === 'registered') answered.set(number, parsed.message.agentId);
      });
      sockets.push(socket);
    }
    await withTimeout(
      Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once('open', resolve)))),
      30_000,
      `${agents} agent sockets to open`,
    );
    const gateway = cluster.master.agents;
    const before = { entries: gateway.registrations.entries, items: gateway.registrations.items };
    // One synchronous loop: the frames reach the master in the same poll phase (loopback).
    for (const [number, socket] of sockets.entries()) registerOver(socket, `turn-${number}`);
    await waitFor(() => answered.size === agents, { timeoutMs: 20_000, what: 'every agent registered' });
    const entries = gateway.registrations.entries - before.entries;
    assert.is(gateway.registrations.items - before.items, agents);
    console.log(`${agents} registrations in ${entries} entries`);
    assert.ok(entries < agents, `${agents} registrations went as ${entries} entries`);
    assert.is(new Set(answered.values()).size, agents, 'each agent its own id');
    const state = cluster.master.facade.state();
    for (const id of answered.values()) assert.is(state.agents.get(agentId(id))?.state, 'ACTIVE');
    assert.equal(gateway.connectedAgents().length, agents);
  } finally {
    for (const socket of sockets) socket.close();
    await cluster.stop();
  }
});

test.run();
