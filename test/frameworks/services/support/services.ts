// The services framework for tests: in this process (startServicesDaemon) or as a real
// `flotilla services` process that a test can SIGKILL and start again; and a small Marathon API
// reader for assertions.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMasterList } from '../../../../src/frameworks/sdk/masters.ts';
import { type ServicesDaemon, startServicesDaemon } from '../../../../src/frameworks/services/daemon.ts';
import { silentLogger } from '../../../../src/util/logger.ts';
import { freePort } from '../../../raft/support/process-cluster.ts';
import { waitFor } from '../../../support/wait.ts';

const flotillaBin = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  'bin',
  'flotilla.js',
);

/** Short enough that a restarted framework does not wait long for its predecessor's lease. */
export const testLeaseTtlMs = 2_000;

export async function startInProcess(
  masters: string,
  namespace = 'services-test',
  role = '*',
): Promise<ServicesDaemon> {
  return startServicesDaemon({
    masters: parseMasterList(masters),
    host: '127.0.0.1',
    port: await freePort(),
    namespace,
    role,
    leaseTtlMs: testLeaseTtlMs,
    logger: silentLogger,
  });
}

export async function waitForLeading(address: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    async () => {
      const response = await fetch(`http://${address}/v2/info`, { signal: AbortSignal.timeout(2_000) });
      return ((await response.json()) as { elected: boolean }).elected;
    },
    { timeoutMs, what: `services at ${address} to lead`, intervalMs: 100 },
  );
}

/** A `flotilla services` child process. */
export class ServicesProcess {
  child: ChildProcess | null = null;
  output = '';

  constructor(
    readonly masters: string,
    readonly port: number,
    readonly namespace: string,
  ) {}

  static async start(masters: string, namespace: string): Promise<ServicesProcess> {
    const started = new ServicesProcess(masters, await freePort(), namespace);
    started.launch();
    return started;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  launch(): void {
    const child = spawn(
      process.execPath,
      [
        flotillaBin,
        'services',
        '--masters',
        this.masters,
        '--listen',
        this.address,
        '--namespace',
        this.namespace,
        '--lease-ttl-ms',
        String(testLeaseTtlMs),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FLOTILLA_LOG_LEVEL: 'info' } },
    );
    this.child = child;
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString('utf8')).slice(-300_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}

export interface MarathonAnswer<Body> {
  readonly status: number;
  readonly body: Body;
  readonly headers: Headers;
}

/** One Marathon API call; the body parsed when it is JSON. */
export async function marathon<Body = Record<string, unknown>>(
  address: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<MarathonAnswer<Body>> {
  const response = await fetch(`http://${address}${route}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // text/plain answers stay text
  }
  return { status: response.status, body: parsed as Body, headers: response.headers };
}

export interface AppView {
  readonly id: string;
  readonly instances: number;
  readonly tasksRunning: number;
  readonly tasksHealthy: number;
  readonly tasksStaged: number;
  readonly deployments: { id: string }[];
  readonly tasks: {
    id: string;
    state: string;
    host: string;
    version: string;
    healthCheckResults: { alive: boolean }[];
  }[];
}

export async function appView(address: string, appId: string): Promise<AppView | null> {
  const answer = await marathon<{ app: AppView }>(address, 'GET', `/v2/apps${appId}`);
  return answer.status === 200 ? answer.body.app : null;
}

/** Until the app has `count` running tasks and no deployment. */
export function waitForSteady(address: string, appId: string, count: number, timeoutMs = 90_000): Promise<AppView> {
  return waitFor(
    async () => {
      const app = await appView(address, appId);
      return app !== null && app.tasksRunning === count && app.tasks.length === count && app.deployments.length === 0
        ? app
        : null;
    },
    { timeoutMs, what: `${appId} to run ${count} tasks with no deployment`, intervalMs: 200 },
  );
}

/**
 * An app whose tasks note their start in the runs file and turn healthy about 3 s after it, so
 * a scale-up deployment lasts long enough to interrupt.
 */
export function slowApp(runsFile: string, id: string, instances: number): Record<string, unknown> {
  return {
    id,
    instances,
    cpus: 0.1,
    mem: 16,
    cmd: `echo "$MESOS_TASK_ID $$" >> '${runsFile}'; sleep 3; touch ok; exec sleep 600`,
    healthChecks: [
      {
        protocol: 'COMMAND',
        command: { value: 'test -e ok' },
        gracePeriodSeconds: 60,
        intervalSeconds: 1,
        delaySeconds: 0,
        timeoutSeconds: 5,
        maxConsecutiveFailures: 60,
      },
    ],
  };
}
