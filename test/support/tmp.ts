// Fresh temporary folders for tests, removed when the test process exits, so a run leaves
// nothing behind in os.tmpdir(). Set FLOTILLA_KEEP_TMP=1 to keep them for a post-mortem
// (their paths are printed then).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const createdFolders: string[] = [];
let removalRegistered = false;

export function makeTempDir(prefix = 'flotilla-test-'): string {
  if (prefix.includes('/') || prefix.includes(path.sep))
    throw new Error(`makeTempDir: prefix must be a plain name, got "${prefix}"`);
  const folder = mkdtempSync(path.join(os.tmpdir(), prefix));
  createdFolders.push(folder);
  if (!removalRegistered) {
    removalRegistered = true;
    // 'exit' handlers must be synchronous, hence rmSync.
    process.on('exit', removeTempDirs);
  }
  return folder;
}

function removeTempDirs(): void {
  const keep = process.env.FLOTILLA_KEEP_TMP === '1';
  for (const folder of createdFolders.splice(0)) {
    if (keep) process.stderr.write(`kept temporary folder ${folder}\n`);
    else rmSync(folder, { recursive: true, force: true });
  }
}
