// Exactly-once across a leader failover, on three real `flotilla master` processes (issue 11,
// "Done when": a KV PUT sent twice with one Idempotency-Key, once across a leader SIGKILL; the
// version does not move, and the second answer is the first). The idempotency record is
// replicated state, so the new leader knows the key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorOf, type KeyAnswer } from '../support/answers.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { ProcessCluster, type ReplicaProcess } from '../raft/support/process-cluster.ts';

interface Reply {
  readonly status: number;
  readonly text: string;
  readonly body: unknown;
}

async function request(
  replica: ReplicaProcess,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<Reply> {
  const response = await fetch(`http://${replica.address}${path}`, {
    method,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: text === '' ? null : JSON.parse(text) };
}

/**
 * The PUT as a client retries it: to whichever master leads now, until one answers with something
 * other than "not now" (307/503). Not to one fixed master: on a loaded machine leadership may move
 * again after the failover the test made, and a follower answers every retry 307 (a run at load
 * 37 timed out so, asking the first new leader for 20 s after it had lost leadership).
 */
function putUntilAnswered(
  cluster: ProcessCluster,
  path: string,
  value: string,
  key: string,
  excluding: string[] = [],
): Promise<Reply> {
  return waitFor(
    async () => {
      const leader = await cluster.waitForLeader(5_000, excluding);
      const reply = await request(leader, 'PUT', path, { value }, { 'idempotency-key': key });
      return reply.status === 503 || reply.status === 307 ? null : reply;
    },
    { timeoutMs: 60_000, what: `an answer to PUT ${path} from the leader` },
  );
}

function readUntilAnswered(replica: ReplicaProcess, path: string): Promise<Reply> {
  return waitFor(
    async () => {
      const reply = await request(replica, 'GET', path);
      return reply.status === 200 || reply.status === 404 ? reply : null;
    },
    { timeoutMs: 20_000, what: `a linearizable read of ${path} on ${replica.id}` },
  );
}

function signal(replica: ReplicaProcess, name: 'SIGSTOP' | 'SIGCONT'): void {
  const pid = replica.child?.pid;
  assert.ok(pid !== undefined, `${replica.id} runs`);
  process.kill(pid, name);
}

test('a KV PUT sent twice with one key, once across a leader SIGKILL: the version does not move, the second answer is the first', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('masters-idem-kill-'), 3, [], 'master');
  try {
    const leader = await cluster.waitForLeader();
    const first = await request(leader, 'PUT', '/api/v1/kv/idem/config', { value: 'v1' }, { 'idempotency-key': 'k-1' });
    assert.is(first.status, 200);
    // A second key, overwritten in between by a write without a key: its retry must answer its
    // own first answer, not write 'a' again over 'b'.
    const earlier = await request(leader, 'PUT', '/api/v1/kv/idem/other', { value: 'a' }, { 'idempotency-key': 'k-2' });
    const later = await request(leader, 'PUT', '/api/v1/kv/idem/other', { value: 'b' });
    assert.is(later.status, 200);

    await cluster.kill(leader, 'SIGKILL');
    const next = await cluster.waitForLeader(20_000, [leader.id]);
    const retry = await putUntilAnswered(cluster, '/api/v1/kv/idem/config', 'v1', 'k-1');
    assert.is(retry.status, 200);
    assert.is(retry.text, first.text, 'the second answer is the first, byte for byte');
    const read = await readUntilAnswered(next, '/api/v1/kv/idem/config');
    assert.equal(read.body, { key: 'config', value: 'v1', version: (first.body as KeyAnswer).version });

    const retryEarlier = await putUntilAnswered(cluster, '/api/v1/kv/idem/other', 'a', 'k-2');
    assert.is(retryEarlier.text, earlier.text);
    const other = await readUntilAnswered(next, '/api/v1/kv/idem/other');
    assert.equal(other.body, { key: 'other', value: 'b', version: (later.body as KeyAnswer).version });

    const reused = await putUntilAnswered(cluster, '/api/v1/kv/idem/config', 'v2', 'k-1');
    assert.is(reused.status, 422);
    assert.is(errorOf(reused.body).code, 'IDEMPOTENCY_KEY_REUSED');
  } finally {
    await cluster.stop();
  }
});

// The retry arrives while the first attempt is still uncommitted, and the leader changes in
// between. Made repeatable with SIGSTOP: (1) both followers stop, so the leader appends the first
// attempt and sends it, but cannot commit it (the append waits in the stopped followers' socket
// buffers); (2) the leader stops too, and the followers resume and elect one of themselves (the
// old leader cannot campaign); (3) the retry goes to the new leader; (4) the old leader resumes
// and learns the new term. Two outcomes are correct, and only these: the followers read the
// buffered append on resuming (what a loopback socket does), so the new leader commits the first
// attempt and the retry, appended after it, is a duplicate: both answer the same, one version;
// or the first attempt never reached them: the retry applies, and the first is answered "not
// applied" (503) or "unknown" (504). Either way it is applied once, and a last retry answers it.
test('a retry while the first attempt is uncommitted on a leader that is then replaced: applied once', async () => {
  const cluster = await ProcessCluster.start(makeTempDir('masters-idem-inflight-'), 3, [], 'master');
  const stopped = new Set<ReplicaProcess>();
  const stop = (replica: ReplicaProcess): void => {
    signal(replica, 'SIGSTOP');
    stopped.add(replica);
  };
  const resume = (replica: ReplicaProcess): void => {
    signal(replica, 'SIGCONT');
    stopped.delete(replica);
  };
  try {
    const leader = await cluster.waitForLeader();
    const followers = cluster.replicas.filter((replica) => replica.id !== leader.id);
    await waitFor(
      async () => (await Promise.all(followers.map((replica) => cluster.status(replica)))).every((s) => s?.leader),
      { timeoutMs: 10_000, what: 'both followers to know the leader' },
    );
    for (const follower of followers) stop(follower);
    const headers = { 'idempotency-key': 'in-flight-1' };
    const firstAttempt = request(leader, 'PUT', '/api/v1/kv/idem/flight', { value: 'v' }, headers, 30_000);
    await waitFor(
      async () => {
        const status = await cluster.status(leader);
        return status !== null && status.commit < (await leaderLastIndex(leader));
      },
      { timeoutMs: 10_000, what: 'the first attempt appended, uncommitted, on the old leader' },
    );
    stop(leader);
    for (const follower of followers) resume(follower);
    await cluster.waitForLeader(20_000, [leader.id]);
    // The old leader is stopped: asking it would only wait out each status request's timeout.
    const retry = await putUntilAnswered(cluster, '/api/v1/kv/idem/flight', 'v', 'in-flight-1', [leader.id]);
    assert.is(retry.status, 200, retry.text);

    resume(leader);
    const first = await firstAttempt;
    if (first.status === 200) {
      assert.is(first.text, retry.text, 'the first attempt survived the change of leader: the retry answered it');
    } else {
      assert.ok(first.status === 503 || first.status === 504, `the first attempt: ${first.status} ${first.text}`);
    }
    console.log(`in-flight first attempt answered ${first.status}: ${first.status === 200 ? 'survived' : 'dropped'}`);
    const last = await putUntilAnswered(cluster, '/api/v1/kv/idem/flight', 'v', 'in-flight-1');
    assert.is(last.text, retry.text, 'a later retry answers the applied attempt');
    for (const replica of cluster.replicas) {
      const read = await readUntilAnswered(replica, '/api/v1/kv/idem/flight');
      assert.equal(read.body, { key: 'flight', value: 'v', version: (retry.body as KeyAnswer).version }, replica.id);
    }
  } finally {
    for (const replica of stopped) signal(replica, 'SIGCONT');
    await cluster.stop();
  }
});

/** GET_RAFT's lastIndex on a master: its log's end, committed or not. */
async function leaderLastIndex(replica: ReplicaProcess): Promise<number> {
  const reply = await request(replica, 'POST', '/api/v1', { type: 'GET_RAFT' });
  return (reply.body as { get_raft: { lastIndex: number } }).get_raft.lastIndex;
}

test.run();
