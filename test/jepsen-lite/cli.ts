// npm run jepsen -- --workload register|set|tasks --nemesis kill-leader|kill|pause|partition|latency|restart|membership|all
//                   --time SECONDS --nodes 3|5 [--seed S] [--clients N] [--rate OPS] [--network auto|proxy|namespace]
// Exit status: 0 valid, 1 invalid (an anomaly: see report.json), 2 unknown (the checker ran out
// of budget), 3 the harness itself failed, 64 bad arguments.
import { Command } from 'commander';
import { nemesisNames, type NemesisName } from './nemesis/schedule.ts';
import { defaultClients, type NetworkChoice, randomSeed, type RunOptions, validateOptions } from './options.ts';
import { runJepsen } from './run.ts';
import type { WorkloadName } from './workloads/workload.ts';

interface CliFlags {
  workload: string;
  nemesis: string;
  time: string;
  nodes: string;
  seed?: string;
  clients?: string;
  rate?: string;
  network: string;
  out: string;
  quiet?: string;
  keepData?: boolean;
  staleReads?: boolean;
}

function parseOptions(argv: readonly string[]): RunOptions {
  const program = new Command('jepsen')
    .description('fault injection against real flotilla masters, with a linearizability checker')
    .option('--workload <name>', 'register, set or tasks', 'register')
    .option('--nemesis <name>', nemesisNames.join(' | '), 'all')
    .option('--time <seconds>', 'how long clients run (faults stop a quiet period before the end)', '60')
    .option('--nodes <count>', 'masters: 3 or 5', '3')
    .option('--seed <seed>', 'seed of the fault schedule and the clients (printed when random)')
    .option('--clients <count>', 'concurrent clients (default: 2 per master, at least 4)')
    .option('--rate <ops>', 'operations per second, all clients together (default: 200; tasks: 10)')
    .option('--network <kind>', 'auto (namespaces when root, else proxy) | proxy | namespace', 'auto')
    .option('--quiet <seconds>', 'fault-free period at the end (default: 15% of --time, 3–10 s)')
    .option('--out <dir>', 'where run folders go', '.jepsen')
    .option('--keep-data', "keep the masters' data dirs of a valid run")
    .option('--stale-reads', 'read with ?stale=true (not linearizable): checks that the checker catches it')
    .exitOverride()
    .parse(['node', 'jepsen', ...argv]);
  const flags = program.opts<CliFlags>();
  const nodes = Number(flags.nodes);
  const options: RunOptions = {
    workload: flags.workload as WorkloadName,
    nemesis: flags.nemesis as NemesisName,
    timeSeconds: Number(flags.time),
    nodes,
    seed: flags.seed === undefined ? randomSeed() : Number(flags.seed),
    clients: flags.clients === undefined ? defaultClients(nodes) : Number(flags.clients),
    ratePerSecond: flags.rate === undefined ? defaultRate(flags.workload) : Number(flags.rate),
    network: flags.network as NetworkChoice,
    outputRoot: flags.out,
    ...(flags.quiet === undefined ? {} : { quietSeconds: Number(flags.quiet) }),
    keepData: flags.keepData === true,
    silent: false,
    staleReads: flags.staleReads === true,
  };
  validateOptions(options);
  return options;
}

/** Launches wait for offers from two small agents: a KV-sized rate would only make NO_OFFER failures. */
function defaultRate(workload: string): number {
  return workload === 'tasks' ? 10 : 200;
}

async function main(): Promise<void> {
  let options: RunOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    process.stderr.write(`jepsen: ${(error as Error).message}\n`);
    process.exit(64);
  }
  // Ctrl-C and SIGTERM still run the exit handlers that remove namespaces and stop masters.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  try {
    const { report } = await runJepsen(options);
    process.exitCode = report.valid === true ? 0 : report.valid === false ? 1 : 2;
  } catch (error) {
    process.stderr.write(
      `jepsen: the run failed: ${(error as Error).stack ?? String(error)}\n(seed ${options.seed})\n`,
    );
    process.exitCode = 3;
  }
}

await main();
