// Error codes are documented, both ways: every code in the tables is in docs/errors.md with its
// status, and the doc names no code that does not exist (fastify's errors.test.js model). The
// master's codes are documented with the status src/http answers them with; the agent socket's
// codes (no status: they travel in WebSocket frames) with their meaning.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentApiErrors } from '../../src/agent/errors.ts';
import { jobsErrors } from '../../src/frameworks/jobs/errors.ts';
import { httpErrors } from '../../src/http/errors.ts';
import { masterErrorAnswers } from '../../src/http/master-errors.ts';
import { type MasterErrorCode, masterErrors } from '../../src/master/errors.ts';
import { agentProtocolErrors } from '../../src/protocol/agent.ts';
import { rejectionCodes } from '../../src/state-machine/errors.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Map<string, number>();
for (const match of doc.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \|/gm)) documented.set(match[1]!, Number(match[2]));

const masterStatuses = Object.fromEntries(
  (Object.keys(masterErrors) as MasterErrorCode[]).map((code) => [
    code,
    { status: httpErrors[masterErrorAnswers[code].kind].status },
  ]),
);

const tables: Record<string, Record<string, { status: number }>> = {
  http: httpErrors,
  master: masterStatuses,
  'state machine': rejectionCodes,
  jobs: jobsErrors,
  agent: agentApiErrors,
};

test('every code is documented with its status', () => {
  for (const [name, table] of Object.entries(tables)) {
    for (const [code, { status }] of Object.entries(table)) {
      assert.is(documented.get(code), status, `${name} code ${code} (status ${status}) in docs/errors.md`);
    }
  }
});

test('the doc names no code that does not exist', () => {
  const known = new Set([
    ...Object.keys(httpErrors),
    ...Object.keys(masterErrors),
    ...Object.keys(rejectionCodes),
    ...Object.keys(jobsErrors),
    ...Object.keys(agentApiErrors),
  ]);
  assert.equal(
    [...documented.keys()].filter((code) => !known.has(code)),
    [],
  );
});

test("the agent socket's error codes: the registry and the doc's table agree both ways, with their meanings", () => {
  const section = doc.split('\n## Agent socket ')[1]?.split('\n## ')[0];
  assert.ok(section, 'docs/errors.md has an "Agent socket" section');
  const rows = new Map([...section.matchAll(/^\| ([A-Z_]+) \| ([^|]+) \|$/gm)].map((match) => [match[1]!, match[2]!]));
  assert.equal([...rows.keys()].sort(), Object.keys(agentProtocolErrors).sort());
  for (const [code, { meaning }] of Object.entries(agentProtocolErrors)) assert.is(rows.get(code), meaning, code);
});

test('statuses are client or server errors, and 307 only for the leader redirect', () => {
  for (const [code, { status }] of Object.entries(httpErrors)) {
    assert.ok(status >= 400 || (code === 'NOT_LEADER' && status === 307), `${code}: ${status}`);
  }
});

test.run();
