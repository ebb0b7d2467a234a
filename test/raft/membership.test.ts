// Membership changes with real processes: a fresh replica joins as a learner, catches up, is
// promoted, and a voter is removed, while the cluster keeps committing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import {
  freePort,
  ProcessCluster,
  ProposingClient,
  type ReplicaProcess,
  startTimeoutMs,
} from './support/process-cluster.ts';

interface Membership {
  voters: string[];
  learners: string[];
}

async function change(leader: ReplicaProcess, body: object): Promise<{ status: number; body: { code?: string } }> {
  const response = await fetch(`http://${leader.address}/membership`, { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as { code?: string } };
}

async function membershipOf(replica: ReplicaProcess): Promise<Membership | null> {
  const response = await fetch(`http://${replica.address}/status`).catch(() => null);
  return response ? ((await response.json()) as { membership: Membership }).membership : null;
}

test('a new replica joins as a learner, is promoted, and a voter is removed', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('raft-members-'), 3);
  try {
    const client = new ProposingClient(cluster, 'members');
    for (let count = 0; count < 50; count++) assert.ok(await client.propose(`before-${count}`));
    const joiner: ReplicaProcess = { id: 'm4', address: `127.0.0.1:${await freePort()}`, child: null, output: '' };
    cluster.replicas.push(joiner);
    cluster.launch(joiner, ['--join']);
    let leader = await cluster.waitForLeader();

    // Promotion before it is a member at all is refused.
    assert.is((await change(leader, { type: 'promote', node: 'm4' })).status, 409);
    const added = await change(leader, { type: 'add-learner', node: 'm4', address: joiner.address });
    assert.is(added.status, 200, JSON.stringify(added.body));
    await waitFor(
      async () =>
        ((await cluster.status(joiner))?.applied ?? 0) >= ((await cluster.status(leader))?.commit ?? Infinity),
      {
        // m4 boots (tsx) before it can catch up: as long as any replica's first start may take.
        timeoutMs: startTimeoutMs,
        what: 'the learner m4 to catch up',
      },
    );
    const promoted = await waitFor(
      async () => {
        const result = await change(leader, { type: 'promote', node: 'm4' });
        return result.status === 200 ? result : null;
      },
      { timeoutMs: 10_000, what: 'm4 to be promoted' },
    );
    assert.is(promoted.status, 200);
    const membership = await membershipOf(leader);
    assert.equal(membership?.voters, ['m1', 'm2', 'm3', 'm4']);

    // Remove the current leader: it steps down once the removal commits; the rest elect one.
    const removed = await change(leader, { type: 'remove', node: leader.id });
    assert.is(removed.status, 200, JSON.stringify(removed.body));
    const formerLeader = leader;
    leader = await cluster.waitForLeader(15_000, [formerLeader.id]);
    await cluster.kill(formerLeader);
    for (let count = 0; count < 20; count++) assert.ok(await client.propose(`after-${count}`));
    const final = await membershipOf(leader);
    assert.ok(final !== null && !final.voters.includes(formerLeader.id), `${formerLeader.id} is no longer a voter`);
    const response = await fetch(`http://${joiner.address}/values`);
    const values = ((await response.json()) as { values: string[] }).values;
    assert.is(values.length, 70);
    assert.is(values[0], 'before-0');
    assert.is(values[69], 'after-19');
  } finally {
    await cluster.stop();
  }
});

interface WriteOutcome {
  status: number;
  code: string | null;
}

/** One write straight to `replica`, no retry: what that replica answered. */
async function writeTo(replica: ReplicaProcess, value: string): Promise<WriteOutcome> {
  try {
    const response = await fetch(`http://${replica.address}/propose`, {
      method: 'POST',
      body: value,
      signal: AbortSignal.timeout(30_000),
    });
    const body = (await response.json()) as { code?: string };
    return { status: response.status, code: body.code ?? null };
  } catch (error) {
    return { status: 0, code: String(error) };
  }
}

// Found by jepsen-lite's membership nemesis: the followers appended "remove m1" and at once
// refused m1's connection, so m1 (still leader until the entry commits) could not tell them
// anything more; the writes it had appended after the removal hung until their timeout.
test('removing the leader under write load: every write in flight gets an answer other than a timeout', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('raft-remove-leader-'), 3);
  try {
    const leader = await cluster.waitForLeader();
    const followers = cluster.replicas.filter((replica) => replica !== leader);
    await waitFor(
      async () =>
        (await Promise.all(followers.map((replica) => cluster.status(replica)))).every(
          (status) => status?.leader === leader.id,
        ),
      { timeoutMs: 15_000, what: 'the followers to know the leader' },
    );
    let writing = true;
    const outcomes: WriteOutcome[] = [];
    const writers = Array.from({ length: 6 }, async (_, writer) => {
      for (let count = 0; writing; count++) outcomes.push(await writeTo(leader, `w${writer}-${count}`));
    });
    await waitFor(() => outcomes.length >= 30, { timeoutMs: 15_000, what: 'writes to flow' });
    const removed = await change(leader, { type: 'remove', node: leader.id });
    assert.is(removed.status, 200, JSON.stringify(removed.body));
    await cluster.waitForLeader(15_000, [leader.id]);
    writing = false;
    await Promise.all(writers);
    const timedOut = outcomes.filter((outcome) => outcome.code === 'timeout' || outcome.status === 0);
    assert.is(timedOut.length, 0, `writes that got no answer: ${JSON.stringify(timedOut.slice(0, 5))}`);
    assert.ok(
      outcomes.some((outcome) => outcome.status === 200),
      'some writes succeeded',
    );
  } finally {
    await cluster.stop();
  }
});

test.run();
