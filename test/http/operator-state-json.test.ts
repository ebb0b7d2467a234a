// The operator state answers written in slices (src/http/operator/state-json.ts, sliced-body.ts)
// and SUBSCRIBED's record (subscriptions.ts) are byte for byte what JSON.stringify / asciiJson make
// of the reference answers (state-view.ts, mesos-events.ts), on a state with live, unacknowledged,
// completed and unreachable tasks, offers, and a torn-down framework; and a large answer is cut
// into slices with the event loop given back between them.
import type { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { subscribedEvent } from '../../src/http/operator/mesos-events.ts';
import {
  captureView,
  getAgentsJson,
  getFrameworksJson,
  getStateJson,
  getTasksJson,
} from '../../src/http/operator/state-json.ts';
import { getAgents, getFrameworks, getState, getTasks } from '../../src/http/operator/state-view.ts';
import { subscribedRecord } from '../../src/http/operator/subscriptions.ts';
import type { Visibility } from '../../src/http/operator/visibility.ts';
import { maxResponseChunkBytes, responseSliceBudgetMs } from '../../src/http/limits.ts';
import { collectInSlices, slicedBody } from '../../src/http/sliced-body.ts';
import { asciiJson } from '../../src/protocol/ascii-json.ts';
import type * as Mesos from '../../src/protocol/mesos.ts';
import { encodeRecord } from '../../src/protocol/recordio.ts';
import {
  A2,
  baseTime,
  cpus,
  createOffers,
  F2,
  Harness,
  offerDefinition,
  resources,
  subscribe,
  T2,
  uuid,
} from '../state-machine/support/fixtures.ts';
import { frameworkId, offerId, type TaskKey } from '../../src/state-machine/ids.ts';
import type { Task } from '../../src/state-machine/state.ts';
import { richScenario } from '../state-machine/support/scenario.ts';
import { type TurnCounter, turnCounter } from '../support/turn-counter.ts';

const harness = new Harness(richScenario);
// F2's finished t2 acknowledged (completed); agent a2 unreachable (F2's t1 with it, its offers
// rescinded); f3 torn down; a new offer on a1.
harness.ok({ type: 'acknowledge_task_status', at: baseTime, frameworkId: F2, taskId: T2, agentId: A2, uuid: uuid(2) });
harness.ok({ type: 'update_agent_state', at: baseTime + 1, agentId: A2, state: 'UNREACHABLE' });
harness.ok(subscribe(frameworkId('f3'), { name: 'gone' }));
harness.ok({ type: 'teardown_framework', at: baseTime + 2, frameworkId: frameworkId('f3') });
harness.ok(createOffers(offerDefinition(offerId('o4'), resources(cpus(1)))));
const state = harness.state;
const usage: Mesos.ResourceStatistics = {
  timestamp: 1,
  cpus_user_time_secs: 0.5,
  cpus_system_time_secs: 0.25,
  cpus_limit: 1,
  mem_rss_bytes: 1024,
};
/** Usage for every other task, so both the path with statistics and the one without are taken. */
const statistics = (task: Task) => (task.id.length % 2 === 0 ? usage : null);

const sliced = async (steps: Iterator<string>) => Buffer.concat(await collectInSlices(steps)).toString('utf8');

test('the scenario has every kind of task, framework and agent the lists tell apart', () => {
  const tasks = getTasks(state);
  assert.ok(tasks.tasks.length > 0, 'live');
  assert.ok((tasks.completed_tasks ?? []).length > 0, 'completed');
  assert.ok(tasks.unreachable_tasks.length > 0, 'unreachable');
  const frameworks = getFrameworks(state);
  assert.ok(frameworks.frameworks.length > 0 && (frameworks.completed_frameworks ?? []).length > 0);
  assert.ok(state.offers.size > 0 && getAgents(state).agents.length > 0);
});

test('GET_STATE, GET_TASKS, GET_FRAMEWORKS, GET_AGENTS: the same text as the one-go answers', async () => {
  const view = captureView(state, statistics);
  assert.is(await sliced(getStateJson(view)), JSON.stringify(getState(state, statistics)));
  assert.is(await sliced(getTasksJson(view)), JSON.stringify(getTasks(state, statistics)));
  assert.is(await sliced(getFrameworksJson(view)), JSON.stringify(getFrameworks(state)));
  assert.is(await sliced(getAgentsJson(view)), JSON.stringify(getAgents(state)));
});

test('with what the caller may not view left out (view_tasks, view_frameworks): the same text as the reference', async () => {
  // f2 and every task running as "daemon" hidden: holdings of visible frameworks, lists, SUBSCRIBED.
  const visibility: Visibility = {
    everything: false,
    task: (task) => task.user !== 'daemon',
    framework: (framework) => framework.id !== F2,
    role: () => true,
  };
  const view = captureView(state, statistics, JSON.stringify, visibility);
  const text = await sliced(getStateJson(view));
  assert.is(text, JSON.stringify(getState(state, statistics, visibility)));
  assert.is(await sliced(getTasksJson(view)), JSON.stringify(getTasks(state, statistics, visibility)));
  assert.is(await sliced(getFrameworksJson(view)), JSON.stringify(getFrameworks(state, visibility)));
  const chunks = await subscribedRecord(
    captureView(state, () => null, asciiJson, visibility),
    15,
  );
  assert.equal(Buffer.concat(chunks), Buffer.from(encodeRecord(asciiJson(subscribedEvent(state, 15, visibility)))));
});

// The leader's usage lookup ran per task on a key built afresh (its hash computed again) and a
// state lookup to find the task's agent: 8% of the leader's time in a live GET_STATE (issue 12).
test("statistics are asked once per live task, with the state's own task object and key", async () => {
  const asked: [Task, string][] = [];
  const recording = (task: Task, key: string) => {
    asked.push([task, key]);
    return null;
  };
  await sliced(getStateJson(captureView(state, recording)));
  const live = getTasks(state).tasks.length;
  assert.is(asked.length, live);
  for (const [task, key] of asked) assert.ok(state.tasks.get(key as TaskKey) === task, key);
});

test("SUBSCRIBED's record: the same bytes as the one-go event, length line included", async () => {
  const chunks = await subscribedRecord(
    captureView(state, () => null, asciiJson),
    15,
  );
  assert.equal(Buffer.concat(chunks), Buffer.from(encodeRecord(asciiJson(subscribedEvent(state, 15)))));
});

// A turn writes as many chunks as its budget allows (sliced-body.ts): a step that spends the
// budget ends the turn, and the loop turns before the next one.
test('a large answer goes out in slices, the event loop turning between them', async () => {
  const budgets = 4;
  function* text(): Generator<string> {
    for (let budget = 0; budget < budgets; budget++) {
      for (let piece = 0; piece < maxResponseChunkBytes / 1024; piece++) yield 'x'.repeat(1024);
      yield spendASlice();
    }
  }
  const counter = turnCounter();
  const chunks: Buffer[] = [];
  for await (const chunk of slicedBody(text()) as Readable) chunks.push(chunk as Buffer);
  counter.stop();
  assert.ok(counter.turns() >= budgets, `${counter.turns()} turns of the loop for ${budgets} spent budgets`);
  assert.is(Buffer.concat(chunks).byteLength, budgets * maxResponseChunkBytes);
});

/** A step that yields no text and spends more than a slice's budget: the slice ends after it. */
function spendASlice(): string {
  const until = performance.now() + responseSliceBudgetMs + 1;
  while (performance.now() < until);
  return '';
}

async function untilTurns(counter: TurnCounter, turns: number): Promise<void> {
  while (counter.turns() < turns) await new Promise((resolve) => setImmediate(resolve));
}

/** Reads `body` until it ends, or until the loop turned `maxTurns` times: the text it gave. */
async function readWithinTurns(body: Readable, maxTurns: number): Promise<{ text: string; ended: boolean }> {
  const counter = turnCounter();
  const chunks: Buffer[] = [];
  body.on('data', (chunk: Buffer) => chunks.push(chunk));
  let ended = false;
  body.on('end', () => {
    ended = true;
  });
  await new Promise<void>((resolve) => {
    const watch = (): void => (ended || counter.turns() >= maxTurns ? resolve() : void setImmediate(watch));
    watch();
  });
  counter.stop();
  return { text: Buffer.concat(chunks).toString('utf8'), ended };
}

// A slice that spends its budget on steps without text (the sort of 100,000 task keys on a busy
// leader) pushes nothing; Readable asks for more only after a push, so the body must go on by itself.
test('a body goes on past slices that made no text', async () => {
  function* text(): Generator<string> {
    yield '{"head":';
    yield spendASlice();
    yield spendASlice();
    yield spendASlice();
    yield '1}';
  }
  const read = await readWithinTurns(slicedBody(text()), 1_000);
  assert.ok(read.ended, `the body stalled after ${JSON.stringify(read.text)}`);
  assert.is(read.text, '{"head":1}');
});

test('a body no longer read (the client went away) stops running steps', async () => {
  let steps = 0;
  function* endless(): Generator<string> {
    yield '{"head":';
    for (;;) {
      steps += 1;
      yield steps % 64 === 0 ? spendASlice() : '';
    }
  }
  const body = slicedBody(endless());
  await new Promise<void>((resolve) => body.once('data', () => resolve()));
  body.destroy();
  const counter = turnCounter();
  await untilTurns(counter, 3);
  const stepsThen = steps;
  await untilTurns(counter, 50);
  counter.stop();
  assert.is(steps, stepsThen, 'steps ran after the body was destroyed');
});

test('an error in a step ends the body with it', async () => {
  function* failing(): Generator<string> {
    yield '{"a":';
    throw new Error('broken step');
  }
  const body = slicedBody(failing());
  const failed = await new Promise<Error>((resolve) => {
    body.on('error', resolve);
    body.resume();
  });
  assert.match(failed.message, /broken step/);
});

test.run();
