// The pure health-check decisions, as tables: each row is a sequence of results (ok or not,
// at a time in ms after the start) and the events expected after each one.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decide, initialHealthState, type HealthEvent, type HealthState } from '../../src/agent/health/decision.ts';
import { healthCheckDefaults, healthCheckSpecProblems, type HealthCheckSpec } from '../../src/agent/health/spec.ts';

type Step = readonly [ok: boolean, atMs: number, expected: readonly string[]];

/** An event in short form: "healthy", "unhealthy/2" (with the failure count), "kill/3". */
function short(event: HealthEvent): string {
  if (event.kind === 'kill') return `kill/${event.consecutiveFailures}`;
  return event.healthy ? 'healthy' : `unhealthy/${event.consecutiveFailures}`;
}

function play(steps: readonly Step[], spec = { gracePeriodMs: 10_000, consecutiveFailures: 3 }): HealthState {
  let state = initialHealthState(0);
  steps.forEach(([ok, atMs, expected], index) => {
    const result = decide(state, spec, { ok, atMs, detail: ok ? 'ok' : 'failed' });
    assert.equal(
      result.events.map(short),
      [...expected],
      `step ${index} (${ok ? 'success' : 'failure'} at ${atMs} ms)`,
    );
    state = result.state;
  });
  return state;
}

const decisions = suite('health decisions (Mesos HealthChecker semantics)');

decisions('failures within the grace period are ignored while no check has succeeded', () => {
  const state = play([
    [false, 1_000, []],
    [false, 5_000, []],
    [false, 10_000, []],
    [false, 10_001, ['unhealthy/1']],
  ]);
  assert.is(state.consecutiveFailures, 1);
});

decisions('the first success ends the grace period: a failure right after it counts', () => {
  play([
    [false, 1_000, []],
    [true, 2_000, ['healthy']],
    [false, 3_000, ['unhealthy/1']],
    [false, 4_000, []],
  ]);
});

decisions('health is reported on change only; a success resets the failure count', () => {
  const state = play([
    [true, 100, ['healthy']],
    [true, 200, []],
    [false, 300, ['unhealthy/1']],
    [false, 400, []],
    [true, 500, ['healthy']],
    [false, 600, ['unhealthy/1']],
  ]);
  assert.is(state.consecutiveFailures, 1);
  assert.is(state.healthy, false);
});

decisions('consecutive failures reaching the limit ask for a kill, once', () => {
  const state = play([
    [true, 100, ['healthy']],
    [false, 200, ['unhealthy/1']],
    [false, 300, []],
    [false, 400, ['kill/3']],
    [false, 500, []],
  ]);
  assert.ok(state.killRequested);
});

decisions('after the grace period, failures of a task never healthy count towards the kill', () => {
  play([
    [false, 11_000, ['unhealthy/1']],
    [false, 12_000, []],
    [false, 13_000, ['kill/3']],
  ]);
});

decisions('a limit of one kills at the first counted failure; a zero grace period ignores nothing', () => {
  play([[false, 1, ['unhealthy/1', 'kill/1']]], { gracePeriodMs: 0, consecutiveFailures: 1 });
});

decisions.run();

const specs = suite('health check specs');

const base: HealthCheckSpec = { type: 'HTTP', command: null, port: 8080, path: '/health', ...healthCheckDefaults };

specs('Mesos defaults', () => {
  assert.equal(healthCheckDefaults, {
    delayMs: 15_000,
    intervalMs: 10_000,
    timeoutMs: 20_000,
    consecutiveFailures: 3,
    gracePeriodMs: 10_000,
  });
  assert.equal(healthCheckSpecProblems(base), []);
});

specs('a spec that cannot run says why', () => {
  assert.equal(healthCheckSpecProblems({ ...base, type: 'COMMAND', command: ' ' }), [
    'a COMMAND check needs a command',
  ]);
  assert.equal(healthCheckSpecProblems({ ...base, type: 'TCP', port: 70_000 }), [
    'a TCP check needs a port from 1 to 65535',
  ]);
  assert.equal(healthCheckSpecProblems({ ...base, path: 'health' }), ['an HTTP check path must start with "/"']);
  assert.equal(healthCheckSpecProblems({ ...base, intervalMs: 0, consecutiveFailures: 0 }), [
    'intervalMs must be positive',
    'consecutiveFailures must be a whole number of at least 1',
  ]);
});

specs.run();
