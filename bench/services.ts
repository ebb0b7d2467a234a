// The services framework at scale: three real `flotilla master` processes on loopback, N
// simulated agents (bench/_simulated-agents.ts: the real agent WebSocket protocol, no real
// tasks), and the services framework in this process. It creates `apps` apps of `instances`
// instances each through POST /v2/apps (20 requests in flight), and reports the time until
// every one runs all its instances, then the latency of GET /v2/apps?embed=apps.tasks (median,
// p95, max of `reads` requests), with the answer's size and this process's event-loop delay
// (this process also runs the simulated agents and the HTTP client, so the delay is an upper bound
// on the framework's own).
//
//   npm run bench -- services [--apps 1000] [--instances 10] [--agents 50] [--reads 20] [--quick]
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseMasterList } from '../src/frameworks/sdk/masters.ts';
import { startServicesDaemon } from '../src/frameworks/services/daemon.ts';
import { createLogger, silentLogger } from '../src/util/logger.ts';
import { freePort, ProcessCluster } from '../test/raft/support/process-cluster.ts';
import { makeTempDir } from '../test/support/tmp.ts';
import { median, percentile, printTable, round } from './_report.ts';
import { SimulatedAgent, simulatedResources } from './_simulated-agents.ts';

interface Settings {
  readonly apps: number;
  readonly instances: number;
  readonly agents: number;
  readonly reads: number;
}

const postConcurrency = 20;
const pollIntervalMs = 250;
const deadlineMs = 1_800_000;

function settingsFrom(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      apps: { type: 'string' },
      instances: { type: 'string' },
      agents: { type: 'string' },
      reads: { type: 'string' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick === true;
  const number = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : Number(text));
  return {
    apps: number(values.apps, quick ? 20 : 1000),
    instances: number(values.instances, quick ? 3 : 10),
    agents: number(values.agents, quick ? 4 : 50),
    reads: number(values.reads, quick ? 5 : 20),
  };
}

async function request(
  address: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://${address}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(120_000),
  });
  return { status: response.status, text: await response.text() };
}

/**
 * One POST whose outcome may be unknown: a connection reset (a keep-alive socket the server
 * closed as the request went out, or an event loop stalled under load) reads as a 503, and the
 * caller retries it like one.
 */
async function postApp(address: string, app: Record<string, unknown>): Promise<{ status: number; text: string }> {
  try {
    return await request(address, 'POST', '/v2/apps', app);
  } catch (error) {
    return { status: 503, text: `no answer: ${(error as Error).cause ?? (error as Error).message}` };
  }
}

async function createApps(address: string, settings: Settings): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < settings.apps) {
      const index = next++;
      const app = { id: `/bench/app-${index}`, cmd: 'sleep 3600', cpus: 0.01, mem: 1, instances: settings.instances };
      let answer = await postApp(address, app);
      const retried = answer.status === 503;
      // 503: the framework is (re)loading after losing its lease under load; a client retries.
      for (let retry = 0; answer.status === 503 && retry < 120; retry++) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        answer = await postApp(address, app);
      }
      // 409 after a 503 or a reset: an earlier attempt landed before its answer was lost (the
      // framework lost its lease between writing the app and answering), so the app exists as asked.
      const landedEarlier = answer.status === 409 && retried;
      if (answer.status !== 201 && !landedEarlier)
        throw new Error(`POST /v2/apps ${app.id}: ${answer.status} ${answer.text.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: postConcurrency }, worker));
}

/** Until no deployment runs (each app's ScaleApplication ends when all its instances run), then checked. */
async function waitAllRunning(address: string, settings: Settings, startedAt: number): Promise<number> {
  for (;;) {
    const answer = await request(address, 'GET', '/v2/deployments');
    if (answer.status !== 200) {
      await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      continue;
    }
    const running = (JSON.parse(answer.text) as unknown[]).length;
    if (running === 0) break;
    if (performance.now() - startedAt > deadlineMs)
      throw new Error(`${running} deployments still running at the deadline`);
    process.stderr.write(`\r${running} deployments running   `);
    await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
  }
  const doneMs = performance.now() - startedAt;
  const apps = (JSON.parse((await request(address, 'GET', '/v2/apps')).text) as { apps: { tasksRunning: number }[] })
    .apps;
  const running = apps.reduce((total, app) => total + app.tasksRunning, 0);
  if (apps.length !== settings.apps || running !== settings.apps * settings.instances) {
    throw new Error(`deployments done but ${apps.length} apps with ${running} instances running`);
  }
  return doneMs;
}

async function measureReads(address: string, reads: number): Promise<{ latencies: number[]; bytes: number }> {
  const latencies: number[] = [];
  let bytes = 0;
  for (let read = 0; read < reads; read++) {
    const startedAt = performance.now();
    const answer = await request(address, 'GET', '/v2/apps?embed=apps.tasks');
    latencies.push(performance.now() - startedAt);
    bytes = answer.text.length;
  }
  return { latencies, bytes };
}

export async function main(argv: string[]): Promise<void> {
  const settings = settingsFrom(argv);
  process.stderr.write(
    `services bench: 3 masters, ${settings.agents} simulated agents, ${settings.apps} apps × ${settings.instances} instances\n`,
  );
  const masters = await ProcessCluster.start(makeTempDir('bench-services-'), 3, [], 'master');
  const masterList = masters.replicas.map((replica) => replica.address);
  const agents = Array.from(
    { length: settings.agents },
    (_, index) =>
      new SimulatedAgent(masterList, {
        hostname: `sim-${index}`,
        resources: simulatedResources(64, 65_536, [31_000, 33_000]),
      }),
  );
  const delay = monitorEventLoopDelay({ resolution: 10 });
  try {
    await Promise.all(agents.map((agent) => agent.start()));
    const daemon = await startServicesDaemon({
      masters: parseMasterList(masterList.join(',')),
      host: '127.0.0.1',
      port: await freePort(),
      namespace: 'bench-services',
      maxRunningDeployments: settings.apps,
      // Simulated tasks start at once: a launch not running after 20 s was lost on its way.
      taskLaunchTimeoutMs: 20_000,
      // The masters are this bench's bottleneck: a longer lease rides out their slow moments.
      leaseTtlMs: 30_000,
      // FLOTILLA_LOG_LEVEL=info (or debug) shows the framework's log on stderr; silent otherwise.
      logger: process.env.FLOTILLA_LOG_LEVEL ? createLogger({ node: 'bench', component: 'services' }) : silentLogger,
    });
    try {
      await waitLeading(daemon.address);
      delay.enable();
      const startedAt = performance.now();
      await createApps(daemon.address, settings);
      const allRunningMs = await waitAllRunning(daemon.address, settings, startedAt);
      process.stderr.write('\n');
      const reads = await measureReads(daemon.address, settings.reads);
      delay.disable();
      report(settings, allRunningMs, reads, agents, { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 });
    } finally {
      await daemon.stop();
    }
  } finally {
    for (const agent of agents) agent.close();
    await masters.stop();
  }
}

async function waitLeading(address: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const answer = await request(address, 'GET', '/v2/info').catch(() => null);
    if (answer !== null && (JSON.parse(answer.text) as { elected: boolean }).elected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the services framework did not lead within 60 s');
}

function report(
  settings: Settings,
  allRunningMs: number,
  reads: { latencies: number[]; bytes: number },
  agents: readonly SimulatedAgent[],
  eventLoop: { p99: number; max: number },
): void {
  const launched = agents.reduce((total, agent) => total + agent.launches, 0);
  const result = {
    bench: 'services',
    apps: settings.apps,
    instances: settings.instances,
    agents: settings.agents,
    all_running_ms: round(allRunningMs, 0),
    launches: launched,
    get_apps_embed_tasks_median_ms: round(median(reads.latencies), 1),
    get_apps_embed_tasks_p95_ms: round(percentile(reads.latencies, 0.95), 1),
    get_apps_embed_tasks_max_ms: round(Math.max(...reads.latencies), 1),
    get_apps_embed_tasks_bytes: reads.bytes,
    event_loop_delay_p99_ms: round(eventLoop.p99, 1),
    event_loop_delay_max_ms: round(eventLoop.max, 1),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  printTable([
    {
      apps: settings.apps,
      'instances/app': settings.instances,
      agents: settings.agents,
      'all running (s)': round(allRunningMs / 1000, 1),
      launches: launched,
      'GET embed=tasks median (ms)': result.get_apps_embed_tasks_median_ms,
      'p95 (ms)': result.get_apps_embed_tasks_p95_ms,
      'answer (KiB)': round(reads.bytes / 1024, 0),
      'loop delay p99/max (ms)': `${result.event_loop_delay_p99_ms}/${result.event_loop_delay_max_ms}`,
    },
  ]);
}
