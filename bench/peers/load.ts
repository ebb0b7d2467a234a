// The one load generator of the side-by-side benchmark: `clients` closed loops, each writing its
// own key as fast as its answers come back, for a fixed time. Connections are opened before the
// clock starts, so a round measures writes, not connection set-up.
import { percentile } from '../_report.ts';

/** One client of one system: its own connection (HTTP keep-alive socket or ZooKeeper session). */
export interface WriteClient {
  /** Resolves once the system acknowledged the write; rejects on any failure. */
  write(value: string): Promise<void>;
  close(): Promise<void>;
}

export interface RoundResult {
  readonly ops: number;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /**
   * CPU time of this process (the load generator: every client of the round) per acknowledged
   * write. On 2 cores the generator competes with the system it drives, and the systems are not
   * driven by the same client code (HTTP for Flotilla and etcd, a ZooKeeper client library), so a
   * cheaper client leaves its system more CPU: compare it beside the writes/s.
   */
  readonly clientCpuMsPerWrite: number;
}

/** A bench client that meets failures keeps going, but not in a tight loop. */
const pauseAfterErrorMs = 10;

/** 8-byte keys, one per client: "k0000042". */
export function clientKey(client: number): string {
  return `k${String(client).padStart(7, '0')}`;
}

/** 256 printable bytes, different per round so no system can skip an unchanged write. */
export function benchValue(round: number): string {
  const stamp = `round-${round}-`;
  return (stamp + 'v'.repeat(256)).slice(0, 256);
}

export async function runRound(
  open: (client: number) => Promise<WriteClient>,
  clients: number,
  seconds: number,
  value: string,
): Promise<RoundResult> {
  const opened = await Promise.all(Array.from({ length: clients }, (_, client) => open(client)));
  const latenciesMs: number[] = [];
  let errors = 0;
  let cpu: NodeJS.CpuUsage = { user: 0, system: 0 };
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const deadline = started + seconds * 1000;
  try {
    await Promise.all(
      opened.map(async (client) => {
        while (performance.now() < deadline) {
          const begin = performance.now();
          try {
            await client.write(value);
            latenciesMs.push(performance.now() - begin);
          } catch {
            errors += 1;
            await new Promise((resolve) => setTimeout(resolve, pauseAfterErrorMs));
          }
        }
      }),
    );
  } finally {
    cpu = process.cpuUsage(cpuBefore);
    await Promise.all(opened.map((client) => client.close()));
  }
  const elapsedSeconds = (performance.now() - started) / 1000;
  return {
    ops: latenciesMs.length,
    seconds: elapsedSeconds,
    p50Ms: percentile(latenciesMs, 0.5),
    p99Ms: percentile(latenciesMs, 0.99),
    errors,
    clientCpuMsPerWrite: latenciesMs.length === 0 ? 0 : (cpu.user + cpu.system) / 1000 / latenciesMs.length,
  };
}
