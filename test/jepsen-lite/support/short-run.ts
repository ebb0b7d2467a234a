// A short real run for `npm test`: the whole harness (real masters, faults, clients, checker)
// in 15–20 s. The run folder goes to a temporary dir; when the verdict is not the expected one
// it is copied to .jepsen/failed-tests/ so the history survives for a post-mortem.
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../support/tmp.ts';
import type { NemesisName } from '../nemesis/schedule.ts';
import { defaultClients, type NetworkChoice, randomSeed } from '../options.ts';
import { formatSummary } from '../report/console.ts';
import { runJepsen, type RunResult } from '../run.ts';
import type { WorkloadName } from '../workloads/workload.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ShortRun {
  readonly workload: WorkloadName;
  readonly nemesis: NemesisName;
  readonly timeSeconds: number;
  readonly network: Exclude<NetworkChoice, 'auto'>;
  readonly nodes?: number;
  readonly staleReads?: boolean;
  /** A fixed seed (the schedule it gives is known); else JEPSEN_SEED, else a random one. */
  readonly seed?: number;
}

export async function shortRun(
  run: ShortRun,
): Promise<RunResult & { summary: string; keptAt: string | null; seed: number }> {
  const seed = run.seed ?? Number(process.env.JEPSEN_SEED ?? randomSeed());
  const nodes = run.nodes ?? 3;
  const result = await runJepsen({
    workload: run.workload,
    nemesis: run.nemesis,
    timeSeconds: run.timeSeconds,
    nodes,
    seed,
    clients: defaultClients(nodes),
    ratePerSecond: run.workload === 'tasks' ? 10 : 150,
    network: run.network,
    outputRoot: makeTempDir('jepsen-run-'),
    keepData: false,
    silent: true,
    staleReads: run.staleReads === true,
  });
  const summary = formatSummary(result.report);
  process.stdout.write(`${summary}\n`);
  const expected = run.staleReads !== true;
  let keptAt: string | null = null;
  if (result.report.valid !== expected) {
    keptAt = path.join(repoRoot, '.jepsen', 'failed-tests', path.basename(result.outputDir));
    mkdirSync(path.dirname(keptAt), { recursive: true });
    cpSync(result.outputDir, keptAt, { recursive: true });
  }
  return { ...result, summary, keptAt, seed };
}
