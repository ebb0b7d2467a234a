// The churn bench's question in one process (issue 12, `npm run bench -- churn`): once history is
// full, does the snapshot stop growing? Short tasks go through the real machine and the Raft
// state machine host as they do in the churn (an offer, an ACCEPT of a batch keyed as the SDK keys
// every call, the agent's TASK_RUNNING and TASK_FINISHED as status batches, the framework's
// acknowledgements), and two snapshots, after K rounds and after K more, are compared table by
// table (bench/_snapshot-tables.ts). The state machine's tables must come out the same, row for
// row and byte for byte: only the live cluster and the bounded history are in them. What did grow
// in the churn is the envelope's Idempotency-Key table, one record per keyed call, up to its cap
// (test/raft/idempotency.test.ts shows it flat from there on).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type SnapshotFigures, idempotencyTableName, raftSnapshotFigures } from '../../bench/_snapshot-tables.ts';
import { entryChecksum } from '../../src/raft/checksum.ts';
import { StateMachineHost } from '../../src/raft/state-machine-host.ts';
import type { Entry, IdempotencyStamp } from '../../src/raft/types.ts';
import { encodeCommand } from '../../src/state-machine/codec.ts';
import type { Command, TaskStatusBatchItem } from '../../src/state-machine/commands.ts';
import { agentId, offerId, taskId, type TaskId } from '../../src/state-machine/ids.ts';
import { ClusterStateMachine } from '../../src/state-machine/machine.ts';
import { snapshotFormatVersion } from '../../src/state-machine/snapshot.ts';
import {
  accept,
  agentInfo,
  baseTime,
  cpus,
  createOffers,
  F1,
  launch,
  mem,
  offerDefinition,
  ports,
  resources,
  statusReport,
  subscribe,
  taskDefinition,
  uuid,
} from './support/fixtures.ts';

const completedKept = 100;
const tasksPerAccept = 40;
/** Rounds before the first snapshot: history (100 completed tasks) is full well before. */
const rounds = 10;
const agent = agentId('churn-agent');
const agentResources = resources(cpus(tasksPerAccept), mem(64 * tasksPerAccept), ports(31000, 32000));
/**
 * Log indexes from here on have seven digits throughout, and ids are zero-padded, so that a row's
 * bytes change only if what it holds changes (not with the width of a growing number).
 */
const firstIndex = 1_000_000;
const idWidth = 7;

class Churn {
  readonly host = new StateMachineHost(new ClusterStateMachine({ snapshotFormat: () => snapshotFormatVersion }));
  #index = firstIndex;
  #tasks = 0;
  #offers = 0;
  #keys = 0;

  constructor() {
    this.#apply({
      type: 'update_history_limits',
      at: baseTime,
      maxCompletedFrameworks: 50,
      maxCompletedTasksPerFramework: completedKept,
      maxRemovedAgentAgeMs: 14 * 24 * 3600 * 1000,
      maxRemovedAgentCount: 100,
    });
    this.#apply(subscribe());
    this.#apply({
      type: 'register_agent',
      at: baseTime,
      agentId: agent,
      info: agentInfo({ resources: agentResources }),
    });
  }

  /** One offer of the whole agent, one keyed ACCEPT of a batch, and every task of it run, finished and acknowledged. */
  round(): void {
    const offer = offerId(`offer-${String(++this.#offers).padStart(idWidth, '0')}`);
    this.#apply(createOffers(offerDefinition(offer, agentResources, { agentId: agent })));
    const ids = Array.from({ length: tasksPerAccept }, () =>
      taskId(`task-${String(++this.#tasks).padStart(idWidth, '0')}`),
    );
    const held = resources(cpus(1), mem(64));
    const key = `["anonymous","${String(++this.#keys).padStart(idWidth, '0')}"]`;
    this.#apply(accept([offer], [launch(...ids.map((id) => taskDefinition(id, held)))]), {
      key,
      fingerprint: `fingerprint-${key}`,
      atMs: baseTime,
    });
    this.#statusBatch(ids.map((id) => this.#update(id, 'TASK_RUNNING', 1)));
    this.#statusBatch(ids.map((id) => this.#update(id, 'TASK_FINISHED', 2)));
    this.#statusBatch(
      ids.map((id) => ({
        type: 'acknowledge_task_status',
        frameworkId: F1,
        taskId: id,
        agentId: agent,
        uuid: uuid(2),
        completesTerminalTask: true,
      })),
    );
  }

  async snapshotFigures(): Promise<SnapshotFigures> {
    return raftSnapshotFigures(Buffer.from(await this.host.beginSnapshot()()));
  }

  #update(id: TaskId, state: 'TASK_RUNNING' | 'TASK_FINISHED', seed: number): TaskStatusBatchItem {
    return {
      type: 'update_task_status',
      frameworkId: F1,
      taskId: id,
      agentId: agent,
      status: statusReport(state, { uuid: uuid(seed) }),
    };
  }

  #statusBatch(items: TaskStatusBatchItem[]): void {
    this.#apply({ type: 'task_status_batch', at: baseTime, items });
  }

  #apply(command: Command, idempotency?: IdempotencyStamp): void {
    const index = ++this.#index;
    const data = encodeCommand(command);
    const checksum = entryChecksum(1, index, 'normal', data, idempotency);
    const entry: Entry =
      idempotency === undefined
        ? { term: 1, index, type: 'normal', data, checksum }
        : { term: 1, index, type: 'normal', data, idempotency, checksum };
    const { result } = this.host.apply(entry);
    assert.equal(result, resultOk(command), `${command.type} at ${index}`);
  }
}

/** What a successful command answers: a status batch answers each item. */
function resultOk(command: Command): unknown {
  if (command.type !== 'task_status_batch') return { ok: true };
  return { ok: true, items: command.items.map(() => ({ ok: true })) };
}

const withoutIdempotency = (figures: SnapshotFigures) =>
  figures.tables.filter((table) => table.name !== idempotencyTableName);
const idempotencyOf = (figures: SnapshotFigures) =>
  figures.tables.find((table) => table.name === idempotencyTableName)!;

test('once history is full, K more churn rounds leave every table of the state machine as it was', async () => {
  const churn = new Churn();
  for (let round = 0; round < rounds; round++) churn.round();
  const before = await churn.snapshotFigures();
  for (let round = 0; round < rounds; round++) churn.round();
  const after = await churn.snapshotFigures();
  const tasks = withoutIdempotency(after).find((table) => table.name === 'tasks')!;
  assert.is(tasks.rows, completedKept, 'the newest completed tasks are kept, the rest pruned');
  assert.equal(withoutIdempotency(after), withoutIdempotency(before), 'rows and bytes of every table');
  // The snapshot grew by the Idempotency-Key table alone: one record per keyed ACCEPT.
  assert.is(idempotencyOf(after).rows - idempotencyOf(before).rows, rounds);
  assert.is(after.bytes - before.bytes, idempotencyOf(after).bytes - idempotencyOf(before).bytes);
});

test.run();
