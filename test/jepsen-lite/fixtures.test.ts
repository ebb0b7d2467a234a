// Regression fixtures: histories from real runs (fixtures/*.jsonl) with the verdict each must
// keep (fixtures/manifest.json). An anomaly found in Flotilla is added here as it was found,
// so the checker that caught it keeps catching it.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkHistoryFile } from './check.ts';

interface Fixture {
  file: string;
  workload: string;
  valid: boolean | 'unknown';
  anomalyTypes: string[];
  why: string;
}

const folder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const manifest = JSON.parse(readFileSync(path.join(folder, 'manifest.json'), 'utf8')) as Fixture[];
const fixtures = suite('regression fixtures');

for (const fixture of manifest) {
  fixtures(`${fixture.file} stays ${String(fixture.valid)}`, () => {
    const result = checkHistoryFile(fixture.workload, path.join(folder, fixture.file));
    assert.is(result.valid, fixture.valid, fixture.why);
    assert.equal(
      [...new Set(result.anomalies.map((anomaly) => anomaly.type))].sort(),
      [...fixture.anomalyTypes].sort(),
    );
  });
}

fixtures.run();
