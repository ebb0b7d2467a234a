// What a failing test adds to its message so that a CI log alone explains the failure: the test
// runner repeats a failure's first lines next to the closing count (scripts/test-excerpt.ts).

/** The last `count` non-empty lines of a process's output. */
export function lastLines(text: string, count: number): string {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .slice(-count)
    .join('\n');
}

/** Runs a test body; a failure's message ends with `describe()`, evaluated only on failure. */
export async function withDiagnostics(describe: () => string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    if (error instanceof Error) error.message = `${error.message}\n--- diagnostics:\n${describe()}`;
    throw error;
  }
}
