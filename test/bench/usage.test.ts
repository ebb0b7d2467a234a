// `npm run bench -- <name> --help` prints the comment a bench file opens with, and that comment
// names every option the bench parses, so the help cannot fall behind the code unnoticed.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { leadingComment } from '../../bench/_usage.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const benchDirectory = path.join(root, 'bench');
const benches = readdirSync(benchDirectory)
  .filter((file) => file.endsWith('.ts') && file !== 'run.ts' && !file.startsWith('_'))
  .map((file) => file.slice(0, -3));

/** The option names a bench declares to parseArgs (`name: { type: ... }` entries). */
function declaredOptions(source: string): string[] {
  const names = [...source.matchAll(/'?([a-z][a-z0-9-]*)'?: \{ type: '(?:string|boolean)'/g)].map((match) => match[1]!);
  return [...new Set(names)];
}

test('the leading comment is read up to the first line of code', () => {
  assert.is(leadingComment('// one\n//  two\n//\nimport x;\n// not this'), 'one\n two');
  assert.is(leadingComment('import x;\n'), '');
});

test('every benchmark documents each option it parses in its opening comment', () => {
  assert.ok(benches.length >= 10, `${benches.length} benchmarks found`);
  for (const bench of benches) {
    const source = readFileSync(path.join(benchDirectory, `${bench}.ts`), 'utf8');
    const help = leadingComment(source);
    assert.ok(help.length > 0, `${bench}.ts opens with a comment`);
    const undocumented = declaredOptions(source).filter((option) => !help.includes(`--${option}`));
    assert.equal(undocumented, [], `${bench}.ts: options missing from its opening comment`);
  }
});

test('--help prints the usage and runs nothing', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'scale', '--help'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(run.status, 0, run.stderr);
  assert.ok(run.stdout.startsWith('npm run bench -- scale [options]\n'), run.stdout.slice(0, 200));
  assert.ok(run.stdout.includes('--agents'), 'the scale bench names its --agents option');
  assert.not.ok(run.stdout.includes('//'), 'comment markers are stripped');
  assert.not.ok(/registered|leader/i.test(run.stderr), 'no cluster was started');
});

test('an unknown benchmark lists the available ones and fails', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'no-such-bench'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(run.status, 2);
  assert.ok(run.stderr.includes('benchmarks: '), run.stderr);
  assert.ok(run.stderr.includes('scale'), run.stderr);
});

test.run();
