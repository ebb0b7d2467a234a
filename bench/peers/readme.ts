// The README's performance section is made from bench/results/peers.json, not typed by hand:
//   npx tsx bench/peers/readme.ts [results.json]
// prints the Markdown (set-up, writes per second with p99, failover) to paste under
// "## Performance".
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface LoadLine {
  readonly system: string;
  readonly clients: number;
  readonly ops_per_s: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly errors: number;
  readonly elections_during_load: number;
}

interface FailoverLine {
  readonly system: string;
  readonly kind: 'kill' | 'freeze';
  readonly kills: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
}

interface PeersResults {
  readonly date: string;
  readonly setup: {
    readonly machine: string;
    readonly node: string;
    readonly systems: readonly string[];
    readonly clients: readonly number[];
    readonly rounds: number;
    readonly secondsPerRound: number;
    readonly killsPerKind: number;
    readonly loadAverage: { readonly min: number; readonly median: number; readonly max: number };
  };
  readonly load: readonly LoadLine[];
  readonly failover: readonly FailoverLine[];
}

const peers = ['etcd', 'zookeeper'] as const;
const titles: Record<string, string> = { flotilla: 'Flotilla', etcd: 'etcd', zookeeper: 'ZooKeeper' };

function loadTable(results: PeersResults): string[] {
  const systems = ['flotilla', ...peers].filter((system) => results.setup.systems.includes(system));
  const rows = [
    `| clients | ${systems.map((system) => titles[system]).join(' | ')} | Flotilla ÷ best |`,
    `|---|${systems.map(() => '---|').join('')}---|`,
  ];
  for (const clients of results.setup.clients) {
    const of = (system: string) => results.load.find((line) => line.system === system && line.clients === clients);
    const cells = systems.map((system) => {
      const line = of(system);
      return line === undefined ? '–' : `${line.ops_per_s.toLocaleString('en-US')} (${line.p99_ms})`;
    });
    const best = Math.max(...peers.map((system) => of(system)?.ops_per_s ?? 0));
    const flotilla = of('flotilla')?.ops_per_s;
    const ratio = flotilla === undefined || best === 0 ? '–' : (flotilla / best).toFixed(2);
    rows.push(`| ${clients} | ${cells.join(' | ')} | ${ratio} |`);
  }
  return rows;
}

function failoverTable(results: PeersResults): string[] {
  const rows = ['| system | leader SIGKILLed: p50 / p99 | leader SIGSTOPped: p50 / p99 |', '|---|---|---|'];
  for (const system of ['flotilla', ...peers]) {
    const cell = (kind: FailoverLine['kind']): string => {
      const line = results.failover.find((each) => each.system === system && each.kind === kind);
      return line === undefined ? '–' : `${line.p50_ms} / ${line.p99_ms} ms`;
    };
    if (results.setup.systems.includes(system))
      rows.push(`| ${titles[system]} | ${cell('kill')} | ${cell('freeze')} |`);
  }
  return rows;
}

/** Fills `text` into lines of at most `width` characters (the README's prose is wrapped). */
function wrap(text: string, width = 100): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

function markdown(results: PeersResults): string {
  const setup = results.setup;
  const elections = results.load
    .filter((line) => line.system === 'flotilla')
    .reduce((sum, line) => sum + line.elections_during_load, 0);
  const loadText =
    `Writes per second (p99 in ms), from \`bench/results/peers.json\` (${results.date.slice(0, 10)}): three ` +
    'members of each system on loopback with real fsync, 8-byte keys and 256-byte values, the same closed-loop ' +
    "load generator (HTTP/JSON with keep-alive for Flotilla's KV API and etcd's v3 JSON gateway, the " +
    "`node-zookeeper-client` npm client's `setData` for ZooKeeper, each warmed up first), " +
    `${setup.rounds} rounds of ${setup.secondsPerRound} s per configuration, interleaved Flotilla, etcd, ` +
    `ZooKeeper; medians of the rounds. Machine: ${setup.machine}, Node ${setup.node}; 1-minute load average ` +
    `${setup.loadAverage.min}–${setup.loadAverage.max} (median ${setup.loadAverage.median}) from other work. ` +
    `Flotilla elections during the load rounds: ${elections}.`;
  const failoverText =
    'Failover, from the signal to the leader to the first acknowledged write (a client hedging across the ' +
    `survivors every 20 ms), ${setup.killsPerKind} per kind, so the p99 is the slowest; SIGKILL is a crashed ` +
    'process (its sockets close), SIGSTOP a frozen one (nothing closes, as with a lost machine or a partition):';
  return [...wrap(loadText), '', ...loadTable(results), '', ...wrap(failoverText), '', ...failoverTable(results)].join(
    '\n',
  );
}

const defaultFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results', 'peers.json');
const file = process.argv[2] ?? defaultFile;
process.stdout.write(`${markdown(JSON.parse(readFileSync(file, 'utf8')) as PeersResults)}\n`);
