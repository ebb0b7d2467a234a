// The status update manager: every update is checkpointed (and committed) before it is sent, and stays there
// until the master acknowledges its uuid. Per task only the oldest unacknowledged update is in
// flight (so the master records them in order); it is resent with back-off until acknowledged,
// across reconnects and agent restarts: at-least-once, never lost. The master records a uuid once
// (a resent one is answered DUPLICATE_STATUS_UUID and acknowledged again).
import { boundedStatusMessage } from '../protocol/status-message.ts';
import { isTerminalTaskState } from '../protocol/task-states.ts';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../util/logger.ts';
import type { WireStatus } from '../protocol/agent.ts';
import type { Checkpoint, PendingUpdate } from './checkpoint.ts';

export const statusUpdateLimits = {
  firstResendMs: 1_000,
  maxResendMs: 10_000,
  pumpIntervalMs: 200,
} as const;

/** Mesos' UUID of a status update: 16 random bytes, base64. */
export function newStatusUuid(): string {
  return randomBytes(16).toString('base64');
}

export type StatusFields = Omit<WireStatus, 'uuid' | 'timestampMs'>;

interface InFlight {
  readonly uuid: string;
  attempts: number;
  nextSendMs: number;
}

export class StatusUpdateManager {
  readonly #inFlight = new Map<string, InFlight>();
  readonly #timer: NodeJS.Timeout;
  /** A pump waits for the checkpoint's commit of this turn. */
  #pumpWaiting = false;
  /**
   * Tasks whose oldest update may have changed (recorded, acknowledged) since they were last sent:
   * only these are looked at after a record or an acknowledgement. Looking at every task with an
   * update pending made each acknowledgement of a burst cost the whole burst. The timer's pump
   * still looks at all of them (resends).
   */
  readonly #touched = new Map<string, { readonly frameworkId: string; readonly taskId: string }>();
  #touchedWaiting = false;
  /** Pending updates looked at to decide what to send: what tests count. */
  headsExamined = 0;

  constructor(
    private readonly checkpoint: Checkpoint,
    private readonly send: (frameworkId: string, taskId: string, status: WireStatus) => boolean,
    private readonly logger: Logger,
  ) {
    this.#timer = setInterval(() => this.pump(), statusUpdateLimits.pumpIntervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /**
   * Checkpoints the update (and the task's new state) first, then sends it if it is its task's
   * oldest. An executor's update keeps the uuid (and time) the executor gave it; the agent's own
   * get fresh ones. The message is cut to what the master accepts and replicates (status-message.ts):
   * what is checkpointed is what the master will record.
   */
  record(
    frameworkId: string,
    taskId: string,
    fields: StatusFields,
    made: { readonly uuid: string; readonly timestampMs: number } | null = null,
  ): WireStatus {
    const status: WireStatus = {
      ...fields,
      message: boundedStatusMessage(fields.message),
      uuid: made?.uuid ?? newStatusUuid(),
      timestampMs: made?.timestampMs ?? Date.now(),
    };
    this.checkpoint.recordUpdate(frameworkId, taskId, status, isTerminalTaskState(status.state));
    this.logger.info(
      {
        framework: frameworkId,
        task: taskId,
        state: status.state,
        reason: status.reason,
        uuid: status.uuid,
        healthy: status.healthy,
      },
      'status update',
    );
    this.#touch(frameworkId, taskId);
    return status;
  }

  acknowledge(frameworkId: string, taskId: string, uuid: string): void {
    const known = this.checkpoint.acknowledge(uuid);
    const key = `${frameworkId}/${taskId}`;
    if (this.#inFlight.get(key)?.uuid === uuid) this.#inFlight.delete(key);
    if (known) this.#touch(frameworkId, taskId);
  }

  /** Sends the task's oldest update if it may go, once this turn's writes are durable. */
  #touch(frameworkId: string, taskId: string): void {
    this.#touched.set(`${frameworkId}/${taskId}`, { frameworkId, taskId });
    if (this.#touchedWaiting) return;
    this.#touchedWaiting = true;
    this.checkpoint.afterCommit(() => {
      this.#touchedWaiting = false;
      const now = Date.now();
      const touched = [...this.#touched.values()];
      this.#touched.clear();
      for (const { frameworkId: framework, taskId: task } of touched) {
        const head = this.checkpoint.headUpdate(framework, task);
        if (head !== null && !this.#offer(head, now)) return;
      }
    });
  }

  /** After (re-)registering: the new leader may never have seen what was in flight, so send at once. */
  resendAll(): void {
    this.#inFlight.clear();
    this.pump();
  }

  /**
   * Sends what may go out. Updates recorded in this turn are not durable until the checkpoint
   * commits the turn, so while one waits the whole pump does (an update reaches the master only
   * once a restart of the agent would still know it).
   */
  pump(): void {
    if (this.checkpoint.commitPending) {
      if (!this.#pumpWaiting) {
        this.#pumpWaiting = true;
        this.checkpoint.afterCommit(() => {
          this.#pumpWaiting = false;
          this.pump();
        });
      }
      return;
    }
    const now = Date.now();
    for (const update of this.checkpoint.headUpdates()) if (!this.#offer(update, now)) return;
  }

  /** Sends a task's oldest update unless it is in flight and not due again; false when the link refused it. */
  #offer(update: PendingUpdate, now: number): boolean {
    this.headsExamined += 1;
    const key = `${update.frameworkId}/${update.taskId}`;
    let flight = this.#inFlight.get(key);
    if (flight !== undefined && flight.uuid === update.status.uuid && flight.nextSendMs > now) return true;
    if (flight === undefined || flight.uuid !== update.status.uuid)
      flight = { uuid: update.status.uuid, attempts: 0, nextSendMs: now };
    if (!this.send(update.frameworkId, update.taskId, update.status)) return false;
    flight.attempts += 1;
    flight.nextSendMs =
      now + Math.min(statusUpdateLimits.maxResendMs, statusUpdateLimits.firstResendMs * 2 ** (flight.attempts - 1));
    this.#inFlight.set(key, flight);
    return true;
  }
}
