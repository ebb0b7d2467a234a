// Three real `flotilla master` processes and real agent processes with the resources a test
// asks for, plus what end-to-end tests read back: the operator API on the leader (GET_AGENTS,
// GET_ALLOCATION, UPDATE_WEIGHTS, UPDATE_QUOTA), the agents' own view of their tasks, and the
// runs file every e2e task appends "<task id> <pid>" to when it starts.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AllocationReport } from '../../../src/offers/control.ts';
import { AgentProcess } from '../../agent/support/daemon-support.ts';
import { ProcessCluster, type ReplicaProcess } from '../../raft/support/process-cluster.ts';
import { killProcessesWorkingUnder } from '../../support/sandbox-processes.ts';
import { makeTempDir } from '../../support/tmp.ts';
import { waitFor } from '../../support/wait.ts';

/** A task's line in the runs file: written by the task itself when it starts. */
export interface RunRecord {
  readonly taskId: string;
  readonly pid: number;
}

export interface AgentView {
  readonly id: string;
  readonly hostname: string;
  readonly active: boolean;
  /** Scalar totals by name (every role summed). */
  readonly total: Record<string, number>;
  readonly allocated: Record<string, number>;
  readonly offered: Record<string, number>;
}

interface WireResource {
  readonly name: string;
  readonly type: string;
  readonly scalar?: { readonly value: number };
}

interface WireAgent {
  readonly agent_info: { readonly id: { readonly value: string }; readonly hostname: string };
  readonly active: boolean;
  readonly total_resources: readonly WireResource[];
  readonly allocated_resources: readonly WireResource[];
  readonly offered_resources: readonly WireResource[];
}

/** Per-request bound; the machine is loaded, and a leader that died answers nothing. */
const operatorRequestTimeoutMs = 5_000;
const operatorCallTimeoutMs = 60_000;
const agentRegistrationTimeoutMs = 90_000;

function scalars(resources: readonly WireResource[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const resource of resources) {
    if (resource.type !== 'SCALAR' || resource.scalar === undefined) continue;
    out[resource.name] = Math.round(((out[resource.name] ?? 0) + resource.scalar.value) * 1000) / 1000;
  }
  return out;
}

export class E2eCluster {
  readonly agents: AgentProcess[] = [];
  readonly runsFile: string;

  private constructor(
    readonly masters: ProcessCluster,
    readonly root: string,
  ) {
    this.runsFile = path.join(root, 'runs.txt');
  }

  /**
   * Three masters, then one agent per `--resources` flag, each registered and ACTIVE.
   * `masterArgs`: extra master flags (e.g. `--services hosted --jobs hosted`; off by default);
   * `masterArgsFor`: flags of one master only (its `--zone`, say).
   */
  static async start(
    name: string,
    agentResources: readonly string[],
    masterArgs: readonly string[] = [],
    masterArgsFor: (id: string) => string[] = () => [],
  ): Promise<E2eCluster> {
    const root = makeTempDir(`e2e-${name}-`);
    const masters = await ProcessCluster.start(path.join(root), 3, [...masterArgs], 'master', masterArgsFor);
    const cluster = new E2eCluster(masters, root);
    try {
      for (const resources of agentResources) await cluster.addAgent(resources);
    } catch (error) {
      // The caller gets no cluster to stop: what started here kept the test's process alive
      // until the runner's timeout (e2e/sharing at load 50: an agent not active within 90 s,
      // then 300 s of nothing, and uvu's hook error never printed).
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** "host:port,host:port,host:port": what agents and schedulers are given. */
  get masterList(): string {
    return this.masters.replicas.map((replica) => replica.address).join(',');
  }

  /** `extra`: more agent flags (e.g. `--containerizers process,docker`). */
  async addAgent(resources: string, extra: readonly string[] = []): Promise<AgentProcess> {
    // The last --resources wins (commander), so this replaces AgentProcess's default.
    const agent = await AgentProcess.start(this.masterList, [...extra, '--resources', resources]);
    this.agents.push(agent);
    await waitFor(
      async () => (await this.agentViews()).some((view) => view.hostname === agent.hostname && view.active),
      {
        timeoutMs: agentRegistrationTimeoutMs,
        what: `agent ${agent.hostname} (${resources}) to be active`,
        intervalMs: 200,
      },
    ).catch((error: Error) => {
      throw new Error(`${error.message}\nagent output:\n${agent.output.slice(-3000)}`);
    });
    return agent;
  }

  leader(timeoutMs = 60_000, excluding: string[] = []): Promise<ReplicaProcess> {
    return this.masters.waitForLeader(timeoutMs, excluding);
  }

  /** One operator call on the current leader, retried while leadership moves; the parsed answer. */
  async operator<Answer>(call: Record<string, unknown>): Promise<Answer> {
    return waitFor(
      async () => {
        const leader = await this.leader();
        const response = await fetch(`http://${leader.address}/api/v1`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(call),
          redirect: 'manual',
          signal: AbortSignal.timeout(operatorRequestTimeoutMs),
        });
        const text = await response.text();
        // 202: Mesos' answer to the calls that run an offer operation (reservations, volumes).
        if (response.status !== 200 && response.status !== 202)
          throw new Error(`${String(call.type)} answered ${response.status}: ${text.slice(0, 300)}`);
        return { answer: (text === '' ? null : JSON.parse(text)) as Answer };
      },
      { timeoutMs: operatorCallTimeoutMs, what: `operator call ${String(call.type)}`, intervalMs: 200 },
    ).then(({ answer }) => answer);
  }

  async agentViews(): Promise<AgentView[]> {
    const answer = await this.operator<{ get_agents: { agents?: WireAgent[] } }>({ type: 'GET_AGENTS' });
    return (answer.get_agents.agents ?? []).map((agent) => ({
      id: agent.agent_info.id.value,
      hostname: agent.agent_info.hostname,
      active: agent.active,
      total: scalars(agent.total_resources),
      allocated: scalars(agent.allocated_resources),
      offered: scalars(agent.offered_resources),
    }));
  }

  async allocation(): Promise<AllocationReport> {
    const answer = await this.operator<{ get_allocation: AllocationReport }>({ type: 'GET_ALLOCATION' });
    return answer.get_allocation;
  }

  async updateWeights(weights: Record<string, number>): Promise<void> {
    const weightInfos = Object.entries(weights).map(([role, weight]) => ({ role, weight }));
    await this.operator({ type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: weightInfos } });
  }

  /** Mesos 1.9 QuotaConfig; empty guarantees and limits remove the role's quota. */
  async updateQuota(role: string, guarantees: Record<string, number>, limits: Record<string, number>): Promise<void> {
    const wrap = (quantities: Record<string, number>) =>
      Object.fromEntries(Object.entries(quantities).map(([name, value]) => [name, { value }]));
    await this.operator({
      type: 'UPDATE_QUOTA',
      update_quota: { quota_configs: [{ role, guarantees: wrap(guarantees), limits: wrap(limits) }] },
    });
  }

  /** What an agent process itself says it runs (its checkpoint), by task id. */
  async agentTasks(agent: AgentProcess): Promise<{ frameworkId: string; taskId: string; state: string }[]> {
    const response = await fetch(agent.url('/api/v1'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'GET_STATE' }),
      signal: AbortSignal.timeout(operatorRequestTimeoutMs),
    });
    if (response.status !== 200) throw new Error(`agent GET_STATE answered ${response.status}`);
    const body = (await response.json()) as {
      get_state: { tasks: { framework_id: string; task_id: string; state: string }[] };
    };
    return body.get_state.tasks.map((task) => ({
      frameworkId: task.framework_id,
      taskId: task.task_id,
      state: task.state,
    }));
  }

  runs(): RunRecord[] {
    if (!existsSync(this.runsFile)) return [];
    return readFileSync(this.runsFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        const [taskId, pid] = line.trim().split(' ');
        return { taskId: taskId!, pid: Number(pid) };
      });
  }

  async stop(): Promise<void> {
    await Promise.all(this.agents.map((agent) => agent.stop()));
    // SIGKILLed agents leave their tasks running (for recovery), whatever command they run.
    for (const agent of this.agents) killProcessesWorkingUnder(agent.workDir);
    await this.masters.stop();
  }
}

/** The command every e2e task runs: note its start, then live until killed. */
export function recordingCommand(runsFile: string, seconds = 600): string {
  // `exec` keeps the pid the line names, so the test can end the process by id.
  return `echo "$MESOS_TASK_ID $$" >> '${runsFile}'; exec sleep ${seconds}`;
}
