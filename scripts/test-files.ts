// Which test files exist, and how long each may run.
import { openSync, readSync, closeSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';

export const testFileSuffix = '.test.ts';
// Folders under test/ that hold data or helper programs for tests, never tests themselves.
const skippedFolderNames = new Set(['fixtures', 'node_modules']);
const maxFolderDepth = 16;
// A file may ask for a longer (or shorter) timeout than the default with a comment such as
//   // flotilla-test-timeout-seconds: 900
// within its first bytes; jepsen-lite runs need more than a unit test.
const timeoutDirectivePattern = /^\s*\/\/\s*flotilla-test-timeout-seconds:\s*(\d+)\s*$/m;
const timeoutDirectiveSearchBytes = 4096;

/** Test files under `testRoot`, as paths relative to `repoRoot` with `/`, sorted by code unit. */
export function findTestFiles(repoRoot: string, testRoot = 'test'): string[] {
  const found: string[] = [];
  collectTestFiles(path.join(repoRoot, testRoot), testRoot, 0, found);
  return found.sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));
}

function collectTestFiles(absoluteFolder: string, relativeFolder: string, depth: number, found: string[]): void {
  if (depth > maxFolderDepth)
    throw new Error(`test files: ${relativeFolder} is nested deeper than ${maxFolderDepth} folders`);
  let entries: Dirent[];
  try {
    entries = readdirSync(absoluteFolder, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const relativePath = `${relativeFolder}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!skippedFolderNames.has(entry.name)) {
        collectTestFiles(path.join(absoluteFolder, entry.name), relativePath, depth + 1, found);
      }
    } else if (entry.isFile() && entry.name.endsWith(testFileSuffix)) {
      found.push(relativePath);
    }
  }
}

/** Keeps the files whose path contains any of the filters; all of them when there is none. */
export function filterTestFiles(files: readonly string[], filters: readonly string[]): string[] {
  if (filters.length === 0) return [...files];
  return files.filter((file) => filters.some((filter) => file.includes(filter)));
}

/** The timeout a file asks for with its directive comment, or undefined. */
export function readTimeoutDirective(absolutePath: string): number | undefined {
  const buffer = Buffer.alloc(timeoutDirectiveSearchBytes);
  const descriptor = openSync(absolutePath, 'r');
  let bytesRead: number;
  try {
    bytesRead = readSync(descriptor, buffer, 0, buffer.length, 0);
  } finally {
    closeSync(descriptor);
  }
  const match = timeoutDirectivePattern.exec(buffer.subarray(0, bytesRead).toString('utf8'));
  if (!match) return undefined;
  const seconds = Number(match[1]);
  if (seconds <= 0) throw new Error(`${absolutePath}: flotilla-test-timeout-seconds must be positive`);
  return seconds;
}

/** `test/raft/log.test.ts` → `raft/log`: short enough to prefix every output line. */
export function shortTestName(file: string): string {
  const withoutFolder = file.startsWith('test/') ? file.slice('test/'.length) : file;
  return withoutFolder.endsWith(testFileSuffix) ? withoutFolder.slice(0, -testFileSuffix.length) : withoutFolder;
}
