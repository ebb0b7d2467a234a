// The zone registry's probe loads Node's fetch (undici, loaded lazily on its first use) when it is
// built at the master's start, not in the first probe round: that round runs synchronously inside
// master-zones' start, when a new leader is taking its agents' sockets after a failover. Checked in
// a fresh process (this one may have loaded it already), by the modules Node has loaded.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSingleMaster } from '../support/master.ts';
import { waitFor } from '../support/wait.ts';

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

// The first fetch of a process is slow (undici compiles its request path on first use), so a master
// probes itself once at its start: the first probe round of its first leadership, which runs as the
// clients' first writes after a failover arrive, is then not that first fetch. A single master has
// no other member to probe, so any GET /health it answered before anyone asked is its warm-up.
test('a master probes its own GET /health once at its start (the first fetch is paid at boot)', async () => {
  const cluster = await startSingleMaster();
  try {
    const healthRequests = async (): Promise<number> => {
      const text = await cluster.master.facade.metricsText();
      const line = text
        .split('\n')
        .find(
          (row) =>
            row.startsWith('flotilla_http_request_duration_seconds_count{') &&
            row.includes('route="/health"') &&
            row.includes('status="200"'),
        );
      return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    await waitFor(async () => (await healthRequests()) >= 1, {
      timeoutMs: 30_000,
      what: "the master's own GET /health",
    });
    assert.is(await healthRequests(), 1);
  } finally {
    await cluster.stop();
  }
});

test.run();
