// A status update an agent sends again after a reconnect (its ack was lost with the old socket)
// is acknowledged from the committed state without a new Raft proposal, and one that arrives
// twice while its proposal is in flight is proposed once and acknowledged on both; every uuid is
// recorded exactly once. A real in-process master and a raw agent WebSocket; the proposals are
// counted on the master's own submit path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { agentWebSocketPath, encodeMessage } from '../../src/protocol/agent.ts';
import type { Command } from '../../src/state-machine/commands.ts';
import { developmentSecret, secretHeader } from '../../src/util/shared-secret.ts';
import { waitFor, withTimeout } from '../support/wait.ts';
import { commandTask, launchTasks, RestartableMaster, subscribeFramework, taskOf } from './support/daemon-support.ts';

interface AgentSocket {
  readonly socket: WebSocket;
  nextOf(type: string, predicate?: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

function connect(address: string): Promise<AgentSocket> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${address}${agentWebSocketPath}`, {
        headers: { [secretHeader]: developmentSecret },
      });
      const inbox: Record<string, unknown>[] = [];
      socket.on('message', (data) => inbox.push(JSON.parse(data.toString()) as Record<string, unknown>));
      socket.on('error', reject);
      socket.on('open', () =>
        resolve({
          socket,
          nextOf: (type, predicate = () => true) =>
            waitFor(
              () => {
                const at = inbox.findIndex((message) => message.type === type && predicate(message));
                return at < 0 ? undefined : inbox.splice(at, 1)[0];
              },
              { timeoutMs: 20_000, what: `a ${type} from the master` },
            ),
        }),
      );
    }),
    20_000,
    'the agent socket to open',
  );
}

const info = {
  hostname: 'resender',
  address: { ip: '127.0.0.1', port: 1 },
  zone: null,
  attributes: {},
  resources: [
    { name: 'cpus', role: '*', type: 'SCALAR' as const, scalar: 2 },
    { name: 'mem', role: '*', type: 'SCALAR' as const, scalar: 256 },
  ],
};

function statusUpdate(frameworkId: string, taskId: string, state: string, uuid: string): string {
  return encodeMessage({
    type: 'status_update',
    frameworkId,
    taskId,
    status: {
      state,
      reason: null,
      message: null,
      source: 'SOURCE_EXECUTOR',
      uuid,
      timestampMs: Date.now(),
      healthy: null,
      data: null,
    } as never,
  });
}

test('a resent status update is acknowledged without a second proposal, exactly once per uuid', async () => {
  const master = await RestartableMaster.start();
  try {
    const gateway = master.master!.agents;
    // Every update_task_status the gateway proposes, counted where it submits.
    const replica = gateway.parts.master as { submit: (command: Command) => Promise<unknown> };
    const submit = replica.submit.bind(replica);
    const proposed: string[] = [];
    replica.submit = (command: Command) => {
      if (command.type === 'update_task_status') proposed.push(command.status.uuid ?? 'none');
      // One turn's updates go as one batch command, each item an update of its own.
      if (command.type === 'task_status_batch')
        for (const item of command.items)
          if (item.type === 'update_task_status') proposed.push(item.status.uuid ?? 'none');
      return submit(command);
    };
    const first = await connect(master.address);
    first.socket.send(encodeMessage({ type: 'register', agentId: null, tasks: [], executors: [], info }));
    const agentId = (await first.nextOf('registered')).agentId as string;
    const framework = await subscribeFramework((command) => master.facade.submit(command));
    await launchTasks(() => master.facade, framework, agentId as never, [commandTask('resent', 'sleep 60')]);
    await first.nextOf('launch');
    const running = Buffer.alloc(16, 1).toString('base64');
    first.socket.send(statusUpdate(framework, 'resent', 'TASK_RUNNING', running));
    await first.nextOf('status_ack', (message) => message.uuid === running);
    assert.equal(proposed, [running]);

    // The socket drops; the agent re-registers on a new one and resends what it holds unacknowledged.
    first.socket.close();
    const second = await connect(master.address);
    const tasks = [{ frameworkId: framework, taskId: 'resent', state: 'TASK_RUNNING' as const }];
    second.socket.send(encodeMessage({ type: 'register', agentId, tasks, executors: [], info }));
    await second.nextOf('registered');
    const deduplicatedBefore = gateway.statusUpdatesDeduplicated;
    second.socket.send(statusUpdate(framework, 'resent', 'TASK_RUNNING', running));
    await second.nextOf('status_ack', (message) => message.uuid === running);
    assert.equal(proposed, [running], 'the recorded update was not proposed again');
    assert.is(gateway.statusUpdatesDeduplicated, deduplicatedBefore + 1);

    // A new update sent twice at once: one proposal, both copies acknowledged.
    const finished = Buffer.alloc(16, 2).toString('base64');
    second.socket.send(statusUpdate(framework, 'resent', 'TASK_FINISHED', finished));
    second.socket.send(statusUpdate(framework, 'resent', 'TASK_FINISHED', finished));
    await second.nextOf('status_ack', (message) => message.uuid === finished);
    await second.nextOf('status_ack', (message) => message.uuid === finished);
    assert.equal(proposed, [running, finished], 'the update in flight was proposed once');
    const task = taskOf(master.state(), framework, 'resent');
    assert.is(task?.state, 'TASK_FINISHED');
    const uuids = task?.statuses.map((status) => status.uuid).filter((uuid) => uuid === running || uuid === finished);
    assert.equal(uuids, [running, finished], 'each uuid recorded once');
    console.log(
      `proposals of update_task_status: ${proposed.length} for 4 updates received; ` +
        `acknowledged without a proposal: ${gateway.statusUpdatesDeduplicated - deduplicatedBefore}`,
    );
    second.socket.close();
  } finally {
    await master.stop();
  }
});

test('a re-registration on a second socket while the first is in flight joins its proposal', async () => {
  const master = await RestartableMaster.start();
  try {
    const gateway = master.master!.agents;
    const first = await connect(master.address);
    first.socket.send(encodeMessage({ type: 'register', agentId: null, tasks: [], executors: [], info }));
    const agentId = (await first.nextOf('registered')).agentId as string;
    first.socket.close();
    const replica = gateway.parts.master as { submit: (command: Command) => Promise<unknown> };
    const submit = replica.submit.bind(replica);
    let reregistrations = 0;
    // The first proposal is held back (then submitted for real) until the second socket's
    // register has arrived: a leader slow to commit, as after a failover of thousands of agents.
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    replica.submit = async (command: Command) => {
      if (command.type === 'reregister_agent' && ++reregistrations === 1) await firstHeld;
      return submit(command);
    };
    // As an agent whose registration timed out: a second socket registers before the first is answered.
    const patient = await connect(master.address);
    const impatient = await connect(master.address);
    const register = encodeMessage({ type: 'register', agentId, tasks: [], executors: [], info });
    patient.socket.send(register);
    await waitFor(() => gateway.registrationsInFlight.size === 1 || reregistrations > 0, {
      timeoutMs: 10_000,
      what: 'the first re-registration to be proposed',
    });
    impatient.socket.send(register);
    await waitFor(() => gateway.registrationsJoined === 1 || reregistrations > 1, {
      timeoutMs: 10_000,
      what: 'the second socket to join the proposal in flight',
    });
    releaseFirst();
    await impatient.nextOf('registered');
    console.log(`re-registrations proposed for 2 sockets: ${reregistrations}; joined: ${gateway.registrationsJoined}`);
    assert.is(reregistrations, 1, 'one proposal for both sockets');
    assert.is(gateway.registrationsJoined, 1);
    assert.ok(gateway.isConnected(agentId as never), 'the newer socket speaks for the agent');
    impatient.socket.close();
    patient.socket.close();
  } finally {
    await master.stop();
  }
});

test.run();
