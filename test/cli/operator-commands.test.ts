// The operator's write commands against a real three-master cluster and a real agent, with
// bin/flotilla.js as a child process: kv (a cas with a stale version is refused with the 412
// explained), weights, quota, maintenance (schedule → draining → down → up), and raft
// (members, a learner added, promoted and removed, an unknown id refused, a leadership transfer).
// flotilla-test-timeout-seconds: 900
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../e2e/support/cluster.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';
import { type CliResult, flotilla, parseJson, transcript } from './support/cli-process.ts';

let cluster: E2eCluster;
let masters: string;

test.before(async () => {
  cluster = await E2eCluster.start('cli-operator', ['cpus:2;mem:2048;disk:1000;ports:[31000-31099]']);
  masters = cluster.masterList;
});
test.after(async () => {
  await cluster?.stop();
});

function expectStatus(result: CliResult, status: number): void {
  assert.is(result.status, status, transcript(result));
}

const cli = (...args: string[]): Promise<CliResult> => flotilla([...args, '--masters', masters]);

test('kv: put, get, cas, del — and a cas at a stale version is refused with the 412 explained', async () => {
  const put = await cli('kv', 'put', 'demo', 'greeting', 'hello');
  expectStatus(put, 0);
  const version = Number(/\(version (\d+)\)/.exec(put.stdout)?.[1]);
  assert.ok(version > 0, transcript(put));
  const get = await cli('kv', 'get', 'demo', 'greeting');
  assert.match(get.stdout, /^key\s+greeting$/m);
  assert.match(get.stdout, new RegExp(`^version\\s+${version}$`, 'm'));
  assert.match(get.stdout, /^value\s+hello$/m);
  assert.equal(parseJson(await cli('kv', 'get', 'demo', 'greeting', '--json')), {
    key: 'greeting',
    value: 'hello',
    version,
  });

  const cas = await cli('kv', 'cas', 'demo', 'greeting', 'bonjour', '--version', String(version), '--json');
  expectStatus(cas, 0);
  const next = parseJson<{ version: number }>(cas).version;
  assert.ok(next > version);
  const stale = await cli('kv', 'cas', 'demo', 'greeting', 'hallo', '--version', String(version));
  expectStatus(stale, 1);
  assert.match(
    stale.stderr,
    new RegExp(`the key is at version ${next}, not at version ${version} \\(412 VERSION_MISMATCH\\)`),
  );
  assert.match(stale.stderr, /nothing was written/);
  assert.match(stale.stderr, new RegExp(`repeat with --version ${next}`));
  const absentOnly = await cli('kv', 'cas', 'demo', 'greeting', 'x', '--version', '0', '--json');
  expectStatus(absentOnly, 1);
  const error = JSON.parse(absentOnly.stderr) as { error: { code: string; status: number }; server_code: string };
  assert.equal([error.error.code, error.error.status, error.server_code], ['REFUSED', 412, 'VERSION_MISMATCH']);
  assert.is(parseJson<{ value: string }>(await cli('kv', 'get', 'demo', 'greeting', '--json')).value, 'bonjour');

  expectStatus(await cli('kv', 'del', 'demo', 'greeting', '--version', String(next)), 0);
  const gone = await cli('kv', 'get', 'demo', 'greeting');
  expectStatus(gone, 1);
  assert.match(gone.stderr, /no key greeting in namespace demo/);
  const badVersion = await cli('kv', 'cas', 'demo', 'greeting', 'x', '--version', 'seven');
  expectStatus(badVersion, 1);
  assert.match(badVersion.stderr, /must be a version number/);
});

test('weights: set and get, as a table and as JSON; a bad weight is a usage error', async () => {
  expectStatus(await cli('weights', 'set', 'prod=3', 'dev=1.5'), 0);
  const table = await cli('weights');
  assert.match(table.stdout, /^ROLE\s+WEIGHT$/m);
  assert.match(table.stdout, /^prod\s+3$/m);
  assert.equal(parseJson(await cli('weights', 'get', '--json')), [
    { weight: 1.5, role: 'dev' },
    { weight: 3, role: 'prod' },
  ]);
  const bad = await cli('weights', 'set', 'prod=-1');
  expectStatus(bad, 2);
  assert.match(bad.stderr, /"prod=-1" is not ROLE=WEIGHT with a positive weight/);
});

test('quota: set guarantees and limits, get them, remove them', async () => {
  expectStatus(await cli('quota', 'set', 'prod', '--cpus', '1', '--mem', '256', '--limit-cpus', '2'), 0);
  const table = await cli('quota', 'get');
  assert.match(table.stdout, /^ROLE\s+GUARANTEES\s+LIMITS\s+ALLOCATED$/m);
  assert.match(table.stdout, /^prod\s+cpus 1 · mem 256\s+cpus 2\s+-$/m);
  assert.equal(parseJson(await cli('quota', 'get', 'prod', '--json')), [
    { role: 'prod', guarantees: { cpus: 1, mem: 256 }, limits: { cpus: 2 }, allocated: {} },
  ]);
  const nothing = await cli('quota', 'set', 'prod');
  expectStatus(nothing, 2);
  assert.match(nothing.stderr, /give --cpus, --mem, --disk or --limit-…, or --remove/);
  expectStatus(await cli('quota', 'set', 'prod', '--remove'), 0);
  assert.equal(parseJson(await cli('quota', '--json')), []);
});

test("maintenance: a schedule from a file drains the agent's machine; start takes it down, stop brings it up", async () => {
  const hostname = cluster.agents[0]!.hostname;
  const file = path.join(makeTempDir('cli-maintenance-'), 'schedule.json');
  const startNanoseconds = (BigInt(Date.now()) * 1_000_000n).toString();
  const schedule = {
    windows: [
      {
        machine_ids: [{ hostname }],
        unavailability: { start: { nanoseconds: startNanoseconds }, duration: { nanoseconds: 3_600_000_000_000 } },
      },
    ],
  };
  writeFileSync(file, JSON.stringify(schedule));
  const updated = await cli('maintenance', 'schedule', file);
  expectStatus(updated, 0);
  assert.match(updated.stdout, /maintenance schedule replaced: 1 window\(s\)/);
  const shown = await cli('maintenance', 'schedule', '--show');
  assert.match(shown.stdout, /^WINDOW\s+MACHINE\s+MODE\s+START\s+DURATION$/m);
  assert.match(shown.stdout, new RegExp(`^1\\s+${hostname}\\s+DRAINING\\s+\\S+Z\\s+3600s$`, 'm'));
  expectStatus(await cli('maintenance', 'start', hostname), 0);
  const down = parseJson<{ machine: string; mode: string }[]>(await cli('maintenance', 'schedule', '--json'));
  assert.equal(
    down.map((row) => [row.machine, row.mode]),
    [[hostname, 'DOWN']],
  );
  const notScheduled = await cli('maintenance', 'start', 'no-such-host');
  expectStatus(notScheduled, 1);
  assert.match(notScheduled.stderr, /MACHINE_NOT_SCHEDULED/);
  expectStatus(await cli('maintenance', 'stop', hostname), 0);
  const after = await cli('maintenance', 'schedule');
  assert.match(after.stdout, /no maintenance is scheduled/);
});

test('raft: members, a learner added, promoted and removed, an unknown id refused, a leadership transfer', async () => {
  const members = parseJson<{ id: string; membership: string; role: string }[]>(await cli('raft', 'members', '--json'));
  assert.equal(
    members.map((member) => [member.id, member.membership]),
    [
      ['m1', 'voter'],
      ['m2', 'voter'],
      ['m3', 'voter'],
    ],
  );
  const table = await cli('raft');
  assert.match(table.stdout, /^ID\s+ADDRESS\s+ROLE\s+MEMBER\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+ZONE$/m);

  // A learner whose process never starts: it joins the membership, never catches up.
  const address = `127.0.0.1:${await freePort()}`;
  const added = await cli('raft', 'add', 'm4', address);
  expectStatus(added, 0);
  assert.match(added.stdout, new RegExp(`added m4 at ${address} as a learner`));
  const withLearner = await cli('raft', 'members');
  assert.match(withLearner.stdout, new RegExp(`^m4\\s+${address}\\s+down \\(.*\\)\\s+learner`, 'm'));
  // An explicit promotion is the operator's call, caught up or not: m4 becomes a (dead) voter.
  const promote = await cli('raft', 'promote', 'm4');
  expectStatus(promote, 0);
  assert.match(promote.stdout, /promoted m4 to voter/);
  const unknown = await cli('raft', 'remove', 'm9');
  expectStatus(unknown, 1);
  assert.match(unknown.stderr, /flotilla raft remove: .*\(4\d\d [A-Z_]+\)/);
  // One membership change at a time: the removal waits until the promotion has committed.
  await waitFor(async () => (await cli('raft', 'remove', 'm4')).status === 0, {
    timeoutMs: 60_000,
    what: 'raft remove m4 to succeed',
    intervalMs: 500,
  });
  const without = parseJson<{ id: string }[]>(await cli('raft', 'members', '--json'));
  assert.equal(
    without.map((member) => member.id),
    ['m1', 'm2', 'm3'],
  );

  const leader = await cluster.leader();
  const target = cluster.masters.replicas.find((replica) => replica.id !== leader.id)!;
  const transfer = await cli('raft', 'transfer', target.id, '--json');
  expectStatus(transfer, 0);
  assert.equal((({ from, to }) => ({ from, to }))(parseJson<{ from: string; to: string }>(transfer)), {
    from: leader.id,
    to: target.id,
  });
});

test.run();
