// A scheduler's whole event stream, kept in order, for end-to-end tests of executors: updates
// are acknowledged as they come; statuses and outstanding offers are looked up from the log.
import type { Offer, TaskStatus } from '../../../src/protocol/mesos.ts';
import type { SchedulerEvent } from '../../../src/protocol/scheduler.ts';
import type { SchedulerClient } from '../../http/support/scheduler-client.ts';
import { waitFor } from '../../support/wait.ts';

const waitMs = 90_000;

/** Every event of the scheduler's stream, kept in order; updates are acknowledged as they come. */
export class EventLog {
  readonly events: SchedulerEvent[] = [];
  #running = true;

  constructor(readonly client: SchedulerClient) {
    void this.#read();
  }

  async #read(): Promise<void> {
    while (this.#running) {
      const event = await this.client.next(600_000).catch((error: unknown) => {
        if (this.#running) console.error(`the scheduler's event stream failed: ${String(error)}`);
        return null;
      });
      if (event === null) return;
      this.events.push(event);
      if (event.type !== 'UPDATE' || event.update.status.uuid === undefined) continue;
      const status = event.update.status;
      await this.client
        .call('ACKNOWLEDGE', { acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid } })
        .catch(() => undefined);
    }
  }

  stop(): void {
    this.#running = false;
    this.client.close();
  }

  statuses(taskId: string): TaskStatus[] {
    return this.events.flatMap((event) =>
      event.type === 'UPDATE' && event.update.status.task_id.value === taskId ? [event.update.status] : [],
    );
  }

  /** The first status of `taskId` in `state`, once it has come. */
  async status(taskId: string, state: string): Promise<TaskStatus> {
    return waitFor(() => this.statuses(taskId).find((status) => status.state === state), {
      timeoutMs: waitMs,
      what: `${taskId} to be ${state}`,
    }).catch((error: Error) => {
      // What did come, with reasons, read when the wait failed: a TASK_FAILED names its cause.
      const seen = this.statuses(taskId).map((status) => `${status.state} ${status.reason ?? ''}`.trim());
      throw new Error(`${error.message}; seen: ${seen.join(', ') || 'nothing'}`, { cause: error });
    });
  }

  /** Offers accepted already: never offered again. */
  readonly used = new Set<string>();

  /** The newest outstanding offer (not accepted, not rescinded) with at least `cpus`. */
  async offer(cpus = 1): Promise<Offer> {
    return waitFor(
      () => {
        const rescinded = new Set(
          this.events.flatMap((event) => (event.type === 'RESCIND' ? [event.rescind.offer_id.value] : [])),
        );
        return this.events
          .flatMap((event) => (event.type === 'OFFERS' ? event.offers.offers : []))
          .filter((offer) => !this.used.has(offer.id.value) && !rescinded.has(offer.id.value))
          .reverse()
          .find((offer) => scalarOf(offer, 'cpus') >= cpus);
      },
      { timeoutMs: waitMs, what: 'an outstanding offer' },
    );
  }
}

export const scalarOf = (offer: Offer, name: string): number =>
  offer.resources.filter((each) => each.name === name).reduce((total, each) => total + (each.scalar?.value ?? 0), 0);
