// What the cluster benchmarks (churn.ts, scale.ts) share: three real `flotilla master` processes
// on loopback (test/raft/support/process-cluster.ts), simulated agents of one size in child
// processes (bench/_agent-fleet.ts), one GET_STATE read, and whole-number settings.
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
    // ProcessCluster passes these node flags to the masters it starts (NODE_OPTIONS refuses --cpu-prof).
    const before = process.env.FLOTILLA_REPLICA_NODE_FLAGS;
    if (profileDirectory !== null)
      process.env.FLOTILLA_REPLICA_NODE_FLAGS = `--cpu-prof --cpu-prof-dir=${profileDirectory}`;
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

/** `--flag`'s value (or `fallback` when not given) as a whole number >= 1; throws naming the flag otherwise. */
export function wholeNumber(flag: string, text: string | undefined, fallback: number): number {
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${flag} must be a whole number >= 1, got ${text}`);
  return value;
}
