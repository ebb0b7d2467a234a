// The services framework end to end, as its own `flotilla services` process, on three real
// masters and two real agents: scale 1 → 5 → 2; server-sent events of a deployment; a rolling
// update with a health check that never drops below the healthy capacity asked for (sampled
// throughout); a killed instance replaced after its back-off; ["hostname","UNIQUE"] placing 2 of
// 3 and saying why the third waits; an app's fetch (a file and an executable script) fetched by
// the agent and run.
// flotilla-test-timeout-seconds: 900
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { E2eCluster, recordingCommand } from '../../e2e/support/cluster.ts';
import { liveTaskStates } from '../../e2e/support/framework.ts';
import { freePort } from '../../raft/support/process-cluster.ts';
import { waitFor } from '../../support/wait.ts';
import { appView, marathon, ServicesProcess, waitForLeading, waitForSteady } from './support/services.ts';

const agentResources = 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]';
let cluster: E2eCluster;
let services: ServicesProcess;

test.before(async () => {
  cluster = await E2eCluster.start('services', [agentResources, agentResources]);
  services = await ServicesProcess.start(cluster.masterList, 'services-e2e');
  await waitForLeading(services.address).catch((error: Error) => {
    throw new Error(`${error.message}\n${services.output.slice(-3000)}`);
  });
});
test.after(async () => {
  await services?.stop();
  await cluster?.stop();
});

/** Live tasks of the framework by the agents' own account (their checkpoints), across agents. */
async function agentLiveTasks(prefix: string): Promise<string[]> {
  const lists = await Promise.all(cluster.agents.map((agent) => cluster.agentTasks(agent)));
  return lists
    .flat()
    .filter((task) => task.taskId.startsWith(prefix) && liveTaskStates.has(task.state))
    .map((task) => task.taskId);
}

const app = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  cmd: recordingCommand(cluster.runsFile),
  cpus: 0.1,
  mem: 16,
  ...extra,
});

test('an app scaled 1 → 5 → 2 runs exactly that many, by the framework and by the agents', async () => {
  const created = await marathon(services.address, 'POST', '/v2/apps', app('/e2e/scale', { instances: 1 }));
  assert.is(created.status, 201);
  await waitForSteady(services.address, '/e2e/scale', 1);
  for (const count of [5, 2]) {
    const answer = await marathon<{ deploymentId: string }>(services.address, 'PUT', '/v2/apps/e2e/scale', {
      instances: count,
    });
    assert.is(answer.status, 200);
    assert.is(answer.headers.get('marathon-deployment-id'), answer.body.deploymentId);
    const steady = await waitForSteady(services.address, '/e2e/scale', count);
    await waitFor(async () => (await agentLiveTasks('e2e_scale.')).length === count, {
      timeoutMs: 60_000,
      what: `the agents to run ${count} e2e_scale tasks`,
    });
    assert.equal((await agentLiveTasks('e2e_scale.')).sort(), steady.tasks.map((task) => task.id).sort());
  }
});

/** Reads an SSE stream until `until` returns true for the events so far. */
async function readEvents(
  url: string,
  until: (events: { event: string; data: Record<string, unknown> }[]) => boolean,
  started: () => Promise<void>,
): Promise<{ event: string; data: Record<string, unknown> }[]> {
  const controller = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
  assert.is(response.headers.get('content-type'), 'text/event-stream');
  // The headers come once the stream is subscribed (not with its first event, which a filter
  // may hold back), so what `started` causes is on it.
  await started();
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const deadline = setTimeout(() => controller.abort(), 120_000);
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        assert.ok(event !== undefined && data !== undefined, `a frame has event and data lines: ${frame}`);
        events.push({ event: event!, data: JSON.parse(data!) });
        end = buffer.indexOf('\n\n');
      }
      if (until(events)) break;
    }
  } finally {
    clearTimeout(deadline);
    controller.abort();
  }
  return events;
}

test('server-sent events arrive for a deployment, filtered by event_type', async () => {
  let deploymentId = '';
  const types = ['deployment_info', 'deployment_step_success', 'deployment_success', 'status_update_event'];
  const query = types.map((type) => `event_type=${type}`).join('&');
  const events = await readEvents(
    `http://${services.address}/v2/events?${query}`,
    (seen) => seen.some((event) => event.event === 'deployment_success' && event.data.id === deploymentId),
    async () => {
      const answer = await marathon<{ deploymentId: string }>(services.address, 'PUT', '/v2/apps/e2e/scale', {
        instances: 3,
      });
      deploymentId = answer.body.deploymentId;
    },
  );
  const names = events.map((event) => event.event);
  assert.ok(names.includes('deployment_info'), names.join(','));
  assert.ok(names.includes('status_update_event'), names.join(','));
  assert.not.ok(names.includes('event_stream_attached'), 'the filter holds for it too, as on Marathon');
  const running = events.find(
    (event) => event.event === 'status_update_event' && event.data.taskStatus === 'TASK_RUNNING',
  );
  assert.is(running?.data.appId, '/e2e/scale');
  for (const event of events) assert.is(event.data.eventType, event.event);
  await waitForSteady(services.address, '/e2e/scale', 3);
});

test('["hostname","UNIQUE"] with two agents places 2 and queues the 3rd, saying why', async () => {
  await marathon(
    services.address,
    'POST',
    '/v2/apps',
    app('/e2e/unique', { instances: 3, constraints: [['hostname', 'UNIQUE']] }),
  );
  const placed = await waitFor(
    async () => {
      const view = await appView(services.address, '/e2e/unique');
      return view !== null && view.tasksRunning === 2 ? view : null;
    },
    { timeoutMs: 90_000, what: '/e2e/unique to run 2 tasks' },
  );
  assert.is(new Set(placed.tasks.map((task) => task.host)).size, 2, 'one per agent');
  const item = await waitFor(
    async () => {
      const queue = await marathon<{ queue: Record<string, unknown>[] }>(services.address, 'GET', '/v2/queue');
      const entry = queue.body.queue.find((candidate) => (candidate.app as { id: string }).id === '/e2e/unique');
      const steps = (
        entry?.processedOffersSummary as { rejectSummaryLastOffers: { reason: string; declined: number }[] }
      )?.rejectSummaryLastOffers;
      return steps?.find((step) => step.reason === 'UnfulfilledConstraint' && step.declined >= 2) ? entry : null;
    },
    { timeoutMs: 60_000, what: 'the queue to show UnfulfilledConstraint for both agents' },
  );
  assert.is(item.count, 1);
  const shown = await marathon<{ app: { queue: { count: number } } }>(
    services.address,
    'GET',
    '/v2/apps/e2e/unique?embed=app.queue',
  );
  assert.is(shown.body.app.queue.count, 1);
  assert.is((await appView(services.address, '/e2e/unique'))?.tasksRunning, 2, 'still 2: the third never lands');
  await marathon(services.address, 'DELETE', '/v2/apps/e2e/unique?force=true');
});

test('a killed instance is replaced, after its back-off', async () => {
  await marathon(
    services.address,
    'POST',
    '/v2/apps',
    app('/e2e/crash', { instances: 1, backoffSeconds: 2, backoffFactor: 2 }),
  );
  const first = (await waitForSteady(services.address, '/e2e/crash', 1)).tasks[0]!;
  const stagedAfter: number[] = [];
  let victim = first.id;
  for (const expectedDelayMs of [2_000, 4_000]) {
    const run = await waitFor(() => cluster.runs().find((record) => record.taskId === victim), {
      timeoutMs: 30_000,
      what: `${victim} in the runs file`,
    });
    const killedAt = Date.now();
    process.kill(run.pid, 'SIGKILL');
    const replacement = await waitFor(
      async () => {
        const view = await appView(services.address, '/e2e/crash');
        const task = view?.tasks.find((candidate) => candidate.id !== victim && candidate.state === 'TASK_RUNNING');
        return task ?? null;
      },
      { timeoutMs: 90_000, what: `a replacement for ${victim}` },
    );
    const stagedAt = Date.parse((replacement as unknown as { stagedAt: string }).stagedAt);
    // A lower bound only: the framework may not launch before the back-off ends.
    assert.ok(
      stagedAt - killedAt >= expectedDelayMs - 500,
      `replacement staged ${stagedAt - killedAt} ms after the kill`,
    );
    stagedAfter.push(stagedAt - killedAt);
    victim = replacement.id;
  }
  const failure = await marathon<{ app: { lastTaskFailure: { state: string } } }>(
    services.address,
    'GET',
    '/v2/apps/e2e/crash',
  );
  assert.is(failure.body.app.lastTaskFailure.state, 'TASK_FAILED');
  await marathon(services.address, 'DELETE', '/v2/apps/e2e/crash');
});

test('a rolling update with a health check never drops below the healthy capacity asked for', async () => {
  const check = {
    protocol: 'COMMAND',
    command: { value: 'test -e ok' },
    gracePeriodSeconds: 60,
    intervalSeconds: 1,
    delaySeconds: 0,
    timeoutSeconds: 5,
    maxConsecutiveFailures: 60,
  };
  const definition = (generation: number) =>
    app('/e2e/roll', {
      instances: 4,
      cmd: `echo "$MESOS_TASK_ID $$" >> '${cluster.runsFile}'; sleep 2; touch ok; exec sleep ${600 + generation}`,
      upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.5 },
      healthChecks: [check],
    });
  await marathon(services.address, 'POST', '/v2/apps', definition(0));
  // Marathon answers 409 to a PUT while the app's own deployment is still open, and that
  // deployment closes only on the tick after its fourth task turns healthy.
  await waitFor(
    async () => {
      const view = await appView(services.address, '/e2e/roll');
      return view?.tasksHealthy === 4 && view.deployments.length === 0;
    },
    { timeoutMs: 120_000, what: '/e2e/roll to have 4 healthy tasks and no deployment' },
  );
  const before = new Set((await appView(services.address, '/e2e/roll'))!.tasks.map((task) => task.id));
  const update = await marathon<{ deploymentId: string }>(services.address, 'PUT', '/v2/apps/e2e/roll', definition(1));
  assert.is(update.status, 200);
  const samples: { healthy: number; alive: number }[] = [];
  const done = await waitFor(
    async () => {
      const view = (await appView(services.address, '/e2e/roll'))!;
      const healthy = view.tasks.filter(
        (task) => task.state === 'TASK_RUNNING' && task.healthCheckResults.some((result) => result.alive),
      ).length;
      samples.push({ healthy, alive: view.tasks.length });
      const replaced = view.tasks.every((task) => !before.has(task.id));
      return view.deployments.length === 0 && replaced && view.tasksHealthy === 4 ? view : null;
    },
    { timeoutMs: 180_000, what: 'the rolling update to finish', intervalMs: 100 },
  );
  assert.is(done.tasks.length, 4);
  assert.ok(samples.length > 10, `sampled ${samples.length} times`);
  const lowest = Math.min(...samples.map((sample) => sample.healthy));
  const highest = Math.max(...samples.map((sample) => sample.alive));
  assert.ok(lowest >= 2, `healthy dropped to ${lowest} (minimumHealthCapacity 0.5 of 4 is 2)`);
  assert.ok(highest <= 6, `${highest} alive (maximumOverCapacity 0.5 of 4 allows 6)`);
});

test('an app fetches its files (fetch, executable with outputFile) and its task runs them', async () => {
  const port = await freePort();
  const files: Record<string, string> = {
    '/greeting.txt': 'hello from fetch\n',
    '/show.sh': '#!/bin/sh\ncat greeting.txt\n',
  };
  const server = createServer((request, response) => {
    const body = files[request.url ?? ''];
    if (body === undefined) return void response.writeHead(404).end();
    response.writeHead(200).end(body);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${port}`;
    const created = await marathon(services.address, 'POST', '/v2/apps', {
      id: '/e2e/fetch',
      cmd: './bin/show && sleep 600',
      cpus: 0.1,
      mem: 16,
      instances: 1,
      fetch: [{ uri: `${base}/greeting.txt` }, { uri: `${base}/show.sh`, executable: true, outputFile: 'bin/show' }],
    });
    assert.is(created.status, 201, JSON.stringify(created.body));
    const steady = await waitForSteady(services.address, '/e2e/fetch', 1);
    const taskId = steady.tasks[0]!.id;
    const stdout = await waitFor(
      () => {
        for (const agent of cluster.agents) {
          const frameworks = path.join(agent.workDir, 'frameworks');
          if (!existsSync(frameworks)) continue;
          for (const framework of readdirSync(frameworks)) {
            const file = path.join(frameworks, framework, 'tasks', taskId, 'stdout');
            if (existsSync(file) && readFileSync(file, 'utf8').includes('hello from fetch')) return file;
          }
        }
        return null;
      },
      { timeoutMs: 60_000, what: `task ${taskId} to print the fetched greeting` },
    );
    assert.ok(stdout);
    const deleted = await marathon(services.address, 'DELETE', '/v2/apps/e2e/fetch');
    assert.is(deleted.status, 200, JSON.stringify(deleted.body));
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

test.run();
