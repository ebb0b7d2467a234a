// The checkpoint keeps each executor's authentication token (schema 3), so an executor recovered
// after an agent restart keeps its token; a version 2 file (no token column) is upgraded in place
// and its executors read back with no token. Real SQLite files.
import path from 'node:path';
import Database from 'better-sqlite3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Checkpoint, checkpointSchemaVersion } from '../../src/agent/checkpoint.ts';
import { executorTokenMatches, newExecutorToken } from '../../src/agent/executors/tokens.ts';
import type { WireExecutorInfo, WireFrameworkInfo } from '../../src/protocol/agent.ts';
import { makeTempDir } from '../support/tmp.ts';

const info: WireExecutorInfo = {
  id: 'exec-1',
  type: 'CUSTOM',
  name: null,
  command: null,
  resources: [],
  shutdownGracePeriodMs: null,
  labels: {},
  user: null,
  container: null,
};
const framework: WireFrameworkInfo = {
  id: 'fw-1',
  name: 'tokens',
  user: null,
  roles: ['*'],
  principal: null,
  hostname: null,
  capabilities: [],
};

test('a token is kept across reopening the checkpoint', () => {
  const file = path.join(makeTempDir('checkpoint-tokens-'), 'agent.db');
  const token = newExecutorToken();
  const first = Checkpoint.open(file);
  first.addExecutor({
    frameworkId: 'fw-1',
    executorId: 'exec-1',
    kind: 'custom',
    info,
    framework,
    sandbox: '/s',
    token,
  });
  first.addExecutor({
    frameworkId: 'fw-1',
    executorId: 'group',
    kind: 'default',
    info,
    framework,
    sandbox: '/g',
    token: null,
  });
  first.close();
  const reopened = Checkpoint.open(file);
  const executors = reopened.executors();
  reopened.close();
  assert.is(executors.find((each) => each.executorId === 'exec-1')?.token, token);
  assert.is(executors.find((each) => each.executorId === 'group')?.token, null);
});

test('a version 2 checkpoint gains the token column; its executors have none', () => {
  const file = path.join(makeTempDir('checkpoint-tokens-'), 'agent.db');
  const old = new Database(file);
  old.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE executors (
      framework_id TEXT NOT NULL, executor_id TEXT NOT NULL, kind TEXT NOT NULL, info TEXT NOT NULL,
      framework TEXT NOT NULL, sandbox TEXT NOT NULL, handle TEXT, terminated INTEGER NOT NULL DEFAULT 0,
      exit_status INTEGER, PRIMARY KEY (framework_id, executor_id));
    INSERT INTO meta (key, value) VALUES ('schema_version', '2');
  `);
  old
    .prepare(
      'INSERT INTO executors (framework_id, executor_id, kind, info, framework, sandbox) VALUES (?, ?, ?, ?, ?, ?)',
    )
    .run('fw-1', 'exec-1', 'custom', JSON.stringify(info), JSON.stringify(framework), '/s');
  old.close();
  const checkpoint = Checkpoint.open(file);
  const [executor] = checkpoint.executors();
  checkpoint.close();
  assert.is(executor?.executorId, 'exec-1');
  assert.is(executor?.token, null);
  const upgraded = new Database(file, { readonly: true });
  const version = upgraded.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
  upgraded.close();
  assert.is(version.value, String(checkpointSchemaVersion));
});

test('tokens: 32 random bytes each; only the very token matches, and nothing matches no token', () => {
  const token = newExecutorToken();
  assert.is(Buffer.from(token, 'base64url').length, 32);
  assert.is.not(newExecutorToken(), token);
  assert.ok(executorTokenMatches(token, token));
  assert.not.ok(executorTokenMatches(`${token}x`, token));
  assert.not.ok(executorTokenMatches(newExecutorToken(), token));
  assert.not.ok(executorTokenMatches('', null), 'no token: an empty one does not match');
  assert.not.ok(executorTokenMatches(token, null));
});

test.run();
