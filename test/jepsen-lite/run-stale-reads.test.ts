// flotilla-test-timeout-seconds: 240
// The harness must be able to fail. Reads with ?stale=true answer from a master's own state,
// which an isolated follower keeps serving: with partitions, the register checker must find
// the run not linearizable — end to end, on real masters, through the proxy. If this passes
// as valid, the valid verdicts of the other runs mean nothing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { shortRun } from './support/short-run.ts';

const run = suite('jepsen-lite catches stale reads');

run('register × partition with ?stale=true reads is found not linearizable', async () => {
  // Seed 8 begins with an isolated node: some master surely serves stale reads for seconds.
  const { report, seed } = await shortRun({
    workload: 'register',
    nemesis: 'partition',
    timeSeconds: 15,
    network: 'proxy',
    staleReads: true,
    seed: 8,
  });
  assert.is(report.valid, false, `seed ${seed}: stale reads under partitions went unnoticed`);
  assert.ok(report.anomalies.some((anomaly) => anomaly.type === 'non-linearizable'));
});

run.run();
