// Tests that cannot run on this machine (no Docker engine, not root for network namespaces)
// say so instead of passing silently: each prints one line
//   skipped: <name>: <why>
// which scripts/test.ts counts as one skipped test. Nothing is registered with uvu, so uvu
// neither runs nor counts it, and the runner counts it exactly once.
import type { Callback, Test } from 'uvu';
import { formatSkipLine } from '../../scripts/test-summary.ts';

/**
 * Skips the test `name` with a reason. The suite is taken so that a skip reads like the
 * `suite(name, body)` call it stands for; nothing is registered on it, because uvu would
 * count a registered placeholder as passed.
 */
export function skipTest<Context>(suite: Test<Context>, name: string, why: string): void {
  void suite;
  if (why.trim() === '') throw new Error(`skipTest: "${name}" needs a reason`);
  // Printed now, while the module loads: uvu's own output starts later and writes partial
  // lines, and the runner only counts a skip line that starts its own line.
  process.stdout.write(`${formatSkipLine(name, why)}\n`);
}

/** Registers the test when `whyNot` is undefined; otherwise skips it with that reason. */
export function testUnless<Context>(
  suite: Test<Context>,
  whyNot: string | undefined,
  name: string,
  body: Callback<Context>,
): void {
  if (whyNot === undefined) suite(name, body);
  else skipTest(suite, name, whyNot);
}
