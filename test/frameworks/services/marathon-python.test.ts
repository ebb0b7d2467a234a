// A third-party Marathon client in another language, unmodified: marathon-python (Debian's
// python3-marathon) drives the services framework hosted by three real masters, with a real
// agent, through a follower's port. Its objects are built from Marathon's own field names (a
// field Marathon never sends, or a missing one it needs, fails the script), so this checks the
// wire shapes: apps with counts and embedded tasks (host, ports, ipAddresses, startedAt,
// stagedAt, version, healthCheckResults), deployments, queue with reasons, versions, groups,
// tasks, kills with scale, 404/409/422 errors, rollback and cancel, and the event stream.
// flotilla-test-timeout-seconds: 900
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster } from '../../e2e/support/cluster.ts';
import { marathonPythonUnavailableReason, systemPython } from '../../support/capabilities.ts';
import { testUnless } from '../../support/skip.ts';
import { follower, waitForApi } from '../support/hosted.ts';

const agentResources = 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]';
const scriptTimeoutMs = 600_000;
const script = path.join(import.meta.dirname, 'support', 'marathon_python_check.py');
const whyNot = marathonPythonUnavailableReason();
let cluster: E2eCluster | undefined;

test.after(async () => {
  await cluster?.stop();
});

function runScript(servers: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(systemPython, [script, servers], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    // The client logs every 4xx it gets on stderr; keep it for a failure's message.
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), scriptTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

testUnless(test, whyNot, 'marathon-python through a follower: every call parses into its own objects', async () => {
  cluster = await E2eCluster.start('marathon-python', [agentResources], ['--services', 'hosted']);
  const entry = await follower(cluster);
  const leader = await cluster.leader();
  await waitForApi(entry.address, '/v2/apps');
  const run = await runScript(`http://${entry.address},http://${leader.address}`);
  assert.is(run.code, 0, run.output.slice(-4000));
  assert.match(run.output, 'marathon-python: all checks passed');
});

test.run();
