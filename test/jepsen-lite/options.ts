// The options of a run, their defaults and their bounds (STYLE.md rule 7), checked with a
// plain-English error before anything starts.
import { type NemesisName, nemesisNames } from './nemesis/schedule.ts';
import { type WorkloadName, workloadNames } from './workloads/workload.ts';

export type NetworkChoice = 'auto' | 'proxy' | 'namespace';
export const networkChoices: readonly NetworkChoice[] = ['auto', 'proxy', 'namespace'];

export interface RunOptions {
  readonly workload: WorkloadName;
  readonly nemesis: NemesisName;
  readonly timeSeconds: number;
  readonly nodes: number;
  readonly seed: number;
  readonly clients: number;
  /** Operations per second, all clients together. */
  readonly ratePerSecond: number;
  readonly network: NetworkChoice;
  /** Runs go to <outputRoot>/<timestamp>-<workload>-<nemesis>/. */
  readonly outputRoot: string;
  /** No fault in the last quietSeconds; derived from timeSeconds when absent. */
  readonly quietSeconds?: number;
  /** Keep the masters' data dirs even when the run is valid (they are always kept otherwise). */
  readonly keepData: boolean;
  /** No live status line (tests). */
  readonly silent: boolean;
  /** Read with ?stale=true, which is not linearizable: the run should come out invalid. For
   *  checking the checker end to end, never for judging Flotilla. */
  readonly staleReads?: boolean;
}

export const limits = {
  minTimeSeconds: 5,
  maxTimeSeconds: 3_600,
  allowedNodes: [1, 3, 5, 7],
  maxClients: 64,
  maxRatePerSecond: 5_000,
} as const;

export function defaultClients(nodes: number): number {
  return Math.max(4, 2 * nodes);
}

export function defaultQuietSeconds(timeSeconds: number): number {
  return Math.min(10, Math.max(3, Math.round(timeSeconds * 0.15)));
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

/** Throws an Error whose message says what is wrong and what would be right. */
export function validateOptions(options: RunOptions): void {
  const problems: string[] = [];
  if (!workloadNames.includes(options.workload)) problems.push(`--workload must be one of ${workloadNames.join(', ')}`);
  if (!(nemesisNames as readonly string[]).includes(options.nemesis))
    problems.push(`--nemesis must be one of ${nemesisNames.join(', ')}`);
  if (
    !Number.isFinite(options.timeSeconds) ||
    options.timeSeconds < limits.minTimeSeconds ||
    options.timeSeconds > limits.maxTimeSeconds
  ) {
    problems.push(`--time must be between ${limits.minTimeSeconds} and ${limits.maxTimeSeconds} seconds`);
  }
  if (!(limits.allowedNodes as readonly number[]).includes(options.nodes))
    problems.push(`--nodes must be one of ${limits.allowedNodes.join(', ')}`);
  if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed >= 2 ** 31)
    problems.push('--seed must be an integer in [0, 2^31)');
  if (!Number.isInteger(options.clients) || options.clients < 1 || options.clients > limits.maxClients)
    problems.push(`--clients must be 1–${limits.maxClients}`);
  if (!(options.ratePerSecond > 0 && options.ratePerSecond <= limits.maxRatePerSecond))
    problems.push(`--rate must be in (0, ${limits.maxRatePerSecond}]`);
  if (!networkChoices.includes(options.network)) problems.push(`--network must be one of ${networkChoices.join(', ')}`);
  const quiet = options.quietSeconds ?? defaultQuietSeconds(options.timeSeconds);
  if (!(quiet >= 0 && quiet < options.timeSeconds)) problems.push('--quiet must be at least 0 and less than --time');
  if (options.nemesis === 'membership' && options.nodes < 3)
    problems.push('--nemesis membership needs at least 3 nodes');
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
