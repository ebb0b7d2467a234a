// The pure core of the jobs framework: the schedule calculator (croner underneath: five-field
// cron, IANA zones, daylight saving), slot decisions (every slot decided once, whatever the
// tick pattern; FORBID, REPLACE, the starting deadline), run transitions (ON_FAILURE back-off
// until activeDeadlineSeconds, a launch that never ran is not a failure), Chronos
// dependencies, and JobSpec validation with Metronome's defaults. A property test prints its seed.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { newJobRecord } from '../../src/frameworks/jobs/job-record.ts';
import { parseJobSpec } from '../../src/frameworks/jobs/job-spec.ts';
import type { FinishedRunSummary, JobRecord, JobSpec, RunId, ScheduleSpec } from '../../src/frameworks/jobs/model.ts';
import { maxFinishedRunsKept, maxHistoryRunsPerList } from '../../src/frameworks/jobs/limits.ts';
import { applyTaskStatus, recordLaunch, startRun } from '../../src/frameworks/jobs/run-transitions.ts';
import { nextSlotAfter, planSlots } from '../../src/frameworks/jobs/schedule-calculator.ts';
import { decideDependencies, decideSchedules } from '../../src/frameworks/jobs/slot-decisions.ts';
import { Problems } from '../../src/frameworks/jobs/validation.ts';
import { taskIdFor } from '../../src/frameworks/jobs/task-launch.ts';
import { historyJson } from '../../src/frameworks/jobs/api/metronome-json.ts';

const minuteMs = 60_000;
const t0 = Date.UTC(2030, 0, 1, 10, 0, 30);
const everyMinute: ScheduleSpec = {
  id: 'every',
  cron: '* * * * *',
  timezone: 'UTC',
  startingDeadlineSeconds: 900,
  concurrencyPolicy: 'ALLOW',
  enabled: true,
};

function spec(overrides: Partial<JobSpec['run']> = {}, dependencies: string[] = []): JobSpec {
  const parsed = parseJobSpec({ id: 'job', run: { cmd: 'true', cpus: 0.1, mem: 32, disk: 0, ...overrides } });
  if (parsed instanceof Problems) throw new Error(JSON.stringify(parsed.details()));
  return { ...parsed.spec, dependencies: dependencies.map((id) => ({ id: id as JobSpec['id'] })) };
}

let runCounter = 0;
const context = (now: number) => ({ now, instance: 'test', newRunId: () => `r${++runCounter}` as RunId });

test('croner computes slots: strictly after, in the schedule time zone, across daylight saving', () => {
  assert.is(nextSlotAfter(everyMinute, t0), t0 + 30_000);
  assert.is(nextSlotAfter(everyMinute, t0 + 30_000), t0 + 90_000);
  const newYork = { ...everyMinute, cron: '30 2 * * *', timezone: 'America/New_York' };
  // 2030-03-10 02:30 does not exist in New York (clocks jump 02:00 → 03:00): it runs at 03:00 EDT.
  assert.is(new Date(nextSlotAfter(newYork, Date.UTC(2030, 2, 9, 12))!).toISOString(), '2030-03-10T07:00:00.000Z');
  const plan = planSlots(everyMinute, t0, t0 + 3 * minuteMs);
  assert.equal(plan.due, [t0 + 30_000, t0 + 90_000, t0 + 150_000]);
  assert.is(plan.expired, null);
});

test('every slot is decided exactly once, started or skipped, whatever the pattern of ticks', () => {
  const seed = Number(process.env.FLOTILLA_SEED ?? Date.now() % 1_000_000);
  console.log(`jobs-decisions property seed ${seed}`);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 40 * minuteMs }), { minLength: 1, maxLength: 12 }), (steps) => {
      let record: JobRecord = newJobRecord(spec(), [{ ...everyMinute, startingDeadlineSeconds: 600 }], t0);
      let now = t0;
      const decided: number[] = [];
      for (const step of steps) {
        now += step;
        for (let tick = 0; tick < 50; tick++) {
          const decision = decideSchedules(record, context(now));
          if (decision === null) break;
          record = { ...decision.record, activeRuns: [] };
          const started = decision.record.activeRuns.flatMap((run) =>
            run.trigger.kind === 'schedule' ? [run.trigger.slotAt] : [],
          );
          decided.push(...started);
        }
      }
      for (const skipped of record.history.skippedSlots) {
        for (let slot = skipped.firstSlotAt; slot <= skipped.lastSlotAt; slot += minuteMs) decided.push(slot);
      }
      const expected: number[] = [];
      for (let slot = t0 + 30_000; slot <= now; slot += minuteMs) expected.push(slot);
      // History keeps the newest skipped entries only; everything it still holds is exact.
      const sorted = [...decided].sort((left, right) => left - right);
      assert.is(new Set(sorted).size, sorted.length, 'no slot decided twice');
      for (const slot of sorted) assert.ok(expected.includes(slot), `slot ${slot} is a real slot`);
      if (record.history.skippedSlots.length < 20) assert.equal(sorted, expected, 'no slot silently skipped');
    }),
    { seed, numRuns: 100 },
  );
});

// README "Clocks": after a failover to a master whose clock is behind, no slot at or before the
// recorded cursor is decided again, and the next slot waits until that clock reaches it.
test('a deciding clock behind the cursor (failover to a slower master) decides no slot twice; new slots wait for it', () => {
  let record: JobRecord = newJobRecord(spec(), [everyMinute], t0);
  const slotsOf = (decision: ReturnType<typeof decideSchedules>): number[] =>
    (decision?.record.activeRuns ?? []).flatMap((run) => (run.trigger.kind === 'schedule' ? [run.trigger.slotAt] : []));
  const decideAt = (now: number): number[] => {
    const decision = decideSchedules(record, context(now));
    const slots = slotsOf(decision);
    if (decision !== null) record = { ...decision.record, activeRuns: [] };
    return slots;
  };
  assert.equal(decideAt(t0 + 3 * minuteMs), [t0 + 30_000, t0 + 90_000, t0 + 150_000], 'the fast clock decides three');
  assert.equal(decideAt(t0 + minuteMs), [], 'a clock two minutes behind decides nothing again');
  assert.equal(decideAt(t0 + 3 * minuteMs + 10_000), [], 'the next slot waits for the slow clock');
  assert.equal(decideAt(t0 + 4 * minuteMs), [t0 + 210_000], 'and runs once it reaches it');
  assert.equal(decideAt(t0 + 4 * minuteMs), []);
  assert.equal(record.history.skippedSlots, []);
});

test('FORBID skips a slot while a run is active and names the reason; REPLACE stops the active run', () => {
  const forbid = newJobRecord(spec(), [{ ...everyMinute, concurrencyPolicy: 'FORBID' }], t0);
  const first = decideSchedules(forbid, context(t0 + minuteMs))!;
  assert.is(first.started.length, 1);
  const second = decideSchedules(first.record, context(t0 + 2 * minuteMs))!;
  assert.is(second.started.length, 0);
  assert.is(second.record.history.skippedSlots[0]!.reason, 'CONCURRENCY_FORBID');
  assert.is(second.record.activeRuns.length, 1);

  const replace = newJobRecord(spec(), [{ ...everyMinute, concurrencyPolicy: 'REPLACE' }], t0);
  const one = decideSchedules(replace, context(t0 + minuteMs))!;
  const launched = recordLaunch(one.record, one.started[0]!, 'job_x.1', 'agent', t0 + minuteMs);
  const two = decideSchedules(launched, context(t0 + 2 * minuteMs))!;
  assert.equal(two.stopping, [one.started[0]]);
  assert.is(two.record.activeRuns.length, 2);
  assert.ok(two.record.activeRuns[0]!.stopRequested);
});

test('slots older than startingDeadlineSeconds are skipped as one history entry, newer ones run late', () => {
  const record = newJobRecord(spec(), [{ ...everyMinute, startingDeadlineSeconds: 120 }], t0);
  const decision = decideSchedules(record, context(t0 + 10 * minuteMs))!;
  assert.equal(
    decision.record.history.skippedSlots.map((entry) => [entry.reason, entry.count]),
    [['STARTING_DEADLINE_PASSED', 8]],
  );
  assert.is(decision.started.length, 2, 'the two slots within two minutes still run');
});

test('ON_FAILURE restarts with back-off until activeDeadlineSeconds; a launch that never ran is no failure', () => {
  const job = spec({ restart: { policy: 'ON_FAILURE', activeDeadlineSeconds: 60 } });
  let record = decideSchedules(newJobRecord(job, [everyMinute], t0), context(t0 + minuteMs))!.record;
  const runId = record.activeRuns[0]!.id;
  const at = t0 + minuteMs;
  record = recordLaunch(record, runId, 'job_a.1', 'agent', at);
  const dropped = {
    taskId: 'job_a.1',
    state: 'TASK_LOST' as const,
    message: null,
    outcome: 'not-launched' as const,
    restartDelayMs: 0,
  };
  record = applyTaskStatus(record, dropped, at + 1)!;
  assert.is(record.activeRuns[0]!.failures, 0);
  record = recordLaunch(record, runId, 'job_a.2', 'agent', at + 2);
  const failed = {
    taskId: 'job_a.2',
    state: 'TASK_FAILED' as const,
    message: 'exit 1',
    outcome: 'failed' as const,
    restartDelayMs: 5_000,
  };
  record = applyTaskStatus(record, failed, at + 3)!;
  assert.is(record.activeRuns[0]!.status, 'STARTING');
  assert.is(record.activeRuns[0]!.nextAttemptAt, at + 5_003);
  record = recordLaunch(record, runId, 'job_a.3', 'agent', at + 6_000);
  record = applyTaskStatus(record, { ...failed, taskId: 'job_a.3' }, at + 61_000)!;
  assert.is(record.activeRuns.length, 0);
  assert.is(record.finishedRuns[0]!.status, 'FAILED');
  assert.match(record.finishedRuns[0]!.reason!, /activeDeadlineSeconds 60 passed/);
  assert.is(record.history.failureCount, 1);
});

test('history is bounded: counts keep growing, the lists keep the newest runs, finished runs the newest 8', () => {
  let record: JobRecord = newJobRecord(spec(), [], t0);
  const total = 30;
  for (let index = 1; index <= total; index++) {
    const runId = `r-bounded-${index}` as RunId;
    const at = t0 + index * minuteMs;
    record = startRun(record, runId, { kind: 'manual' }, at, 'test');
    record = recordLaunch(record, runId, `job_${runId}.1`, 'agent', at);
    const finished = index % 3 === 0 ? 'failed' : 'finished';
    const state = finished === 'failed' ? ('TASK_FAILED' as const) : ('TASK_FINISHED' as const);
    const input = { taskId: `job_${runId}.1`, state, message: null, outcome: finished, restartDelayMs: 0 } as const;
    record = applyTaskStatus(record, input, at + 1_000)!;
  }
  const { history } = record;
  assert.equal([history.successCount, history.failureCount], [20, 10]);
  assert.is(history.successfulFinishedRuns.length, maxHistoryRunsPerList);
  assert.is(history.successfulFinishedRuns.at(-1)!.id, `r-bounded-${total - 1}`, 'the newest success is kept');
  assert.is(history.failedFinishedRuns.length, 10);
  assert.is(record.finishedRuns.length, maxFinishedRunsKept);
  assert.is(record.lastFinished!.runId, `r-bounded-${total}`);
  assert.is(history.lastFailureAt, t0 + total * minuteMs + 1_000);
});

test("a history entry keeps its run's task attempts, rendered as Metronome's task ids", () => {
  let record: JobRecord = newJobRecord(spec(), [], t0);
  const runId = '20261206120000abcde' as RunId;
  const taskId = taskIdFor(record.spec.id, runId, 1);
  record = startRun(record, runId, { kind: 'manual' }, t0, 'test');
  record = recordLaunch(record, runId, taskId, 'agent', t0);
  const input = { taskId, state: 'TASK_FINISHED', message: null, outcome: 'finished', restartDelayMs: 0 } as const;
  record = applyTaskStatus(record, input, t0 + 1_000)!;
  assert.equal(record.history.successfulFinishedRuns[0]!.taskAttempts, [1]);
  const rendered = historyJson(record.spec.id, record.history) as { successfulFinishedRuns: { tasks: string[] }[] };
  assert.equal(rendered.successfulFinishedRuns[0]!.tasks, [taskId]);
  const older = { ...record.history, successfulFinishedRuns: [{ id: runId, createdAt: t0, finishedAt: t0 }] };
  const olderRendered = historyJson(record.spec.id, older) as { successfulFinishedRuns: { tasks: string[] }[] };
  assert.equal(olderRendered.successfulFinishedRuns[0]!.tasks, [], 'an entry written before attempts were kept');
});

test('a dependent job starts once per new successful run of every parent, never after a failure', () => {
  const child = newJobRecord(spec({}, ['a', 'b']), [], t0);
  const success = (runId: string): FinishedRunSummary => ({ runId: runId as RunId, status: 'SUCCESS', finishedAt: t0 });
  assert.is(
    decideDependencies(
      child,
      new Map([
        ['a', success('a1')],
        ['b', null],
      ]),
      context(t0),
    ),
    null,
  );
  const failedB: FinishedRunSummary = { runId: 'b1' as RunId, status: 'FAILED', finishedAt: t0 };
  assert.is(
    decideDependencies(
      child,
      new Map([
        ['a', success('a1')],
        ['b', failedB],
      ]),
      context(t0),
    ),
    null,
  );
  const started = decideDependencies(
    child,
    new Map([
      ['a', success('a1')],
      ['b', success('b2')],
    ]),
    context(t0),
  )!;
  assert.equal(started.record.activeRuns[0]!.trigger, { kind: 'dependencies', parents: { a: 'a1', b: 'b2' } });
  assert.is(
    decideDependencies(
      started.record,
      new Map([
        ['a', success('a1')],
        ['b', success('b2')],
      ]),
      context(t0),
    ),
    null,
  );
  assert.is(
    decideDependencies(
      started.record,
      new Map([
        ['a', success('a3')],
        ['b', success('b2')],
      ]),
      context(t0),
    ),
    null,
  );
});

test("a JobSpec gets Metronome's defaults; problems name their JSON path", () => {
  const parsed = parseJobSpec({ id: 'a.b-c', run: { cmd: 'x', cpus: 1, mem: 128, disk: 0 } });
  assert.not.instance(parsed, Problems);
  const run = (parsed as { spec: JobSpec }).spec.run;
  assert.equal([run.maxLaunchDelay, run.restart, run.env, run.artifacts], [3600, { policy: 'NEVER' }, {}, []]);
  const bad = parseJobSpec({
    id: '-a',
    run: { cpus: 0, mem: 'lots', disk: -1, env: { S: { secret: 'x' } } },
  }) as Problems;
  assert.equal(
    bad
      .details()
      .map((detail) => detail.path)
      .sort(),
    ['/id', '/run', '/run/cpus', '/run/disk', '/run/env/S', '/run/mem'],
  );
});

test('artifacts take Metronome defaults; a URI the agent cannot fetch, or artifacts without cmd/args, are refused', () => {
  const parsed = parseJobSpec({
    id: 'fetching',
    run: {
      cmd: './run.sh',
      cpus: 0.1,
      mem: 32,
      disk: 0,
      artifacts: [{ uri: 'http://files.example/run.sh', executable: true, extract: false }, { uri: '/opt/a.tgz' }],
    },
  });
  assert.not.instance(parsed, Problems);
  assert.equal((parsed as { spec: JobSpec }).spec.run.artifacts, [
    { uri: 'http://files.example/run.sh', extract: false, executable: true, cache: false },
    { uri: '/opt/a.tgz', extract: true, executable: false, cache: false },
  ]);
  const paths = (run: Record<string, unknown>): string[] =>
    (parseJobSpec({ id: 'bad', run: { cpus: 0.1, mem: 32, disk: 0, ...run } }) as Problems)
      .details()
      .map((detail) => detail.path);
  assert.equal(paths({ cmd: 'x', artifacts: [{ uri: 's3://bucket/x' }] }), ['/run/artifacts/0/uri']);
  assert.equal(paths({ docker: { image: 'busybox' }, artifacts: [{ uri: 'http://x/y' }] }), ['/run/artifacts']);
});

test.run();
