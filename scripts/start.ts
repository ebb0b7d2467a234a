// `npm start`: a local cluster on loopback with data under ./.flotilla/: three masters on
// 127.0.0.1:5050–5052 (agents and the web UI join when they exist); it prints their addresses
// and the leader, and stops them on Ctrl-C (SIGTERM: the leader hands over first).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataRoot = path.join(process.cwd(), '.flotilla');
const replicas = ['m1', 'm2', 'm3'].map((id, position) => ({ id, address: `127.0.0.1:${5050 + position}` }));
const peers = replicas.map((replica) => `${replica.id}=${replica.address}`).join(',');
const children: ChildProcess[] = [];

mkdirSync(dataRoot, { recursive: true });
for (const replica of replicas) {
  const child = spawn(
    process.execPath,
    [
      path.join(root, 'bin/flotilla.js'),
      'master',
      '--id',
      replica.id,
      '--listen',
      replica.address,
      '--peers',
      peers,
      '--data-dir',
      path.join(dataRoot, replica.id),
    ],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, FLOTILLA_LOG_LEVEL: process.env.FLOTILLA_LOG_LEVEL ?? 'info' },
    },
  );
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  child.on('exit', (code, signal) => process.stderr.write(`${replica.id} exited (${signal ?? code})\n`));
  children.push(child);
}

// One agent on 127.0.0.1:5055 (work dir ./.flotilla/agent); it finds the leader by itself.
const agentAddress = '127.0.0.1:5055';
const agentChild = spawn(
  process.execPath,
  [
    path.join(root, 'bin/flotilla.js'),
    'agent',
    '--masters',
    replicas.map((replica) => replica.address).join(','),
    '--work-dir',
    path.join(dataRoot, 'agent'),
    '--listen',
    agentAddress,
  ],
  {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FLOTILLA_LOG_LEVEL: process.env.FLOTILLA_LOG_LEVEL ?? 'info' },
  },
);
agentChild.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
agentChild.on('exit', (code, signal) => process.stderr.write(`agent exited (${signal ?? code})\n`));
children.push(agentChild);

const deadline = Date.now() + 20_000;
let leader: string | null = null;
while (leader === null && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const replica of replicas) {
    const status = await fetch(`http://${replica.address}/health`)
      .then((response) => response.json() as Promise<{ role: string }>)
      .catch(() => null);
    if (status?.role === 'leader') leader = replica.address;
  }
}
process.stdout.write(`\nFlotilla local cluster (data in ${dataRoot})\n`);
for (const replica of replicas) process.stdout.write(`  ${replica.id}  http://${replica.address}/health\n`);
process.stdout.write(`  agent  http://${agentAddress}/health  (work dir ${path.join(dataRoot, 'agent')})\n`);
process.stdout.write(leader ? `leader: http://${leader}\n` : 'no leader elected yet: see the logs above\n');
const target = leader ?? replicas[0]!.address;
process.stdout.write(`web UI: http://${target}/  (every master serves it; a follower shows its own view)\n`);
process.stdout.write(
  `try:  curl -X PUT -H 'content-type: application/json' -d '{"value":"hello"}' http://${target}/api/v1/kv/demo/greeting\n` +
    `      curl http://${replicas[1]!.address}/api/v1/kv/demo/greeting\n` +
    `      curl -X POST -H 'content-type: application/json' -d '{"type":"GET_RAFT"}' http://${replicas[2]!.address}/api/v1\n` +
    'Ctrl-C stops the cluster.\n',
);

const stopAll = (): void => {
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);
