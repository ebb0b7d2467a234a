// Task launch throughput on a real agent: one in-process master (Raft of one, real SQLite) and
// one `flotilla agent` process; each run launches `--tasks` command tasks running `true` in one
// ACCEPT and measures the time from the ACCEPT's commit until every task is TASK_FINISHED (the
// agent's whole path: launch message, executor, containerizer, status updates, their commits).
// Repeated `--runs` times on the same agent; the median is reported.
import { parseArgs } from 'node:util';
import { isTerminalTaskState } from '../src/protocol/task-states.ts';
import type { MasterCore } from '../src/master/interface.ts';
import type { FrameworkId } from '../src/state-machine/ids.ts';
import {
  AgentProcess,
  commandTask,
  launchTasks,
  subscribeFramework,
  taskOf,
  waitForAgent,
} from '../test/agent/support/daemon-support.ts';
import { startSingleMaster } from '../test/support/master.ts';
import { waitFor } from '../test/support/wait.ts';
import { median, printTable, round } from './_report.ts';

const runTimeoutMs = 240_000;

async function declineOutstanding(facade: () => MasterCore, framework: FrameworkId): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const offerIds = [...facade().state().offers.values()]
    .filter((offer) => offer.frameworkId === framework)
    .map((offer) => offer.id);
  if (offerIds.length > 0) await facade().submit({ type: 'decline_offers', at: 0, frameworkId: framework, offerIds });
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { tasks: { type: 'string', default: '100' }, runs: { type: 'string', default: '3' } },
  });
  const tasks = Number(values.tasks);
  const runs = Number(values.runs);
  process.stderr.write(`launch bench: 1 master, 1 agent process, ${runs} runs of ${tasks} \`true\` tasks\n`);
  const cluster = await startSingleMaster();
  const address = cluster.url.slice('http://'.length);
  const agent = await AgentProcess.start(address, ['--resources', 'cpus:64;mem:65536;disk:10000']);
  const durationsMs: number[] = [];
  try {
    const facade = () => cluster.master.facade;
    const agentId = await waitForAgent(() => facade().state(), agent.hostname);
    const framework: FrameworkId = await subscribeFramework((command) => facade().submit(command), 'bench-launch');
    // Offers are made here, one per run: the allocator's own would hold the agent's resources.
    cluster.master.allocation.suppress(framework, []);
    await declineOutstanding(facade, framework);
    for (let run = 0; run < runs; run++) {
      const ids = Array.from({ length: tasks }, (_, position) => `run${run}-task${position}`);
      const startedAt = performance.now();
      await launchTasks(
        facade,
        framework,
        agentId,
        ids.map((id) => commandTask(id, 'true', { resources: commandTask(id, 'true').resources })),
      );
      await waitFor(
        () => ids.every((id) => isTerminalTaskState(taskOf(facade().state(), framework, id)?.state ?? 'TASK_STAGING')),
        { timeoutMs: runTimeoutMs, what: `run ${run}: every task terminal`, intervalMs: 20 },
      );
      durationsMs.push(performance.now() - startedAt);
      const failed = ids.filter((id) => taskOf(facade().state(), framework, id)?.state !== 'TASK_FINISHED');
      if (failed.length > 0) throw new Error(`run ${run}: ${failed.length} tasks did not finish`);
      process.stderr.write(`  run ${run + 1}/${runs}: ${round(durationsMs.at(-1)!, 0)} ms\n`);
    }
  } finally {
    await agent.stop('SIGTERM');
    await cluster.stop();
  }
  const medianMs = median(durationsMs);
  const line = {
    bench: 'launch',
    tasks,
    runs,
    medianMs: round(medianMs, 0),
    tasksPerSecond: round((tasks * 1000) / medianMs, 1),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  printTable([line]);
}
