// The whole-tree checks `npm test` runs before the test files, each counted as one test: the
// type-check (tsc --noEmit) and the lint (biome ci: formatting and lint rules, warnings too).
// They run whatever the filters, since a filtered run must not hide a broken build.
import path from 'node:path';
import { runChild } from './test-child.ts';
import type { ReportRow, StatusLine } from './test-report.ts';
import { judgeFile, noTests } from './test-summary.ts';

export interface TreeCheck {
  /** The row's name in the table, and the prefix of its output lines. */
  readonly name: string;
  /** A program in node_modules/.bin, run from the repository root. */
  readonly program: string;
  readonly args: readonly string[];
  /** What a non-zero exit of the program on its own means (rather than a timeout or a crash). */
  readonly findings: string;
  /** The tool prints one line per problem; past this many, the first ones are enough to start fixing. */
  readonly maxLinesShown: number;
}

export const typecheck: TreeCheck = {
  name: 'typecheck',
  program: 'tsc',
  args: ['--noEmit', '-p', '.'],
  findings: 'type errors (shown above)',
  maxLinesShown: 400,
};

export const lint: TreeCheck = {
  name: 'lint',
  program: 'biome',
  // The concise reporter prints one line per problem; `npm run lint` shows each with its code.
  args: ['ci', '--error-on-warnings', '--reporter=concise', '--colors=off', '.'],
  findings: 'formatting or lint problems (shown above)',
  maxLinesShown: 200,
};

// The first findings of a failed check, repeated next to the closing count.
const excerptLinesOfCheck = 12;

export async function runTreeCheck(
  check: TreeCheck,
  repoRoot: string,
  timeoutSeconds: number,
  status: StatusLine,
): Promise<ReportRow> {
  const commandLine = [check.program, ...check.args].join(' ');
  status.update(`${check.name}: ${commandLine} …`);
  const lines: string[] = [];
  const outcome = await runChild({
    command: path.join(repoRoot, 'node_modules', '.bin', check.program),
    args: check.args,
    cwd: repoRoot,
    timeoutSeconds,
    onLine: (_stream, line) => {
      if (lines.length < check.maxLinesShown) lines.push(line);
    },
  });
  const { exit } = outcome;
  const passed = exit.code === 0 && !exit.timedOut;
  if (!passed) {
    for (const line of lines) status.printLine(`${check.name} │ ${line}`.trimEnd());
  }
  // tsc exits 1 or 2 on type errors, biome 1 on problems; a timeout or a crash is told as the
  // runner tells any file's.
  const findings = !exit.timedOut && exit.signal === null && exit.code !== null && exit.code !== 0;
  const problems = passed
    ? []
    : findings
      ? [check.findings]
      : judgeFile({ ...noTests, reported: true, skipReasons: [] }, exit).problems;
  status.printLine(
    `${check.name}: ${passed ? 'ok' : `FAILED (${problems.join('; ')})`} in ${outcome.seconds.toFixed(1)} s`,
  );
  return {
    name: check.name,
    passed: passed ? 1 : 0,
    failed: passed ? 0 : 1,
    skipped: 0,
    seconds: outcome.seconds,
    problems,
    excerpt: passed ? [] : lines.slice(0, excerptLinesOfCheck),
  };
}
