// `flotilla run` without the command line: subscribe as a framework, launch one task on the
// first offer that fits, report its state changes and output, tear the framework down.
// Resolves with the process exit status (0 only for TASK_FINISHED).
import type { ClientTls } from '../../protocol/tls-client.ts';
import type { Offer, TaskStatus } from '../../protocol/mesos.ts';
import { agentAddressOfOffer } from '../../frameworks/sdk/agent-files.ts';
import { SchedulerClient } from '../../frameworks/sdk/client.ts';
import { credentialHeaders } from '../../frameworks/sdk/transport.ts';
import { isTerminalTaskState } from '../../protocol/task-states.ts';
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import { explainMismatch, matchOffer, type TaskRequirement } from '../../frameworks/sdk/offer-matching.ts';
import { buildTaskInfo, newTaskId, type TaskSpec } from '../../frameworks/sdk/task-info.ts';
import { formatStatusLine } from './format.ts';
import { OutputFollower, type OutputSinks } from './output-follower.ts';

export const exitStatus = {
  finished: 0,
  taskNotFinished: 1,
  usage: 2,
  unreachable: 3,
  timedOut: 124,
  interrupted: 130,
} as const;

export interface RunPlan {
  readonly masters: readonly MasterAddress[];
  readonly requirement: TaskRequirement;
  readonly spec: TaskSpec;
  readonly user: string;
  /** 0: no limit. On expiry the task is killed and the exit status is 124. */
  readonly timeoutSeconds: number;
  /** Refuse unfitting offers for this long (DECLINE filters). */
  readonly refuseSeconds: number;
  /** Follow stdout/stderr through the agent. */
  readonly followOutput: boolean;
  /** The framework's principal and secret (Basic), or none for an anonymous master. */
  readonly credentials: { readonly principal: string; readonly secret: string } | null;
  /** Masters and agents with --tls-*: HTTPS trusting this CA; null: plain HTTP. */
  readonly tls: ClientTls | null;
}

export interface RunOutput extends OutputSinks {
  readonly line: (text: string) => void;
  /** One status update of the task. */
  readonly status: (status: TaskStatus) => void;
}

/** The text output: state changes as log-like lines, output as it comes. */
export function textRunOutput(): RunOutput {
  return {
    line: (text) => process.stdout.write(`${text}\n`),
    notice: (text) => process.stderr.write(`flotilla run: ${text}\n`),
    status: (status) => process.stdout.write(`${formatStatusLine(status)}\n`),
    stdout: (data) => process.stdout.write(data),
    stderr: (data) => process.stderr.write(data),
  };
}

/** The framework's name, and the default task name (`--name`). */
export const runFrameworkName = 'flotilla-run';

/** Kept long enough that a master failover does not end the framework (its task would be killed). */
const failoverTimeoutSeconds = 120;

export async function runTask(plan: RunPlan, output: RunOutput, interrupted: Promise<void>): Promise<number> {
  const taskId = plan.spec.taskId ?? newTaskId(plan.spec.name);
  const client = new SchedulerClient({
    masters: plan.masters,
    framework: {
      user: plan.user,
      name: frameworkName(plan.spec.name),
      roles: [plan.requirement.role ?? '*'],
      failover_timeout: failoverTimeoutSeconds,
      checkpoint: true,
      capabilities: [{ type: 'MULTI_ROLE' }],
      ...(plan.credentials === null ? {} : { principal: plan.credentials.principal }),
    },
    ...(plan.credentials === null ? {} : { secret: plan.credentials.secret }),
    tls: plan.tls,
  });
  const run = new TaskRun(client, plan, { ...plan.spec, taskId }, output);
  reportConnection(client, output);
  try {
    const frameworkId = await client.subscribe();
    output.line(
      `subscribed as framework ${frameworkId} on ${client.master}; waiting for an offer of ${describe(plan.requirement)}`,
    );
  } catch (error) {
    output.line(`cannot subscribe: ${(error as Error).message}`);
    client.close();
    return exitStatus.unreachable;
  }
  const outcome = await Promise.race([
    run.finished.then((status) =>
      status.state === 'TASK_FINISHED' ? exitStatus.finished : exitStatus.taskNotFinished,
    ),
    timeout(plan.timeoutSeconds).then(() => exitStatus.timedOut),
    interrupted.then(() => exitStatus.interrupted),
  ]);
  if (outcome === exitStatus.timedOut) output.line(`timed out after ${plan.timeoutSeconds} s`);
  await run.stopOutput();
  await client.teardown().catch((error: Error) => output.line(`teardown failed: ${error.message}`));
  return outcome;
}

/** Says once per master that it cannot be reached, and when the stream to the leader is lost. */
function reportConnection(client: SchedulerClient, output: RunOutput): void {
  const told = new Set<string>();
  client.onConnectionChange((change) => {
    if (change.state !== 'connecting' || change.error === null || told.has(change.error.message)) return;
    told.add(change.error.message);
    output.notice(`${change.error.message}; still trying`);
  });
}

/** `flotilla-run NAME`, or `flotilla-run` alone for a task of the default name (not "flotilla-run flotilla-run"). */
export function frameworkName(taskName: string): string {
  return taskName === runFrameworkName ? runFrameworkName : `${runFrameworkName} ${taskName}`;
}

function describe(requirement: TaskRequirement): string {
  const disk = requirement.diskMb ? ` disk ${requirement.diskMb} MB` : '';
  return `cpus ${requirement.cpus} mem ${requirement.memMb} MB${disk} (role ${requirement.role ?? '*'})`;
}

function timeout(seconds: number): Promise<void> {
  if (seconds <= 0) return new Promise(() => undefined);
  return new Promise((resolve) => setTimeout(resolve, seconds * 1000).unref());
}

/** The state of one `flotilla run`: launched or not, where, and its output follower. */
class TaskRun {
  readonly finished: Promise<TaskStatus>;
  #resolveFinished!: (status: TaskStatus) => void;
  #launchedOn: Offer | null = null;
  #follower: OutputFollower | null = null;
  #toldWaiting = false;
  #ended = false;

  constructor(
    readonly client: SchedulerClient,
    readonly plan: RunPlan,
    readonly spec: TaskSpec & { taskId: string },
    readonly output: RunOutput,
  ) {
    this.finished = new Promise((resolve) => {
      this.#resolveFinished = resolve;
    });
    client.on('OFFERS', (event) => void this.#onOffers(event.offers.offers));
    client.on('UPDATE', (event) => this.#onUpdate(event.update.status));
    // After the task ended, the only ERROR to expect is the master confirming our own TEARDOWN.
    client.on('ERROR', (event) => {
      if (!this.#ended) output.line(`the master says: ${event.error.message}`);
    });
  }

  async stopOutput(): Promise<void> {
    this.#ended = true;
    await this.#follower?.stop();
  }

  async #onOffers(offers: readonly Offer[]): Promise<void> {
    const unused: Offer[] = [];
    for (const offer of offers) {
      const match = this.#launchedOn === null ? matchOffer(offer, this.plan.requirement) : null;
      if (match === null) {
        unused.push(offer);
        continue;
      }
      this.#launchedOn = offer;
      const task = buildTaskInfo(offer, match, this.spec);
      this.output.line(`launching task ${this.spec.taskId} on agent ${offer.agent_id.value} (${offer.hostname})`);
      await this.client.launch(offer, [task]).catch((error: Error) => {
        this.output.line(`launch refused: ${error.message}; waiting for another offer`);
        this.#launchedOn = null;
      });
    }
    if (this.#launchedOn === null && unused.length > 0 && !this.#toldWaiting) {
      this.#toldWaiting = true;
      this.output.line(
        `no offer fits yet (${explainMismatch(unused[0]!, this.plan.requirement) ?? 'already launching'}); still waiting`,
      );
    }
    if (unused.length === 0) return;
    await this.client
      .decline(
        unused.map((offer) => offer.id),
        { refuse_seconds: this.plan.refuseSeconds },
      )
      .catch((error: Error) => this.output.line(`decline failed: ${error.message}`));
  }

  #onUpdate(status: TaskStatus): void {
    if (status.task_id.value !== this.spec.taskId) return;
    this.output.status(status);
    if (status.state === 'TASK_RUNNING' || status.state === 'TASK_STARTING') this.#followOutput();
    if (isTerminalTaskState(status.state)) {
      if (this.#follower === null) this.#followOutput();
      this.#resolveFinished(status);
    }
  }

  #followOutput(): void {
    if (this.#follower !== null || !this.plan.followOutput || this.#launchedOn === null) return;
    const agent = agentAddressOfOffer(this.#launchedOn);
    const frameworkId = this.client.frameworkId;
    if (agent === null || frameworkId === null) {
      this.output.notice("cannot follow the task's output: the offer named no agent address");
      return;
    }
    const headers =
      this.plan.credentials === null
        ? {}
        : credentialHeaders(this.plan.credentials.principal, this.plan.credentials.secret);
    this.#follower = new OutputFollower(agent, frameworkId, this.spec.taskId, this.output, headers, this.plan.tls);
    this.#follower.start();
  }
}
