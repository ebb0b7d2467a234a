// flotilla-test-timeout-seconds: 240
// A real run: set workload under partitions, 20 s, three masters — in network namespaces
// (iptables) when this machine allows, else through the userspace proxy. No acknowledged add
// may be lost.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { networkNamespacesUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { shortRun } from './support/short-run.ts';

const run = suite('jepsen-lite set × partition');
const noNamespaces = networkNamespacesUnavailableReason();

async function check(network: 'namespace' | 'proxy'): Promise<void> {
  const { report, keptAt, seed } = await shortRun({ workload: 'set', nemesis: 'partition', timeSeconds: 20, network });
  assert.is(
    report.valid,
    true,
    `seed ${seed}: ${JSON.stringify(report.anomalies.slice(0, 2))}; history kept at ${keptAt}`,
  );
  assert.is(report.checker.lost, 0);
  assert.ok(Number(report.checker.acknowledged) > 50, `only ${String(report.checker.acknowledged)} adds acknowledged`);
  assert.ok(
    report.faults.some((fault) => fault.kind === 'partition' && fault.applied),
    'a partition happened',
  );
}

testUnless(run, noNamespaces, 'set × partition, 20 s, in network namespaces', () => check('namespace'));
if (noNamespaces !== undefined) run('set × partition, 20 s, through the fault proxy', () => check('proxy'));

run.run();
