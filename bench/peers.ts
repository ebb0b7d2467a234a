// Flotilla side by side with etcd and ZooKeeper (issue 19): three members of each on loopback,
// real fsync, 8-byte keys and 256-byte values, the same closed-loop load generator for all
// (bench/peers/load.ts), at 1, 16 and 256 clients, interleaved A B C A B C over the rounds so
// that a machine shared with other work weighs on all three alike. Then failover: SIGKILL (a
// crashed process) and SIGSTOP (a frozen one: no socket closes, as for a lost machine) of the
// leader, to the first acknowledged write.
//
//   npm run bench -- peers                     the full run; writes bench/results/peers.json
//   npm run bench -- peers --quick             one short round each (npm test runs this)
//   npm run bench -- peers --systems flotilla  only some systems
//   npm run bench -- peers --baseline <dir>    also another checkout's Flotilla (before/after)
//   npm run bench -- peers --flotilla-args '--raft-storage-writer thread' [--baseline-args '...']
//                                              extra master flags for flotilla (and flotilla-baseline)
//   npm run bench -- peers --rounds 0          failover only
//   npm run bench -- peers --clients 1,16,256 --seconds 5 --warm-up-seconds 5 --kills 10
//                                              the defaults: client counts, a round's and a warm-up's
//                                              length, failovers per kind
//   npm run bench -- peers --failover kill,freeze
//                                              which failovers: SIGKILL (kill) and SIGSTOP (freeze)
//   npm run bench -- peers --out FILE          the results file (default bench/results/peers.json;
//                                              --quick writes none)
//   npm run bench -- peers --false-elections 600 [--rounds 0 --kills 0]
//                                              also the largest --clients count for 600 s per system with
//                                              no fault: elections per hour, the followers' longest
//                                              silences of the leader (bench/peers/false-elections.ts)
//   FLOTILLA_PEERS_HTTP_CLIENT=raw npm run bench -- peers
//                                              the HTTP systems' load generator on a lean client
//                                              (bench/peers/raw-http-client.ts) instead of Node's http
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeTempDir } from '../test/support/tmp.ts';
import { median, percentile, printTable, round } from './_report.ts';
import { EtcdSystem, etcdAvailability } from './peers/etcd.ts';
import { type FailoverKind, measureFailover } from './peers/failover.ts';
import { type FalseElectionLine, falseElectionRow, measureFalseElections } from './peers/false-elections.ts';
import { FlotillaSystem } from './peers/flotilla.ts';
import { httpClientKind } from './peers/http-client.ts';
import { benchValue, type RoundResult, runRound } from './peers/load.ts';
import type { Availability, PeerSystem, SystemName } from './peers/system.ts';
import { ZookeeperSystem, zookeeperAvailability } from './peers/zookeeper.ts';

const allSystems: readonly SystemName[] = ['flotilla', 'etcd', 'zookeeper'];
const defaultResultsFile = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results', 'peers.json');

interface Settings {
  readonly systems: readonly SystemName[];
  readonly clientCounts: readonly number[];
  readonly rounds: number;
  readonly seconds: number;
  readonly warmUpSeconds: number;
  readonly kills: number;
  readonly failoverKinds: readonly FailoverKind[];
  /** Seconds per system of load with no fault, counting elections (0: none). */
  readonly falseElectionSeconds: number;
  readonly out: string | null;
  readonly quick: boolean;
  /** A checkout (with node_modules) whose bin/flotilla.js runs as flotilla-baseline. */
  readonly baseline: string | null;
  /** Extra `flotilla master` flags for flotilla and for flotilla-baseline (A/B of a flag). */
  readonly flotillaArgs: readonly string[];
  readonly baselineArgs: readonly string[];
}

interface LoadLine {
  bench: 'peers';
  system: SystemName;
  clients: number;
  rounds: number;
  seconds_per_round: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
  errors: number;
  elections_during_load: number;
  /** The load generator's CPU per write (load.ts): what the client took from the same 2 cores. */
  client_cpu_ms_per_write: number;
}

interface FailoverLine {
  bench: 'peers-failover';
  system: SystemName;
  kind: FailoverKind;
  kills: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  runs_ms: number[];
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      systems: { type: 'string', default: allSystems.join(',') },
      clients: { type: 'string' },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      'warm-up-seconds': { type: 'string' },
      kills: { type: 'string' },
      failover: { type: 'string' },
      'false-elections': { type: 'string' },
      out: { type: 'string' },
      baseline: { type: 'string' },
      'flotilla-args': { type: 'string', default: '' },
      'baseline-args': { type: 'string', default: '' },
    },
  });
  const quick = values.quick!;
  const systems = values.systems!.split(',') as SystemName[];
  if (values.baseline !== undefined) systems.push('flotilla-baseline');
  for (const system of systems)
    if (!allSystems.includes(system) && system !== 'flotilla-baseline') throw new Error(`--systems: unknown ${system}`);
  const number = (text: string | undefined, fallback: number, name: string): number => {
    const value = text === undefined ? fallback : Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
    return value;
  };
  const kinds = (values.failover ?? (quick ? 'kill' : 'kill,freeze')).split(',').filter((kind) => kind !== '');
  for (const kind of kinds) if (kind !== 'kill' && kind !== 'freeze') throw new Error(`--failover: kill or freeze`);
  return {
    systems,
    clientCounts: (values.clients ?? '1,16,256').split(',').map((text) => number(text, 1, 'clients')),
    rounds: number(values.rounds, quick ? 1 : 3, 'rounds'),
    seconds: number(values.seconds, quick ? 1 : 5, 'seconds'),
    warmUpSeconds: number(values['warm-up-seconds'], quick ? 1 : 5, 'warm-up-seconds'),
    kills: number(values.kills, quick ? 1 : 10, 'kills'),
    failoverKinds: kinds as FailoverKind[],
    falseElectionSeconds: number(values['false-elections'], 0, 'false-elections'),
    out: values.out ?? (quick ? null : defaultResultsFile),
    quick,
    baseline: values.baseline ?? null,
    flotillaArgs: values['flotilla-args']!.split(' ').filter((flag) => flag !== ''),
    baselineArgs: values['baseline-args']!.split(' ').filter((flag) => flag !== ''),
  };
}

function availability(system: SystemName): Availability {
  if (system === 'etcd') return etcdAvailability();
  if (system === 'zookeeper') return zookeeperAvailability();
  return null;
}

function createSystem(name: SystemName, dataRoot: string, settings: Settings): PeerSystem {
  const directory = path.join(dataRoot, name);
  mkdirSync(directory, { recursive: true });
  if (name === 'flotilla-baseline')
    return new FlotillaSystem(
      directory,
      settings.baselineArgs,
      [],
      path.join(settings.baseline!, 'bin', 'flotilla.js'),
      'flotilla-baseline',
    );
  if (name === 'etcd') return new EtcdSystem(directory);
  if (name === 'zookeeper') return new ZookeeperSystem(directory);
  return new FlotillaSystem(directory, settings.flotillaArgs);
}

async function loadRound(system: PeerSystem, clients: number, seconds: number, tag: number) {
  const before = await system.waitHealthy(60_000);
  const result = await runRound((client) => system.openClient(client), clients, seconds, benchValue(tag));
  const after = await system.waitHealthy(60_000);
  const termOf = (views: typeof before): number => Math.max(...views.map((view) => view.term));
  return { result, elections: termOf(after) - termOf(before) };
}

function summarize(system: SystemName, clients: number, settings: Settings, rounds: RoundResult[], elections: number) {
  const line: LoadLine = {
    bench: 'peers',
    system,
    clients,
    rounds: rounds.length,
    seconds_per_round: settings.seconds,
    ops_per_s: round(median(rounds.map((result) => result.ops / result.seconds)), 0),
    p50_ms: round(median(rounds.map((result) => result.p50Ms)), 1),
    p99_ms: round(median(rounds.map((result) => result.p99Ms)), 1),
    errors: rounds.reduce((sum, result) => sum + result.errors, 0),
    elections_during_load: elections,
    client_cpu_ms_per_write: round(median(rounds.map((result) => result.clientCpuMsPerWrite)), 3),
  };
  return line;
}

async function runLoad(systems: readonly PeerSystem[], settings: Settings, loadAverages: number[]) {
  const lines: LoadLine[] = [];
  if (settings.rounds === 0) return lines; // --rounds 0: failover only
  let tag = 0;
  for (const clients of settings.clientCounts) {
    const rounds = new Map<SystemName, RoundResult[]>(systems.map((system) => [system.name, []]));
    const elections = new Map<SystemName, number>(systems.map((system) => [system.name, 0]));
    for (let roundNumber = 0; roundNumber < settings.rounds; roundNumber++) {
      for (const system of systems) {
        loadAverages.push(os.loadavg()[0]!);
        const { result, elections: more } = await loadRound(system, clients, settings.seconds, ++tag);
        rounds.get(system.name)!.push(result);
        elections.set(system.name, elections.get(system.name)! + more);
        process.stderr.write(
          `  ${system.name} clients=${clients} round ${roundNumber + 1}/${settings.rounds}: ` +
            `${round(result.ops / result.seconds, 0)} writes/s, p50 ${round(result.p50Ms, 1)} ms, ` +
            `p99 ${round(result.p99Ms, 1)} ms, client CPU ${round(result.clientCpuMsPerWrite, 3)} ms/write, ${result.errors} errors, load ${os.loadavg()[0]!.toFixed(1)}\n`,
        );
      }
    }
    for (const system of systems) {
      const line = summarize(system.name, clients, settings, rounds.get(system.name)!, elections.get(system.name)!);
      process.stdout.write(`${JSON.stringify(line)}\n`);
      lines.push(line);
    }
  }
  return lines;
}

async function runFailovers(
  systems: readonly PeerSystem[],
  settings: Settings,
  loadAverages: number[],
): Promise<FailoverLine[]> {
  const lines: FailoverLine[] = [];
  if (settings.kills === 0) return lines;
  for (const kind of settings.failoverKinds) {
    const runs = new Map<SystemName, number[]>(systems.map((system) => [system.name, []]));
    // Interleaved too: kill 1 of each system, then kill 2 of each...
    for (let run = 0; run < settings.kills; run++) {
      for (const system of systems) {
        loadAverages.push(os.loadavg()[0]!);
        const elapsedMs = await measureFailover(system, kind, run);
        runs.get(system.name)!.push(elapsedMs);
        process.stderr.write(
          `  ${system.name} ${kind} ${run + 1}/${settings.kills}: first write after ${round(elapsedMs, 0)} ms\n`,
        );
      }
    }
    for (const system of systems) {
      const values = runs.get(system.name)!;
      const line: FailoverLine = {
        bench: 'peers-failover',
        system: system.name,
        kind,
        kills: values.length,
        p50_ms: round(median(values), 0),
        p99_ms: round(percentile(values, 0.99), 0),
        max_ms: round(Math.max(...values), 0),
        runs_ms: values.map((value) => round(value, 0)),
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      lines.push(line);
    }
  }
  return lines;
}

/** Slices of this length, interleaved across the systems. */
const falseElectionSliceSeconds = 30;

async function runFalseElections(systems: readonly PeerSystem[], settings: Settings): Promise<FalseElectionLine[]> {
  if (settings.falseElectionSeconds === 0) return [];
  const clients = Math.max(...settings.clientCounts);
  const addresses = (system: PeerSystem) => (system instanceof FlotillaSystem ? system.memberAddresses() : null);
  const lines = await measureFalseElections(
    systems,
    addresses,
    clients,
    settings.falseElectionSeconds,
    Math.min(falseElectionSliceSeconds, settings.falseElectionSeconds),
  );
  for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
  return lines;
}

function comparisonRows(lines: readonly LoadLine[], systems: readonly SystemName[], clientCounts: readonly number[]) {
  return clientCounts.map((clients) => {
    const of = (system: SystemName) => lines.find((line) => line.system === system && line.clients === clients);
    const cell = (system: SystemName): string => {
      const line = of(system);
      return line === undefined ? 'skipped' : `${line.ops_per_s} (${line.p99_ms})`;
    };
    const flotilla = of('flotilla');
    const peers = systems
      .filter((system) => system === 'etcd' || system === 'zookeeper')
      .map(of)
      .filter((line) => line !== undefined);
    const best = peers.reduce<LoadLine | undefined>(
      (a, b) => (a === undefined || b!.ops_per_s > a.ops_per_s ? b : a),
      undefined,
    );
    const bestP99 = Math.min(...peers.map((line) => line!.p99_ms));
    return {
      clients,
      flotilla: cell('flotilla'),
      etcd: cell('etcd'),
      zookeeper: cell('zookeeper'),
      ...(systems.includes('flotilla-baseline') ? { 'flotilla-baseline': cell('flotilla-baseline') } : {}),
      'flotilla ÷ best': flotilla && best ? round(flotilla.ops_per_s / best.ops_per_s, 2) : '-',
      'p99 ÷ best p99': flotilla && peers.length > 0 ? round(flotilla.p99_ms / bestP99, 2) : '-',
    };
  });
}

export async function main(argv: string[]): Promise<void> {
  const settings = parseSettings(argv);
  const skipped: Record<string, string> = {};
  const names = settings.systems.filter((name) => {
    const why = availability(name);
    if (why !== null) skipped[name] = why;
    return why === null;
  });
  for (const [name, why] of Object.entries(skipped)) process.stdout.write(`skipped: peers bench ${name}: ${why}\n`);
  process.stderr.write(
    `peers bench: ${names.join(', ')}; 3 members each on loopback, fsync on; 8-byte keys, 256-byte values; ` +
      `clients ${settings.clientCounts.join(',')}; ${settings.rounds} rounds x ${settings.seconds} s, interleaved; ` +
      `${settings.kills} failovers per kind (${settings.failoverKinds.join(', ')}); HTTP client ${httpClientKind()}; ` +
      `load average ${os.loadavg()[0]!.toFixed(1)}\n`,
  );
  const dataRoot = makeTempDir('bench-peers-');
  const systems = names.map((name) => createSystem(name, dataRoot, settings));
  const loadAverages: number[] = [];
  try {
    for (const system of systems) {
      await system.start();
      // The JVM's JIT and Node's alike: every system gets the same warm-up before it is measured.
      if (settings.warmUpSeconds > 0)
        await runRound((client) => system.openClient(client), 16, settings.warmUpSeconds, benchValue(0));
    }
    const load = await runLoad(systems, settings, loadAverages);
    const falseElections = await runFalseElections(systems, settings);
    const failover = await runFailovers(systems, settings, loadAverages);
    report(settings, names, skipped, load, failover, loadAverages, falseElections);
  } finally {
    await Promise.all(systems.map((system) => system.stop()));
  }
}

function report(
  settings: Settings,
  names: readonly SystemName[],
  skipped: Record<string, string>,
  load: readonly LoadLine[],
  failover: readonly FailoverLine[],
  loadAverages: readonly number[],
  falseElections: readonly FalseElectionLine[],
): void {
  const comparison = comparisonRows(load, settings.systems, settings.clientCounts);
  process.stdout.write('\nwrites/s (p99 ms)\n');
  printTable(comparison);
  process.stdout.write('\nfailover: signal to the leader → first acknowledged write, ms\n');
  printTable(
    failover.map((line) => ({
      system: line.system,
      kind: line.kind,
      kills: line.kills,
      p50: line.p50_ms,
      p99: line.p99_ms,
    })),
  );
  if (falseElections.length > 0) {
    process.stdout.write(
      "\nno fault injected: elections, and the followers' silences of the leader (wall ms; ticks of their timer)\n",
    );
    printTable(falseElections.map(falseElectionRow));
  }
  const loadAverage = {
    min: round(Math.min(...loadAverages), 1),
    median: round(median(loadAverages), 1),
    max: round(Math.max(...loadAverages), 1),
  };
  process.stdout.write(`\nload average (1 min) during the rounds and failovers: ${JSON.stringify(loadAverage)}\n`);
  if (settings.out === null) return;
  const results = {
    bench: 'peers',
    date: new Date().toISOString(),
    setup: {
      machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, shared`,
      node: process.version,
      systems: names,
      skipped,
      members: 3,
      network: 'loopback',
      keyBytes: 8,
      valueBytes: 256,
      httpClient: httpClientKind(),
      clients: settings.clientCounts,
      rounds: settings.rounds,
      secondsPerRound: settings.seconds,
      warmUpSeconds: settings.warmUpSeconds,
      killsPerKind: settings.kills,
      loadAverage,
    },
    load,
    comparison,
    failover,
    ...(falseElections.length > 0 ? { falseElections } : {}),
  };
  mkdirSync(path.dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(results, null, 2)}\n`);
  // The repository's copy is checked by `biome ci`, whose JSON layout differs from stringify's.
  if (settings.out === defaultResultsFile) execFileSync('npx', ['biome', 'format', '--write', settings.out]);
  process.stdout.write(`wrote ${settings.out}\n`);
}
