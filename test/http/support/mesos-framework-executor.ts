// A custom executor written with mesos-framework 0.5.3's Executor class, unmodified, as a
// framework using that package would ship it; the compatibility test has the agent run it.
// A task reports TASK_RUNNING; a framework message is answered with "pong <message>", and then
// every task it runs ends TASK_FINISHED. Its updates are plain TaskStatus objects with a 16-byte uuid
// in base64, as executor-http-api.md asks. Every event type the agent sends has a handler: the
// package's fallback for the others refers to a name it never defines.
import { randomBytes } from 'node:crypto';
import { Executor } from 'mesos-framework';

interface IdValue {
  value: string;
}

function status(taskId: string, state: string): Record<string, unknown> {
  return {
    task_id: { value: taskId },
    state,
    source: 'SOURCE_EXECUTOR',
    uuid: randomBytes(16).toString('base64'),
  };
}

const running = new Set<string>();

const executor = new Executor({
  handlers: {
    SUBSCRIBED: function subscribed(_event: unknown) {},
    LAUNCH: function launch(this: Executor, event: unknown) {
      const taskId = (event as { task: { task_id: IdValue } }).task.task_id.value;
      running.add(taskId);
      this.update(status(taskId, 'TASK_RUNNING'));
    },
    KILL: function kill(this: Executor, event: unknown) {
      this.update(status((event as { task_id: IdValue }).task_id.value, 'TASK_KILLED'));
    },
    ACKNOWLEDGED: function acknowledged(_event: unknown) {},
    MESSAGE: function message(this: Executor, event: unknown) {
      this.message(`pong ${Buffer.from((event as { data: string }).data, 'base64').toString('utf8')}`);
      for (const taskId of running) this.update(status(taskId, 'TASK_FINISHED'));
      running.clear();
    },
    ERROR: function error(_event: unknown) {},
    SHUTDOWN: function shutdown(_event: unknown) {
      process.exit(0);
    },
  },
});
executor.on('error', (problem: unknown) => console.error(`mesos-framework executor: ${JSON.stringify(problem)}`));
executor.subscribe();
