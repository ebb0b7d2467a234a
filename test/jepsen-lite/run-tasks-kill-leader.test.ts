// flotilla-test-timeout-seconds: 240
// A real run: tasks workload (a framework launching tasks on two real agents), SIGKILL the
// leader, 20 s, three masters — in network namespaces when this machine allows (root, CI),
// else through the userspace proxy. The checker replays every master's log with invariants on.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { networkNamespacesUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { shortRun } from './support/short-run.ts';

const run = suite('jepsen-lite tasks × kill-leader');
const noNamespaces = networkNamespacesUnavailableReason();

async function check(network: 'namespace' | 'proxy'): Promise<void> {
  const { report, keptAt, seed } = await shortRun({
    workload: 'tasks',
    nemesis: 'kill-leader',
    timeSeconds: 20,
    network,
  });
  assert.is(
    report.valid,
    true,
    `seed ${seed}: ${JSON.stringify(report.anomalies.slice(0, 2))}; history kept at ${keptAt}`,
  );
  const kill = report.faults.find((fault) => fault.kind === 'kill-leader' && fault.applied);
  assert.ok(kill !== undefined, 'a leader was killed');
  // Not vacuous: launches were acknowledged, and some of them after the kill (the cluster came
  // back). How many fit in 20 s depends on the machine's load (5 at load 20 on 2 cores, 55 idle),
  // so no count beyond a few is asserted.
  assert.ok(kill.firstOkWriteAfterStartMs !== null, `seed ${seed}: no launch was acknowledged after the leader died`);
  const summary = report.checker as {
    acknowledged: number;
    ran: number;
    mastersCompared: number;
    mastersReplayed: number;
  };
  assert.ok(summary.acknowledged >= 3, `only ${summary.acknowledged} launches were acknowledged`);
  assert.is(summary.mastersCompared, 3);
  assert.is(summary.mastersReplayed, 1);
}

testUnless(run, noNamespaces, 'tasks × kill-leader, 20 s, in network namespaces', () => check('namespace'));
if (noNamespaces !== undefined) run('tasks × kill-leader, 20 s, through the fault proxy', () => check('proxy'));

run.run();
