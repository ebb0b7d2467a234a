// The operator API's own calls and its error handling, on a real single-voter master.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { RaftView } from '../../src/master/interface.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';

let cluster: SingleMaster;
test.before(async () => {
  cluster = await startSingleMaster();
});
test.after(async () => {
  await cluster.stop();
});

// The answers these tests read (src/http/operator/basic-calls.ts, raft-calls.ts), as far as they read them.
interface VersionAnswer {
  readonly get_version: { readonly version_info: { readonly version: string } };
}
interface FlagsAnswer {
  readonly get_flags: { readonly flags: readonly { readonly name: string; readonly value: string }[] };
}
interface MasterAnswer {
  readonly get_master: { readonly master_info: { readonly id: string }; readonly elected_time: number };
}
interface RaftAnswer {
  readonly get_raft: RaftView;
}

async function operator(
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${cluster.url}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? null : JSON.parse(text) };
}

test('GET_HEALTH, GET_VERSION, GET_FLAGS, GET_MASTER answer in Mesos shapes', async () => {
  assert.equal((await operator({ type: 'GET_HEALTH' })).body, { type: 'GET_HEALTH', get_health: { healthy: true } });
  const version = await operator({ type: 'GET_VERSION' });
  assert.match((version.body as VersionAnswer).get_version.version_info.version, /^\d+\.\d+\.\d+/);
  // Every option of the master's schema, sorted by name (test/master/config.test.ts checks the whole list).
  const flags = ((await operator({ type: 'GET_FLAGS' })).body as FlagsAnswer).get_flags.flags;
  const names = flags.map((flag) => flag.name);
  assert.equal(names, [...names].sort());
  const value = (name: string) => flags.find((flag) => flag.name === name)?.value;
  assert.is(value('id'), 'm1');
  assert.is(value('tick_ms'), '10');
  assert.is(value('election_ticks'), '10', "the profile's where no flag overrides it");
  assert.is(value('zone'), '');
  const master = ((await operator({ type: 'GET_MASTER' })).body as MasterAnswer).get_master;
  assert.is(master.master_info.id, 'm1');
  assert.ok(master.elected_time > 0);
});

test('GET_RAFT and /health describe the Raft group', async () => {
  const raft = ((await operator({ type: 'GET_RAFT' })).body as RaftAnswer).get_raft;
  assert.is(raft.role, 'leader');
  assert.is(raft.members.length, 1);
  assert.is(raft.members[0]?.role, 'voter');
  const health = (await (await fetch(`${cluster.url}/health`)).json()) as Record<string, unknown>;
  assert.is(health.ok, true);
  assert.is(health.role, 'leader');
  assert.is(health.id, 'm1');
  assert.ok((health.commitIndex as number) >= 1);
});

test('malformed calls are 4xx with stable codes', async () => {
  assert.is(errorOf((await operator({ type: 'NOPE' })).body).code, 'UNKNOWN_CALL');
  assert.is(errorOf((await operator({})).body).code, 'INVALID_BODY');
  assert.is(errorOf((await operator({ type: 7 })).body).code, 'INVALID_BODY');
  assert.is((await operator('[1,2')).status, 400);
  assert.is(errorOf((await operator({ type: '__proto__' })).body).code, 'UNKNOWN_CALL');
  assert.is(errorOf((await operator({ type: 'ADD_MASTER' })).body).code, 'INVALID_BODY');
  assert.is(
    errorOf((await operator({ type: 'ADD_MASTER', add_master: { id: 'm 2', address: 'x' } })).body).code,
    'INVALID_BODY',
  );
  assert.is((await operator({ type: 'GET_HEALTH' }, { accept: 'application/x-protobuf' })).status, 406);
  const get = await fetch(`${cluster.url}/api/v1`);
  assert.is(get.status, 405);
  const missing = await fetch(`${cluster.url}/no/such/route`);
  assert.is(missing.status, 404);
  assert.is(((await missing.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
});

test('a huge body is refused with 413 and the master keeps serving', async () => {
  const huge = await operator({ type: 'GET_HEALTH', padding: 'x'.repeat(2 * 1024 * 1024) });
  assert.is(huge.status, 413);
  assert.is(errorOf(huge.body).code, 'PAYLOAD_TOO_LARGE');
  assert.is((await operator({ type: 'GET_HEALTH' })).status, 200);
});

test('/metrics exposes Raft gauges and the event-loop delay', async () => {
  const text = await (await fetch(`${cluster.url}/metrics`)).text();
  assert.match(text, /flotilla_raft_is_leader\{master="m1"\} 1/);
  assert.match(text, /flotilla_event_loop_delay_p99_seconds/);
});

test.run();
