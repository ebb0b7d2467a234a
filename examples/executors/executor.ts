// The example framework's custom executor: one long-lived process per agent that runs many
// tasks inside itself (as Spark's or Jenkins' executors do), started by the agent with the
// MESOS_* environment. A task's TaskInfo.data is JSON `{"workMs": n}`: the task "works" for n
// milliseconds, then ends TASK_FINISHED (without it, until killed). It answers every framework
// message with "pong <message> from <executor id> running <n> tasks", and on SHUTDOWN ends its
// tasks TASK_KILLED and exits once the agent acknowledged them.
//
// Run by the agent as `node --import <tsx's loader> examples/executors/executor.ts` (framework.ts).
import { ExecutorClient, executorIdentityFromEnvironment } from '../../src/frameworks/executor/index.ts';
import { createLogger } from '../../src/util/logger.ts';

const logger = createLogger({ node: process.env.MESOS_EXECUTOR_ID ?? 'executor', component: 'example-executor' });
const client = new ExecutorClient(executorIdentityFromEnvironment(), { logger });
/** The running tasks' timers (null: runs until killed), by task id. */
const running = new Map<string, NodeJS.Timeout | null>();

function workMsOf(data: unknown): number | null {
  if (typeof data !== 'string') return null;
  try {
    const parsed = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { workMs?: unknown };
    return typeof parsed.workMs === 'number' && parsed.workMs >= 0 ? parsed.workMs : null;
  } catch {
    return null;
  }
}

function end(taskId: string, state: 'TASK_FINISHED' | 'TASK_KILLED', message: string): void {
  const timer = running.get(taskId);
  if (timer === undefined) return;
  if (timer !== null) clearTimeout(timer);
  running.delete(taskId);
  void client.update(taskId, state, { message }).catch((error: unknown) => logger.error({ err: error }, 'update'));
}

client.on('SUBSCRIBED', (event) => {
  logger.info({ agent: event.subscribed.agent_info.hostname, tasks: client.tasks.size }, 'subscribed');
});

client.on('LAUNCH', (event) => {
  const task = event.launch.task;
  const taskId = task.task_id.value;
  if (running.has(taskId)) return;
  const workMs = workMsOf(task.data);
  running.set(taskId, workMs === null ? null : setTimeout(() => end(taskId, 'TASK_FINISHED', 'work done'), workMs));
  logger.info({ task: taskId, workMs }, 'task launched');
  void client.update(taskId, 'TASK_RUNNING', { message: `running in executor ${client.identity.executorId}` });
});

client.on('KILL', (event) => end(event.kill.task_id.value, 'TASK_KILLED', 'killed by the framework'));

client.on('MESSAGE', (event) => {
  const text = Buffer.from(event.message.data, 'base64').toString('utf8');
  const reply = `pong ${text} from ${client.identity.executorId} running ${running.size} tasks`;
  void client.message(reply).catch((error: unknown) => logger.error({ err: error }, 'message'));
});

client.on('SHUTDOWN', () => {
  logger.info({ tasks: running.size }, 'shutting down');
  for (const taskId of [...running.keys()]) end(taskId, 'TASK_KILLED', 'the executor was shut down');
  const exitWhenAcknowledged = setInterval(() => {
    if (client.tasks.size > 0) return;
    clearInterval(exitWhenAcknowledged);
    client.close();
  }, 50);
});

client.start();
await client.done;
process.exit(0);
