// The agent wire against a real master's gateway: malformed frames are answered with an error
// and do not crash it; messages before registration are refused; a register is committed and
// answered; the parsers reject what the protocol does not allow.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import {
  agentProtocolVersion,
  agentWebSocketPath,
  encodeMessage,
  parseAgentMessage,
  parseMasterMessage,
} from '../../src/protocol/agent.ts';
import { waitFor, withTimeout } from '../support/wait.ts';
import { maxTextLength } from '../../src/state-machine/limits.ts';
import {
  commandTask,
  launchTasks,
  RestartableMaster,
  subscribeFramework,
  taskOf,
  waitForTaskState,
} from './support/daemon-support.ts';

const protocol = suite('agent protocol');

protocol('parsers check version, type and fields', () => {
  assert.equal(parseAgentMessage('not json').ok, false);
  const old = parseAgentMessage(JSON.stringify({ v: 99, type: 'pong', nonce: 1 }));
  assert.is(old.ok ? 'ok' : old.code, 'UNSUPPORTED_VERSION');
  const bad = parseAgentMessage(
    encodeMessage({ type: 'status_update', frameworkId: '../etc', taskId: 't', status: {} as never }),
  );
  assert.is(bad.ok ? 'ok' : bad.code, 'MALFORMED_MESSAGE');
  const unknown = parseMasterMessage(JSON.stringify({ v: agentProtocolVersion, type: 'reboot' }));
  assert.is(unknown.ok ? 'ok' : unknown.problem, 'unknown message type "reboot"');
  const pong = parseAgentMessage(encodeMessage({ type: 'pong', nonce: 4 }));
  assert.equal(pong.ok && pong.message, { v: agentProtocolVersion, type: 'pong', nonce: 4 });
  // An agent of the previous protocol would drop fields of today's launches: refused, not half-served.
  const previous = parseAgentMessage(JSON.stringify({ v: agentProtocolVersion - 1, type: 'pong', nonce: 1 }));
  assert.is(previous.ok ? 'ok' : previous.code, 'UNSUPPORTED_VERSION');
});

function connect(
  address: string,
  secret = developmentSecret,
): Promise<{ socket: WebSocket; next: () => Promise<Record<string, unknown>> }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${address}${agentWebSocketPath}`, { headers: { [secretHeader]: secret } });
      const inbox: Record<string, unknown>[] = [];
      socket.on('message', (data) => inbox.push(JSON.parse(data.toString()) as Record<string, unknown>));
      socket.on('error', reject);
      socket.on('open', () =>
        resolve({
          socket,
          next: () => waitFor(() => inbox.shift(), { timeoutMs: 10_000, what: 'a message from the master' }),
        }),
      );
    }),
    20_000,
    'the agent socket to open',
  );
}

protocol('the gateway answers malformed frames with an error and keeps serving', async () => {
  const master = await RestartableMaster.start();
  try {
    const { socket, next } = await connect(master.address);
    socket.send('{{{ not json');
    assert.is((await next()).code, 'MALFORMED_MESSAGE');
    socket.send(JSON.stringify({ v: agentProtocolVersion + 1, type: 'pong', nonce: 1 }));
    assert.is((await next()).code, 'UNSUPPORTED_VERSION');
    socket.send(encodeMessage({ type: 'pong', nonce: 1 }));
    assert.is((await next()).code, 'NOT_REGISTERED');
    socket.send(
      encodeMessage({
        type: 'register',
        agentId: null,
        tasks: [],
        executors: [],
        info: {
          hostname: 'wire',
          address: { ip: '127.0.0.1', port: 1 },
          zone: null,
          attributes: {},
          resources: [{ name: 'cpus', role: '*', type: 'RANGES', ranges: [] }],
        },
      }),
    );
    assert.is((await next()).code, 'REGISTRATION_FAILED');
    const second = await connect(master.address);
    second.socket.send(
      encodeMessage({
        type: 'register',
        agentId: null,
        tasks: [],
        executors: [],
        info: {
          hostname: 'wire',
          address: { ip: '127.0.0.1', port: 1 },
          zone: null,
          attributes: { rack: 'r1' },
          resources: [
            { name: 'cpus', role: '*', type: 'SCALAR', scalar: 2 },
            { name: 'ports', role: '*', type: 'RANGES', ranges: [{ begin: 5, end: 9 }] },
          ],
        },
      }),
    );
    const registered = await second.next();
    assert.is(registered.type, 'registered');
    const agent = master.state().agents.get(registered.agentId as never);
    assert.is(agent?.state, 'ACTIVE');
    assert.is(agent?.attributes.rack, 'r1');
    // The agent's persistent volumes (none yet), so it can delete those destroyed while it was away.
    const volumes = await second.next();
    assert.is(volumes.type, 'volumes');
    assert.equal(volumes.volumes, []);
    assert.is((await second.next()).type, 'ping');
    second.socket.close();
  } finally {
    await master.stop();
  }
});

protocol('an agent without the cluster secret is refused at the handshake with 401', async () => {
  const master = await RestartableMaster.start();
  try {
    for (const headers of [{ [secretHeader]: 'not-the-cluster-secret' }, {}]) {
      const status = await withTimeout(
        new Promise<number>((resolve, reject) => {
          const socket = new WebSocket(`ws://${master.address}${agentWebSocketPath}`, { headers });
          socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
          socket.on('open', () => reject(new Error('the handshake succeeded without the secret')));
          socket.on('error', () => undefined);
        }),
        20_000,
        'the handshake without the secret to be refused',
      );
      assert.is(status, 401);
    }
    assert.is(master.state().agents.size, 0);
    // The right secret still gets in.
    const { socket, next } = await connect(master.address);
    socket.send('{}');
    assert.is((await next()).type, 'error');
    socket.close();
  } finally {
    await master.stop();
  }
});

protocol('a status update with an over-long message is recorded, cut, and acknowledged', async () => {
  // Agents before the bound (src/protocol/status-message.ts) checkpointed launch failures that
  // quote a long URI twice; the gateway refused the frame, the agent resent it forever, and the
  // task never ended in the master.
  const master = await RestartableMaster.start();
  try {
    const { socket, next } = await connect(master.address);
    socket.send(
      encodeMessage({
        type: 'register',
        agentId: null,
        tasks: [],
        executors: [],
        info: {
          hostname: 'long-messages',
          address: { ip: '127.0.0.1', port: 1 },
          zone: null,
          attributes: {},
          resources: [
            { name: 'cpus', role: '*', type: 'SCALAR', scalar: 2 },
            { name: 'mem', role: '*', type: 'SCALAR', scalar: 256 },
          ],
        },
      }),
    );
    const nextOf = async (type: string) => {
      for (;;) {
        const message = await next();
        if (message.type === type) return message;
      }
    };
    const agentId = (await nextOf('registered')).agentId as never;
    const framework = await subscribeFramework((command) => master.facade.submit(command));
    await launchTasks(() => master.facade, framework, agentId, [commandTask('long', 'true')]);
    assert.is(((await nextOf('launch')).task as { id: string }).id, 'long');
    const message = `Failed to fetch '${'x'.repeat(6_000)}': ${'y'.repeat(6_000)}`;
    const uuid = Buffer.alloc(16, 7).toString('base64');
    const status = { state: 'TASK_FAILED', reason: 'REASON_CONTAINER_LAUNCH_FAILED', message, source: 'SOURCE_AGENT' };
    socket.send(
      encodeMessage({
        type: 'status_update',
        frameworkId: framework,
        taskId: 'long',
        status: { ...status, uuid, timestampMs: Date.now(), healthy: null, data: null } as never,
      }),
    );
    const ack = await nextOf('status_ack');
    assert.is(ack.uuid, uuid);
    const task = await waitForTaskState(() => master.state(), framework, 'long', 'TASK_FAILED', 10_000);
    const recorded = task.statuses.at(-1)?.message ?? '';
    assert.ok(recorded.length <= maxTextLength, `${recorded.length} characters recorded`);
    assert.ok(recorded.startsWith(message.slice(0, 1_000)), 'the head of the message is kept');
    assert.match(recorded, / characters cut\)$/);
    assert.is(taskOf(master.state(), framework, 'long')?.statuses.at(-1)?.uuid, uuid);
    // One the state machine would refuse at apply is refused here, unacknowledged: were it
    // acknowledged, the agent would forget an update the master never recorded.
    await launchTasks(() => master.facade, framework, agentId, [commandTask('late', 'true')]);
    assert.is(((await nextOf('launch')).task as { id: string }).id, 'late');
    const lateUuid = Buffer.alloc(16, 8).toString('base64');
    socket.send(
      encodeMessage({
        type: 'status_update',
        frameworkId: framework,
        taskId: 'late',
        status: { ...status, message: 'm', uuid: lateUuid, timestampMs: 1e17, healthy: null, data: null } as never,
      }),
    );
    const refused = await nextOf('error');
    assert.is(refused.code, 'MALFORMED_MESSAGE');
    assert.match(String(refused.message), /timestampMs/);
    assert.is(taskOf(master.state(), framework, 'late')?.state, 'TASK_STAGING');
    socket.close();
  } finally {
    await master.stop();
  }
});

protocol.run();
