// flotilla-test-timeout-seconds: 240
// A real run: register workload, SIGKILL the leader, 20 s, three masters — in network
// namespaces when this machine allows (root, CI), else through the userspace proxy.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { networkNamespacesUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { shortRun } from './support/short-run.ts';

const run = suite('jepsen-lite register × kill-leader');
const noNamespaces = networkNamespacesUnavailableReason();

async function check(network: 'namespace' | 'proxy'): Promise<void> {
  const { report, keptAt, seed } = await shortRun({
    workload: 'register',
    nemesis: 'kill-leader',
    timeSeconds: 20,
    network,
  });
  assert.is(
    report.valid,
    true,
    `seed ${seed}: ${JSON.stringify(report.anomalies.slice(0, 2))}; history kept at ${keptAt}`,
  );
  assert.ok(
    report.faults.some((fault) => fault.kind === 'kill-leader' && fault.applied),
    'a leader was killed',
  );
  assert.ok(report.ok > 100, `only ${report.ok} operations succeeded`);
}

testUnless(run, noNamespaces, 'register × kill-leader, 20 s, in network namespaces', () => check('namespace'));
if (noNamespaces !== undefined) run('register × kill-leader, 20 s, through the fault proxy', () => check('proxy'));

run.run();
