// What a test file's output says about its tests, and what the file's result is.
//
// Three kinds of line are counted (all matched after ANSI colours are stripped):
//   1. uvu's closing block, printed once per file by uvu's `exec()`:
//        Total:     5      (tests registered, skipped ones excluded)
//        Passed:    4
//        Skipped:   1      (tests registered with `test.skip`)
//        Duration:  3.21ms
//      so failed = Total - Passed.
//   2. `skipped: <name>: <why>` alone on a line: a test that cannot run on this machine
//      (test/support/skip.ts prints it). Each such line is one skipped test.
//   3. `flotilla-test: N passed, N failed, N skipped` at the end of a line: the counts of a
//      test program that is not uvu (the Raft simulator prints one). Added as they are.
// Pure functions only, so test/support/runner.test.ts can check them without processes.

export interface TestCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

export interface OutputSummary extends TestCounts {
  /** True when at least one counted line (of any kind) was seen. */
  readonly reported: boolean;
  /** The `<name>: <why>` part of each skip line, at most `maxSkipReasonsKept` of them. */
  readonly skipReasons: readonly string[];
}

export interface FileExit {
  /** Null when the process was ended by a signal, or could not be started (signal null too). */
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly timeoutSeconds: number;
}

export interface FileVerdict extends TestCounts {
  /** Why the file itself failed, beyond its counted tests; empty when it did not. */
  readonly problems: readonly string[];
}

export const noTests: TestCounts = { passed: 0, failed: 0, skipped: 0 };
export const skipLinePrefix = 'skipped: ';
export const countedLinePrefix = 'flotilla-test: ';
const maxSkipReasonsKept = 100;

// CSI sequences (colours, cursor moves) and OSC sequences (titles, links).
// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI sequences are made of ESC and BEL; matching them is the point.
const ansiPattern = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
const uvuTotalPattern = /^Total:\s+(\d+)$/;
const uvuPassedPattern = /^Passed:\s+(\d+)$/;
const uvuSkippedPattern = /^Skipped:\s+(\d+)$/;
const uvuDurationPattern = /^Duration:\s+\S+$/;
const skipLinePattern = /^skipped: (\S.*)$/;
// A counted line may end a line that uvu's progress output started (printed from inside a
// uvu test, it follows the suite name and its dots); a skip line must start its line, since
// "skipped: " is a phrase that log messages use too.
const countedLinePattern = /(?:^|\s)flotilla-test: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/;

export function stripAnsi(text: string): string {
  return text.replace(ansiPattern, '');
}

export function formatSkipLine(name: string, why: string): string {
  return `${skipLinePrefix}${oneLine(name)}: ${oneLine(why)}`;
}

/** `N passed, N failed, N skipped`: the runner's closing line, and the tail of a counted line. */
export function formatCounts(counts: TestCounts): string {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}

export function formatCountedLine(counts: TestCounts): string {
  return `${countedLinePrefix}${formatCounts(counts)}`;
}

export function addCounts(left: TestCounts, right: TestCounts): TestCounts {
  return {
    passed: left.passed + right.passed,
    failed: left.failed + right.failed,
    skipped: left.skipped + right.skipped,
  };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * Counts the lines of one output stream as they arrive, so a test that prints megabytes is
 * never held in memory. Feed stdout and stderr to separate parsers: interleaving the two
 * could split uvu's block, which must be four consecutive lines.
 */
export class TestOutputParser {
  private counts: TestCounts = noTests;
  private reported = false;
  private readonly skipReasons: string[] = [];
  // The uvu block read so far: 'total' after a Total line, 'passed' after Passed, and so on.
  private uvuStage: 'none' | 'total' | 'passed' | 'skipped' = 'none';
  private uvuTotal = 0;
  private uvuPassed = 0;
  private uvuSkipped = 0;

  feedLine(rawLine: string): void {
    const line = stripAnsi(rawLine).trim();
    if (this.feedUvuLine(line)) return;
    const skip = skipLinePattern.exec(line);
    if (skip) {
      this.add({ passed: 0, failed: 0, skipped: 1 });
      if (this.skipReasons.length < maxSkipReasonsKept) this.skipReasons.push(skip[1] ?? '');
      return;
    }
    const counted = countedLinePattern.exec(line);
    if (counted) {
      this.add({ passed: Number(counted[1]), failed: Number(counted[2]), skipped: Number(counted[3] ?? 0) });
    }
  }

  result(): OutputSummary {
    return { ...this.counts, reported: this.reported, skipReasons: [...this.skipReasons] };
  }

  /** Returns true when the line belonged to uvu's closing block. */
  private feedUvuLine(line: string): boolean {
    const total = uvuTotalPattern.exec(line);
    if (total) {
      this.uvuStage = 'total';
      this.uvuTotal = Number(total[1]);
      return true;
    }
    const passed = this.uvuStage === 'total' ? uvuPassedPattern.exec(line) : null;
    const skipped = this.uvuStage === 'passed' ? uvuSkippedPattern.exec(line) : null;
    const duration = this.uvuStage === 'skipped' && uvuDurationPattern.test(line);
    if (passed) {
      this.uvuStage = 'passed';
      this.uvuPassed = Number(passed[1]);
    } else if (skipped) {
      this.uvuStage = 'skipped';
      this.uvuSkipped = Number(skipped[1]);
    } else if (duration) {
      this.uvuStage = 'none';
      const failed = Math.max(0, this.uvuTotal - this.uvuPassed);
      this.add({ passed: this.uvuPassed, failed, skipped: this.uvuSkipped });
    } else {
      // The block must be contiguous; anything else in between means it was not uvu's.
      this.uvuStage = 'none';
      return false;
    }
    return true;
  }

  private add(counts: TestCounts): void {
    this.counts = addCounts(this.counts, counts);
    this.reported = true;
  }
}

/** Parses a whole output at once; the runner streams instead, tests use this. */
export function parseTestOutput(text: string): OutputSummary {
  const parser = new TestOutputParser();
  for (const line of text.split(/\r?\n/)) parser.feedLine(line);
  return parser.result();
}

export function mergeSummaries(left: OutputSummary, right: OutputSummary): OutputSummary {
  return {
    ...addCounts(left, right),
    reported: left.reported || right.reported,
    skipReasons: [...left.skipReasons, ...right.skipReasons].slice(0, maxSkipReasonsKept),
  };
}

/**
 * A file's result: its counted tests, plus one failure for the file itself when it timed out,
 * exited non-zero or was killed without reporting a failure, or reported nothing at all
 * (a test file that runs no test is a broken test file, not a pass).
 */
export function judgeFile(summary: OutputSummary, exit: FileExit, skipsFail = false): FileVerdict {
  const problems: string[] = [];
  if (exit.timedOut) problems.push(`timed out after ${exit.timeoutSeconds} s`);
  else if (exit.signal !== null) problems.push(`killed by ${exit.signal}`);
  else if (exit.code === null) problems.push('could not be started');
  else if (exit.code !== 0) problems.push(`exited with code ${exit.code}`);
  if (!summary.reported) problems.push('printed no test summary');
  const fileFailed = problems.length > 0 && summary.failed === 0;
  const failedSkips = skipsFail ? summary.skipped : 0;
  if (failedSkips > 0) problems.push(`skipped where every capability must be there: ${summary.skipReasons.join('; ')}`);
  return {
    passed: summary.passed,
    failed: summary.failed + (fileFailed ? 1 : 0) + failedSkips,
    skipped: summary.skipped - failedSkips,
    problems,
  };
}

/**
 * CI (CI=true, as root) provisions every capability a test probes for: Docker with the test
 * image, network namespaces, the registry, Chromium, systemd-analyze, docker-compose, cgroups.
 * There a skip means the set-up broke, so it counts as a failure rather than passing quietly.
 * FLOTILLA_TEST_ALLOW_SKIPS=1 lets a developer imitate CI on a machine that lacks some.
 */
export function skipsFailHere(environment: NodeJS.ProcessEnv, userId: number | undefined): boolean {
  if (environment.FLOTILLA_TEST_ALLOW_SKIPS === '1') return false;
  return environment.CI === 'true' && userId === 0;
}
