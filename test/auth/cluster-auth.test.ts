// Authentication, authorization and audit on a real cluster: three `flotilla master` processes
// and one `flotilla agent` process, all with --credentials, --acls and a cluster secret
// (docs/security.md). Every class of endpoint answers 401 without credentials and 403 when the
// ACLs refuse: operator writes, operator reads (filtered, not refused), the scheduler's SUBSCRIBE
// with another principal, KV, the master's sandbox read, the agent's files API. An allowed
// principal works end to end with the SDK (a task launched and read back) and the CLI. The
// audit lines are read from the masters' logs; no secret appears in any log line.
// flotilla-test-timeout-seconds: 400
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KvClient, KvError } from '../../src/frameworks/kv/client.ts';
import { SchedulerClient } from '../../src/frameworks/sdk/client.ts';
import { credentialHeaders } from '../../src/frameworks/sdk/transport.ts';
import { parseMasterList } from '../../src/frameworks/sdk/masters.ts';
import { matchOffer } from '../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../src/frameworks/sdk/task-info.ts';
import type { TaskStatus } from '../../src/protocol/mesos.ts';
import { basicAuthorization, bearerAuthorization } from '../../src/protocol/http-authorization.ts';
import { AgentProcess } from '../agent/support/daemon-support.ts';
import { flotilla } from '../cli/support/cli-process.ts';
import { JobsProcess } from '../frameworks/support/jobs.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const secrets = {
  ops: 'ops-secret-7f3a9c1e55d2b8aa',
  viewer: 'viewer-secret-0b6e2d9f7c41a3e8',
  fw: 'framework-secret-5c8d1e0a9b2f7364',
  kvuser: 'kv-user-secret-3e9a7b5c1d0f8264',
} as const;
type Principal = keyof typeof secrets;
const clusterSecret = 'cluster-secret-for-auth-test-91c4e7';

const any = { type: 'ANY' };
const only = (...values: string[]) => ({ values });
/** permissive: false, so every action not listed is refused to everyone. */
const masterAcls = {
  permissive: false,
  register_frameworks: [{ principals: only('fw', 'ops'), roles: any }],
  run_tasks: [{ principals: only('fw', 'ops'), users: any }],
  update_weights: [{ principals: only('ops'), roles: any }],
  update_quotas: [{ principals: only('ops'), roles: any }],
  view_roles: [{ principals: any, roles: any }],
  teardown_frameworks: [{ principals: only('ops', 'fw'), framework_principals: any }],
  kill_tasks: [{ principals: only('ops'), framework_principals: any }],
  drain_agents: [{ principals: only('ops'), agents: any }],
  view_frameworks: [{ principals: only('ops', 'fw', 'viewer'), users: any }],
  view_tasks: [{ principals: only('ops', 'fw'), users: any }],
  access_sandboxes: [{ principals: only('ops', 'fw'), users: any }],
  view_flags: [{ principals: only('ops'), flags: any }],
  backup_state: [{ principals: only('ops'), masters: any }],
  read_kv: [{ principals: any, prefixes: any }],
  write_kv: [
    { principals: only('kvuser'), prefixes: only('auth/apps/') },
    { principals: only('ops'), prefixes: any },
  ],
};
/** The agent's own ACLs: only ops reads sandboxes directly (a master reads as the cluster). */
const agentAcls = {
  permissive: false,
  access_sandboxes: [{ principals: only('ops'), users: any }],
  view_tasks: [{ principals: only('ops'), users: any }],
};

const directory = makeTempDir('auth-cluster-');
const file = (name: string, content: unknown): string => {
  const where = path.join(directory, name);
  writeFileSync(where, typeof content === 'string' ? content : JSON.stringify(content));
  return where;
};
const credentialsFile = file('credentials.json', {
  credentials: Object.entries(secrets).map(([principal, secret]) => ({ principal, secret })),
});
const secretFile = file('cluster-secret', clusterSecret);
const authFlags = ['--credentials', credentialsFile, '--cluster-secret-file', secretFile];

let cluster: ProcessCluster;
let agent: AgentProcess;
let leader: string;

const basic = (principal: Principal) => ({ authorization: basicAuthorization(principal, secrets[principal]) });

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

/** Leadership may move on a loaded machine: a call to the leader that is answered 307 goes to the new one. */
async function call(
  address: string,
  route: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const answer = await callOnce(address === leader ? leader : address, route, init);
    if (answer.status !== 307 || address !== leader || attempt >= maxLeaderChanges) return answer;
    leader = (await cluster.waitForLeader(60_000)).address;
    address = leader;
  }
}

const maxLeaderChanges = 5;

async function callOnce(
  address: string,
  route: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> },
): Promise<Answer> {
  const response = await fetch(`http://${address}${route}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { 'content-type': 'application/json', accept: 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    redirect: 'manual',
  });
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
  } catch {
    body = { text };
  }
  return { status: response.status, headers: response.headers, body };
}

const operator = (body: unknown, headers: Record<string, string> = {}) => call(leader, '/api/v1', { body, headers });

function expectError(answer: Answer, status: number, code: string, label: string): void {
  assert.is(answer.status, status, `${label}: ${JSON.stringify(answer.body)}`);
  const error = answer.body.error as { code?: unknown; message?: unknown } | undefined;
  assert.is(error?.code, code, `${label}: ${JSON.stringify(answer.body)}`);
  assert.type(error?.message, 'string', label);
  // Bearer only to fetch() (it sends Sec-Fetch-Mode, as a browser's script does: no password dialog).
  if (status === 401) assert.match(answer.headers.get('www-authenticate') ?? '', /Bearer realm="flotilla"/, label);
}

/** The WWW-Authenticate a plain HTTP client (curl, node:http: no Sec-Fetch-Mode) is challenged with. */
function plainChallenge(address: string): Promise<string | undefined> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const request = http.request({ host, port: Number(port), method: 'POST', path: '/api/v1' }, (response) => {
      response.resume();
      resolve(response.headers['www-authenticate']);
    });
    request.on('error', reject);
    request.end(JSON.stringify({ type: 'GET_STATE' }));
  });
}

function allOutput(): string {
  return [...cluster.replicas.map((replica) => replica.output), agent.output].join('\n');
}

interface AuditLine {
  readonly audit: true;
  readonly principal: string | null;
  readonly call: string;
  readonly target: string;
  readonly status: number;
  readonly code: string | null;
}

function auditLines(): AuditLine[] {
  return cluster.replicas
    .flatMap((replica) => replica.output.split('\n'))
    .filter((line) => line.includes('"audit":true'))
    .map((line) => JSON.parse(line) as AuditLine);
}

async function waitForAudit(match: (line: AuditLine) => boolean, what: string): Promise<AuditLine> {
  return waitFor(() => auditLines().find(match) ?? null, { timeoutMs: 10_000, what: `the audit line of ${what}` });
}

test.before(async () => {
  cluster = await ProcessCluster.start(
    makeTempDir('auth-masters-'),
    3,
    [...authFlags, '--acls', file('master-acls.json', masterAcls)],
    'master',
  );
  leader = (await cluster.waitForLeader()).address;
  agent = await AgentProcess.start(cluster.replicas.map((replica) => replica.address).join(','), [
    ...authFlags,
    '--acls',
    file('agent-acls.json', agentAcls),
  ]);
  await waitFor(
    async () => {
      const agents = await operator({ type: 'GET_AGENTS' }, basic('ops'));
      const list = (agents.body.get_agents as { agents?: unknown[] } | undefined)?.agents ?? [];
      return list.length === 1;
    },
    { timeoutMs: 90_000, what: 'the agent to register with the cluster secret' },
  );
});

test.after(async () => {
  await agent?.stop();
  await cluster?.stop();
});

test('401 without or with wrong credentials on the operator API, Bearer and Basic accepted; /health and the UI page are public', async () => {
  expectError(await operator({ type: 'GET_STATE' }), 401, 'UNAUTHORIZED', 'GET_STATE without credentials');
  const wrong = { authorization: basicAuthorization('ops', 'not-the-ops-secret-at-all') };
  expectError(await operator({ type: 'GET_STATE' }, wrong), 401, 'UNAUTHORIZED', 'GET_STATE with a wrong secret');
  const unknown = { authorization: basicAuthorization('nobody', secrets.ops) };
  expectError(await operator({ type: 'GET_STATE' }, unknown), 401, 'UNAUTHORIZED', 'an unknown principal');
  const garbage = { authorization: 'Digest abc' };
  expectError(await operator({ type: 'GET_STATE' }, garbage), 401, 'UNAUTHORIZED', 'another scheme');
  assert.is((await operator({ type: 'GET_STATE' }, basic('ops'))).status, 200, 'Basic');
  const bearer = { authorization: bearerAuthorization(secrets.ops) };
  assert.is((await operator({ type: 'GET_STATE' }, bearer)).status, 200, 'Bearer with the secret as token');
  const challenge = await plainChallenge(leader);
  assert.is(challenge, 'Basic realm="flotilla", Bearer realm="flotilla"', 'curl and the CLI are offered both schemes');
  assert.is((await call(leader, '/health')).status, 200, '/health needs no credentials');
  assert.is((await call(leader, '/')).status, 200, 'the UI page loads to show its login form');
  // The UI's own calls are operator calls from the browser: a preflight passes, the call itself needs the token.
  const preflight = await fetch(`http://${leader}/api/v1`, {
    method: 'OPTIONS',
    headers: {
      origin: `http://${leader}`,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
  assert.ok(preflight.status < 300, `preflight: ${preflight.status}`);
  assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
});

test('operator writes: 403 for a principal the ACLs refuse, 200 for one they allow, both audited', async () => {
  const weights = { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'web', weight: 2 }] } };
  expectError(await operator(weights), 401, 'UNAUTHORIZED', 'UPDATE_WEIGHTS anonymous');
  expectError(await operator(weights, basic('viewer')), 403, 'FORBIDDEN', 'UPDATE_WEIGHTS by viewer');
  assert.is((await operator(weights, basic('ops'))).status, 200, 'UPDATE_WEIGHTS by ops');
  const refused = await waitForAudit(
    (line) => line.call === 'UPDATE_WEIGHTS' && line.principal === 'viewer',
    "viewer's UPDATE_WEIGHTS",
  );
  assert.is(refused.status, 403);
  assert.is(refused.code, 'FORBIDDEN');
  assert.match(refused.target, /web/);
  const allowed = await waitForAudit(
    (line) => line.call === 'UPDATE_WEIGHTS' && line.principal === 'ops',
    "ops' UPDATE_WEIGHTS",
  );
  assert.is(allowed.status, 200);
  assert.is(allowed.code, null);
  const anonymous = await waitForAudit(
    (line) => line.status === 401 && line.call.startsWith('POST /api/v1'),
    'an unauthenticated write',
  );
  assert.is(anonymous.principal, null);
  // drain_agents covers DRAIN_AGENT, DEACTIVATE_AGENT and REACTIVATE_AGENT, by agent id.
  const agents = (await operator({ type: 'GET_AGENTS' }, basic('ops'))).body.get_agents as {
    agents: { agent_info: { id: { value: string } } }[];
  };
  const agentId = { agent_id: { value: agents.agents[0]!.agent_info.id.value } };
  const deactivate = { type: 'DEACTIVATE_AGENT', deactivate_agent: agentId };
  expectError(await operator(deactivate, basic('viewer')), 403, 'FORBIDDEN', 'DEACTIVATE_AGENT by viewer');
  const drain = { type: 'DRAIN_AGENT', drain_agent: agentId };
  expectError(await operator(drain, basic('fw')), 403, 'FORBIDDEN', 'DRAIN_AGENT by fw');
  assert.is((await operator(deactivate, basic('ops'))).status, 200, 'DEACTIVATE_AGENT by ops');
  const reactivate = { type: 'REACTIVATE_AGENT', reactivate_agent: agentId };
  assert.is((await operator(reactivate, basic('ops'))).status, 200, 'REACTIVATE_AGENT by ops');
  const refusedDrain = await waitForAudit(
    (line) => line.call === 'DRAIN_AGENT' && line.principal === 'fw',
    "fw's DRAIN_AGENT",
  );
  assert.is(refusedDrain.status, 403);
  expectError(await operator({ type: 'GET_FLAGS' }, basic('viewer')), 403, 'FORBIDDEN', 'GET_FLAGS by viewer');
  assert.is((await operator({ type: 'GET_FLAGS' }, basic('ops'))).status, 200, 'GET_FLAGS by ops');
  expectError(await call(leader, '/api/v1/backup'), 401, 'UNAUTHORIZED', 'backup anonymous');
  expectError(await call(leader, '/api/v1/backup', { headers: basic('viewer') }), 403, 'FORBIDDEN', 'backup by viewer');
  const backup = await fetch(`http://${leader}/api/v1/backup`, { headers: basic('ops') });
  assert.is(backup.status, 200, 'backup by ops');
  assert.ok((await backup.arrayBuffer()).byteLength > 0);
});

test('the scheduler API: 401 without credentials, 403 PRINCIPAL_MISMATCH for another principal, 403 for a refused role', async () => {
  const subscribe = (principal: string) => ({
    type: 'SUBSCRIBE',
    subscribe: {
      framework_info: {
        user: 'root',
        name: 'impostor',
        principal,
        roles: ['*'],
        capabilities: [{ type: 'MULTI_ROLE' }],
      },
    },
  });
  const scheduler = (body: unknown, headers: Record<string, string> = {}) =>
    call(leader, '/api/v1/scheduler', { body, headers });
  expectError(await scheduler(subscribe('fw')), 401, 'UNAUTHORIZED', 'SUBSCRIBE anonymous');
  expectError(await scheduler(subscribe('ops'), basic('fw')), 403, 'PRINCIPAL_MISMATCH', 'fw claiming ops');
  expectError(await scheduler(subscribe('viewer'), basic('viewer')), 403, 'FORBIDDEN', 'viewer may not register');
  const mismatch = await waitForAudit(
    (line) => line.call === 'SUBSCRIBE' && line.code === 'PRINCIPAL_MISMATCH',
    'the refused SUBSCRIBE',
  );
  assert.is(mismatch.principal, 'fw');
});

interface FrameworkEntry {
  readonly active: boolean;
  readonly framework_info: { readonly name: string; readonly principal?: string };
}

interface LaunchedTask {
  readonly frameworkId: string;
  readonly taskId: string;
}
let launched: LaunchedTask | null = null;

test('the SDK with a principal and its secret: subscribes, launches a task, sees it finish', async () => {
  const client = new SchedulerClient({
    masters: parseMasterList(cluster.replicas.map((replica) => replica.address).join(',')),
    framework: {
      user: os.userInfo().username,
      name: 'auth-sdk',
      principal: 'fw',
      roles: ['*'],
      capabilities: [{ type: 'MULTI_ROLE' }],
    },
    secret: secrets.fw,
  });
  const statuses: TaskStatus[] = [];
  const taskId = 'auth-sdk-task';
  let launchedOnce = false;
  client.on('UPDATE', (event) => statuses.push(event.update.status));
  client.on('OFFERS', (event) => {
    for (const offer of event.offers.offers) {
      const match = launchedOnce ? null : matchOffer(offer, { cpus: 0.1, memMb: 32 });
      if (match === null) {
        void client.decline([offer.id]).catch(() => undefined);
        continue;
      }
      launchedOnce = true;
      const task = buildTaskInfo(offer, match, {
        name: 'auth-sdk',
        taskId,
        command: { kind: 'shell', line: 'echo hello-from-an-authenticated-framework' },
      });
      void client.launch(offer, [task]).catch(() => undefined);
    }
  });
  try {
    const frameworkId = await client.subscribe();
    await waitFor(() => statuses.some((status) => status.state === 'TASK_FINISHED'), {
      timeoutMs: 60_000,
      what: `TASK_FINISHED (seen: ${statuses.map((status) => status.state).join(', ')})`,
    });
    launched = { frameworkId, taskId };
  } finally {
    client.close();
  }
  const accept = await waitForAudit((line) => line.call === 'ACCEPT' && line.principal === 'fw', 'the ACCEPT');
  assert.is(accept.status, 202);
});

test('operator reads are filtered, not refused: viewer sees the framework but not its task', async () => {
  assert.ok(launched, 'the SDK test launched a task');
  const tasksOf = (answer: Answer): unknown[] => {
    const tasks = answer.body.get_tasks as Record<string, unknown[] | undefined>;
    return [...(tasks.tasks ?? []), ...(tasks.completed_tasks ?? [])];
  };
  const asOps = await operator({ type: 'GET_TASKS' }, basic('ops'));
  assert.is(asOps.status, 200);
  assert.is(tasksOf(asOps).length, 1, JSON.stringify(asOps.body));
  const asViewer = await operator({ type: 'GET_TASKS' }, basic('viewer'));
  assert.is(asViewer.status, 200);
  assert.is(tasksOf(asViewer).length, 0, JSON.stringify(asViewer.body));
  const frameworks = await operator({ type: 'GET_FRAMEWORKS' }, basic('viewer'));
  assert.match(JSON.stringify(frameworks.body), /auth-sdk/, 'viewer may view frameworks');
  const state = await operator({ type: 'GET_STATE' }, basic('viewer'));
  assert.not.match(JSON.stringify(state.body), /auth-sdk-task/, "GET_STATE leaves out the task's entries");
});

test("sandbox reads: the master's by access_sandboxes, the agent's own API by its ACLs", async () => {
  assert.ok(launched, 'the SDK test launched a task');
  const query = new URLSearchParams({
    framework_id: launched.frameworkId,
    task_id: launched.taskId,
    file: 'stdout',
    offset: '0',
  });
  const route = `/api/v1/sandbox/read?${query}`;
  expectError(await call(leader, route), 401, 'UNAUTHORIZED', 'master sandbox read anonymous');
  expectError(await call(leader, route, { headers: basic('viewer') }), 403, 'FORBIDDEN', 'master read by viewer');
  // fw may read through the master (its ACLs), though the agent's own ACLs would refuse fw:
  // the master reads as the cluster.
  const throughMaster = await call(leader, route, { headers: basic('fw') });
  assert.is(throughMaster.status, 200, JSON.stringify(throughMaster.body));
  const text = Buffer.from(String(throughMaster.body.data), 'base64').toString('utf8');
  assert.match(text, /hello-from-an-authenticated-framework/);

  const agentAddress = `127.0.0.1:${agent.port}`;
  const readFile = {
    type: 'READ_FILE',
    read_file: { path: `${launched.frameworkId}/tasks/${launched.taskId}/stdout`, offset: 0, length: 4096 },
  };
  const agentCall = (headers: Record<string, string> = {}) =>
    call(agentAddress, '/api/v1', { body: readFile, headers });
  expectError(await agentCall(), 401, 'UNAUTHORIZED', 'agent READ_FILE anonymous');
  expectError(await agentCall(basic('fw')), 403, 'FORBIDDEN', 'agent READ_FILE by fw');
  const direct = await agentCall(basic('ops'));
  assert.is(direct.status, 200, JSON.stringify(direct.body));
  expectError(
    await agentCall({ 'x-flotilla-secret': 'a-wrong-cluster-secret-here' }),
    401,
    'UNAUTHORIZED',
    'a wrong cluster secret',
  );
  assert.is((await call(agentAddress, '/health')).status, 200, "the agent's /health is public");
});

test('KV: 401 anonymous, writes by prefix (403 outside it), audited', async () => {
  const kv = (key: string, principal: Principal | null, method = 'PUT', extra: Record<string, string> = {}) =>
    call(leader, `/api/v1/kv/auth/${key}`, {
      method,
      ...(method === 'PUT' ? { body: { value: `by ${principal}` } } : {}),
      headers: { ...(principal === null ? {} : basic(principal)), ...extra },
    });
  expectError(await kv('apps/one', null), 401, 'UNAUTHORIZED', 'KV PUT anonymous');
  expectError(await kv('apps/one', null, 'GET'), 401, 'UNAUTHORIZED', 'KV GET anonymous');
  assert.is((await kv('apps/one', 'kvuser')).status, 200, 'kvuser inside apps/');
  expectError(await kv('other/one', 'kvuser'), 403, 'FORBIDDEN', 'kvuser outside apps/');
  const read = await kv('apps/one', 'viewer', 'GET');
  assert.is(read.status, 200);
  assert.is(read.body.value, 'by kvuser');
  const line = await waitForAudit((entry) => entry.call === 'KV PUT' && entry.code === 'FORBIDDEN', 'the KV refusal');
  assert.is(line.principal, 'kvuser');
  assert.is(line.target, 'auth/other/one');
});

test('idempotency keys are scoped by principal: two principals with one key do not collide', async () => {
  const key = { 'idempotency-key': 'the-same-key-for-both' };
  const put = (principal: Principal, keyName: string) =>
    call(leader, `/api/v1/kv/auth/apps/${keyName}`, {
      method: 'PUT',
      body: { value: `by ${principal}` },
      headers: { ...basic(principal), ...key },
    });
  const first = await put('ops', 'scoped-a');
  assert.is(first.status, 200, JSON.stringify(first.body));
  const other = await put('kvuser', 'scoped-b');
  assert.is(other.status, 200, `kvuser's own key, not ops': ${JSON.stringify(other.body)}`);
  const read = await call(leader, '/api/v1/kv/auth/apps/scoped-b', { headers: basic('ops') });
  assert.is(read.body.value, 'by kvuser');
  // The same principal reusing its key for another request is refused, as before.
  expectError(await put('ops', 'scoped-c'), 422, 'IDEMPOTENCY_KEY_REUSED', 'ops reusing its key');
  const replay = await put('ops', 'scoped-a');
  assert.is(replay.status, 200);
  assert.is(replay.body.version, first.body.version, 'a retry answers what the first attempt answered');
});

test("the frameworks' KV client: with a principal's credentials, refused without", async () => {
  const masters = parseMasterList(cluster.replicas.map((replica) => replica.address).join(','));
  const credentials = credentialHeaders('kvuser', secrets.kvuser);
  const kv = new KvClient({ masters, namespace: 'auth', credentials, requestDeadlineMs: 20_000 });
  const written = await kv.put('apps/from-framework', 'framework value', null);
  assert.ok(written.ok, 'the client writes inside its prefix');
  assert.is((await kv.get('apps/from-framework'))?.value, 'framework value');
  const page = await kv.list('apps/', null);
  assert.ok(
    page.entries.some((entry) => entry.key === 'apps/from-framework'),
    'a listing inside the allowed prefix is answered',
  );
  const anonymous = new KvClient({ masters, namespace: 'auth', requestDeadlineMs: 20_000 });
  const refused = await anonymous.get('apps/from-framework').catch((error: Error) => error);
  assert.instance(refused, KvError);
  assert.is((refused as KvError).status, 401);
});

test('flotilla jobs --principal/--secret-file: the jobs framework loads its records and registers as that principal', async () => {
  const masters = cluster.replicas.map((replica) => replica.address).join(',');
  const jobs = await JobsProcess.start(masters, [
    '--principal',
    'ops',
    '--secret-file',
    file('jobs-secret', secrets.ops),
  ]);
  try {
    const registered = await waitFor(
      async () => {
        const answer = await operator({ type: 'GET_FRAMEWORKS' }, basic('ops'));
        const frameworks = (answer.body.get_frameworks as { frameworks?: FrameworkEntry[] } | undefined)?.frameworks;
        return frameworks?.find((entry) => entry.framework_info.name === 'flotilla-jobs' && entry.active) ?? null;
      },
      { timeoutMs: 60_000, what: `the jobs framework to subscribe (its output: ${jobs.output.slice(-2000)})` },
    );
    assert.is(registered.framework_info.principal, 'ops');
  } finally {
    await jobs.kill();
  }
  assert.not.ok(jobs.output.includes(secrets.ops), "the jobs framework's log holds no secret");
});

test('the CLI: --principal/--secret-file, FLOTILLA_PRINCIPAL/FLOTILLA_SECRET, FLOTILLA_TOKEN; refused without', async () => {
  const masters = cluster.replicas.map((replica) => replica.address).join(',');
  const opsSecretFile = file('ops-secret', `${secrets.ops}\n`);
  const withFlags = await flotilla([
    'weights',
    '--masters',
    masters,
    '--principal',
    'ops',
    '--secret-file',
    opsSecretFile,
  ]);
  assert.is(withFlags.status, 0, withFlags.stderr);
  assert.match(withFlags.stdout, /web/);
  const withEnvironment = await flotilla(['kv', 'get', 'auth', 'apps/one', '--masters', masters], {
    FLOTILLA_PRINCIPAL: 'viewer',
    FLOTILLA_SECRET: secrets.viewer,
  });
  assert.is(withEnvironment.status, 0, withEnvironment.stderr);
  assert.match(withEnvironment.stdout, /by kvuser/);
  const withToken = await flotilla(['agents', '--masters', masters], { FLOTILLA_TOKEN: secrets.ops });
  assert.is(withToken.status, 0, withToken.stderr);
  const anonymous = await flotilla(['weights', '--masters', masters, '--json']);
  assert.is(anonymous.status, 1, anonymous.stderr);
  assert.match(anonymous.stderr, /UNAUTHORIZED/);
  const half = await flotilla(['weights', '--masters', masters, '--principal', 'ops']);
  assert.is(half.status, 2, half.stderr);
  assert.match(half.stderr, /--principal and --secret-file go together/);
  // ops: it may register, run tasks, and read the sandbox on the agent itself (fw may not: see agentAcls).
  const run = await flotilla([
    'run',
    '--masters',
    masters,
    '--principal',
    'ops',
    '--secret-file',
    opsSecretFile,
    '--',
    'echo',
    'hi-from-cli',
  ]);
  assert.is(run.status, 0, `${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /^hi-from-cli$/m, run.stdout);
});

test('no secret appears in any log line of the masters or the agent', async () => {
  const output = allOutput();
  assert.ok(output.includes('"audit":true'), 'the logs were captured');
  for (const [principal, secret] of Object.entries(secrets)) {
    assert.not.ok(output.includes(secret), `the secret of ${principal} is in a log line`);
    const encoded = basicAuthorization(principal, secret).slice('Basic '.length);
    assert.not.ok(output.includes(encoded), `the Basic credentials of ${principal} are in a log line`);
  }
  assert.not.ok(output.includes(clusterSecret), 'the cluster secret is in a log line');
});

test.run();
