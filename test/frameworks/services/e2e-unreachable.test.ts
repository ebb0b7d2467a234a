// An instance on an unreachable agent (SIGSTOPped: it answers no ping, the masters mark it
// UNREACHABLE and its task TASK_UNREACHABLE) is replaced only after the app's
// unreachableStrategy.inactiveAfterSeconds. When the agent comes back (SIGCONT) before
// expungeAfterSeconds with the old task still running, its re-registration reports the task
// TASK_RUNNING, the framework sees it return, and the surplus goes by the app's killSelection
// (YOUNGEST_FIRST by default: the replacement), as Marathon's unreachable-strategy docs say.
// flotilla-test-timeout-seconds: 600
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster, recordingCommand } from '../../e2e/support/cluster.ts';
import { liveTaskStates } from '../../e2e/support/framework.ts';
import { waitFor } from '../../support/wait.ts';
import { appView, marathon, ServicesProcess, waitForLeading, waitForSteady } from './support/services.ts';

const agentResources = 'cpus:2;mem:2048;disk:1000;ports:[31000-31099]';
const inactiveAfterSeconds = 10;
const expungeAfterSeconds = 25;
let cluster: E2eCluster;
let services: ServicesProcess;

test.before(async () => {
  cluster = await E2eCluster.start('services-unreachable', [agentResources, agentResources]);
  services = await ServicesProcess.start(cluster.masterList, 'services-unreachable');
  await waitForLeading(services.address);
});
test.after(async () => {
  for (const agent of cluster?.agents ?? []) agent.signal('SIGCONT');
  await services?.stop();
  await cluster?.stop();
});

test('replaced after inactiveAfterSeconds; when its agent returns, the surplus goes by killSelection', async () => {
  await marathon(services.address, 'POST', '/v2/apps', {
    id: '/unr/app',
    cmd: recordingCommand(cluster.runsFile),
    cpus: 0.1,
    mem: 16,
    instances: 1,
    unreachableStrategy: { inactiveAfterSeconds, expungeAfterSeconds },
  });
  const original = (await waitForSteady(services.address, '/unr/app', 1)).tasks[0]!;
  const agent = cluster.agents.find((candidate) => candidate.hostname === original.host)!;
  agent.signal('SIGSTOP');
  await waitFor(
    async () => (await appView(services.address, '/unr/app'))?.tasks.find((task) => task.state === 'TASK_UNREACHABLE'),
    { timeoutMs: 120_000, what: 'the task to be TASK_UNREACHABLE', intervalMs: 100 },
  );
  const seenUnreachableAt = Date.now();
  const replacement = await waitFor(
    async () =>
      (await appView(services.address, '/unr/app'))?.tasks.find(
        (task) => task.id !== original.id && task.state === 'TASK_RUNNING',
      ),
    { timeoutMs: 120_000, what: 'a replacement to run' },
  );
  const stagedAt = Date.parse((replacement as unknown as { stagedAt: string }).stagedAt);
  // A lower bound: seeing the update took a moment, hence the margin below inactiveAfterSeconds.
  assert.ok(
    stagedAt - seenUnreachableAt >= (inactiveAfterSeconds - 3) * 1000,
    `replacement staged ${stagedAt - seenUnreachableAt} ms after the task was seen unreachable`,
  );
  assert.is.not(replacement.host, original.host);
  agent.signal('SIGCONT');
  const settled = await waitFor(
    async () => {
      const view = await appView(services.address, '/unr/app');
      const running = view?.tasks.filter((task) => task.state === 'TASK_RUNNING') ?? [];
      return view?.tasks.length === 1 && running.length === 1 ? view : null;
    },
    { timeoutMs: 180_000, what: 'one task again after the agent came back' },
  );
  assert.is(settled.tasks[0]!.id, original.id, 'the original came back running; YOUNGEST_FIRST killed the replacement');
  await waitFor(
    async () => {
      const lists = await Promise.all(cluster.agents.map((candidate) => cluster.agentTasks(candidate)));
      const live = lists.flat().filter((task) => task.taskId.startsWith('unr_app.') && liveTaskStates.has(task.state));
      return live.length === 1 && live[0]!.taskId === original.id;
    },
    { timeoutMs: 120_000, what: 'the agents to run only the original' },
  );
});

test.run();
