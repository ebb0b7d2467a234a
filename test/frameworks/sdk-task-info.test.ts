// TaskInfo building (src/frameworks/sdk/task-info.ts) in Mesos v1 JSON.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Offer } from '../../src/protocol/mesos.ts';
import { buildTaskInfo, newTaskId, TaskSpecError } from '../../src/frameworks/sdk/task-info.ts';
import { shellLine } from '../../src/cli/commands/run.ts';

const offer: Offer = {
  id: { value: 'o1' },
  framework_id: { value: 'f1' },
  agent_id: { value: 'agent-7' },
  hostname: 'h',
  url: { scheme: 'http', address: { ip: '127.0.0.1', port: 5055 } },
  resources: [],
  attributes: [],
  allocation_info: { role: '*' },
};
const match = { resources: [{ name: 'cpus', type: 'SCALAR' as const, scalar: { value: 0.1 } }], ports: [] };

test("a shell command runs through sh -c on the offer's agent with the matched resources", () => {
  const task = buildTaskInfo(offer, match, {
    name: 'hello',
    taskId: 'hello-1',
    command: { kind: 'shell', line: 'echo hello' },
    environment: { A: '1' },
  });
  assert.equal(task, {
    name: 'hello',
    task_id: { value: 'hello-1' },
    agent_id: { value: 'agent-7' },
    resources: match.resources,
    command: {
      value: 'echo hello',
      shell: true,
      environment: { variables: [{ name: 'A', type: 'VALUE', value: '1' }] },
    },
  });
});

test('an argv runs without a shell, argv[0] included in arguments as Mesos expects', () => {
  const task = buildTaskInfo(offer, match, {
    name: 'n',
    taskId: 't',
    command: { kind: 'argv', argv: ['sh', '-c', 'exit 3'] },
  });
  assert.equal(task.command, { value: 'sh', shell: false, arguments: ['sh', '-c', 'exit 3'] });
});

test('a Docker image makes a DOCKER ContainerInfo; labels and the kill grace period are carried', () => {
  const task = buildTaskInfo(offer, match, {
    name: 'web',
    taskId: 'web.1',
    dockerImage: 'flotilla-test:busybox',
    labels: { team: 'a' },
    killGracePeriodSeconds: 2.5,
  });
  assert.equal(task.container, {
    type: 'DOCKER',
    docker: { image: 'flotilla-test:busybox', network: 'HOST', force_pull_image: false },
  });
  assert.is(task.command, undefined);
  assert.equal(task.labels, { labels: [{ key: 'team', value: 'a' }] });
  assert.equal(task.kill_policy, { grace_period: { nanoseconds: 2_500_000_000 } });
});

test('generated task ids are unique and safe; bad specs are refused', () => {
  const first = newTaskId('my app/v2');
  assert.match(first, /^my-app-v2\.[0-9a-f-]{36}$/);
  assert.is.not(first, newTaskId('my app/v2'));
  assert.throws(
    () => buildTaskInfo(offer, match, { name: 'n', taskId: 'a b', command: { kind: 'shell', line: 'x' } }),
    (error: Error) => error instanceof TaskSpecError && /task id/.test(error.message),
  );
  assert.throws(() => buildTaskInfo(offer, match, { name: 'n' }), /needs a command/);
  assert.throws(() => buildTaskInfo(offer, match, { name: 'n', command: { kind: 'shell', line: '  ' } }), /empty/);
  assert.throws(() => buildTaskInfo(offer, match, { name: 'n', command: { kind: 'argv', argv: [] } }), /empty/);
});

test('flotilla run joins several words into a shell line that keeps their quoting', () => {
  assert.is(shellLine(['echo', 'hi']), 'echo hi');
  assert.is(shellLine(['sh', '-c', 'exit 3']), "sh -c 'exit 3'");
  assert.is(shellLine(['echo', "it's"]), "echo 'it'\\''s'");
  assert.is(shellLine(['echo hi && false']), 'echo hi && false');
});

test.run();
