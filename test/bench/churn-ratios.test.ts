// The churn bench's summary (bench/churn.ts): the last / first ratios once history is full, and
// how the Idempotency-Key table filled. The million's first full sample came before the leader's
// first snapshot (its size NaN), so the snapshot's ratio read NaN or Infinity: it is taken from the
// first full sample that had one.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type ChurnSample, idempotencyFilling, ratios, type SnapshotFileSample } from '../../bench/churn.ts';
import { maxIdempotencyKeys } from '../../src/raft/limits.ts';

function sample(
  number: number,
  snapshotBytes: number,
  file: SnapshotFileSample | null,
  historyFull = true,
): ChurnSample {
  return {
    bench: 'churn',
    sample: number,
    finished: number * 100_000,
    elapsed_s: number * 40,
    leader: 'm1',
    leader_rss_mib: 500 + number,
    snapshot_bytes: snapshotBytes,
    snapshots: file === null ? 0 : number,
    snapshot_file: file,
    get_state_ms: 100,
    get_state_bytes: 3_700_000,
    tasks_in_state: 3_000,
    not_completed_by_state: {},
    completed_tasks_max_per_framework: historyFull ? 1_000 : 500,
    history_full: historyFull,
    acknowledgements_on_their_way: 0,
    bench_rss_mib: 200,
    leader_event_loop_delay_max_ms: 10,
    load_average_1m: 3,
  };
}

function file(idempotencyKeys: number, stateBytes: number): SnapshotFileSample {
  const idempotencyBytes = idempotencyKeys * 160;
  return {
    bytes: idempotencyBytes + stateBytes,
    idempotency_keys: idempotencyKeys,
    idempotency_bytes: idempotencyBytes,
    state_bytes: stateBytes,
    state_rows: { tasks: 3_000 },
  };
}

const million = [
  sample(1, Number.NaN, null, false),
  sample(2, Number.NaN, null),
  sample(3, 2_350_000, file(1_000, 2_190_000)),
  sample(4, 2_500_000, file(2_000, 2_180_000)),
  sample(5, 2_660_000, file(3_000, 2_180_000)),
];

test("the snapshot's ratio starts at the first full sample that had a snapshot, not at one without", () => {
  const flat = ratios(million)!;
  assert.is(flat.first_full_sample, 2);
  assert.is(flat.first_full_sample_with_snapshot, 3);
  assert.is(flat.snapshot_bytes, Math.round((2_660_000 / 2_350_000) * 1000) / 1000);
  assert.is(flat.snapshot_state_bytes, Math.round((2_180_000 / 2_190_000) * 1000) / 1000);
  assert.is(flat.leader_rss, Math.round((505 / 502) * 1000) / 1000);
  for (const [name, value] of Object.entries(flat)) assert.ok(Number.isFinite(value), `${name}: ${value}`);
});

test('with fewer than two full samples that had a snapshot, the snapshot has no ratio; the rest still do', () => {
  const flat = ratios(million.slice(0, 3))!;
  assert.is(flat.snapshot_bytes, null);
  assert.is(flat.snapshot_state_bytes, null);
  assert.is(flat.first_full_sample_with_snapshot, null);
  assert.is(flat.get_state_ms, 1);
  assert.is(ratios(million.slice(0, 2)), null, 'one full sample: no ratio at all');
});

test('the Idempotency-Key table: keys per finished task between the first and last snapshot, and the cap ahead', () => {
  const filling = idempotencyFilling(million)!;
  assert.is(filling.keys, 3_000);
  assert.is(filling.bytes, 480_000);
  assert.is(filling.cap_keys, maxIdempotencyKeys);
  assert.is(filling.keys_per_finished_task, 0.01);
  assert.is(filling.bytes_per_key, 160);
  assert.is(filling.finished_tasks_at_cap, maxIdempotencyKeys * 100);
  assert.is(filling.bytes_at_cap, maxIdempotencyKeys * 160);
  assert.is(idempotencyFilling(million.slice(0, 3)), null, 'one snapshot read: no rate');
});

test.run();
