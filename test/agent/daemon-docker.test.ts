// A Docker task through a real agent (--containerizers process,docker) and a real master, when a
// Docker engine with the test image is reachable (DOCKER_HOST, FLOTILLA_TEST_IMAGE).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { dockerUnavailableReason } from '../support/capabilities.ts';
import { testUnless } from '../support/skip.ts';
import {
  AgentProcess,
  commandTask,
  launchTasks,
  RestartableMaster,
  statesOf,
  subscribeFramework,
  waitForAgent,
  waitForTaskState,
} from './support/daemon-support.ts';

const docker = suite('agent daemon: docker');

testUnless(
  docker,
  await dockerUnavailableReason(),
  'a Docker task runs to TASK_FINISHED with its output in the sandbox; a missing image fails',
  async () => {
    const master = await RestartableMaster.start();
    const agent = await AgentProcess.start(master.address, ['--containerizers', 'process,docker']);
    try {
      const agentId = await waitForAgent(() => master.state(), agent.hostname);
      const framework = await subscribeFramework((command) => master.facade.submit(command));
      const image = process.env.FLOTILLA_TEST_IMAGE ?? '';
      await launchTasks(() => master.facade, framework, agentId, [
        commandTask('boxed', 'echo "in a box $MESOS_TASK_ID"', {
          container: {
            type: 'DOCKER',
            image,
            network: 'NONE',
            forcePullImage: false,
            portMappings: [],
            volumes: [],
            privileged: false,
            parameters: [],
            hostname: null,
          },
        }),
        commandTask('noimage', 'true', {
          container: {
            type: 'DOCKER',
            image: 'flotilla-no-such-image:never',
            network: 'NONE',
            forcePullImage: false,
            portMappings: [],
            volumes: [],
            privileged: false,
            parameters: [],
            hostname: null,
          },
        }),
      ]);
      const task = await waitForTaskState(() => master.state(), framework, 'boxed', 'TASK_FINISHED', 120_000);
      assert.equal(statesOf(task), ['TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
      const stdout = path.join(agent.workDir, 'frameworks', framework, 'tasks', 'boxed', 'stdout');
      assert.match(readFileSync(stdout, 'utf8'), /in a box boxed/);
      const missing = await waitForTaskState(() => master.state(), framework, 'noimage', 'TASK_FAILED', 120_000);
      assert.is(missing.statuses.at(-1)?.reason, 'REASON_CONTAINER_LAUNCH_FAILED');
    } finally {
      await agent.stop();
      await master.stop();
    }
  },
);

docker.run();
