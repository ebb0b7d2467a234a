// A small line diff (longest common subsequence) for mismatch messages. Outputs are tens of
// lines, so the quadratic table is fine; inputs beyond the bound are shown whole instead.
const maxCells = 1_000_000;

export function unifiedDiff(expected: readonly string[], actual: readonly string[]): string[] {
  if (expected.length * actual.length > maxCells) {
    return [...expected.map((line) => `-${line}`), ...actual.map((line) => `+${line}`)];
  }
  // common[i][j]: length of the LCS of expected[i..] and actual[j..].
  const common: number[][] = Array.from({ length: expected.length + 1 }, () =>
    new Array<number>(actual.length + 1).fill(0),
  );
  for (let i = expected.length - 1; i >= 0; i--) {
    for (let j = actual.length - 1; j >= 0; j--) {
      common[i]![j] =
        expected[i] === actual[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < expected.length || j < actual.length) {
    if (i < expected.length && j < actual.length && expected[i] === actual[j]) {
      lines.push(` ${expected[i]}`);
      i++;
      j++;
    } else if (i < expected.length && (j === actual.length || common[i + 1]![j]! >= common[i]![j + 1]!)) {
      lines.push(`-${expected[i]}`);
      i++;
    } else {
      lines.push(`+${actual[j]}`);
      j++;
    }
  }
  return lines;
}
