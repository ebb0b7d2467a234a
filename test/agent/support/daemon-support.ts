// Real agent processes (`node bin/flotilla.js agent …`) and helpers to drive tasks onto them
// through a master's facade (the same submit the HTTP layer uses, with validation by the codec).
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MasterCore } from '../../../src/master/interface.ts';
import { type MasterOptionValues, masterConfig } from '../../../src/master/config.ts';
import { Master } from '../../../src/master/daemon.ts';
import type { Command } from '../../../src/state-machine/commands.ts';
import { maxTasksPerLaunch } from '../../../src/state-machine/limits.ts';
import {
  agentId,
  frameworkId,
  offerId,
  taskId,
  type AgentId,
  type FrameworkId,
} from '../../../src/state-machine/ids.ts';
import { canonicalize, type Resource } from '../../../src/state-machine/resources.ts';
import type { ReadonlyState, Task } from '../../../src/state-machine/state.ts';
import type { TaskDefinition } from '../../../src/state-machine/values.ts';
import { silentLogger } from '../../../src/util/logger.ts';
import { freePort } from '../../raft/support/process-cluster.ts';
import { stopChild } from '../../support/child-exit.ts';
import { killProcessesWorkingUnder } from '../../support/sandbox-processes.ts';
import { makeTempDir } from '../../support/tmp.ts';
import { waitFor } from '../../support/wait.ts';

const flotillaBin = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'flotilla.js');

/**
 * Every agent's work directory this test process started: a SIGKILLed agent leaves its tasks
 * running (for recovery), and a test that never restarts it must not leave them to outlive the
 * suite, so they are ended when the test process exits.
 */
const agentWorkDirs = new Set<string>();

/** An agent's clean stop (SIGTERM) on a loaded machine; one that outlasts this is a hang to report. */
const agentStopTimeoutMs = 60_000;

function endTasksAgentsLeft(): void {
  for (const workDir of agentWorkDirs) killProcessesWorkingUnder(workDir);
}

export class AgentProcess {
  child: ChildProcess | null = null;
  output = '';

  constructor(
    readonly hostname: string,
    readonly masters: string,
    readonly workDir: string,
    readonly port: number,
    readonly extra: string[] = [],
    /** Added to the agent's environment (DOCKER_HOST, for one). */
    readonly env: Readonly<Record<string, string>> = {},
  ) {}

  static async start(
    masters: string,
    extra: string[] = [],
    env: Readonly<Record<string, string>> = {},
  ): Promise<AgentProcess> {
    const agent = new AgentProcess(
      `agent-${Math.random().toString(36).slice(2, 8)}`,
      masters,
      makeTempDir('agent-'),
      await freePort(),
      extra,
      env,
    );
    agent.launch();
    return agent;
  }

  launch(): void {
    if (agentWorkDirs.size === 0) process.once('exit', endTasksAgentsLeft);
    agentWorkDirs.add(this.workDir);
    const child = spawn(
      process.execPath,
      [
        // `--cpu-prof` and friends for benchmarks' profiles (Node refuses them in NODE_OPTIONS).
        ...(process.env.FLOTILLA_AGENT_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
        flotillaBin,
        'agent',
        '--masters',
        this.masters,
        '--work-dir',
        this.workDir,
        '--listen',
        `127.0.0.1:${this.port}`,
        '--hostname',
        this.hostname,
        '--resources',
        'cpus:4;mem:4096;disk:10000;ports:[31000-31099]',
        '--usage-interval-ms',
        '500',
        ...this.extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLOTILLA_LOG_LEVEL: 'info', ...this.env } },
    );
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-300_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  signal(signal: NodeJS.Signals): void {
    this.child?.kill(signal);
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    if (child === null) return;
    this.child = null;
    await stopChild(child, signal, { timeoutMs: agentStopTimeoutMs, what: `agent ${this.hostname}` });
  }

  url(route: string): string {
    return `http://127.0.0.1:${this.port}${route}`;
  }
}

/** A single in-process master that can be stopped and started again on the same port and data. */
export class RestartableMaster {
  master: Master | null = null;

  private constructor(readonly options: MasterOptionValues) {}

  static async start(overrides: Partial<MasterOptionValues> = {}): Promise<RestartableMaster> {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const restartable = new RestartableMaster(
      masterConfig({
        id: 'm1',
        listen: { host: '127.0.0.1', port },
        peers: { m1: address },
        dataDir: makeTempDir('master-'),
        tickMs: 10,
        agentPingIntervalMs: 500,
        agentMaxMissedPings: 20,
        agentReregistrationGraceMs: 3_000,
        // The built-in frameworks would take the offers these tests count.
        services: 'off',
        jobs: 'off',
        ...overrides,
      }).options,
    );
    await restartable.restart();
    return restartable;
  }

  get address(): string {
    return `${this.options.listen.host}:${this.options.listen.port}`;
  }

  get facade(): MasterCore {
    if (this.master === null) throw new Error('the master is stopped');
    return this.master.facade;
  }

  state(): ReadonlyState {
    return this.facade.state();
  }

  async restart(): Promise<void> {
    const master = await Master.start(masterConfig(this.options), { logger: silentLogger });
    // Not only Raft leadership: hints a test sets (suppression) before the allocation loop has
    // started would be cleared by its start, as every new term starts from none.
    await waitFor(() => master.leadership.view().state === 'leading', {
      timeoutMs: 10_000,
      what: 'm1 to lead with its leader services running',
    });
    this.master = master;
  }

  async stop(): Promise<void> {
    const master = this.master;
    this.master = null;
    await master?.stop();
  }
}

export async function waitForAgent(
  state: () => ReadonlyState,
  hostname: string,
  what = 'ACTIVE',
  timeoutMs = 60_000,
): Promise<AgentId> {
  return waitFor(
    () => {
      for (const agent of state().agents.values())
        if (agent.hostname === hostname && agent.state === what) return agent.id;
      return null;
    },
    { timeoutMs, what: `agent ${hostname} to be ${what}`, intervalMs: 50 },
  );
}

export function resources(list: Resource[]) {
  return canonicalize(list);
}

export function commandTask(id: string, command: string, overrides: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    id: taskId(id),
    name: id,
    resources: resources([
      { name: 'cpus', role: '*', type: 'SCALAR', scalar: 0.1 },
      { name: 'mem', role: '*', type: 'SCALAR', scalar: 32 },
    ]),
    command: { value: command, shell: true, arguments: [], environment: {}, user: null },
    container: null,
    healthCheck: null,
    killGracePeriodMs: null,
    labels: {},
    executor: null,
    data: null,
    ...overrides,
  };
}

let counter = 0;

export async function subscribeFramework(
  submit: (command: Command) => Promise<{ result: { ok: boolean } }>,
  name = 'test',
): Promise<FrameworkId> {
  const id = frameworkId(`fw-${process.pid}-${++counter}`);
  const { result } = await submit({
    type: 'subscribe_framework',
    at: 0,
    frameworkId: id,
    info: {
      name,
      principal: null,
      roles: ['*'],
      failoverTimeoutMs: 3_600_000,
      capabilities: [],
      hostname: null,
      webuiUrl: null,
      user: null,
    },
  });
  if (!result.ok) throw new Error(`subscribe rejected: ${JSON.stringify(result)}`);
  return id;
}

/** Offers one ACCEPT takes at most here (the state machine's own bound is larger). */
const maxOffersPerLaunch = 16;

/**
 * Launches through the framework's offers on the agent: the outstanding ones (the allocator may
 * have made them; all of one role together, as an ACCEPT may take several offers of one agent,
 * since a single one may be a fragment too small for the tasks), or one made here from a small
 * slice of the agent's free resources.
 */
export async function launchTasks(
  facade: () => MasterCore,
  framework: FrameworkId,
  agent: AgentId,
  tasks: TaskDefinition[],
): Promise<void> {
  await waitFor(
    async () => {
      const state = facade().state();
      const outstanding = [...state.offers.values()].filter(
        (candidate) => candidate.frameworkId === framework && candidate.agentId === agent,
      );
      let offerIds = outstanding
        .filter((offer) => offer.role === outstanding[0]?.role)
        .slice(0, maxOffersPerLaunch)
        .map((offer) => offer.id);
      if (offerIds.length === 0) {
        const id = offerId(`offer-${process.pid}-${++counter}`);
        const slice = resources(tasks.flatMap((task) => task.resources));
        const made = await facade().submit({
          type: 'create_offers',
          at: 0,
          offers: [{ offerId: id, frameworkId: framework, agentId: agent, role: '*', resources: slice }],
        });
        if (!made.result.ok || !facade().state().offers.has(id)) return false;
        offerIds = [id];
      }
      const { result } = await facade().submit({
        type: 'accept_offers',
        at: 0,
        frameworkId: framework,
        offerIds,
        // One ACCEPT, its tasks in as many LAUNCH operations as the command schema's bound asks.
        operations: Array.from({ length: Math.ceil(tasks.length / maxTasksPerLaunch) }, (_, index) => ({
          type: 'LAUNCH' as const,
          tasks: tasks.slice(index * maxTasksPerLaunch, (index + 1) * maxTasksPerLaunch),
        })),
      });
      return result.ok;
    },
    { timeoutMs: 30_000, what: `a launch of ${tasks.map((task) => task.id).join(', ')}`, intervalMs: 200 },
  );
}

export function taskOf(state: ReadonlyState, framework: FrameworkId, id: string): Task | undefined {
  return state.tasks.get(`${framework}/${id}` as never);
}

export async function waitForTaskState(
  state: () => ReadonlyState,
  framework: FrameworkId,
  id: string,
  wanted: string,
  timeoutMs = 60_000,
): Promise<Task> {
  return waitFor(
    () => {
      const task = taskOf(state(), framework, id);
      return task?.state === wanted ? task : null;
    },
    {
      timeoutMs,
      what: `task ${id} to be ${wanted} (now ${taskOf(state(), framework, id)?.state ?? 'absent'})`,
      intervalMs: 50,
    },
  );
}

export function statesOf(task: Task): string[] {
  return task.statuses.map((status) => status.state);
}

export function agentIdOf(raw: string): AgentId {
  return agentId(raw);
}
