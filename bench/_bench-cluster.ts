// What the cluster benchmarks (churn.ts, scale.ts) share: three real `flotilla master` processes
// on loopback (test/raft/support/process-cluster.ts), simulated agents of one size in child
// processes (bench/_agent-fleet.ts), one GET_STATE read (as text, or its bytes counted), and whole-number settings.
import http from 'node:http';
import { type MasterAddress, parseMasterList } from '../src/frameworks/sdk/masters.ts';
import { ProcessCluster } from '../test/raft/support/process-cluster.ts';
import { makeTempDir } from '../test/support/tmp.ts';
import { AgentFleet } from './_agent-fleet.ts';

/** Each simulated agent's size; a task takes 0.01 cpu and 1 MB, so resources never limit a bench. */
export const agentShape = { cpus: 64, memMb: 65_536 } as const;
export const taskShape = { cpus: 0.01, memMb: 1 } as const;

export class BenchCluster {
  fleet: AgentFleet | null = null;

  private constructor(
    readonly masters: ProcessCluster,
    readonly profileDirectory: string | null,
  ) {}

  /**
   * Three masters with `masterArgs`, data under a fresh temp dir named after `bench`. With a
   * `profileDirectory`, each master runs under `node --cpu-prof` and writes its profile there
   * when stop() ends it with SIGTERM.
   */
  static async start(
    bench: string,
    masterArgs: readonly string[],
    profileDirectory: string | null = null,
  ): Promise<BenchCluster> {
    // ProcessCluster passes these node flags to the masters it starts (NODE_OPTIONS refuses --cpu-prof
    // and --trace-gc): the profile's are added to any the caller set (FLOTILLA_REPLICA_NODE_FLAGS=--trace-gc).
    const before = process.env.FLOTILLA_REPLICA_NODE_FLAGS;
    if (profileDirectory !== null)
      process.env.FLOTILLA_REPLICA_NODE_FLAGS = `${before ?? ''} --cpu-prof --cpu-prof-dir=${profileDirectory}`;
    try {
      const masters = await ProcessCluster.start(makeTempDir(`bench-${bench}-`), 3, [...masterArgs], 'master');
      return new BenchCluster(masters, profileDirectory);
    } finally {
      if (before === undefined) delete process.env.FLOTILLA_REPLICA_NODE_FLAGS;
      else process.env.FLOTILLA_REPLICA_NODE_FLAGS = before;
    }
  }

  get addresses(): string[] {
    return this.masters.replicas.map((replica) => replica.address);
  }

  /** The masters as a scheduler client takes them. */
  get masterList(): MasterAddress[] {
    return parseMasterList(this.addresses.join(','));
  }

  /** `count` agents in `processes` children; resolves once every one registered. */
  async startAgents(count: number, processes: number, timeoutMs: number, finishAtOnce = false): Promise<AgentFleet> {
    this.fleet = await AgentFleet.start(this.addresses, count, processes, timeoutMs, agentShape, finishAtOnce);
    return this.fleet;
  }

  async stop(): Promise<void> {
    await this.fleet?.stop();
    // SIGTERM: a master that exits by itself writes its --cpu-prof profile.
    if (this.profileDirectory !== null)
      await Promise.all(this.masters.replicas.map((replica) => this.masters.kill(replica, 'SIGTERM')));
    await this.masters.stop();
  }
}

/** One GET_STATE on `address`: its time and its whole answer (throws on any other status). */
export async function getState(address: string, timeoutMs: number): Promise<{ ms: number; text: string }> {
  const startedAt = performance.now();
  const response = await fetch(`http://${address}/api/v1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ type: 'GET_STATE' }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  const ms = performance.now() - startedAt;
  if (response.status !== 200) throw new Error(`GET_STATE: ${response.status} ${text.slice(0, 500)}`);
  return { ms, text };
}

export interface OperatorRead {
  readonly ms: number;
  readonly firstByteMs: number;
  readonly bytes: number;
  readonly chunks: number;
}

/**
 * One operator call on `address` read with node:http, its bytes counted and dropped: a measure of
 * the leader more than of this client. fetch hands each 64 KiB read through web streams, and
 * `response.text()` decodes the whole answer again (scale.ts read GET_STATE so until issue 12's
 * getstate15): 560-650 ms of this client's CPU per 109 MB read, taken from the leader's two cores.
 */
export function readOperatorCall(address: string, type: string, timeoutMs: number): Promise<OperatorRead> {
  const startedAt = performance.now();
  const [host, port] = address.split(':');
  return new Promise<OperatorRead>((resolve, reject) => {
    const request = http.request(
      {
        host,
        port: Number(port),
        method: 'POST',
        path: '/api/v1',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        let firstByteMs = Number.NaN;
        let bytes = 0;
        let chunks = 0;
        const head: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          if (chunks === 0) firstByteMs = performance.now() - startedAt;
          chunks += 1;
          bytes += chunk.byteLength;
          if (response.statusCode !== 200 && head.length < 8) head.push(chunk);
        });
        response.on('end', () => {
          if (response.statusCode !== 200)
            reject(new Error(`${type}: ${response.statusCode} ${Buffer.concat(head).toString('utf8').slice(0, 500)}`));
          else resolve({ ms: performance.now() - startedAt, firstByteMs, bytes, chunks });
        });
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify({ type }));
  });
}

/** `--flag`'s value (or `fallback` when not given) as a whole number >= 1; throws naming the flag otherwise. */
export function wholeNumber(flag: string, text: string | undefined, fallback: number): number {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a whole number >= 1, got ${text}`);
  return value;
}
