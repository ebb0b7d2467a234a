// `npm start` and Docker: the agent enables Docker only where an engine answers, and the block
// says so in one line either way. CI has an engine, so the full `npm start` test
// (start.test.ts) sees only the Docker path; this file pins the path without one, with real
// sockets: a missing unix socket, a refused TCP port, a malformed DOCKER_HOST, and the real
// engine when there is one.
import net from 'node:net';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeColors } from '../../src/cli/output/colors.ts';
import { renderBanner } from '../../scripts/start/banner.ts';
import { agentContainerizers, type DockerProbe, probeDocker } from '../../scripts/start/docker-probe.ts';
import { planLayout } from '../../scripts/start/layout.ts';
import type { ClusterReadiness } from '../../scripts/start/readiness.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { makeTempDir } from '../support/tmp.ts';

const basePort = 5050;

function banner(docker: DockerProbe): string[] {
  const layout = planLayout(basePort, makeTempDir('start-banner-'));
  const leader = { id: 'm1', role: 'leader', term: 1, leader: 'm1' };
  const readiness: ClusterReadiness = {
    masters: [leader, { ...leader, id: 'm2', role: 'follower' }, { ...leader, id: 'm3', role: 'follower' }],
    leader,
    agent: { agentId: 'agent-1', registered: true },
  };
  return renderBanner(makeColors(false), { layout, readiness, docker, startedInMs: 1_000, resumed: false });
}

/** A TCP port nobody listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('no engine: a missing socket, a refused port, a malformed DOCKER_HOST are each "not available"', async () => {
  const missing = `unix://${path.join(makeTempDir('start-banner-'), 'docker.sock')}`;
  const noSocket = await probeDocker({ DOCKER_HOST: missing });
  assert.equal(noSocket, { available: false, endpoint: missing, problem: 'ENOENT' });
  const port = await closedPort();
  const refused = await probeDocker({ DOCKER_HOST: `tcp://127.0.0.1:${port}` });
  assert.equal(refused, { available: false, endpoint: `tcp://127.0.0.1:${port}`, problem: 'ECONNREFUSED' });
  const malformed = await probeDocker({ DOCKER_HOST: 'ssh://somewhere' });
  assert.is(malformed.available, false);
  assert.match(malformed.problem ?? '', 'is neither unix:///path nor tcp://host:port');
  assert.is(agentContainerizers(noSocket), 'process', 'the agent starts with the process containerizer only');
});

test('no engine: one line of the block says only process tasks will run, and no Docker task is suggested', () => {
  const lines = banner({ available: false, endpoint: 'unix:///var/run/docker.sock', problem: 'ENOENT' });
  const dockerLines = lines.filter((line) => /docker/i.test(line));
  assert.equal(dockerLines, [
    '  docker     no Docker engine at unix:///var/run/docker.sock: only process tasks will run',
  ]);
  assert.ok(lines.length <= 25, lines.join('\n'));
});

test('an engine: the block says the agent runs Docker tasks too, and suggests one', () => {
  const docker = { available: true, endpoint: 'unix:///var/run/docker.sock', problem: null };
  const lines = banner(docker);
  assert.ok(lines.includes('  docker     engine at unix:///var/run/docker.sock: the agent runs Docker tasks too'));
  assert.ok(lines.some((line) => line.includes('run --docker-image busybox -- echo hello from docker')));
  assert.is(agentContainerizers(docker), 'process,docker');
});

testUnless(test, await dockerUnavailableReason(), 'the real engine of DOCKER_HOST answers the probe', async () => {
  const probe = await probeDocker(process.env);
  assert.equal(probe.available, true, JSON.stringify(probe));
  assert.is(agentContainerizers(probe), 'process,docker');
});

test.run();
