// flotilla-test-timeout-seconds: 120
// The namespace network on its own (root only): masters' addresses reachable from the host
// only through the forwarder; an iptables DROP between two namespaces stops traffic and a heal
// restores it; a refused connection is reported as never sent; leftovers of a crashed run are
// removed; and nothing is left behind after close().
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { networkNamespacesUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';
import { sendRequest } from './client/http.ts';
import { NamespaceNetwork } from './net/namespace-network.ts';
import { listNamespaces, namespacePrefix } from './net/netns.ts';

const namespaces = suite('namespace network');
const unavailable = networkNamespacesUnavailableReason();

const serverSource = `require('node:http').createServer((request, response) => response.end('hello from ' + process.argv[1])).listen(5050, process.argv[2])`;
/** Exits 0 if it can open a TCP connection to argv[1]:5050 within 1 s, else 1. */
const probeSource = `const s = require('node:net').connect(5050, process.argv[1]); s.on('connect', () => process.exit(0)); s.on('error', () => process.exit(1)); setTimeout(() => process.exit(1), 1000)`;

function canConnect(fromNamespace: string, address: string): boolean {
  try {
    execFileSync('ip', ['netns', 'exec', fromNamespace, process.execPath, '-e', probeSource, address], {
      stdio: 'ignore',
      timeout: 5_000,
    });
    return true;
  } catch {
    return false;
  }
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid(): number {
  const child = execFileSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child);
}

testUnless(namespaces, unavailable, 'namespaces: reach, partition, heal, refuse, clean up', async () => {
  const leftover = `${namespacePrefix}${deadPid()}-m9`;
  execFileSync('ip', ['netns', 'add', leftover]);
  const network = await NamespaceNetwork.create(makeTempDir('jepsen-ns-'));
  const servers: ChildProcess[] = [];
  try {
    assert.ok(network.removedLeftovers.includes(leftover), "the crashed run's namespace was removed");
    assert.not.ok(listNamespaces().includes(leftover));
    const first = await network.addNode('m1');
    const second = await network.addNode('m2');
    const [firstHost] = first.listen.split(':');
    servers.push(
      spawn(
        first.commandPrefix[0]!,
        [...first.commandPrefix.slice(1), process.execPath, '-e', serverSource, 'm1', firstHost!],
        { stdio: 'ignore' },
      ),
    );
    const endpoint = network.book.endpoint('m1');
    let answer = await sendRequest(endpoint, { method: 'GET', path: '/', timeoutMs: 1_000 });
    for (let attempt = 0; attempt < 50 && answer.kind !== 'answer'; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      answer = await sendRequest(endpoint, { method: 'GET', path: '/', timeoutMs: 1_000 });
    }
    assert.is(answer.kind, 'answer', 'the host reaches m1 through the forwarder');
    assert.is(network.book.nodeAt(first.listen), 'm1');

    const secondNamespace = second.commandPrefix[3]!;
    assert.ok(canConnect(secondNamespace, firstHost!), 'm2 reaches m1');
    network.faults.update([{ from: 'm2', to: 'm1', state: { mode: 'drop' } }]);
    await network.apply();
    assert.not.ok(canConnect(secondNamespace, firstHost!), 'm1 drops what m2 sends');
    network.faults.healAll();
    await network.apply();
    assert.ok(canConnect(secondNamespace, firstHost!), 'healed');

    const refused = await sendRequest(network.book.endpoint('m2'), {
      method: 'PUT',
      path: '/',
      body: {},
      timeoutMs: 1_000,
    });
    // Through the forwarder the refusal may surface as a refused connect (never sent) or as a
    // broken pipe after the host-side accept (sent: the client must then treat it as unknown).
    assert.is(refused.kind, 'transport', 'nothing listens in m2: no answer');
    const transport = refused as { kind: 'transport'; sent: boolean; code: string };
    assert.ok(
      (!transport.sent && transport.code === 'ECONNREFUSED') ||
        (transport.sent && ['EPIPE', 'ECONNRESET'].includes(transport.code)),
      `refused or reset, got ${JSON.stringify(refused)}`,
    );
  } finally {
    for (const server of servers) server.kill('SIGKILL');
    await network.close();
  }
  const mine = listNamespaces().filter((name) => name.startsWith(`${namespacePrefix}${process.pid}-`));
  assert.equal(mine, [], 'close() removed every namespace of this run');
});

namespaces.run();
