// The installed command: bin/flotilla.js must start the TypeScript CLI through tsx on Node 20.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { colorWanted, makeColors } from '../../src/cli/output/colors.ts';
import { renderTable } from '../../src/cli/output/table.ts';
import { buildProgram } from '../../src/cli/program.ts';

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

/** The daemons, `run` and `restore` (offline) have flags of their own; every other command talks to a cluster. */
// `jobs` and `services` manage jobs and apps through their frameworks' APIs, which the masters host: their
// subcommands take --masters like the rest (and --api for a framework run as its own process).
const notClusterCommands = new Set(['master', 'agent', 'run', 'version', 'restore']);

function leafCommands(command: Command, prefix: string[] = []): { path: string; command: Command }[] {
  return command.commands.flatMap((child) => {
    const path = [...prefix, child.name()];
    return child.commands.length === 0 ? [{ path: path.join(' '), command: child }] : leafCommands(child, path);
  });
}

cli('every cluster command takes --help, --json, --masters and --timeout-seconds', () => {
  const leaves = leafCommands(buildProgram()).filter(({ path }) => !notClusterCommands.has(path.split(' ')[0]!));
  assert.ok(leaves.length >= 20, `the cluster commands: ${leaves.map(({ path }) => path).join(', ')}`);
  for (const { path, command } of leaves) {
    const flags = command.options.map((option) => option.long);
    for (const flag of ['--json', '--masters', '--timeout-seconds']) assert.ok(flags.includes(flag), `${path} ${flag}`);
    assert.ok(command.helpInformation().includes('--json'), `${path} --help lists --json`);
  }
});

cli('every command takes --json, the daemons (master, agent) and flotilla run included', () => {
  const leaves = leafCommands(buildProgram());
  for (const name of ['run', 'master', 'agent', 'version'])
    assert.ok(
      leaves.some(({ path }) => path === name),
      name,
    );
  for (const { path, command } of leaves)
    assert.ok(
      command.options.some((option) => option.long === '--json'),
      `${path} takes --json`,
    );
});

cli("kv cas --help prints the usage and exits 0; its --version is the version to compare, not the program's", () => {
  const { stdout, status } = flotilla('kv', 'cas', '--help');
  assert.is(status, 0);
  assert.match(stdout, /Usage: flotilla kv cas \[options\] <namespace> <key> <value>/);
  assert.match(stdout, /--version <n>/);
  const missing = flotilla('kv', 'cas', 'ns', 'key', 'value');
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /required option '--version <n>' not specified/);
});

cli('colour only on a terminal, never with NO_COLOR, always with FORCE_COLOR', () => {
  assert.is(colorWanted({}, { isTTY: true }), true);
  assert.is(colorWanted({}, { isTTY: false }), false);
  assert.is(colorWanted({ CI: 'true' }, { isTTY: false }), false, 'CI alone does not colour piped output');
  assert.is(colorWanted({ NO_COLOR: '1' }, { isTTY: true }), false);
  assert.is(colorWanted({ FORCE_COLOR: '1' }, { isTTY: false }), true);
  assert.is(colorWanted({ TERM: 'dumb' }, { isTTY: true }), false);
});

cli('a table aligns its columns whether or not its cells are coloured', () => {
  const rows = [
    ['m1', 'leader'],
    ['m22', 'follower'],
  ];
  const plain = renderTable(makeColors(false), ['ID', 'ROLE'], rows);
  assert.is(plain, 'ID   ROLE\nm1   leader\nm22  follower');
  const colors = makeColors(true);
  const coloured = renderTable(colors, ['ID', 'ROLE'], [[rows[0]![0]!, colors.green('leader')], rows[1]!]);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the escape codes is the point.
  assert.is(coloured.replace(/\u001b\[\d+m/g, ''), plain);
  assert.ok(coloured.includes('\u001b['));
});

cli.run();
