// `flotilla run --docker-image` against a real master and an agent with the Docker
// containerizer, when a Docker engine with the test image is reachable.
// flotilla-test-timeout-seconds: 240
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startMasterAndAgent } from '../frameworks/support/cluster.ts';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import { flotillaRun, statusLine } from './support/run-process.ts';

const docker = suite('flotilla run: docker');

testUnless(
  docker,
  await dockerUnavailableReason(),
  'flotilla run --docker-image IMG -- echo: the task runs in the image and its output is followed',
  async () => {
    const cluster = await startMasterAndAgent(['--containerizers', 'process,docker']);
    try {
      const image = process.env.FLOTILLA_TEST_IMAGE ?? '';
      const result = await flotillaRun([
        '--masters',
        cluster.masterAddress,
        '--docker-image',
        image,
        '--',
        'echo',
        'from-docker',
      ]);
      const transcript = `${result.stdout}\n--- stderr\n${result.stderr}`;
      assert.is(result.status, 0, transcript);
      assert.match(result.stdout, statusLine('TASK_FINISHED'), transcript);
      assert.match(result.stdout, /^from-docker$/m, transcript);
      const missing = await flotillaRun([
        '--masters',
        cluster.masterAddress,
        '--docker-image',
        'flotilla-no-such-image:never',
        '--',
        'true',
      ]);
      assert.is(missing.status, 1, `${missing.stdout}\n--- stderr\n${missing.stderr}`);
      assert.match(missing.stdout, statusLine('TASK_FAILED'));
    } finally {
      await cluster.stop();
    }
  },
);

docker.run();
