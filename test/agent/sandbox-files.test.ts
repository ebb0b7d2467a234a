// LIST_FILES and READ_FILE on a real folder: shapes as the Mesos v1 agent API answers them,
// ranged reads, and every way out of the sandbox refused.
import { maxReadLengthBytes } from '../../src/agent/limits.ts';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { listFiles, readSandboxFile, SandboxFileError } from '../../src/agent/sandbox-files.ts';
import { makeTempDir } from '../support/tmp.ts';

function makeSandbox(): { root: string; outside: string } {
  const parent = makeTempDir('files-');
  const root = path.join(parent, 'sandbox');
  mkdirSync(path.join(root, 'logs'), { recursive: true });
  writeFileSync(path.join(root, 'stdout'), 'hello world\n');
  writeFileSync(path.join(root, 'logs', 'app.log'), 'line 1\nline 2\n');
  writeFileSync(path.join(parent, 'secret'), 'not for frameworks');
  symlinkSync(path.join(parent, 'secret'), path.join(root, 'escape'));
  symlinkSync(parent, path.join(root, 'escape-dir'));
  symlinkSync('logs/app.log', path.join(root, 'inside-link'));
  return { root, outside: path.join(parent, 'secret') };
}

async function expectError(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
    assert.unreachable(`expected ${code}`);
  } catch (error) {
    assert.instance(error, SandboxFileError);
    assert.is((error as SandboxFileError).code, code, (error as Error).message);
  }
}

function decode(data: string): string {
  return Buffer.from(data, 'base64').toString('utf8');
}

const listing = suite('LIST_FILES');

listing('lists a folder with Mesos FileInfo fields, paths as requested', async () => {
  const { root } = makeSandbox();
  const answer = await listFiles(root, '');
  assert.is(answer.type, 'LIST_FILES');
  const infos = answer.list_files.file_infos;
  assert.equal(
    infos.map((info) => info.path),
    ['escape', 'escape-dir', 'inside-link', 'logs', 'stdout'],
  );
  const stdout = infos.find((info) => info.path === 'stdout');
  assert.ok(stdout);
  assert.is(stdout.size, 12);
  assert.is(stdout.nlink, 1);
  assert.is(stdout.mode & 0o170000, 0o100000, 'a regular file');
  assert.is(stdout.uid, os.userInfo().username);
  assert.ok(Math.abs(stdout.mtime.nanoseconds / 1e9 - Date.now() / 1000) < 3_600);
  const logs = await listFiles(root, 'logs/');
  assert.equal(
    logs.list_files.file_infos.map((info) => [info.path, info.size]),
    [['logs/app.log', 14]],
  );
  const single = await listFiles(root, './stdout');
  assert.equal(
    single.list_files.file_infos.map((info) => info.path),
    ['stdout'],
  );
});

listing('escapes and missing paths are refused with stable codes', async () => {
  const { root, outside } = makeSandbox();
  await expectError(listFiles(root, '../'), 'SANDBOX_PATH_INVALID');
  await expectError(listFiles(root, 'logs/../../'), 'SANDBOX_PATH_INVALID');
  await expectError(listFiles(root, path.dirname(outside)), 'SANDBOX_PATH_INVALID');
  await expectError(listFiles(root, 'escape-dir'), 'SANDBOX_PATH_ESCAPES');
  await expectError(listFiles(root, 'no-such-folder'), 'SANDBOX_FILE_NOT_FOUND');
  await expectError(listFiles(root, 'a\0b'), 'SANDBOX_PATH_INVALID');
});

listing.run();

const reading = suite('READ_FILE');

reading('reads a whole file, a range, and past the end', async () => {
  const { root } = makeSandbox();
  const whole = await readSandboxFile(root, 'stdout', 0, null);
  assert.equal(whole, {
    type: 'READ_FILE',
    read_file: { size: 12, data: Buffer.from('hello world\n').toString('base64') },
  });
  const range = await readSandboxFile(root, 'stdout', 6, 5);
  assert.is(range.read_file.size, 12);
  assert.is(decode(range.read_file.data), 'world');
  assert.is(decode((await readSandboxFile(root, 'stdout', 6, 1_000)).read_file.data), 'world\n');
  assert.is((await readSandboxFile(root, 'stdout', 100, 10)).read_file.data, '');
  assert.is(decode((await readSandboxFile(root, 'logs/app.log', 7, null)).read_file.data), 'line 2\n');
  assert.is(
    decode((await readSandboxFile(root, 'inside-link', 0, 6)).read_file.data),
    'line 1',
    'a symlink inside the sandbox is followed',
  );
});

reading('a read is capped at maxReadLengthBytes', async () => {
  const { root } = makeSandbox();
  writeFileSync(path.join(root, 'big'), Buffer.alloc(maxReadLengthBytes + 10, 97));
  const answer = await readSandboxFile(root, 'big', 0, null);
  assert.is(answer.read_file.size, maxReadLengthBytes + 10);
  assert.is(Buffer.from(answer.read_file.data, 'base64').length, maxReadLengthBytes);
});

reading('escapes, folders, FIFOs and bad ranges are refused', async () => {
  const { root, outside } = makeSandbox();
  await expectError(readSandboxFile(root, 'escape', 0, null), 'SANDBOX_PATH_ESCAPES');
  await expectError(readSandboxFile(root, 'escape-dir/secret', 0, null), 'SANDBOX_PATH_ESCAPES');
  await expectError(readSandboxFile(root, '../secret', 0, null), 'SANDBOX_PATH_INVALID');
  await expectError(readSandboxFile(root, outside, 0, null), 'SANDBOX_PATH_INVALID');
  await expectError(readSandboxFile(root, 'logs', 0, null), 'SANDBOX_NOT_A_FILE');
  execFileSync('mkfifo', [path.join(root, 'pipe')]);
  await expectError(readSandboxFile(root, 'pipe', 0, null), 'SANDBOX_NOT_A_FILE');
  await expectError(readSandboxFile(root, 'stdout', -1, null), 'SANDBOX_RANGE_INVALID');
  await expectError(readSandboxFile(root, 'stdout', 0, 1.5), 'SANDBOX_RANGE_INVALID');
  await expectError(readSandboxFile(root, 'missing', 0, null), 'SANDBOX_FILE_NOT_FOUND');
});

reading.run();
