// The runner's counting (scripts/test-summary.ts): what CI's closing line is made of.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatCountedLine,
  formatCounts,
  formatSkipLine,
  judgeFile,
  skipsFailHere,
  parseTestOutput,
  stripAnsi,
  type FileExit,
} from '../../scripts/test-summary.ts';
import { filterTestFiles, findTestFiles, readTimeoutDirective, shortTestName } from '../../scripts/test-files.ts';
import { FailureExcerpt } from '../../scripts/test-excerpt.ts';
import { formatFailures } from '../../scripts/test-report.ts';
import { makeTempDir } from './tmp.ts';

const cleanExit: FileExit = { code: 0, signal: null, timedOut: false, timeoutSeconds: 300 };

// Exactly what uvu 0.5.6 prints for a file with one pass, one failure and one test.skip,
// with and without colours (FORCE_COLOR=1 puts the escape after the number).
const uvuPlain =
  '• ✘   (1 / 2)\n\n   FAIL  "bad"\n\n  Total:     2\n  Passed:    1\n  Skipped:   1\n  Duration:  1.16ms\n\n';
const uvuColoured =
  '\n  Total:     2\u001b[31m\n  Passed:    1\u001b[39m\n  Skipped:   \u001b[33m1\u001b[39m\n  Duration:  1.23ms\n\n';

const parsing = suite('summary parsing');

parsing('uvu summary without colours: failed is Total minus Passed', () => {
  const summary = parseTestOutput(uvuPlain);
  assert.equal(
    { passed: summary.passed, failed: summary.failed, skipped: summary.skipped },
    { passed: 1, failed: 1, skipped: 1 },
  );
  assert.ok(summary.reported);
});

parsing('uvu summary with ANSI colours parses the same', () => {
  const summary = parseTestOutput(uvuColoured);
  assert.equal(
    { passed: summary.passed, failed: summary.failed, skipped: summary.skipped },
    { passed: 1, failed: 1, skipped: 1 },
  );
  assert.is(stripAnsi('\u001b[1m\u001b[32mok\u001b[39m\u001b[22m'), 'ok');
});

parsing('each skipped line counts as one skipped test and keeps its reason', () => {
  const output = [
    formatSkipLine('docker launch', 'no Docker engine'),
    'skipped: netns partition: not root',
    '  Total:     0',
    '  Passed:    0',
    '  Skipped:   0',
    '  Duration:  0.1ms',
  ].join('\n');
  const summary = parseTestOutput(output);
  assert.is(summary.skipped, 2);
  assert.is(summary.failed, 0);
  assert.equal(summary.skipReasons, ['docker launch: no Docker engine', 'netns partition: not root']);
});

parsing('flotilla-test lines are added to uvu counts', () => {
  const output = `${uvuPlain}${formatCountedLine({ passed: 200, failed: 0, skipped: 3 })}\nflotilla-test: 5 passed, 2 failed\n`;
  const summary = parseTestOutput(output);
  assert.equal(
    { passed: summary.passed, failed: summary.failed, skipped: summary.skipped },
    { passed: 206, failed: 3, skipped: 4 },
  );
});

parsing('a counted line printed from inside a uvu test follows the suite name and dots', () => {
  const summary = parseTestOutput(' raft simulation  • • flotilla-test: 1000 passed, 0 failed, 0 skipped\n');
  assert.equal(
    { passed: summary.passed, failed: summary.failed, skipped: summary.skipped },
    { passed: 1000, failed: 0, skipped: 0 },
  );
});

parsing('garbage is not counted', () => {
  const output = [
    'Total: lots',
    'Passed:    3', // a Passed line without its Total line
    '  Total:     4',
    'interrupted',
    '  Passed:    4',
    '  Skipped:   0',
    '  Duration:  1ms', // block broken in the middle
    'we skipped: nothing',
    'Skipped: 1',
    'flotilla-test: 1 passed',
    'flotilla-test: x passed, 0 failed, 0 skipped',
    'not-flotilla-test: 1 passed, 0 failed',
    'flotilla-test: 1 passed, 0 failed, 0 skipped, and more',
    '{"level":"info","msg":"skipped: not a skip line either"}',
  ].join('\n');
  const summary = parseTestOutput(output);
  assert.equal(
    { passed: summary.passed, failed: summary.failed, skipped: summary.skipped },
    { passed: 0, failed: 0, skipped: 0 },
  );
  assert.not.ok(summary.reported);
});

parsing('two uvu summaries in one output are summed', () => {
  const summary = parseTestOutput(uvuPlain + uvuColoured);
  assert.equal(
    { passed: summary.passed, failed: summary.failed, skipped: summary.skipped },
    { passed: 2, failed: 2, skipped: 2 },
  );
});

parsing.run();

const judging = suite('file verdicts');

judging('a clean exit with a summary keeps its counts', () => {
  const verdict = judgeFile(parseTestOutput(uvuPlain), { ...cleanExit, code: 1 });
  assert.equal(
    { passed: verdict.passed, failed: verdict.failed, skipped: verdict.skipped },
    { passed: 1, failed: 1, skipped: 1 },
  );
});

judging('a crash without a summary is one failure', () => {
  const verdict = judgeFile(parseTestOutput('TypeError: boom\n'), { ...cleanExit, code: 1 });
  assert.is(verdict.failed, 1);
  assert.equal(verdict.problems, ['exited with code 1', 'printed no test summary']);
});

judging('a timeout is a failure even after passing tests were counted', () => {
  const verdict = judgeFile(parseTestOutput('flotilla-test: 3 passed, 0 failed, 0 skipped'), {
    code: null,
    signal: 'SIGTERM',
    timedOut: true,
    timeoutSeconds: 5,
  });
  assert.is(verdict.passed, 3);
  assert.is(verdict.failed, 1);
  assert.equal(verdict.problems, ['timed out after 5 s']);
});

judging('a file that exits 0 but reports nothing failed: it ran no test', () => {
  const verdict = judgeFile(parseTestOutput(''), cleanExit);
  assert.is(verdict.failed, 1);
  assert.equal(verdict.problems, ['printed no test summary']);
});

judging('where skips fail (CI as root), each skip is a failure that names its reason', () => {
  const output = 'skipped: docker run: no Docker engine at unix:///x\nflotilla-test: 2 passed, 0 failed, 0 skipped\n';
  const lenient = judgeFile(parseTestOutput(output), cleanExit);
  assert.equal(
    { failed: lenient.failed, skipped: lenient.skipped, problems: lenient.problems },
    {
      failed: 0,
      skipped: 1,
      problems: [],
    },
  );
  const strict = judgeFile(parseTestOutput(output), cleanExit, true);
  assert.equal(
    { passed: strict.passed, failed: strict.failed, skipped: strict.skipped },
    {
      passed: 2,
      failed: 1,
      skipped: 0,
    },
  );
  assert.match(strict.problems.join(), 'docker run: no Docker engine at unix:///x');
});

judging('skips fail with CI=true as root only, unless FLOTILLA_TEST_ALLOW_SKIPS=1', () => {
  assert.ok(skipsFailHere({ CI: 'true' }, 0));
  assert.not.ok(skipsFailHere({ CI: 'true' }, 1000));
  assert.not.ok(skipsFailHere({}, 0));
  assert.not.ok(skipsFailHere({ CI: 'true', FLOTILLA_TEST_ALLOW_SKIPS: '1' }, 0));
});

judging('the closing line has the plain form CI reads', () => {
  assert.is(formatCounts({ passed: 12, failed: 0, skipped: 3 }), '12 passed, 0 failed, 3 skipped');
});

judging.run();

const selecting = suite('file selection');

selecting('filters keep files containing any substring; names drop test/ and .test.ts', () => {
  const files = ['test/raft/log.test.ts', 'test/raft/core.test.ts', 'test/support/runner.test.ts'];
  assert.equal(filterTestFiles(files, []), files);
  assert.equal(filterTestFiles(files, ['log', 'support']), ['test/raft/log.test.ts', 'test/support/runner.test.ts']);
  assert.equal(filterTestFiles(files, ['nothing']), []);
  assert.is(shortTestName('test/raft/log.test.ts'), 'raft/log');
});

selecting('test files are found sorted, fixtures and non-test files left out', () => {
  const root = makeTempDir();
  for (const file of [
    'test/b/two.test.ts',
    'test/a/one.test.ts',
    'test/a/helper.ts',
    'test/a/fixtures/bad.test.ts',
    'test/top.test.ts',
  ]) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), '');
  }
  assert.equal(findTestFiles(root), ['test/a/one.test.ts', 'test/b/two.test.ts', 'test/top.test.ts']);
});

selecting('a file may ask for its own timeout', () => {
  const root = makeTempDir();
  const withDirective = path.join(root, 'long.test.ts');
  const without = path.join(root, 'short.test.ts');
  writeFileSync(
    withDirective,
    "// Real processes, five nemeses.\n// flotilla-test-timeout-seconds: 900\nimport 'x';\n",
  );
  writeFileSync(without, "import 'x';\n");
  assert.is(readTimeoutDirective(withDirective), 900);
  assert.is(readTimeoutDirective(without), undefined);
});

selecting.run();

const excerpts = suite('failure excerpts next to the closing count');

// What uvu 0.5.6 printed for `assert.is(1, 2, 'the answer differs')` in a file of two tests.
const uvuFailure = [
  '• ✘   (1 / 2)',
  '',
  '   FAIL  "bad one"',
  '    the answer differs  (is)',
  '',
  '        ++2    (Expected)',
  '        --1    (Actual)',
  '    at assert (file:///repo/node_modules/uvu/assert/index.mjs:33:8)',
  '    at Object.handler (/repo/test/f.test.ts:4:32)',
  '',
  '  Total:     2',
  '  Passed:    1',
];

excerpts('the excerpt starts at uvu FAIL and leaves dependency frames out', () => {
  const excerpt = new FailureExcerpt();
  for (const line of ['server log line', ...uvuFailure]) excerpt.feedLine(line);
  assert.equal(excerpt.lines().slice(0, 5), [
    'FAIL  "bad one"'.padStart(18),
    '    the answer differs  (is)',
    '        ++2    (Expected)',
    '        --1    (Actual)',
    '    at Object.handler (/repo/test/f.test.ts:4:32)',
  ]);
  assert.not.ok(excerpt.lines().some((line) => line.includes('node_modules') || line.includes('Total:')));
});

excerpts('without a FAIL line (a crash, a timeout) the last lines are kept, bounded', () => {
  const excerpt = new FailureExcerpt();
  for (let index = 0; index < 100; index += 1) excerpt.feedLine(`line ${index}`);
  const lines = excerpt.lines();
  assert.ok(lines.length > 0 && lines.length < 100);
  assert.is(lines.at(-1), 'line 99');
});

excerpts('the closing failure lines carry the excerpt of each failed file only', () => {
  const row = { passed: 1, failed: 1, skipped: 0, seconds: 1, problems: ['exited with code 1'] };
  const lines = formatFailures([
    { ...row, name: 'a/bad', excerpt: ['FAIL  "x"', 'expected 2'] },
    { ...row, name: 'a/good', failed: 0, problems: [], excerpt: [] },
  ]);
  assert.equal(lines, ['failed: a/bad: 1 failed; exited with code 1', '  a/bad ▸ FAIL  "x"', '  a/bad ▸ expected 2']);
});

excerpts.run();
