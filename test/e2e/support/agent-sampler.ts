// Samples the agents' own task lists (their checkpoints, not the masters' view) until stopped,
// and remembers the most live tasks with an id prefix seen at once: a test of "never more
// instances than asked" reads `most`. Used across failovers, so a sample that fails (an agent
// between re-registrations) is skipped, and `samples` says how many succeeded.
import type { E2eCluster } from './cluster.ts';
import { liveTaskStates } from './framework.ts';

const sampleIntervalMs = 100;

export class AgentSampler {
  most = 0;
  samples = 0;
  #running = true;
  readonly #loop: Promise<void>;

  constructor(
    readonly cluster: E2eCluster,
    readonly prefix: string,
  ) {
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        const lists = await Promise.all(this.cluster.agents.map((agent) => this.cluster.agentTasks(agent)));
        const live = lists
          .flat()
          .filter((task) => task.taskId.startsWith(this.prefix) && liveTaskStates.has(task.state));
        this.most = Math.max(this.most, live.length);
        this.samples += 1;
      } catch {
        // An agent between re-registrations may not answer; the next sample will.
      }
      await new Promise((resolve) => setTimeout(resolve, sampleIntervalMs));
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }
}
