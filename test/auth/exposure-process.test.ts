// "Loopback stays easy; the network does not", on the real commands: a master or an agent told to
// listen on a non-loopback address without --credentials and a cluster secret exits 2 with one
// line naming the flags; with --insecure-allow-anonymous it starts and logs the warning (the
// repetition every minute is unit-tested in exposure.test.ts with a short interval).
// flotilla-test-timeout-seconds: 120
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { repoRoot } from '../cli/support/cli-process.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const flotillaBin = path.join(repoRoot, 'bin', 'flotilla.js');

function run(...args: string[]) {
  return spawnSync(process.execPath, [flotillaBin, ...args], { encoding: 'utf8', timeout: 30_000 });
}

async function masterArgs(host: string): Promise<string[]> {
  const port = await freePort();
  return ['master', '--id', 'm1', '--listen', `${host}:${port}`, '--peers', `m1=127.0.0.1:${port}`];
}

test('a master on 0.0.0.0 without credentials refuses to start: exit 2, one line naming the flags', async () => {
  const refused = run(...(await masterArgs('0.0.0.0')), '--data-dir', makeTempDir('exposed-'));
  assert.is(refused.status, 2, refused.stderr);
  const lines = refused.stderr.trim().split('\n');
  assert.is(lines.length, 1, refused.stderr);
  assert.match(lines[0]!, /^flotilla master: /);
  assert.match(lines[0]!, /--credentials FILE/);
  assert.match(lines[0]!, /--cluster-secret-file FILE/);
  assert.match(lines[0]!, /--insecure-allow-anonymous/);
});

test('an agent on 0.0.0.0 without credentials refuses to start the same way', async () => {
  const port = await freePort();
  const refused = run(
    'agent',
    ...['--masters', '127.0.0.1:1', '--work-dir', makeTempDir('exposed-agent-'), '--listen', `0.0.0.0:${port}`],
  );
  assert.is(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /^flotilla agent: .*--credentials FILE.*--insecure-allow-anonymous/);
});

test('--insecure-allow-anonymous: the master starts, serves anonymous requests, and logs the warning', async () => {
  const args = [...(await masterArgs('0.0.0.0')), '--data-dir', makeTempDir('insecure-'), '--insecure-allow-anonymous'];
  const child = spawn(process.execPath, [flotillaBin, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLOTILLA_LOG_LEVEL: 'info' },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  try {
    const warning = await waitFor(
      () =>
        output
          .split('\n')
          .filter((line) => line.includes('"insecure":true'))
          .map((line) => JSON.parse(line) as { level: string; msg: string; missing: string[] })[0] ?? null,
      { timeoutMs: 60_000, what: `the insecure warning (output so far: ${output.slice(-2000)})` },
    );
    assert.is(warning.level, 'warn', 'a warning');
    assert.equal(warning.missing, ['--credentials FILE', '--cluster-secret-file FILE']);
    assert.match(warning.msg, /--insecure-allow-anonymous/);
    const port = args[args.indexOf('--listen') + 1]!.split(':')[1];
    await waitFor(
      async () => {
        const answer = await fetch(`http://127.0.0.1:${port}/api/v1`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'GET_VERSION' }),
        }).catch(() => null);
        return answer?.status === 200;
      },
      { timeoutMs: 30_000, what: 'an anonymous GET_VERSION answered' },
    );
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
