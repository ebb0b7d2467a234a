// flotilla-test-timeout-seconds: 240
// A real run: register workload with SIGSTOP/SIGCONT, 15 s, three masters, through the
// userspace fault proxy on every machine (so CI, which runs the other runs in namespaces,
// exercises the proxy path too).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { shortRun } from './support/short-run.ts';

const run = suite('jepsen-lite register × pause');

run('register × pause, 15 s, through the fault proxy', async () => {
  const { report, keptAt, seed } = await shortRun({
    workload: 'register',
    nemesis: 'pause',
    timeSeconds: 15,
    network: 'proxy',
  });
  assert.is(
    report.valid,
    true,
    `seed ${seed}: ${JSON.stringify(report.anomalies.slice(0, 2))}; history kept at ${keptAt}`,
  );
  assert.ok(
    report.faults.some((fault) => fault.kind === 'pause' && fault.applied),
    'a master was paused',
  );
});

run.run();
