// Repro, found by `npm run jepsen -- --workload register --nemesis all --time 120 --nodes 5
// --network proxy --seed 295743998` (a restarted m7 stayed a pre-candidate for 30 s): a master
// that joined with --join and is restarted with the same flags forgets every member added
// after it joined, so it cannot hear a leader that is one of them.
//
// Cause: RaftNode's constructor (src/raft/node.ts) calls syncPeers() with the persisted
// membership, then `if (options.join) this.transport.setPeers(withoutSelf(options.peers, …))`
// replaces those peers with the --peers of the day it joined. Restoring them only when the
// persisted membership is empty fixes it.
//
//   npx tsx test/jepsen-lite/repro/join-restart.ts      exit 1: reproduced, 0: fixed
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/flotilla.js');
const dataRoot = path.join(os.tmpdir(), `flotilla-join-restart-${process.pid}`);
const basePort = 17_400;
const address = (id: string) => `127.0.0.1:${basePort + Number(id.slice(1))}`;
const processes = new Map<string, ChildProcess>();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Health {
  role: string;
  term: number;
  leader: string | null;
}

function start(id: string, peers: readonly string[], join: boolean): void {
  const args = [
    bin,
    'master',
    '--id',
    id,
    '--listen',
    address(id),
    '--peers',
    peers.map((peer) => `${peer}=${address(peer)}`).join(','),
    '--data-dir',
    path.join(dataRoot, id),
    ...(join ? ['--join'] : []),
  ];
  processes.set(
    id,
    spawn(process.execPath, args, { stdio: 'ignore', env: { ...process.env, FLOTILLA_LOG_LEVEL: 'warn' } }),
  );
}

async function health(id: string): Promise<Health | null> {
  try {
    return (await (
      await fetch(`http://${address(id)}/health`, { signal: AbortSignal.timeout(1_000) })
    ).json()) as Health;
  } catch {
    return null;
  }
}

async function leader(ids: readonly string[]): Promise<string> {
  for (let attempt = 0; attempt < 150; attempt++) {
    for (const id of ids) if ((await health(id))?.role === 'leader') return id;
    await sleep(100);
  }
  throw new Error(`no leader among ${ids.join(', ')}`);
}

async function call(
  ids: readonly string[],
  body: object,
): Promise<{ get_raft?: { leaderId: string; members: { id: string; role: string }[] } }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const response = await fetch(`http://${address(await leader(ids))}/api/v1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (response.status === 200) return text === '' ? {} : JSON.parse(text);
    await sleep(300);
  }
  throw new Error(`call ${JSON.stringify(body)} failed`);
}

async function addVoter(ids: readonly string[], id: string, peers: readonly string[]): Promise<void> {
  start(id, peers, true);
  await call(ids, { type: 'ADD_MASTER', add_master: { id, address: address(id) } });
  for (let attempt = 0; attempt < 100; attempt++) {
    if (
      (await call(ids, { type: 'GET_RAFT' })).get_raft?.members.some(
        (member) => member.id === id && member.role === 'voter',
      )
    )
      return;
    await sleep(200);
  }
  throw new Error(`${id} was not promoted`);
}

async function main(): Promise<number> {
  const boot = ['m1', 'm2', 'm3'];
  for (const id of boot) start(id, boot, false);
  await leader(boot);
  await addVoter(boot, 'm4', [...boot, 'm4']);
  await addVoter([...boot, 'm4'], 'm5', [...boot, 'm4', 'm5']);
  await addVoter([...boot, 'm4', 'm5'], 'm6', [...boot, 'm4', 'm5', 'm6']);
  for (const id of ['m1', 'm2']) {
    await call(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'], { type: 'REMOVE_MASTER', remove_master: { id } });
    processes.get(id)?.kill('SIGKILL');
  }
  const members = ['m3', 'm4', 'm5', 'm6'];
  if ((await leader(members)) !== 'm5')
    await call(members, { type: 'TRANSFER_LEADERSHIP', transfer_leadership: { id: 'm5' } });
  await sleep(1_500);
  // Restart m4 as an operator would: the same command line, --join and all.
  processes.get('m4')?.kill('SIGKILL');
  await sleep(500);
  start('m4', [...boot, 'm4'], true);
  await sleep(5_000);
  const after = await health('m4');
  const verdict = after?.leader === address('m5') ? 'fixed' : 'REPRODUCED';
  process.stdout.write(
    `members m3 m4 m5 m6, leader m5; m4 restarted with its --join flags: ${JSON.stringify(after)} → ${verdict}\n`,
  );
  return verdict === 'fixed' ? 0 : 1;
}

try {
  process.exitCode = await main();
} finally {
  for (const child of processes.values()) child.kill('SIGKILL');
  rmSync(dataRoot, { recursive: true, force: true });
}
