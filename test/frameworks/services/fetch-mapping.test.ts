// Marathon's fetch and legacy uris, from an app definition through the services framework's
// TaskInfo to the master's own TaskInfo reader: what the master replicates and sends to the agent
// is what the app asked for, with Marathon's defaults. (The agent's fetching itself:
// test/agent/fetcher.test.ts.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseApp } from '../../../src/frameworks/services/app-parse.ts';
import { buildTaskInfo } from '../../../src/frameworks/services/task-builder.ts';
import { stampVersion } from '../../../src/frameworks/services/versioning.ts';
import { parseTaskInfo } from '../../../src/http/scheduler/parse-task.ts';
import type { Offer } from '../../../src/protocol/mesos.ts';

const offer = {
  id: { value: 'o1' },
  framework_id: { value: 'f1' },
  agent_id: { value: 'a1' },
  hostname: 'agent-1',
  resources: [],
} as unknown as Offer;

function masterUris(app: Record<string, unknown>) {
  const outcome = parseApp(app, { role: '*' });
  if (!outcome.ok) throw new Error(JSON.stringify(outcome.details));
  const definition = stampVersion(outcome.spec, null, '2026-01-01T00:00:00.000Z');
  const task = buildTaskInfo({ app: definition, taskId: 'web.1', offer, resources: [], hostPorts: [] });
  return parseTaskInfo(task as never, 'task').definition.command?.uris;
}

test('fetch reaches the master as CommandInfo.uris with Marathon defaults and outputFile', () => {
  const uris = masterUris({
    id: '/web',
    cmd: './serve',
    fetch: [
      { uri: 'http://files.example/serve', executable: true, outputFile: 'serve' },
      { uri: 'https://files.example/site.tar.gz', cache: true },
    ],
  });
  assert.equal(uris, [
    { value: 'http://files.example/serve', executable: true, extract: true, cache: false, outputFile: 'serve' },
    { value: 'https://files.example/site.tar.gz', executable: false, extract: true, cache: true, outputFile: null },
  ]);
});

test('legacy uris reach the master as CommandInfo.uris, extracted; an app without either sends none', () => {
  assert.equal(masterUris({ id: '/old', cmd: 'x', uris: ['file:///opt/app.tgz'] }), [
    { value: 'file:///opt/app.tgz', executable: false, extract: true, cache: false, outputFile: null },
  ]);
  assert.is(masterUris({ id: '/plain', cmd: 'x' }), undefined);
});

test.run();
