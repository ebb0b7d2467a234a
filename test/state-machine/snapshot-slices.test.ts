// The clock of a sliced snapshot write or restore (snapshot-slices.ts): when a step yields, and
// the job's timeline — its slices, the gaps between them, and of each what this thread ran and
// waited for a core — which the master logs as "snapshot slices" (bench/scale.ts reads it).
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ClusterStateMachine, type SnapshotTimeline } from '../../src/state-machine/machine.ts';
import { snapshotFormatVersion } from '../../src/state-machine/snapshot.ts';
import { SliceClock } from '../../src/state-machine/snapshot-slices.ts';
import { stateHash } from '../../src/state-machine/hash.ts';
import { taskMachine } from './support/task-machine.ts';

test('slices, gaps, and of each the thread’s run and runqueue time, from the clocks given', () => {
  let nowMs = 100;
  let times = { runNs: 0, waitNs: 0 };
  const clock = new SliceClock(
    10,
    () => nowMs,
    () => times,
  );
  nowMs = 105;
  assert.not.ok(clock.due(), '5 ms of a 10 ms budget');
  nowMs = 112;
  times = { runNs: 8e6, waitNs: 4e6 };
  assert.ok(clock.due());
  clock.paused();
  // The gap: 5 ms of the loop's other callbacks, 20 ms waiting for a core, 3 ms asleep.
  nowMs = 140;
  times = { runNs: 13e6, waitNs: 24e6 };
  clock.resumed();
  assert.is(clock.sliceStartMs, 140);
  nowMs = 150;
  times = { runNs: 22e6, waitNs: 25e6 };
  assert.equal(clock.timeline(), {
    slices: 2,
    sliceMs: 22,
    longestSliceMs: 12,
    sliceCpuMs: 17,
    sliceRunqueueMs: 5,
    gapMs: 28,
    longestGapMs: 28,
    gapCpuMs: 5,
    gapRunqueueMs: 20,
  });
  assert.equal(clock.timeline(false), {
    slices: 1,
    sliceMs: 12,
    longestSliceMs: 12,
    sliceCpuMs: 8,
    sliceRunqueueMs: 4,
    gapMs: 28,
    longestGapMs: 28,
    gapCpuMs: 5,
    gapRunqueueMs: 20,
  });
});

test('without the thread’s times the timeline says so (null), and still counts slices and gaps', () => {
  let nowMs = 0;
  const clock = new SliceClock(
    0,
    () => nowMs,
    () => null,
  );
  for (let slice = 0; slice < 3; slice++) {
    nowMs += 4;
    clock.paused();
    nowMs += 6;
    clock.resumed();
  }
  const timeline = clock.timeline();
  assert.is(timeline.slices, 4);
  assert.is(timeline.gapMs, 18);
  assert.is(timeline.sliceMs, 12);
  assert.is(timeline.sliceCpuMs, null);
  assert.is(timeline.gapRunqueueMs, null);
});

test('a sliced write and restore each report their timeline: a slice per step at a budget of 0', async () => {
  const source = taskMachine(20, 100);
  const timelines: SnapshotTimeline[] = [];
  const machine = new ClusterStateMachine({
    snapshotSliceBudgetMs: 0,
    snapshotWorkerMinimumRows: 0,
    snapshotFormat: () => snapshotFormatVersion,
    onSnapshotTimeline: (timeline) => timelines.push(timeline),
  });
  // The source's commands are not at hand: its snapshot, restored straight, is the state to write.
  machine.restore(source.snapshot());
  const bytes = await machine.beginSnapshot()();
  assert.is(timelines.length, 1);
  const write = timelines[0]!;
  assert.is(write.kind, 'write');
  // 2,000 tasks, a step every 32 rows: at least 62 yields, so 62 slices closed before the last.
  assert.ok(write.slices >= Math.floor(2_000 / 32), `${write.slices} slices`);
  const restoring = new ClusterStateMachine({
    snapshotSliceBudgetMs: 0,
    onSnapshotTimeline: (timeline) => timelines.push(timeline),
  });
  const install = await restoring.prepareRestore(bytes, () => false);
  install!();
  assert.is(stateHash(restoring.state), stateHash(source.state));
  assert.is(timelines.length, 2);
  const restore = timelines[1]!;
  assert.is(restore.kind, 'restore');
  assert.is(restore.finishMs, 0);
  assert.ok(restore.slices > Math.floor(2_000 / 32), `${restore.slices} slices`);
  const linux = existsSync(`/proc/self/task/${process.pid}/schedstat`);
  assert.is(restore.sliceCpuMs === null, !linux, 'the thread’s times where Linux tells them');
});

test.run();
