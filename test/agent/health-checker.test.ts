// Health checks against real servers and commands, with short intervals: HTTP (200–399 is
// healthy), TCP (a connection is accepted), COMMAND (through a real process task).
// flotilla-test-timeout-seconds: 180
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { rmSync, writeFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ProcessContainerizer } from '../../src/agent/containerizer/process.ts';
import type { RunningContainer } from '../../src/agent/containerizer/types.ts';
import { HealthChecker } from '../../src/agent/health/checker.ts';
import type { HealthEvent } from '../../src/agent/health/decision.ts';
import { probeHttp, probeTcp } from '../../src/agent/health/probes.ts';
import type { HealthCheckSpec } from '../../src/agent/health/spec.ts';
import { silentLogger } from '../../src/util/logger.ts';
import { freePort } from '../raft/support/process-cluster.ts';
import { makeTempDir } from '../support/tmp.ts';
import { waitFor } from '../support/wait.ts';

const waitMs = 30_000;
const fast = { delayMs: 0, intervalMs: 50, timeoutMs: 2_000, consecutiveFailures: 3, gracePeriodMs: 0 } as const;
const noCommands: Pick<RunningContainer, 'runCheckCommand'> = {
  runCheckCommand: () => Promise.reject(new Error('this check runs no command')),
};

function startChecker(
  spec: HealthCheckSpec,
  container = noCommands,
): { checker: HealthChecker; events: HealthEvent[] } {
  const events: HealthEvent[] = [];
  const checker = new HealthChecker({ spec, container, logger: silentLogger, onEvent: (event) => events.push(event) });
  checker.start();
  return { checker, events };
}

function summary(events: readonly HealthEvent[]): string[] {
  return events.map((event) => (event.kind === 'kill' ? 'kill' : event.healthy ? 'healthy' : 'unhealthy'));
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const httpChecks = suite('HTTP health checks');

httpChecks('healthy on 2xx and 3xx, unhealthy on 5xx, killed after consecutive failures', async () => {
  let status = 200;
  const server = http.createServer((request, response) => {
    response.statusCode = request.url === '/health' ? status : 404;
    response.end();
  });
  const port = await listen(server);
  try {
    assert.ok((await probeHttp(port, '/health', 2_000)).ok);
    status = 302;
    assert.ok((await probeHttp(port, '/health', 2_000)).ok);
    assert.not.ok((await probeHttp(port, '/other', 2_000)).ok);
    status = 200;
    const { checker, events } = startChecker({ type: 'HTTP', command: null, port, path: '/health', ...fast });
    await waitFor(() => events.length >= 1, { timeoutMs: waitMs, what: 'the first health report' });
    status = 503;
    await waitFor(() => events.some((event) => event.kind === 'kill'), { timeoutMs: waitMs, what: 'a kill request' });
    assert.equal(summary(events), ['healthy', 'unhealthy', 'kill']);
    assert.ok(checker.current()?.killRequested);
  } finally {
    server.close();
  }
});

httpChecks('failures during the grace period are not reported; a server that comes up late is healthy', async () => {
  const port = await freePort();
  const { checker, events } = startChecker({
    type: 'HTTP',
    command: null,
    port,
    path: '/',
    ...fast,
    gracePeriodMs: 120_000,
  });
  await waitFor(() => checker.checkCount() >= 3, { timeoutMs: waitMs, what: 'three checks to run' });
  assert.equal(events, [], 'refused connections within the grace period are ignored');
  assert.is(checker.current()?.consecutiveFailures, 0);
  const server = http.createServer((_, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    await waitFor(() => events.length > 0, { timeoutMs: waitMs, what: 'the late server to be seen healthy' });
    assert.equal(summary(events), ['healthy']);
  } finally {
    checker.stop();
    server.close();
  }
});

httpChecks.run();

const tcpChecks = suite('TCP health checks');

tcpChecks('a listening port is healthy; a closed one turns unhealthy', async () => {
  const server = net.createServer((socket) => socket.end());
  const port = await listen(server);
  assert.ok((await probeTcp(port, 2_000)).ok);
  const { checker, events } = startChecker({
    type: 'TCP',
    command: null,
    port,
    path: null,
    ...fast,
    consecutiveFailures: 1_000,
  });
  try {
    await waitFor(() => events.length >= 1, { timeoutMs: waitMs, what: 'the first health report' });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await waitFor(() => events.length >= 2, { timeoutMs: waitMs, what: 'the closed port to be reported' });
    assert.equal(summary(events), ['healthy', 'unhealthy']);
    assert.not.ok((await probeTcp(port, 2_000)).ok);
  } finally {
    checker.stop();
  }
});

tcpChecks.run();

const commandChecks = suite('COMMAND health checks');

commandChecks('a command run in the task sandbox decides health; a timeout is a failure', async () => {
  const sandbox = makeTempDir('sandbox-');
  const task = await new ProcessContainerizer({ logger: silentLogger, cgroups: 'off' }).launch({
    agentId: `health-${process.pid}`,
    frameworkId: 'fw',
    taskId: 'checked',
    sandbox,
    command: { value: 'sleep 60', shell: true, arguments: [] },
    image: null,
    network: 'HOST',
    environment: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cpus: null,
    memMb: null,
    forcePullImage: false,
    portMappings: [],
    volumes: [],
    persistentVolumes: [],
    privileged: false,
    parameters: [],
    hostname: null,
    user: null,
  });
  try {
    assert.is(await task.runCheckCommand('exit 4', 5_000), 4);
    try {
      await task.runCheckCommand('sleep 30', 100);
      assert.unreachable('the check should time out');
    } catch (error) {
      assert.match((error as Error).message, /did not end within 100 ms/);
    }
    writeFileSync(path.join(sandbox, 'healthy'), '');
    const { checker, events } = startChecker(
      { type: 'COMMAND', command: 'test -e healthy', port: null, path: null, ...fast },
      task,
    );
    await waitFor(() => events.length >= 1, { timeoutMs: waitMs, what: 'the first health report' });
    rmSync(path.join(sandbox, 'healthy'));
    await waitFor(() => events.some((event) => event.kind === 'kill'), { timeoutMs: waitMs, what: 'a kill request' });
    assert.equal(summary(events), ['healthy', 'unhealthy', 'kill']);
    checker.stop();
  } finally {
    await task.kill(1_000);
  }
});

commandChecks('an invalid spec is refused at construction', () => {
  assert.throws(
    () =>
      new HealthChecker({
        spec: { type: 'TCP', command: null, port: null, path: null, ...fast },
        container: noCommands,
        logger: silentLogger,
        onEvent: () => {},
      }),
    /a TCP check needs a port/,
  );
});

commandChecks.run();
