// Rolling restarts keep Marathon's promise (deployments.md, upgradeStrategy): at no point fewer
// than ceil(minimumHealthCapacity × instances) healthy instances that are not being killed, at
// no point more than floor((1 + maximumOverCapacity) × instances) alive (one more when the two
// bounds meet, as Marathon allows), and in the end every instance is of the new version and
// healthy. Checked over random apps and random timings of launches, health and deaths (seeded;
// the seed is printed and FLOTILLA_TEST_SEED replays it).
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { AppDefinition } from '../../../src/frameworks/services/app-definition.ts';
import { parseApp } from '../../../src/frameworks/services/app-parse.ts';
import { afterFailure, delayMs, expire, noBackoff } from '../../../src/frameworks/services/backoff.ts';
import { buildPlan } from '../../../src/frameworks/services/deployment.ts';
import { type Instance, isHealthyFor } from '../../../src/frameworks/services/instance.ts';
import { decide, killOrder } from '../../../src/frameworks/services/rolling.ts';
import { stampVersion } from '../../../src/frameworks/services/versioning.ts';

const seed = Number(process.env.FLOTILLA_TEST_SEED ?? Date.now() % 1_000_000);
process.stdout.write(`rolling seed ${seed}\n`);

function app(input: Record<string, unknown>, version = 'v2'): AppDefinition {
  const outcome = parseApp({ id: '/a', cmd: 'x', ...input }, { role: '*' });
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.details));
  return stampVersion(outcome.spec, null, version);
}

let counter = 0;
function instance(configVersion: string, running: boolean, healthy: boolean | null, stagedAtMs = counter): Instance {
  counter += 1;
  return {
    taskId: `t${counter}`,
    appId: '/a' as never,
    version: configVersion,
    configVersion,
    agentId: 'a',
    host: 'h',
    ip: '',
    ports: [],
    fields: {},
    stagedAtMs,
    startedAtMs: running ? stagedAtMs : null,
    killRequested: false,
    unreachableSinceMs: null,
    page: 0,
    state: running ? 'TASK_RUNNING' : 'TASK_STAGING',
    reloadedAtMs: null,
    healthy,
    firstHealthyAtMs: null,
    lastHealthyAtMs: null,
    lastUnhealthyAtMs: null,
    lastUnhealthyCause: null,
    consecutiveFailures: 0,
  };
}

test('a rolling restart never breaks its capacity bounds and ends all new and healthy', () => {
  const scenario = fc.record({
    instances: fc.integer({ min: 1, max: 8 }),
    minimumHealthCapacity: fc.constantFrom(0, 0.25, 0.5, 0.75, 1),
    maximumOverCapacity: fc.constantFrom(0, 0.5, 1),
    events: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 400, maxLength: 400 }),
  });
  fc.assert(
    fc.property(scenario, ({ instances, minimumHealthCapacity, maximumOverCapacity, events }) => {
      const target = app({
        instances,
        upgradeStrategy: { minimumHealthCapacity, maximumOverCapacity },
        healthChecks: [{ protocol: 'MESOS_TCP' }],
      });
      const minimumHealthy = Math.ceil(instances * minimumHealthCapacity);
      let maximumAlive = Math.floor(instances * (1 + maximumOverCapacity));
      if (minimumHealthy === maximumAlive) maximumAlive += 1;
      let live: Instance[] = Array.from({ length: instances }, () => instance('v1', true, true));
      for (const event of events) {
        const decision = decide({ app: target, phase: 'RestartApplication', instances: live, nowMs: 0 });
        for (const victim of decision.kill) victim.killRequested = true;
        for (let launched = 0; launched < decision.launch; launched++) live.push(instance('v2', false, null));
        const healthy = live.filter((item) => !item.killRequested && isHealthyFor(item, true)).length;
        assert.ok(healthy >= minimumHealthy, `healthy ${healthy} < ${minimumHealthy}`);
        assert.ok(live.length <= maximumAlive, `alive ${live.length} > ${maximumAlive}`);
        if (decision.done) return;
        live = step(live, event);
      }
      // Then let everything happen: the restart must finish, all new and healthy.
      for (let round = 0; round < 100; round++) {
        const decision = decide({ app: target, phase: 'RestartApplication', instances: live, nowMs: 0 });
        for (const victim of decision.kill) victim.killRequested = true;
        for (let launched = 0; launched < decision.launch; launched++) live.push(instance('v2', false, null));
        if (decision.done) {
          assert.ok(live.every((item) => item.configVersion === 'v2' && item.healthy === true));
          return;
        }
        for (const event of [0, 1, 2]) for (let repeat = 0; repeat < 10; repeat++) live = step(live, event);
      }
      assert.unreachable('the restart did not finish');
    }),
    { seed, numRuns: 300 },
  );
});

/** One thing happens: a kill completes, a launch starts running, or a running instance turns healthy. */
function step(live: Instance[], event: number): Instance[] {
  if (event === 0) {
    const dying = live.find((item) => item.killRequested);
    return dying === undefined ? live : live.filter((item) => item !== dying);
  }
  const staging = live.find((item) => item.state === 'TASK_STAGING');
  if (event === 1 && staging !== undefined) staging.state = 'TASK_RUNNING';
  const unchecked = live.find((item) => item.state === 'TASK_RUNNING' && item.healthy === null);
  if (event >= 2 && unchecked !== undefined) unchecked.healthy = true;
  return live;
}

test('scaling keeps the target, killing the youngest surplus first (killSelection)', () => {
  const target = app({ instances: 2 });
  const old = instance('v2', true, null, 1);
  const middle = instance('v2', true, null, 2);
  const young = instance('v2', true, null, 3);
  const decision = decide({ app: target, phase: 'ScaleApplication', instances: [old, middle, young], nowMs: 0 });
  assert.equal(decision.kill, [young]);
  assert.equal(killOrder([old, young], 'OLDEST_FIRST'), [old, young]);
  const up = decide({ app: app({ instances: 5 }), phase: 'Steady', instances: [old], nowMs: 0 });
  assert.is(up.launch, 4);
});

test('an unreachable instance is replaced only after inactiveAfterSeconds', () => {
  const target = app({ instances: 1, unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 120 } });
  const lost = instance('v2', true, null);
  lost.unreachableSinceMs = 1_000;
  assert.is(decide({ app: target, phase: 'Steady', instances: [lost], nowMs: 30_000 }).launch, 0);
  assert.is(decide({ app: target, phase: 'Steady', instances: [lost], nowMs: 61_000 }).launch, 1);
  const back = instance('v2', true, null);
  lost.unreachableSinceMs = null;
  assert.equal(decide({ app: target, phase: 'Steady', instances: [lost, back], nowMs: 61_000 }).kill, [back]);
});

test('back-off grows by the factor up to the cap, and is forgotten after a quiet spell', () => {
  const target = app({ backoffSeconds: 2, backoffFactor: 2, maxLaunchDelaySeconds: 10 });
  assert.equal(
    [1, 2, 3, 4, 5].map((failures) => delayMs(target, failures)),
    [2_000, 4_000, 8_000, 10_000, 10_000],
  );
  let state = afterFailure(target, noBackoff, 0);
  state = afterFailure(target, state, 1_000);
  assert.is(state.delayUntilMs, 1_000 + 4_000);
  assert.is(expire(target, state, 1_000 + 4_000 + 10_000 + 1).failures, 0);
});

test('plans: a new app starts then scales; a change restarts; a scale scales; a delete stops', () => {
  const v1 = app({ instances: 1 }, 'v1');
  const scaled = { ...v1, instances: 3, version: 'v2', versionInfo: { ...v1.versionInfo, lastScalingAt: 'v2' } };
  const changed = app({ instances: 1, cmd: 'other' }, 'v3');
  const actions = (from: AppDefinition | null, to: AppDefinition | null) =>
    buildPlan([{ from, to }], 'v9').steps.map((step) => step.actions.map((action) => action.action));
  assert.equal(actions(null, v1), [['StartApplication'], ['ScaleApplication']]);
  assert.equal(actions(v1, scaled), [['ScaleApplication']]);
  assert.equal(actions(v1, changed), [['RestartApplication']]);
  assert.equal(actions(v1, null), [['StopApplication']]);
});

test.run();
