// Data-driven scenario tests of the Raft core, in the manner of etcd-raft's interaction_test.go:
// each test/raft/testdata/*.txt is a script of commands and the output they must produce (see
// interaction/script.ts for the format and interaction/commands.ts for the commands).
//
//   npx tsx test/raft/interaction.test.ts                  run every script
//   REWRITE=1 npx tsx test/raft/interaction.test.ts        rewrite the expected sections in place
//   INTERACTION_FILTER=snapshot npx tsx test/raft/…        only scripts whose name contains it
//   INTERACTION_PENDING=1 npx tsx test/raft/…              run testdata/pending/ instead: scripts
//                                                          that show a known bug (`# BUG:`) and
//                                                          fail until it is fixed; never rewritten
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runScriptFile } from './interaction/run.ts';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));
const pending = process.env.INTERACTION_PENDING === '1';
const directory = pending ? join(testdata, 'pending') : testdata;
// A pending script holds the correct expectation of a behaviour the core gets wrong; rewriting
// it would write the bug in.
const rewrite = process.env.REWRITE === '1' && !pending;
const filter = process.env.INTERACTION_FILTER ?? '';

const scripts = readdirSync(directory, { withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith('.txt') && entry.name.includes(filter))
  .map((entry) => entry.name)
  .sort();

test('there are scripts to run', () => {
  assert.ok(pending || filter !== '' || scripts.length > 0, `no scripts in ${directory}`);
});

for (const name of scripts) {
  test(name, () => {
    const result = runScriptFile(join(directory, name), { rewrite });
    if (result.rewritten) console.log(`rewrote ${name}`);
    if (result.mismatches.length > 0) {
      const error = new Error(
        `${result.mismatches.length} block(s) differ (REWRITE=1 to accept):\n\n${result.mismatches.join('\n\n')}`,
      );
      // The message names file and line of every block; a stack would only repeat it.
      error.stack = error.name;
      throw error;
    }
  });
}

test.run();
