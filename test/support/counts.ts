// A test program that is not a uvu file (the Raft simulator, a jepsen-lite run) reports what
// it checked with one line that scripts/test.ts adds to its totals:
//   flotilla-test: N passed, N failed, N skipped
// It must still exit non-zero when something failed: the exit code is what a person running
// the file by hand sees.
import { formatCountedLine, type TestCounts } from '../../scripts/test-summary.ts';

export type { TestCounts };

export function printTestCounts(counts: TestCounts): void {
  for (const [name, value] of Object.entries(counts)) {
    if (!Number.isInteger(value) || value < 0)
      throw new Error(`printTestCounts: ${name} must be a whole number, got ${String(value)}`);
  }
  process.stdout.write(`${formatCountedLine(counts)}\n`);
}
