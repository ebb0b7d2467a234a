// The tasks workload: one framework launches short tasks on real agents while the nemesis
// faults the masters. A launch takes one offer the task fits in (declining smaller ones, which the
// master would rightly refuse) and ACCEPTs it with one task whose command first
// appends the task id to a shared runs file (the proof of what really started), then sleeps.
// Its outcome is what the framework learns: the first status update from the agent (ok: it
// started), the master's refusal (fail: TASK_LOST/DROPPED/ERROR with the launch refused), a
// definite HTTP refusal (fail), or nothing conclusive (info). After the quiet period the
// workload waits for tasks to end and reads GET_TASKS from the leader; the checker adds the
// runs file and every master's replayed log (checker/tasks-checker.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { matchOffer, type OfferMatch, type TaskRequirement } from '../../../src/frameworks/sdk/offer-matching.ts';
import type { Offer } from '../../../src/protocol/mesos.ts';
import {
  committedDivergences,
  type CommittedLog,
  mostCompleteLog,
  readCommittedLog,
} from '../checker/committed-logs.ts';
import { replayMasterLog } from '../checker/log-replay.ts';
import { type AcknowledgementEvidence, checkTasks, type FinalTask, terminalStates } from '../checker/tasks-checker.ts';
import type { SchedulerClient, StatusUpdate } from '../client/scheduler-client.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { operatorCall } from '../cluster/health.ts';
import type { Operation } from '../history/operations.ts';
import type { Completion } from '../history/recorder.ts';
import type { ClientSlot, Workload, WorkloadCheck } from './workload.ts';

const offerWaitMs = 3_000;
/** From a 202 to the task's first status update: beyond this the launch is indeterminate. */
const firstUpdateWaitMs = 15_000;
const taskNeeds: TaskRequirement = { cpus: 0.1, memMb: 16 };
const taskSeconds = 1;
const finalSettleMs = 60_000;
/**
 * After every task ended: time for the master's retries alone to deliver again an update whose
 * acknowledgement a fault lost (the first retry comes 10 s after a send, the next 20 s later;
 * master/limits.ts statusUpdateRetryIntervalMs), then, after a re-subscription (whose SUBSCRIBE
 * sends every pending update at once), time for those to be acknowledged.
 */
const retriesSettleMs = 25_000;
const resubscribedSettleMs = 20_000;
const masterRefusals = new Set(['TASK_LOST', 'TASK_DROPPED', 'TASK_ERROR']);

export class TasksWorkload implements Workload {
  readonly name = 'tasks' as const;
  private nextTask = 0;
  private finalTasks: FinalTask[] | null = null;
  private acknowledgements: AcknowledgementEvidence | undefined;
  private readonly reportedCommits = new Map<string, number>();
  readonly runsFile: string;

  constructor(
    private readonly scheduler: SchedulerClient,
    private readonly cluster: Cluster,
    runDir: string,
  ) {
    this.runsFile = path.join(runDir, 'task-runs.log');
    writeFileSync(this.runsFile, '');
  }

  async step(slot: ClientSlot): Promise<void> {
    const taskId = `t${this.nextTask++}`;
    await slot.run('launch', taskId, { taskId }, () => this.launch(taskId));
  }

  private async launch(taskId: string): Promise<Completion> {
    const offer = await this.scheduler.takeOffer(offerWaitMs, (candidate) => matchOffer(candidate, taskNeeds) !== null);
    const match = offer === null ? null : matchOffer(offer, taskNeeds);
    if (offer === null || match === null) return { type: 'fail', error: 'NO_OFFER' };
    let resolveUpdate: (update: StatusUpdate | null) => void = () => undefined;
    const firstUpdate = new Promise<StatusUpdate | null>((resolve) => {
      resolveUpdate = resolve;
    });
    const stopListening = this.scheduler.onUpdate((update) => {
      if (update.taskId === taskId) resolveUpdate(update);
    });
    try {
      const answer = await this.scheduler.call(this.acceptBody(offer, match, taskId));
      if (answer === null) return { type: 'fail', error: 'NO_STREAM' };
      if (answer.kind === 'transport')
        return answer.sent ? { type: 'info', error: answer.code } : { type: 'fail', error: answer.code };
      // 503 and 307 say "not applied, retry"; 504 (and other 5xx) say the outcome is unknown.
      if (answer.status !== 202)
        return answer.status >= 500 && answer.status !== 503
          ? { type: 'info', error: `HTTP_${answer.status}` }
          : { type: 'fail', error: `HTTP_${answer.status}` };
      const timer = setTimeout(() => resolveUpdate(null), firstUpdateWaitMs);
      const update = await firstUpdate;
      clearTimeout(timer);
      if (update === null) return { type: 'info', error: 'NO_UPDATE' };
      if (update.source === 'SOURCE_MASTER' && masterRefusals.has(update.state))
        return { type: 'fail', error: `${update.state}:${update.reason ?? ''}` };
      return { type: 'ok', value: { state: update.state } };
    } finally {
      stopListening();
    }
  }

  private acceptBody(offer: Offer, match: OfferMatch, taskId: string): Record<string, unknown> {
    const command = `echo ${taskId} >> ${this.runsFile}; sleep ${taskSeconds}`;
    return {
      type: 'ACCEPT',
      accept: {
        offer_ids: [offer.id],
        operations: [
          {
            type: 'LAUNCH',
            launch: {
              task_infos: [
                {
                  name: taskId,
                  task_id: { value: taskId },
                  agent_id: offer.agent_id,
                  resources: match.resources,
                  command: { value: command, shell: true },
                },
              ],
            },
          },
        ],
        filters: { refuse_seconds: 0 },
      },
    };
  }

  /**
   * After the quiet period: tasks end (they sleep a second), then the leader's GET_TASKS until
   * every task is completed, i.e. each update the framework heard is acknowledged (the client
   * acknowledges every update once; one lost to a fault must come again). If the retries alone
   * leave some, the framework subscribes again and the SUBSCRIBE's backlog must settle them.
   */
  async finish(slot: ClientSlot, cluster: Cluster): Promise<void> {
    await slot.run('final-read', undefined, null, async () => {
      const allTerminal = (tasks: readonly FinalTask[]) => tasks.every((task) => terminalStates.has(task.state));
      const allCompleted = (tasks: readonly FinalTask[]) => tasks.every((task) => task.completed === true);
      let last = await this.readUntil(cluster, Date.now() + finalSettleMs, allTerminal, null);
      if (last !== null && allTerminal(last))
        last = await this.readUntil(cluster, Date.now() + retriesSettleMs, allCompleted, last);
      const unacknowledged = (last ?? []).filter((task) => terminalStates.has(task.state) && task.completed !== true);
      let resubscribed = false;
      if (last !== null && allTerminal(last) && unacknowledged.length > 0) {
        this.scheduler.resubscribe();
        resubscribed = true;
        last = await this.readUntil(cluster, Date.now() + resubscribedSettleMs, allCompleted, last);
      }
      this.finalTasks = last;
      this.acknowledgements = { unacknowledgedBeforeResubscribing: unacknowledged.length, resubscribed };
      await this.noteCommitIndexes(cluster);
      return last === null ? { type: 'fail', error: 'NO_ANSWER' } : { type: 'ok', value: { tasks: last.length } };
    });
    this.scheduler.close();
  }

  /** GET_TASKS from the leader every half second until `done` says so or `deadlineMs`; the last answer. */
  private async readUntil(
    cluster: Cluster,
    deadlineMs: number,
    done: (tasks: readonly FinalTask[]) => boolean,
    previous: FinalTask[] | null,
  ): Promise<FinalTask[] | null> {
    let last = previous;
    while (Date.now() < deadlineMs) {
      last = (await this.readTasks(cluster)) ?? last;
      if (last !== null && done(last)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return last;
  }

  /** Each master's commit index before the run's SIGKILL: its disk does not hold it (committed-logs.ts). */
  private async noteCommitIndexes(cluster: Cluster): Promise<void> {
    const answers = await Promise.all(cluster.members().map(async (id) => [id, await cluster.health(id)] as const));
    for (const [id, health] of answers) if (health !== null) this.reportedCommits.set(id, health.commitIndex);
  }

  private async readTasks(cluster: Cluster): Promise<FinalTask[] | null> {
    const leader = await cluster.leader();
    if (leader === null) return null;
    const answer = await operatorCall(cluster.network.book, leader, { type: 'GET_TASKS' });
    if (answer === null || answer.status !== 200) return null;
    const body = answer.body as {
      get_tasks: Record<string, { task_id: { value: string }; framework_id: { value: string }; state: string }[]>;
    };
    const tasks: FinalTask[] = [];
    for (const list of ['tasks', 'unreachable_tasks', 'completed_tasks']) {
      for (const task of body.get_tasks[list] ?? []) {
        if (task.framework_id.value === this.scheduler.frameworkId)
          tasks.push({ taskId: task.task_id.value, state: task.state, completed: list === 'completed_tasks' });
      }
    }
    return tasks;
  }

  check(operations: readonly Operation[]): WorkloadCheck {
    const runs = existsSync(this.runsFile)
      ? readFileSync(this.runsFile, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
      : [];
    const logs: CommittedLog[] = [];
    const replays = new Map<string, ReturnType<typeof replayMasterLog> | { error: string }>();
    for (const [id, master] of this.cluster.masters) {
      try {
        logs.push(readCommittedLog(id, master.dataDir, this.reportedCommits.get(id)));
      } catch (error) {
        replays.set(id, { error: (error as Error).message });
      }
    }
    const chosen = mostCompleteLog(logs);
    if (chosen !== null) {
      try {
        replays.set(
          chosen.master,
          replayMasterLog(this.cluster.master(chosen.master).dataDir, {
            reportedCommit: this.reportedCommits.get(chosen.master),
          }),
        );
      } catch (error) {
        replays.set(chosen.master, { error: (error as Error).message });
      }
    }
    return checkTasks({
      operations,
      runs,
      finalTasks: this.finalTasks,
      acknowledgements: this.acknowledgements,
      replays,
      divergences: committedDivergences(logs),
      mastersCompared: logs.length,
    });
  }
}
