// On a follower the scheduler API redirects every call to the leader, as Mesos does: 307 with
// `Location: //<leader host:port>/api/v1/scheduler` (three real master processes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { ProcessCluster } from '../raft/support/process-cluster.ts';
import { frameworkInfo, schedulerPost } from './support/scheduler-client.ts';

test('a follower answers SUBSCRIBE and other calls with 307 to the leader', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('scheduler-masters-'), 3, [], 'master');
  try {
    const leader = await cluster.waitForLeader();
    const follower = cluster.replicas.find((replica) => replica.id !== leader.id)!;
    await waitFor(async () => (await cluster.status(follower))?.leader === leader.address, {
      timeoutMs: 20_000,
      what: `${follower.id} to know the leader`,
    });
    const subscribe = await schedulerPost(`http://${follower.address}`, {
      type: 'SUBSCRIBE',
      subscribe: { framework_info: frameworkInfo() },
    });
    assert.is(subscribe.status, 307);
    assert.is(subscribe.headers.get('location'), `//${leader.address}/api/v1/scheduler`);
    const revive = await schedulerPost(
      `http://${follower.address}`,
      { type: 'REVIVE', framework_id: { value: 'f' } },
      { 'mesos-stream-id': 'x' },
    );
    assert.is(revive.status, 307);
  } finally {
    await cluster.stop();
  }
});

test.run();
