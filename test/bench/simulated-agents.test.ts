// The benchmarks' simulated agent re-registers as the real agent does (checkpoint.ts
// `reportableTasks`): a task it finished whose TASK_FINISHED was never acknowledged (the leader
// that got it lost leadership before committing it) is reported in its latest state, so the new
// leader does not take it for lost. The peer here plays a master that loses leadership at the
// worst moment: it takes the updates and drops the socket without acknowledging them, which a
// real master does only by chance of timing.
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocketServer, type WebSocket } from 'ws';
import { SimulatedAgent, simulatedResources } from '../../bench/_simulated-agents.ts';
import {
  type AgentMessage,
  encodeMessage,
  type MasterMessageBody,
  parseAgentMessage,
  type WireTaskSpec,
} from '../../src/protocol/agent.ts';
import { wireTaskSpec } from '../agent/support/wire-task-spec.ts';
import { waitFor } from '../support/wait.ts';

const spec = (id: string): WireTaskSpec => wireTaskSpec(id);

test('a task finished at once whose updates were not acknowledged is reported finished on re-registration', async () => {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const registrations: Extract<AgentMessage, { type: 'register' }>[] = [];
  const updates: Extract<AgentMessage, { type: 'status_update' }>[] = [];
  const send = (socket: WebSocket, body: MasterMessageBody): void => socket.send(encodeMessage(body));
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const parsed = parseAgentMessage(data.toString());
      if (!parsed.ok) throw new Error(parsed.problem);
      const message = parsed.message;
      if (message.type === 'register') {
        registrations.push(message);
        send(socket, {
          type: 'registered',
          agentId: 'agent-1',
          master: { address, zone: null },
          masters: [{ address, zone: null }],
          pingIntervalMs: 60_000,
          maxMissedPings: 5,
        });
        if (registrations.length === 1) {
          send(socket, {
            type: 'launch',
            frameworkId: 'framework-1',
            task: spec('task-1'),
            executor: null,
            framework: null,
          });
        }
      } else if (message.type === 'status_update') {
        updates.push(message);
        // Both updates taken, neither acknowledged: leadership is lost with the socket.
        if (updates.length === 2) socket.terminate();
      }
    });
  });
  const agent = new SimulatedAgent([address], {
    hostname: 'simulated-1',
    resources: simulatedResources(1, 1024, [31000, 31009]),
    finishAtOnce: true,
  });
  try {
    await agent.start();
    await waitFor(() => registrations.length >= 2, { timeoutMs: 20_000, what: 'the agent to register again' });
    assert.equal(
      updates.slice(0, 2).map((update) => update.status.state),
      ['TASK_RUNNING', 'TASK_FINISHED'],
    );
    assert.equal(registrations[0]!.tasks, []);
    assert.equal(registrations[1]!.tasks, [{ frameworkId: 'framework-1', taskId: 'task-1', state: 'TASK_FINISHED' }]);
  } finally {
    agent.close();
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

// As the real agent (master-link.ts handshakeTimeout): a master that takes the TCP connection and
// never answers the handshake — its accept queue overflowed, or its event loop is held — is given
// up and the next master dialled. Without the timeout a simulated agent waited on such a socket
// until TCP gave up, minutes later (178 of 10,000 agents in one scale run at load 17).
test('a master that never answers the handshake is given up for the next one', async () => {
  const held: Socket[] = [];
  const silent = createServer((socket) => held.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
  const silentAddress = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const leader = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => leader.once('listening', () => resolve()));
  const leaderAddress = `127.0.0.1:${(leader.address() as AddressInfo).port}`;
  leader.on('connection', (socket) => {
    socket.on('message', () =>
      socket.send(
        encodeMessage({
          type: 'registered',
          agentId: 'agent-1',
          master: { address: leaderAddress, zone: null },
          masters: [],
          pingIntervalMs: 60_000,
          maxMissedPings: 5,
        }),
      ),
    );
  });
  // The pinned shuffle puts the silent master first.
  const agent = new SimulatedAgent([silentAddress, leaderAddress], {
    hostname: 'simulated-2',
    resources: simulatedResources(1, 1024, [31000, 31009]),
    random: () => 0.99,
  });
  try {
    await agent.start();
    assert.is(held.length, 1, 'the silent master was dialled first');
    assert.is(agent.dials, 2);
    assert.is(agent.handshakeTimeouts, 1, 'the silent dial is counted as given up');
    assert.is(agent.redirects, 0);
    assert.is(agent.registrations, 1);
  } finally {
    agent.close();
    for (const socket of held) socket.destroy();
    for (const client of leader.clients) client.terminate();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await new Promise<void>((resolve) => leader.close(() => resolve()));
  }
});

test.run();
