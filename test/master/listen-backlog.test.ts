// The master's accept queue (limits.ts masterListenBacklog): connections the kernel completes
// while the master's event loop is busy wait there to be accepted. With Node's default backlog of
// 511, the 512th dial during one long turn had its SYN dropped and its TCP retried a second or
// more later: after a leader failover, 10,000 agents redialling the new leader waited up to 22 s.
//
// The master runs in this process; a child process dials it while this process is blocked in
// spawnSync, so not one connection is accepted meanwhile. The child counts the dials the kernel
// completed: all of them with the bigger backlog, the backlog plus one (512) with Node's default.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startSingleMaster } from '../support/master.ts';

const backlog = suite('master listen backlog');

/** More than Node's default backlog (511), within net.core.somaxconn (the kernel's cap). */
function dialsToTry(): number {
  const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
  return Math.min(2_000, somaxconn);
}

// Opens `count` TCP connections to the port at once and prints how many completed. The kernel
// completes a dial only while the accept queue has room; one it refused is retried by TCP after a
// second or more and is refused again while the master stays blocked, so once no dial has
// completed for a while the count is final.
const dialer = `
const net = require('node:net');
const [port, count] = process.argv.slice(1).map(Number);
let connected = 0;
let quietTimer = null;
const sockets = [];
const finish = () => { process.stdout.write(String(connected)); for (const s of sockets) s.destroy(); process.exit(0); };
const quiet = () => { clearTimeout(quietTimer); quietTimer = setTimeout(finish, 1500); };
for (let i = 0; i < count; i++) {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  socket.on('connect', () => { connected += 1; quiet(); if (connected === count) finish(); });
  sockets.push(socket);
}
quiet();
`;

backlog('dials made while the master does not accept wait in its accept queue, past 511', async () => {
  const single = await startSingleMaster();
  try {
    const port = Number(new URL(single.url).port);
    const count = dialsToTry();
    // spawnSync holds this process (the master) until the child is done: no accept happens.
    const child = spawnSync(process.execPath, ['-e', dialer, String(port), String(count)], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.is(child.status, 0, child.stderr);
    assert.is(Number(child.stdout), count);
  } finally {
    await single.stop();
  }
});

backlog.run();
