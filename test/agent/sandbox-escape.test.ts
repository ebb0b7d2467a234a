// The sandbox stays a sandbox (issue 18, "Disks"): a real task on a real agent plants ways out of
// its sandbox — `ln -s / escape`, `ln -s .. up`, a link to /etc/passwd — and every way to read
// or browse through them is refused: the agent's LIST_FILES and READ_FILE (by task, and by a
// path under the frameworks folder) and the master's sandbox read route, with plain `..`,
// absolute paths, and percent-encoded traversal (%2e%2e, %2f, double-encoded). Nothing answers
// 200 with a byte from outside, and each refusal carries its stable code.
// flotilla-test-timeout-seconds: 240
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  newClient,
  OneTaskScheduler,
  startMasterAndAgent,
  type MasterAndAgent,
} from '../frameworks/support/cluster.ts';
import { errorOf } from '../support/answers.ts';
import { waitFor } from '../support/wait.ts';

const taskCommand = ['echo inside', 'ln -s / escape', 'ln -s .. up', 'ln -s /etc/passwd passwd', 'sleep 300'].join(
  '; ',
);

let real: MasterAndAgent;
let scheduler: OneTaskScheduler;
let framework: string;

test.before(async () => {
  real = await startMasterAndAgent();
  const client = newClient(real.masterAddress);
  scheduler = new OneTaskScheduler(client, 'escaper', taskCommand);
  framework = await client.subscribe();
  await scheduler.waitForState('TASK_RUNNING');
  // The links exist once LIST_FILES of the sandbox shows the last one.
  await waitFor(
    async () => {
      const answer = await agentCall('LIST_FILES', { framework_id: framework, task_id: 'escaper', path: '' });
      const infos = (answer.body as { list_files?: { file_infos?: { path: string }[] } }).list_files?.file_infos ?? [];
      return infos.some((info) => info.path === 'passwd');
    },
    { timeoutMs: 30_000, what: 'the task to plant its links' },
  );
});
test.after(async () => {
  await scheduler?.client.teardown().catch(() => undefined);
  await real?.stop();
});

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function agentCall(type: 'LIST_FILES' | 'READ_FILE', call: Record<string, unknown>): Promise<Answer> {
  const section = type === 'LIST_FILES' ? 'list_files' : 'read_file';
  const response = await fetch(`http://127.0.0.1:${real.agent.port}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ type, [section]: call }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

/** The master's route with a query string written by hand, so encodings reach the server as given. */
async function masterRead(rawPath: string): Promise<Answer> {
  const url = `${real.master.url}/api/v1/sandbox/read?framework_id=${framework}&task_id=escaper&path=${rawPath}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

function refused(answer: Answer, codes: readonly string[], label: string): void {
  assert.ok(
    answer.status === 400 || answer.status === 404,
    `${label}: ${answer.status} ${JSON.stringify(answer.body)}`,
  );
  const code = errorOf(answer.body, label).code;
  assert.ok(codes.includes(code), `${label}: ${code} is not one of ${codes.join(', ')}`);
}

const escapes = ['SANDBOX_PATH_ESCAPES'];
const invalid = ['SANDBOX_PATH_INVALID'];
const notFound = ['SANDBOX_FILE_NOT_FOUND'];

test('inside the sandbox, reads work: the refusals below are not everything refused', async () => {
  const answer = await agentCall('READ_FILE', { framework_id: framework, task_id: 'escaper', path: 'stdout' });
  assert.is(answer.status, 200, JSON.stringify(answer.body));
  const data = (answer.body as { read_file: { data: string } }).read_file.data;
  assert.match(Buffer.from(data, 'base64').toString('utf8'), 'inside');
  const viaMaster = await masterRead('stdout');
  assert.is(viaMaster.status, 200, JSON.stringify(viaMaster.body));
});

test("the agent's READ_FILE refuses every way out: symlinks, .., absolute paths; encodings are not decoded", async () => {
  const byTask = { framework_id: framework, task_id: 'escaper' };
  const attempts: [string, readonly string[]][] = [
    ['escape/etc/passwd', escapes],
    ['escape/etc/hostname', escapes],
    ['passwd', escapes],
    ['up/escaper/escape/etc/passwd', escapes],
    ['../../../../etc/passwd', invalid],
    ['stdout/../../x', invalid],
    ['/etc/passwd', invalid],
    // The agent's API takes JSON: a percent sign is a character of a file name, never decoded.
    ['%2e%2e/%2e%2e/etc/passwd', notFound],
    ['..%2f..%2fetc%2fpasswd', notFound],
    ['escape%2fetc%2fpasswd', notFound],
  ];
  for (const [path, codes] of attempts) {
    refused(await agentCall('READ_FILE', { ...byTask, path }), codes, `READ_FILE ${path}`);
  }
  // By a path under the frameworks folder (Mesos' /files/read style), through the task's links.
  const underFrameworks = `${framework}/tasks/escaper`;
  for (const path of [
    `${underFrameworks}/escape/etc/passwd`,
    `${underFrameworks}/passwd`,
    `${underFrameworks}/up/../x`,
  ]) {
    refused(await agentCall('READ_FILE', { path }), [...escapes, ...invalid], `READ_FILE ${path}`);
  }
});

test("the agent's LIST_FILES (browsing) refuses to list through a link out of the sandbox", async () => {
  const byTask = { framework_id: framework, task_id: 'escaper' };
  for (const path of ['escape', 'escape/', 'escape/etc', 'up', 'up/..', '/', '..']) {
    const answer = await agentCall('LIST_FILES', { ...byTask, path });
    refused(answer, [...escapes, ...invalid], `LIST_FILES ${path}`);
  }
  refused(
    await agentCall('LIST_FILES', { path: `${framework}/tasks/escaper/escape/etc` }),
    escapes,
    'LIST_FILES under frameworks',
  );
  // The sandbox itself lists the links as links (lstat), without following them.
  const listed = await agentCall('LIST_FILES', { ...byTask, path: '' });
  const infos = (listed.body as { list_files: { file_infos: { path: string; mode: number; size: number }[] } })
    .list_files.file_infos;
  const escapeLink = infos.find((info) => info.path === 'escape');
  assert.ok(escapeLink !== undefined);
  assert.is(escapeLink.mode & 0o170000, 0o120000, 'listed as a symlink');
  assert.is(escapeLink.size, 1, "the link's own size (its target '/'), not the root folder's");
});

test("the master's sandbox route refuses traversal, encoded or not, and the task's links", async () => {
  const attempts: [string, number, string][] = [
    ['escape/etc/passwd', 400, 'SANDBOX_FILE_REFUSED'],
    ['escape%2fetc%2fpasswd', 400, 'SANDBOX_FILE_REFUSED'],
    ['passwd', 400, 'SANDBOX_FILE_REFUSED'],
    ['up/escaper/passwd', 400, 'SANDBOX_FILE_REFUSED'],
    ['..%2f..%2fetc%2fpasswd', 400, 'BAD_REQUEST'],
    ['%2e%2e%2f%2e%2e%2fetc%2fpasswd', 400, 'BAD_REQUEST'],
    ['%2E%2E/stdout', 400, 'BAD_REQUEST'],
    ['%252e%252e%252fetc%252fpasswd', 400, 'BAD_REQUEST'],
    ['%2fetc%2fpasswd', 400, 'BAD_REQUEST'],
    ['/etc/passwd', 400, 'BAD_REQUEST'],
    ['stdout%00', 400, 'BAD_REQUEST'],
  ];
  for (const [rawPath, status, code] of attempts) {
    const answer = await masterRead(rawPath);
    assert.is(answer.status, status, `${rawPath}: ${JSON.stringify(answer.body)}`);
    assert.is(errorOf(answer.body, rawPath).code, code, rawPath);
  }
});

test.run();
