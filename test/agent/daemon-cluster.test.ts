// Three real master processes (test/agent/support/master-fixture.ts: the real Master plus a
// loopback side port for commands) and a real agent: the agent follows a follower's not_leader
// to the leader, and survives the leader's SIGKILL while tasks start: every status update is in
// the replicated state exactly once per uuid, and no task starts twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { AgentProcess, commandTask } from './support/daemon-support.ts';

const fixture = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'master-fixture.ts');

interface MasterNode {
  id: string;
  address: string;
  commandPort: number;
  child: ChildProcess | null;
  output: string;
}
interface TaskView {
  frameworkId: string;
  id: string;
  state: string;
  agentId: string;
  statuses: { state: string; uuid: string | null; message: string | null }[];
}

async function startMasters(): Promise<MasterNode[]> {
  const root = makeTempDir('agent-cluster-');
  const nodes: MasterNode[] = [];
  for (const id of ['m1', 'm2', 'm3'])
    nodes.push({ id, address: `127.0.0.1:${await freePort()}`, commandPort: 0, child: null, output: '' });
  const peers = nodes.map((node) => `${node.id}=${node.address}`).join(',');
  for (const node of nodes) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fixture,
        '--id',
        node.id,
        '--listen',
        node.address,
        '--peers',
        peers,
        '--data-dir',
        path.join(root, node.id),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => {
      const port = /command-port (\d+)/.exec(chunk.toString());
      if (port) node.commandPort = Number(port[1]);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      node.output = (node.output + chunk.toString()).slice(-100_000);
    });
    node.child = child;
  }
  return nodes;
}

async function health(node: MasterNode): Promise<{ role: string } | null> {
  if (node.child === null) return null;
  return fetch(`http://${node.address}/health`, { signal: AbortSignal.timeout(1_000) })
    .then((response) => response.json() as Promise<{ role: string }>)
    .catch(() => null);
}

async function leaderOf(nodes: MasterNode[]): Promise<MasterNode> {
  return waitFor(
    async () => {
      for (const node of nodes) if ((await health(node))?.role === 'leader') return node;
      return null;
    },
    { timeoutMs: 60_000, what: 'a leader', intervalMs: 50 },
  );
}

async function side<T>(node: MasterNode, route: string, body?: unknown): Promise<T> {
  if (node.commandPort === 0) throw new Error(`${node.id} has not printed its command port yet`);
  const response = await fetch(`http://127.0.0.1:${node.commandPort}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) throw new Error(`${route}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<T>;
}

async function stopAll(nodes: MasterNode[]): Promise<void> {
  for (const node of nodes) node.child?.kill('SIGKILL');
}

async function agentOnLeader(nodes: MasterNode[], hostname: string): Promise<string> {
  return waitFor(
    async () => {
      const leader = await leaderOf(nodes);
      const agents = await side<{ id: string; hostname: string; state: string }[]>(leader, '/agents');
      return agents.find((agent) => agent.hostname === hostname && agent.state === 'ACTIVE')?.id;
    },
    { timeoutMs: 60_000, what: `agent ${hostname} registered`, intervalMs: 200 },
  );
}

const cluster = suite('agent daemon: three masters');

cluster('an agent given only a follower follows not_leader to the leader', async () => {
  const nodes = await startMasters();
  let agent: AgentProcess | null = null;
  try {
    const leader = await leaderOf(nodes);
    const follower = nodes.find((node) => node !== leader)!;
    await waitFor(async () => (await health(follower))?.role === 'follower', { timeoutMs: 30_000, what: 'a follower' });
    agent = await AgentProcess.start(follower.address);
    await agentOnLeader(nodes, agent.hostname).catch((error: Error) => {
      throw new Error(
        `${error.message}\n${nodes.map((node) => node.output.slice(-3000)).join('\n')}\n${agent?.output.slice(-3000)}`,
      );
    });
    assert.match(agent.output, /not the leader/);
  } finally {
    await agent?.stop();
    await stopAll(nodes);
  }
});

cluster('leader SIGKILLed while tasks start: each uuid recorded once, no task started twice', async () => {
  const nodes = await startMasters();
  let agent: AgentProcess | null = null;
  try {
    agent = await AgentProcess.start(nodes.map((node) => node.address).join(','));
    const agentId = await agentOnLeader(nodes, agent.hostname);
    const leader = await leaderOf(nodes);
    const frameworkId = `fw-cluster-${process.pid}`;
    const subscribed = await side<{ ok: boolean }>(leader, '/submit', {
      type: 'subscribe_framework',
      at: 0,
      frameworkId,
      info: {
        name: 't',
        principal: null,
        roles: ['*'],
        failoverTimeoutMs: 3_600_000,
        capabilities: [],
        hostname: null,
        webuiUrl: null,
      },
    });
    assert.ok(subscribed.ok);
    const taskIds = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
    const offerId = `offer-cluster-${process.pid}`;
    const definitions = taskIds.map((id) => commandTask(id, 'echo started >> "$MESOS_SANDBOX/starts"; sleep 1'));
    const offerResources = [
      { name: 'cpus', role: '*', type: 'SCALAR', scalar: 0.6 },
      { name: 'mem', role: '*', type: 'SCALAR', scalar: 192 },
    ];
    await waitFor(
      async () => {
        const offers = await side<{ id: string; frameworkId: string }[]>(leader, '/offers');
        let offer = offers.find((candidate) => candidate.frameworkId === frameworkId)?.id;
        if (offer === undefined) {
          const made = await side<{ ok: boolean }>(leader, '/submit', {
            type: 'create_offers',
            at: 0,
            offers: [{ offerId, frameworkId, agentId, role: '*', resources: offerResources }],
          });
          if (!made.ok) return false;
          offer = offerId;
        }
        const accepted = await side<{ ok: boolean }>(leader, '/submit', {
          type: 'accept_offers',
          at: 0,
          frameworkId,
          offerIds: [offer],
          operations: [{ type: 'LAUNCH', tasks: definitions }],
        });
        return accepted.ok;
      },
      { timeoutMs: 30_000, what: 'the launch to commit', intervalMs: 200 },
    );
    leader.child?.kill('SIGKILL');
    leader.child = null;
    const survivors = nodes.filter((node) => node !== leader);
    const finalTasks = await waitFor(
      async () => {
        const newLeader = await leaderOf(survivors);
        const tasks = await side<TaskView[]>(newLeader, '/tasks');
        const ours = tasks.filter((task) => task.frameworkId === frameworkId);
        const terminal = ['TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_DROPPED'];
        return ours.length === taskIds.length && ours.every((task) => terminal.includes(task.state)) ? ours : null;
      },
      { timeoutMs: 90_000, what: 'every task terminal on the new leader', intervalMs: 250 },
    );
    for (const task of finalTasks) {
      const uuids = task.statuses.map((status) => status.uuid).filter((uuid) => uuid !== null);
      assert.is(
        new Set(uuids).size,
        uuids.length,
        `${task.id}: a uuid recorded twice: ${JSON.stringify(task.statuses)}`,
      );
      const states = task.statuses.map((status) => status.state);
      for (const state of ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']) {
        assert.ok(
          states.filter((each) => each === state).length <= 1,
          `${task.id}: ${state} twice: ${states.join(' ')}`,
        );
      }
      const starts = path.join(agent.workDir, 'frameworks', frameworkId, 'tasks', task.id, 'starts');
      const count = existsSync(starts)
        ? readFileSync(starts, 'utf8')
            .split('\n')
            .filter((line) => line !== '').length
        : 0;
      assert.ok(count <= 1, `${task.id} started ${count} times`);
      if (task.state === 'TASK_FINISHED') assert.is(count, 1);
    }
  } finally {
    await agent?.stop();
    await stopAll(nodes);
  }
});

cluster.run();
