// A framework for end-to-end tests, on the SDK: in one role, it launches identical long-running
// tasks (each writes its id to the cluster's runs file) from every offer it gets, up to
// `tasksPerOffer` per offer, and declines offers that hold none. It records every offer and
// the latest status of every task, so tests can count what it holds and check what it was
// offered. In "hold" mode it keeps offers unanswered instead (a test ACCEPTs them itself).
import os from 'node:os';
import { SchedulerClient } from '../../../src/frameworks/sdk/client.ts';
import { isTerminalTaskState } from '../../../src/protocol/task-states.ts';
import { parseMasterList } from '../../../src/frameworks/sdk/masters.ts';
import { matchOffer } from '../../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../../src/frameworks/sdk/task-info.ts';
import type { TaskInfo } from '../../../src/frameworks/sdk/wire.ts';
import type { Offer, Resource, TaskStatus } from '../../../src/protocol/mesos.ts';
import { waitFor } from '../../support/wait.ts';
import { recordingCommand, type E2eCluster } from './cluster.ts';

export interface SlotFrameworkOptions {
  readonly name: string;
  readonly role: string;
  readonly masters: string;
  readonly runsFile: string;
  readonly cpus: number;
  readonly memMb: number;
  /**
   * At most this many tasks from one offer. Mesos offers all of an agent's free resources to
   * one framework; a framework that takes everything splits the cluster by agents and by who
   * came first, so fairness tests take one task per offer and let the allocator pick who gets
   * the rest.
   */
  readonly tasksPerOffer: number;
  /** Filters.refuse_seconds on the resources an ACCEPT leaves unused (Mesos' default is 5). */
  readonly acceptRefuseSeconds: number;
}

export interface OfferRecord {
  readonly offerId: string;
  readonly agentId: string;
  readonly resources: readonly Resource[];
}

/** Offers kept for inspection: a test sees a few hundred at most; past this, something loops. */
const maxRecordedOffers = 20_000;
/** Live as an agent reports its tasks (anything else is terminal). */
export const liveTaskStates: ReadonlySet<string> = new Set([
  'TASK_STAGING',
  'TASK_STARTING',
  'TASK_RUNNING',
  'TASK_KILLING',
]);
/** An offer that holds no task is declined for this long, so a full cluster does not churn offers. */
const declineRefuseSeconds = 5;

/** The role a resource is reserved for ("*" when unreserved), in either JSON format. */
export function reservationRole(resource: Resource): string {
  const stack = resource.reservations ?? [];
  return stack.length > 0 ? (stack[stack.length - 1]!.role ?? '*') : (resource.role ?? '*');
}

/** `resources` less the slices a task took (same name and reservation). */
function without(resources: readonly Resource[], taken: readonly Resource[]): Resource[] {
  const left = resources.map((resource) => ({ ...resource }));
  for (const slice of taken) {
    if (slice.type !== 'SCALAR') continue;
    const from = left.find(
      (resource) =>
        resource.name === slice.name &&
        resource.type === 'SCALAR' &&
        reservationRole(resource) === reservationRole(slice) &&
        (resource.scalar?.value ?? 0) > 0,
    );
    if (from === undefined) throw new Error(`a matched slice of ${slice.name} is not in the offer`);
    from.scalar = { value: Math.round(((from.scalar?.value ?? 0) - (slice.scalar?.value ?? 0)) * 1000) / 1000 };
  }
  return left;
}

export class SlotFramework {
  readonly client: SchedulerClient;
  readonly offers: OfferRecord[] = [];
  /** Offers kept unanswered in "hold" mode, oldest first. */
  readonly held: Offer[] = [];
  readonly statuses = new Map<string, TaskStatus>();
  readonly #launched = new Map<string, string>();
  mode: 'launch' | 'hold' = 'launch';
  /** The most tasks this framework held at once (launched and not terminal). */
  maxLive = 0;
  #sequence = 0;

  constructor(readonly options: SlotFrameworkOptions) {
    this.client = new SchedulerClient({
      masters: parseMasterList(options.masters),
      framework: {
        user: os.userInfo().username,
        name: options.name,
        roles: [options.role],
        failover_timeout: 300,
        checkpoint: true,
        capabilities: [{ type: 'MULTI_ROLE' }],
      },
      // The default back-off starts at seconds; a test that kills a leader waits less with this.
      reconnect: { baseMs: 250, maxMs: 2_000 },
    });
    this.client.on('OFFERS', (event) => {
      for (const offer of event.offers.offers) this.#onOffer(offer);
    });
    this.client.on('UPDATE', (event) => {
      const status = event.update.status;
      this.statuses.set(status.task_id.value, status);
      this.#noteLive();
    });
  }

  subscribe(): Promise<string> {
    return this.client.subscribe();
  }

  /** Task ids launched and not (yet) reported terminal: what it holds, as far as it knows. */
  live(): string[] {
    return [...this.#launched.keys()].filter((id) => {
      const status = this.statuses.get(id);
      return status === undefined || !isTerminalTaskState(status.state);
    });
  }

  running(): string[] {
    return [...this.#launched.keys()].filter((id) => this.statuses.get(id)?.state === 'TASK_RUNNING');
  }

  /** Task id → agent id of every task it launched. */
  launched(): ReadonlyMap<string, string> {
    return this.#launched;
  }

  nextTaskId(): string {
    this.#sequence += 1;
    return `${this.options.name}-${this.#sequence}`;
  }

  /** A task of this framework's size from `offer`, or null when it does not fit. */
  taskFrom(
    offer: Offer,
    resources: readonly Resource[] = offer.resources,
    size = { cpus: this.options.cpus, memMb: this.options.memMb },
  ): TaskInfo | null {
    const match = matchOffer({ ...offer, resources }, { ...size, role: this.options.role });
    if (match === null) return null;
    return buildTaskInfo(offer, match, {
      name: this.options.name,
      taskId: this.nextTaskId(),
      command: { kind: 'shell', line: recordingCommand(this.options.runsFile) },
    });
  }

  /** ACCEPT with a LAUNCH of `tasks`; the tasks count as held from now on. */
  launch(offer: Offer, tasks: readonly TaskInfo[]): Promise<void> {
    for (const task of tasks) this.#launched.set(task.task_id.value, offer.agent_id.value);
    this.#noteLive();
    return this.client.launch(offer, tasks, { refuse_seconds: this.options.acceptRefuseSeconds });
  }

  waitForState(taskId: string, states: readonly string[], timeoutMs = 90_000): Promise<TaskStatus> {
    return waitFor(
      () => {
        const status = this.statuses.get(taskId);
        return status !== undefined && states.includes(status.state) ? status : null;
      },
      {
        timeoutMs,
        what: `${taskId} to reach ${states.join(' or ')} (now ${this.statuses.get(taskId)?.state ?? 'no update'})`,
        intervalMs: 100,
      },
    );
  }

  /** Back to launching: the offers held so far are used (or declined) now, as if just received. */
  resume(): void {
    this.mode = 'launch';
    for (const offer of this.held.splice(0)) this.#launchFrom(offer);
  }

  async teardown(): Promise<void> {
    await this.client.teardown().catch(() => this.client.close());
  }

  #noteLive(): void {
    this.maxLive = Math.max(this.maxLive, this.live().length);
  }

  #onOffer(offer: Offer): void {
    if (this.offers.length < maxRecordedOffers) {
      this.offers.push({ offerId: offer.id.value, agentId: offer.agent_id.value, resources: offer.resources });
    }
    if (this.mode === 'hold') this.held.push(offer);
    else this.#launchFrom(offer);
  }

  #launchFrom(offer: Offer): void {
    const tasks: TaskInfo[] = [];
    let left: readonly Resource[] = offer.resources;
    while (tasks.length < this.options.tasksPerOffer) {
      const task = this.taskFrom(offer, left);
      if (task === null) break;
      tasks.push(task);
      left = without(left, task.resources);
    }
    // A refused call surfaces as a status update (TASK_LOST) or a lost stream; both are recorded.
    if (tasks.length === 0)
      void this.client.decline([offer.id], { refuse_seconds: declineRefuseSeconds }).catch(() => undefined);
    else void this.launch(offer, tasks).catch(() => undefined);
  }
}

/**
 * TEARDOWN of `frameworks`, then until their tasks are gone by the masters' books and by each
 * agent's own, so the next test starts from an empty cluster.
 */
/** Every agent's cpus are allocated and every task the framework launched and kept runs. */
export async function waitForEveryCpuRunning(
  cluster: E2eCluster,
  framework: SlotFramework,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    async () => {
      const views = await cluster.agentViews();
      const everyCpuRuns = views.every((view) => view.allocated.cpus === view.total.cpus);
      return everyCpuRuns && framework.live().every((id) => framework.statuses.get(id)?.state === 'TASK_RUNNING');
    },
    {
      timeoutMs,
      what: `every cpu to run a task (${framework.running().length} of ${framework.launched().size} running)`,
      intervalMs: 250,
    },
  );
}

export async function tearDownFrameworks(cluster: E2eCluster, frameworks: readonly SlotFramework[]): Promise<void> {
  await Promise.all(frameworks.map((one) => one.teardown()));
  const ids = new Set(frameworks.map((one) => one.client.frameworkId));
  await waitFor(
    async () => {
      const views = await cluster.agentViews();
      if (!views.every((agent) => (agent.allocated.cpus ?? 0) === 0 && (agent.offered.cpus ?? 0) === 0)) return false;
      for (const agent of cluster.agents) {
        const tasks = await cluster.agentTasks(agent);
        if (tasks.some((task) => ids.has(task.frameworkId) && liveTaskStates.has(task.state))) return false;
      }
      return true;
    },
    {
      timeoutMs: 60_000,
      what: "the torn down frameworks' tasks to be gone from the masters' books and the agents",
      intervalMs: 250,
    },
  );
}
