// The CLI's failure codes are documented, both ways, with their exit statuses (the model of
// test/http/errors.test.ts), and every code maps to a non-zero exit status.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cliErrorCodes } from '../../src/cli/client/errors.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const sectionStart = doc.indexOf('## The `flotilla` command');
const nextSection = doc.indexOf('\n## ', sectionStart + 1);
// The CLI's section only: up to the next heading, whatever follows it.
const section = doc.slice(sectionStart, nextSection === -1 ? undefined : nextSection);
const documented = new Map<string, number>();
for (const match of section.matchAll(/^\| ([A-Z_]+) \| (\d{1,3}) \|/gm)) documented.set(match[1]!, Number(match[2]));

test('every CLI code is documented with its exit status', () => {
  assert.ok(section.length > 0, 'docs/errors.md has a section for the flotilla command');
  for (const [code, { exitStatus }] of Object.entries(cliErrorCodes))
    assert.is(documented.get(code), exitStatus, `${code} (exit ${exitStatus}) in docs/errors.md`);
});

test('the CLI section names no code that does not exist', () => {
  assert.equal(
    [...documented.keys()].filter((code) => !Object.hasOwn(cliErrorCodes, code)),
    [],
  );
});

test('every failure exits non-zero, and usage errors with 2, as those of flotilla run do', () => {
  for (const [code, { exitStatus }] of Object.entries(cliErrorCodes)) assert.ok(exitStatus > 0, code);
  assert.is(cliErrorCodes.USAGE.exitStatus, 2);
});

test.run();
