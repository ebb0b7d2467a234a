// One full Mesos-style flow with a real agent process: subscribe, get an offer from the
// allocator, launch `echo hi`, hear TASK_RUNNING and TASK_FINISHED with uuids, acknowledge both.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startSingleMaster } from '../support/master.ts';
import { AgentProcess } from '../agent/support/daemon-support.ts';
import { frameworkInfo, SchedulerClient } from './support/scheduler-client.ts';

test('subscribe, offer, launch echo hi, TASK_RUNNING then TASK_FINISHED, acknowledge', async () => {
  const cluster = await startSingleMaster();
  const agent = await AgentProcess.start(cluster.url.slice('http://'.length));
  let client: SchedulerClient | null = null;
  try {
    client = await SchedulerClient.subscribe(cluster.url, frameworkInfo({ name: 'echo' }));
    const offer = (await client.nextOf('OFFERS', () => true, 60_000)).offers.offers[0]!;
    await client.callOk('ACCEPT', {
      accept: {
        offer_ids: [offer.id],
        operations: [
          {
            type: 'LAUNCH',
            launch: {
              task_infos: [
                {
                  name: 'echo',
                  task_id: { value: 'echo-1' },
                  agent_id: offer.agent_id,
                  command: { value: 'echo hi' },
                  resources: [
                    { name: 'cpus', type: 'SCALAR', scalar: { value: 0.1 } },
                    { name: 'mem', type: 'SCALAR', scalar: { value: 32 } },
                  ],
                },
              ],
            },
          },
        ],
      },
    });
    const seen: string[] = [];
    for (;;) {
      const status = (await client.nextOf('UPDATE', () => true, 60_000)).update.status;
      if (seen.at(-1) !== status.state) seen.push(status.state);
      if (status.uuid !== undefined) {
        await client.callOk('ACKNOWLEDGE', {
          acknowledge: { agent_id: status.agent_id, task_id: status.task_id, uuid: status.uuid },
        });
      }
      if (status.state === 'TASK_FINISHED') break;
      assert.ok(
        ['TASK_STARTING', 'TASK_RUNNING'].includes(status.state),
        `unexpected ${status.state}: ${agent.output.slice(-2000)}`,
      );
    }
    assert.ok(seen.includes('TASK_RUNNING'), seen.join(' → '));
  } finally {
    client?.close();
    await agent.stop();
    await cluster.stop();
  }
});

test.run();
