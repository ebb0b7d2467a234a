// `npm test`: type-check and lint, then run every test/**/*.test.ts in its own process, then
// print a table and one closing line `N passed, N failed, N skipped` (read by CI).
//
//   npm test                          everything
//   npm test -- raft log              only files whose path contains "raft" or "log"
//   npm test -- --no-typecheck raft   skip tsc
//   npm test -- --no-lint raft        skip biome (formatting and lint)
//   npm test -- --jobs 1 --timeout 60
//
// Environment: FLOTILLA_TEST_JOBS (files run at once, default 2: the machines have 2 cores),
// FLOTILLA_TEST_TIMEOUT_SECONDS (per file, default 300; a file may ask for its own with a
// `// flotilla-test-timeout-seconds: N` comment, see test-files.ts). With CI=true as root a
// skipped test is a failure (FLOTILLA_TEST_ALLOW_SKIPS=1 lifts that; see skipsFailHere).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { lint, runTreeCheck, typecheck } from './test-checks.ts';
import { killRunningChildren, runChild } from './test-child.ts';
import { filterTestFiles, findTestFiles, readTimeoutDirective, shortTestName } from './test-files.ts';
import { FailureExcerpt } from './test-excerpt.ts';
import { formatFailures, formatTable, StatusLine, type ReportRow } from './test-report.ts';
import { addCounts, formatCounts, judgeFile, noTests, skipsFailHere, type TestCounts } from './test-summary.ts';

interface RunnerOptions {
  readonly filters: readonly string[];
  readonly typecheck: boolean;
  readonly lint: boolean;
  readonly jobs: number;
  readonly timeoutSeconds: number;
  /** CI as root: a skipped test is a failure (see skipsFailHere). */
  readonly skipsFail: boolean;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const defaultJobs = 2;
const maxJobs = 16;
const defaultTimeoutSeconds = 300;
const maxTimeoutSeconds = 24 * 60 * 60;
const maxLabelChars = 24;
const statusRefreshMs = 1_000;

function parsePositiveInteger(name: string, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, got "${text}"`);
    }
    return value;
  };
}

function parseOptions(argv: readonly string[]): RunnerOptions {
  const jobs = parsePositiveInteger('jobs', maxJobs);
  const timeout = parsePositiveInteger('timeout', maxTimeoutSeconds);
  const program = new Command('test')
    .description('type-check, lint and run the test files, each in its own process')
    .argument('[filters...]', 'run only files whose path contains one of these')
    .option('--no-typecheck', 'skip tsc --noEmit')
    .option('--no-lint', 'skip biome ci (formatting and lint)')
    .option('-j, --jobs <count>', 'test files run at once (env FLOTILLA_TEST_JOBS)', jobs)
    .option('--timeout <seconds>', 'per-file timeout (env FLOTILLA_TEST_TIMEOUT_SECONDS)', timeout)
    .parse([...argv]);
  const options = program.opts<{ typecheck: boolean; lint: boolean; jobs?: number; timeout?: number }>();
  const fromEnvironment = (variable: string, parse: (text: string) => number): number | undefined => {
    const text = process.env[variable];
    if (text === undefined || text === '') return undefined;
    try {
      return parse(text);
    } catch (error) {
      program.error(`${variable}: ${(error as Error).message}`);
    }
  };
  return {
    filters: program.args,
    typecheck: options.typecheck,
    lint: options.lint,
    jobs: options.jobs ?? fromEnvironment('FLOTILLA_TEST_JOBS', jobs) ?? defaultJobs,
    timeoutSeconds:
      options.timeout ?? fromEnvironment('FLOTILLA_TEST_TIMEOUT_SECONDS', timeout) ?? defaultTimeoutSeconds,
    skipsFail: skipsFailHere(process.env, process.getuid?.()),
  };
}

/** Runs the files `jobs` at a time; rows come back in file order whatever the finish order. */
class TestFilePool {
  private readonly rows: ReportRow[] = [];
  private readonly running = new Map<string, number>();
  private nextIndex = 0;
  private finishedCount = 0;
  private totals: TestCounts = noTests;
  private readonly labelChars: number;

  constructor(
    private readonly files: readonly string[],
    private readonly options: RunnerOptions,
    private readonly status: StatusLine,
  ) {
    this.labelChars = Math.min(maxLabelChars, Math.max(0, ...files.map((file) => shortTestName(file).length)));
  }

  async runAll(): Promise<ReportRow[]> {
    const ticker = setInterval(() => this.showStatus(), statusRefreshMs);
    try {
      const workers = Math.min(this.options.jobs, this.files.length);
      await Promise.all(Array.from({ length: workers }, () => this.work()));
    } finally {
      clearInterval(ticker);
    }
    return this.rows;
  }

  private async work(): Promise<void> {
    while (this.nextIndex < this.files.length) {
      const index = this.nextIndex++;
      const file = this.files[index];
      if (file === undefined) throw new Error(`test pool: no file at index ${index}`);
      this.rows[index] = await this.runFile(file);
    }
  }

  private async runFile(file: string): Promise<ReportRow> {
    const name = shortTestName(file);
    const label = this.label(name);
    const timeoutSeconds = readTimeoutDirective(path.join(repoRoot, file)) ?? this.options.timeoutSeconds;
    this.running.set(name, performance.now());
    this.status.printLine(`${label} ┌ ${file} (timeout ${timeoutSeconds} s)`);
    this.showStatus();
    const excerpt = new FailureExcerpt();
    const outcome = await runChild({
      command: process.execPath,
      args: ['--import', 'tsx', file],
      cwd: repoRoot,
      timeoutSeconds,
      onLine: (_stream, line) => {
        excerpt.feedLine(line);
        this.status.printLine(`${label} │ ${line}`.trimEnd());
      },
    });
    const verdict = judgeFile(outcome.summary, outcome.exit, this.options.skipsFail);
    this.running.delete(name);
    this.finishedCount += 1;
    this.totals = addCounts(this.totals, verdict);
    const problems = verdict.problems.length > 0 ? ` (${verdict.problems.join('; ')})` : '';
    this.status.printLine(`${label} └ ${formatCounts(verdict)} in ${outcome.seconds.toFixed(1)} s${problems}`);
    this.showStatus();
    const failed = verdict.failed > 0 || verdict.problems.length > 0;
    return { name, ...verdict, seconds: outcome.seconds, excerpt: failed ? excerpt.lines() : [] };
  }

  private label(name: string): string {
    if (name.length <= this.labelChars) return name.padEnd(this.labelChars);
    return `…${name.slice(name.length - this.labelChars + 1)}`;
  }

  private showStatus(): void {
    const now = performance.now();
    const running = [...this.running].map(([name, startedAt]) => `${name} ${Math.round((now - startedAt) / 1000)}s`);
    this.status.update(
      `[${this.finishedCount}/${this.files.length}] ${formatCounts(this.totals)} | running: ${running.join(', ') || '—'}`,
    );
  }
}

function report(
  checkRows: readonly ReportRow[],
  fileRows: readonly ReportRow[],
  fileCount: number,
  startedAt: number,
  status: StatusLine,
): number {
  const rows = [...checkRows, ...fileRows];
  const totals = rows.reduce<TestCounts>((sum, row) => addCounts(sum, row), noTests);
  const fileTotals = fileRows.reduce<TestCounts>((sum, row) => addCounts(sum, row), noTests);
  status.close();
  const lines = ['', formatTable(rows, totals, (performance.now() - startedAt) / 1000), ...formatFailures(rows)];
  if (fileCount === 0) lines.push('nothing ran: no test file matches');
  else if (fileTotals.passed + fileTotals.failed === 0) lines.push('nothing ran: every test was skipped');
  lines.push(formatCounts(totals));
  process.stdout.write(`${lines.join('\n')}\n`);
  const nothingRan = fileCount === 0 || fileTotals.passed + fileTotals.failed === 0;
  return totals.failed > 0 || nothingRan ? 1 : 0;
}

function stopOnInterrupt(status: StatusLine): void {
  const stop = (signal: NodeJS.Signals): void => {
    killRunningChildren('SIGTERM');
    status.close();
    process.stdout.write(`\ninterrupted by ${signal}; test processes were sent SIGTERM\n`);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(): Promise<number> {
  const startedAt = performance.now();
  const options = parseOptions(process.argv);
  const files = filterTestFiles(findTestFiles(repoRoot), options.filters);
  const status = new StatusLine(process.stdout, process.stdout.isTTY === true);
  stopOnInterrupt(status);
  status.printLine(
    `${files.length} test file(s), ${options.jobs} at a time${options.filters.length > 0 ? `, matching ${options.filters.join(' | ')}` : ''}`,
  );
  if (options.skipsFail)
    status.printLine('CI as root: a skipped test counts as failed (FLOTILLA_TEST_ALLOW_SKIPS=1 to allow)');
  const checkRows: ReportRow[] = [];
  if (options.typecheck) checkRows.push(await runTreeCheck(typecheck, repoRoot, options.timeoutSeconds, status));
  if (options.lint) checkRows.push(await runTreeCheck(lint, repoRoot, options.timeoutSeconds, status));
  const fileRows = await new TestFilePool(files, options, status).runAll();
  return report(checkRows, fileRows, files.length, startedAt, status);
}

process.exitCode = await main();
