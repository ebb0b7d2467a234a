// The example framework's scheduler: it launches three tasks into one custom executor
// (executor.ts) on the first agent that offers enough, exchanges a message with the executor,
// kills the task that would run forever, and when the other two have finished shuts the
// executor down and tears the framework down.
//
//   npm start                                   # a master and an agent on this machine
//   npx tsx examples/executors/scheduler.ts     # FLOTILLA_MASTERS=host:port,… to point elsewhere
import { type MasterAddress, SchedulerClient, parseMasterList } from '../../src/frameworks/sdk/index.ts';
import type { Offer, TaskStatus } from '../../src/protocol/mesos.ts';
import { isTerminalTaskState } from '../../src/protocol/task-states.ts';
import { exampleTask } from './framework.ts';

const executorId = 'example-executor';
const masters: readonly MasterAddress[] = parseMasterList(process.env.FLOTILLA_MASTERS ?? '127.0.0.1:5050');
const client = new SchedulerClient({
  masters,
  framework: { name: 'executor-example', user: process.env.USER ?? 'root' },
});
const print = (line: string): void => console.log(`[scheduler] ${line}`);

let agent: Offer['agent_id'] | null = null;
const states = new Map<string, string>();
const scalarOf = (offer: Offer, name: string): number =>
  offer.resources
    .filter((resource) => resource.name === name)
    .reduce((sum, each) => sum + (each.scalar?.value ?? 0), 0);

client.on('OFFERS', (event) => {
  for (const offer of event.offers.offers) {
    if (agent !== null || scalarOf(offer, 'cpus') < 0.4 || scalarOf(offer, 'mem') < 112) {
      void client.decline([offer.id], { refuse_seconds: 3600 });
      continue;
    }
    agent = offer.agent_id;
    const tasks = [
      exampleTask(offer, executorId, 'work-1', 2_000),
      exampleTask(offer, executorId, 'work-2', 3_000),
      exampleTask(offer, executorId, 'forever', null),
    ];
    print(`launching ${tasks.length} tasks into executor ${executorId} on ${offer.hostname}`);
    void client.launch(offer, tasks);
  }
});

client.on('UPDATE', (event) => onUpdate(event.update.status));

client.on('MESSAGE', (event) => {
  print(`message from ${event.message.executor_id.value}: ${Buffer.from(event.message.data, 'base64').toString()}`);
  print('killing the task that would run forever');
  void client.kill('forever');
});

client.on('FAILURE', (event) => print(`executor ${event.failure.executor_id?.value ?? '?'} has ended`));

function onUpdate(status: TaskStatus): void {
  const taskId = status.task_id.value;
  states.set(taskId, status.state);
  print(`${taskId}: ${status.state}${status.message === undefined ? '' : ` (${status.message})`}`);
  if (taskId === 'forever' && status.state === 'TASK_RUNNING' && agent !== null)
    void client.message(agent, executorId, 'ping');
  if (states.size === 3 && [...states.values()].every((state) => isTerminalTaskState(state))) void finish();
}

async function finish(): Promise<void> {
  if (agent !== null) await client.shutdown(agent, executorId);
  print('all tasks ended; tearing the framework down');
  await client.teardown();
}

await client.subscribe();
print(`subscribed as ${client.frameworkId}`);
