// A master (in this process) and a real agent process for SDK and `flotilla run` end-to-end
// tests, and a scheduler that launches one command and records what it sees.
import os from 'node:os';
import { AgentProcess, waitForAgent } from '../../agent/support/daemon-support.ts';
import { startSingleMaster, type SingleMaster } from '../../support/master.ts';
import { waitFor } from '../../support/wait.ts';
import { SchedulerClient } from '../../../src/frameworks/sdk/client.ts';
import { parseMasterList } from '../../../src/frameworks/sdk/masters.ts';
import { matchOffer } from '../../../src/frameworks/sdk/offer-matching.ts';
import { buildTaskInfo } from '../../../src/frameworks/sdk/task-info.ts';
import type { TaskStatus } from '../../../src/protocol/mesos.ts';

export interface MasterAndAgent {
  readonly master: SingleMaster;
  readonly masterAddress: string;
  readonly agent: AgentProcess;
  stop(): Promise<void>;
}

export async function startMasterAndAgent(agentFlags: string[] = []): Promise<MasterAndAgent> {
  const master = await startSingleMaster();
  const masterAddress = master.url.replace('http://', '');
  const agent = await AgentProcess.start(masterAddress, agentFlags);
  await waitForAgent(() => master.master.facade.state(), agent.hostname).catch((error: Error) => {
    throw new Error(`${error.message}\nagent output:\n${agent.output.slice(-3000)}`);
  });
  return {
    master,
    masterAddress,
    agent,
    stop: async () => {
      await agent.stop();
      await master.stop();
    },
  };
}

/** A framework that launches `command` on the first offer that fits and records every update of it. */
export class OneTaskScheduler {
  readonly updates: TaskStatus[] = [];
  launched = false;

  constructor(
    readonly client: SchedulerClient,
    readonly taskId: string,
    command: string,
  ) {
    client.on('OFFERS', (event) => {
      for (const offer of event.offers.offers) {
        const match = this.launched ? null : matchOffer(offer, { cpus: 0.1, memMb: 32 });
        if (match === null) {
          void client.decline([offer.id], { refuse_seconds: 1 }).catch(() => undefined);
          continue;
        }
        this.launched = true;
        void client.launch(offer, [
          buildTaskInfo(offer, match, { name: 'e2e', taskId, command: { kind: 'shell', line: command } }),
        ]);
      }
    });
    client.on('UPDATE', (event) => {
      if (event.update.status.task_id.value === taskId) this.updates.push(event.update.status);
    });
  }

  states(): string[] {
    return this.updates.map((status) => status.state);
  }

  waitForState(state: string, timeoutMs = 60_000): Promise<TaskStatus> {
    return waitFor(() => this.updates.find((status) => status.state === state), {
      timeoutMs,
      what: `${this.taskId} to reach ${state} (seen ${this.states().join(', ') || 'nothing'})`,
    });
  }
}

export function newClient(
  masters: string,
  options: Partial<ConstructorParameters<typeof SchedulerClient>[0]> = {},
): SchedulerClient {
  return new SchedulerClient({
    masters: parseMasterList(masters),
    framework: {
      user: os.userInfo().username,
      name: 'sdk-e2e',
      roles: ['*'],
      failover_timeout: 300,
      checkpoint: true,
      capabilities: [{ type: 'MULTI_ROLE' }],
    },
    ...options,
  });
}
