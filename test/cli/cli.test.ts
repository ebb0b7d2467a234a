// The installed command: bin/flotilla.js must start the TypeScript CLI through tsx on Node 20.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const packageVersion = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

/** Runs bin/flotilla.js from another folder, as a user on PATH would, without tsx preloaded. */
function flotilla(...args: string[]): { stdout: string; stderr: string; status: number | null } {
  const result = spawnSync(process.execPath, [path.join(repoRoot, 'bin', 'flotilla.js'), ...args], {
    cwd: path.dirname(repoRoot),
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

const cli = suite('flotilla command');

cli('--version prints the package version', () => {
  const { stdout, status } = flotilla('--version');
  assert.is(status, 0);
  assert.is(stdout.trim(), packageVersion);
});

cli('version --json names flotilla and node', () => {
  const { stdout, status } = flotilla('version', '--json');
  assert.is(status, 0);
  assert.equal(JSON.parse(stdout), { flotilla: packageVersion, node: process.version });
});

cli('an unknown subcommand fails with a suggestion', () => {
  const { stderr, status } = flotilla('verison');
  assert.is(status, 1);
  assert.match(stderr, /unknown command 'verison'/);
  assert.match(stderr, /Did you mean version\?/);
});

cli.run();
