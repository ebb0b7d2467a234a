// Launching TaskInfos on a real agent the way a Mesos framework does, through the HTTP scheduler
// API (so the master's parsing, the state machine and the agent wire are all on the path), and
// following their status updates to the end, acknowledging each.
import type { IdValue } from '../../../src/protocol/mesos.ts';
import type { SchedulerClient } from '../../http/support/scheduler-client.ts';

export type Json = Record<string, unknown>;

export interface SeenStatus {
  readonly state: string;
  readonly reason: string | null;
  readonly message: string | null;
}

const terminalStates = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
]);

export function scalar(name: string, value: number): Json {
  return { name, type: 'SCALAR', scalar: { value } };
}

export function portRange(begin: number, end: number): Json {
  return { name: 'ports', type: 'RANGES', ranges: { range: [{ begin, end }] } };
}

/** Waits for an offer, then launches `tasks(agentId)` on it. */
export async function launchOnNextOffer(client: SchedulerClient, tasks: (agentId: IdValue) => Json[]): Promise<void> {
  const offer = (await client.nextOf('OFFERS', () => true, 60_000)).offers.offers[0];
  if (offer === undefined) throw new Error('an OFFERS event without offers');
  await client.callOk('ACCEPT', {
    accept: {
      offer_ids: [offer.id],
      operations: [{ type: 'LAUNCH', launch: { task_infos: tasks(offer.agent_id) } }],
    },
  });
}

/** Every status of each task until all of them are terminal, acknowledging as a framework must. */
export async function followToEnd(
  client: SchedulerClient,
  taskIds: readonly string[],
  timeoutMs = 120_000,
): Promise<Map<string, SeenStatus[]>> {
  const seen = new Map<string, SeenStatus[]>(taskIds.map((id) => [id, []]));
  const done = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (done.size < taskIds.length) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`tasks not ended: ${JSON.stringify(Object.fromEntries(seen))}`);
    const status = (await client.nextOf('UPDATE', () => true, left)).update.status;
    if (status.uuid !== undefined) {
      await client.callOk('ACKNOWLEDGE', {
        acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
      });
    }
    const list = seen.get(status.task_id.value);
    if (list === undefined) continue;
    list.push({ state: status.state, reason: status.reason ?? null, message: status.message ?? null });
    if (terminalStates.has(status.state)) done.add(status.task_id.value);
  }
  return seen;
}

export function lastOf(statuses: readonly SeenStatus[] | undefined): SeenStatus {
  const last = statuses?.at(-1);
  if (last === undefined) throw new Error('no status');
  return last;
}
