// The zone registry's probe loads Node's fetch (undici, loaded lazily on its first use) when it is
// built at the master's start, not in the first probe round: that round runs synchronously inside
// master-zones' start, when a new leader is taking its agents' sockets after a failover. Checked in
// a fresh process (this one may have loaded it already), by the modules Node has loaded.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const probeModule = fileURLToPath(new URL('../../src/master/zones/health-probe.ts', import.meta.url));

test("building the master's health probe loads Node's fetch before any probe round", () => {
  const program = [
    `const { masterHealthProbe } = await import(${JSON.stringify(probeModule)});`,
    "const loaded = () => process.moduleLoadList.some((name) => name.includes('undici'));",
    'const before = loaded();',
    'masterHealthProbe(null);',
    'console.log(JSON.stringify({ before, after: loaded() }));',
  ].join('\n');
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.is(result.status, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout.trim()), { before: false, after: true });
});

test.run();
