// The probes that decide which tests skip, and the Docker set-up that .ci/run announces.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dockerUnavailableReason, parseDockerHost } from './capabilities.ts';
import { testUnless } from './skip.ts';

const docker = suite('docker probe');

docker('DOCKER_HOST is read as the docker CLI reads it', () => {
  assert.equal(parseDockerHost(undefined), { kind: 'unix', socketPath: '/var/run/docker.sock' });
  assert.equal(parseDockerHost('unix:///tmp/flotilla-ci/docker.sock'), {
    kind: 'unix',
    socketPath: '/tmp/flotilla-ci/docker.sock',
  });
  assert.equal(parseDockerHost('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
  assert.throws(() => parseDockerHost('ssh://somewhere'), /DOCKER_HOST must look like/);
});

docker('an engine that is not there is a reason to skip, not an error', async () => {
  const saved = { host: process.env.DOCKER_HOST, image: process.env.FLOTILLA_TEST_IMAGE };
  try {
    process.env.DOCKER_HOST = 'unix:///nonexistent/flotilla/docker.sock';
    process.env.FLOTILLA_TEST_IMAGE = 'flotilla-test:busybox';
    assert.match((await dockerUnavailableReason()) ?? '', /no Docker engine at unix:\/\/\/nonexistent/);
  } finally {
    restoreEnvironment('DOCKER_HOST', saved.host);
    restoreEnvironment('FLOTILLA_TEST_IMAGE', saved.image);
  }
});

// .ci/run exports FLOTILLA_TEST_IMAGE only after it started dockerd and imported the image;
// if that announcement is wrong, every Docker test would skip quietly. This catches it.
testUnless(
  docker,
  process.env.FLOTILLA_TEST_IMAGE ? undefined : 'FLOTILLA_TEST_IMAGE is not set (no Docker engine was prepared)',
  'the announced Docker engine answers and holds the test image',
  async () => {
    assert.is(await dockerUnavailableReason(), undefined);
  },
);

docker.run();

function restoreEnvironment(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
