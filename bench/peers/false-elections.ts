// The false-election rate (issue 19): elections while nothing failed, under the heaviest load of
// the run, and how close the leader's silences came to the election timeout. A tighter timeout
// replaces a lost leader sooner but also one that only stalled (GC, a long turn, a descheduled
// process on a loaded machine); this is the price side of the failover numbers.
//
// Each system runs `clients` writers for `seconds`, in slices interleaved across the systems so
// that the machine's load weighs on all alike. Elections are the term's moves over a slice (a
// Flotilla or etcd term, a ZooKeeper epoch). For Flotilla the followers' own metrics say how long
// they went without a message from the leader: flotilla_raft_leader_silence_seconds (wall time)
// and flotilla_raft_leader_silences_total{ticks} (the ticks their election timer counted), read
// before and after each slice. A checkout without those metrics shows "-".
import os from 'node:os';
import { round } from '../_report.ts';
import { benchValue, runRound } from './load.ts';
import type { PeerSystem, SystemName } from './system.ts';

export interface FalseElectionLine {
  bench: 'peers-false-elections';
  system: SystemName;
  clients: number;
  seconds: number;
  writes_per_s: number;
  errors: number;
  elections: number;
  elections_per_hour: number;
  /** Followers' silences of at least this many ms (wall), summed over the followers; null: no metric. */
  silences_ms_at_least: Record<string, number> | null;
  /** The same silences by the ticks the election timer counted in them. */
  silences_by_ticks: Record<string, number> | null;
  load_average: { min: number; max: number };
}

/** Histogram bounds (seconds) reported as "at least": a silence above `le` of the bucket below. */
const reportedBoundsSeconds = [0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5];
/** The ticks counts worth a column: from half the LAN election timeout up. */
const minimumReportedTicks = 5;

interface SilenceCounts {
  /** Cumulative histogram: silences of at most `le` seconds, by `le`. */
  readonly atMost: Map<string, number>;
  readonly total: number;
  readonly byTicks: Map<string, number>;
}

export async function measureFalseElections(
  systems: readonly PeerSystem[],
  metricsAddresses: (system: PeerSystem) => readonly string[] | null,
  clients: number,
  seconds: number,
  sliceSeconds: number,
): Promise<FalseElectionLine[]> {
  const slices = Math.max(1, Math.round(seconds / sliceSeconds));
  const totals = new Map(
    systems.map((system) => [
      system.name,
      { writes: 0, errors: 0, elapsed: 0, elections: 0, silences: null as SilenceCounts | null, loads: [] as number[] },
    ]),
  );
  for (let slice = 0; slice < slices; slice++) {
    for (const system of systems) {
      const total = totals.get(system.name)!;
      const addresses = metricsAddresses(system);
      const termOf = (views: { term: number }[]): number => Math.max(...views.map((view) => view.term));
      const before = termOf(await system.waitHealthy(60_000));
      const silencesBefore = addresses === null ? null : await silenceCounts(addresses);
      total.loads.push(os.loadavg()[0]!);
      const result = await runRound((client) => system.openClient(client), clients, sliceSeconds, benchValue(slice));
      const after = termOf(await system.waitHealthy(60_000));
      const silencesAfter = addresses === null ? null : await silenceCounts(addresses);
      total.loads.push(os.loadavg()[0]!);
      total.writes += result.ops;
      total.errors += result.errors;
      total.elapsed += result.seconds;
      total.elections += after - before;
      if (silencesBefore !== null && silencesAfter !== null)
        total.silences = add(total.silences, difference(silencesAfter, silencesBefore));
      process.stderr.write(
        `  ${system.name} no-fault slice ${slice + 1}/${slices}: ${clients} clients, ` +
          `${round(result.ops / result.seconds, 0)} writes/s, ${after - before} elections, load ${os.loadavg()[0]!.toFixed(1)}\n`,
      );
    }
  }
  return systems.map((system) => {
    const total = totals.get(system.name)!;
    return {
      bench: 'peers-false-elections',
      system: system.name,
      clients,
      seconds: round(total.elapsed, 0),
      writes_per_s: round(total.writes / total.elapsed, 0),
      errors: total.errors,
      elections: total.elections,
      elections_per_hour: round((total.elections * 3600) / total.elapsed, 1),
      silences_ms_at_least: total.silences === null ? null : atLeast(total.silences),
      silences_by_ticks: total.silences === null ? null : byTicks(total.silences),
      load_average: { min: round(Math.min(...total.loads), 1), max: round(Math.max(...total.loads), 1) },
    };
  });
}

/** One row per system for printTable. */
export function falseElectionRow(line: FalseElectionLine): Record<string, string | number> {
  const row: Record<string, string | number> = {
    system: line.system,
    seconds: line.seconds,
    'writes/s': line.writes_per_s,
    elections: line.elections,
    'per hour': line.elections_per_hour,
  };
  for (const bound of reportedBoundsSeconds) {
    const key = String(bound * 1000);
    row[`≥${key} ms`] = line.silences_ms_at_least?.[key] ?? '-';
  }
  const ticks = line.silences_by_ticks;
  row['max ticks'] =
    ticks === null ? '-' : Math.max(0, ...Object.keys(ticks).map((key) => Number.parseInt(key, 10))) || '-';
  return row;
}

function atLeast(counts: SilenceCounts): Record<string, number> {
  // A silence longer than the bucket below `bound` (buckets are "at most"): total − count(≤ the lower bound).
  const result: Record<string, number> = {};
  const bounds = [...counts.atMost.keys()].map(Number).sort((a, b) => a - b);
  for (const bound of reportedBoundsSeconds) {
    const lower = bounds.filter((each) => each < bound).at(-1);
    result[String(bound * 1000)] = counts.total - (lower === undefined ? 0 : counts.atMost.get(String(lower))!);
  }
  return result;
}

function byTicks(counts: SilenceCounts): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [ticks, count] of counts.byTicks)
    if (count > 0 && Number.parseInt(ticks, 10) >= minimumReportedTicks) result[ticks] = count;
  return result;
}

async function silenceCounts(addresses: readonly string[]): Promise<SilenceCounts | null> {
  const atMost = new Map<string, number>();
  const byTicks = new Map<string, number>();
  let total = 0;
  let found = false;
  for (const address of addresses) {
    const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(5_000) });
    for (const line of (await response.text()).split('\n')) {
      const bucket = line.match(/^flotilla_raft_leader_silence_seconds_bucket\{.*le="([^"]+)".*\} (\d+)/);
      if (bucket !== null && bucket[1] !== '+Inf') {
        found = true;
        atMost.set(bucket[1]!, (atMost.get(bucket[1]!) ?? 0) + Number(bucket[2]));
      }
      const count = line.match(/^flotilla_raft_leader_silence_seconds_count(?:\{.*\})? (\d+)/);
      if (count !== null) total += Number(count[1]);
      const ticks = line.match(/^flotilla_raft_leader_silences_total\{.*ticks="([^"]+)".*\} (\d+)/);
      if (ticks !== null) byTicks.set(ticks[1]!, (byTicks.get(ticks[1]!) ?? 0) + Number(ticks[2]));
    }
  }
  return found ? { atMost, total, byTicks } : null;
}

function difference(after: SilenceCounts, before: SilenceCounts): SilenceCounts {
  const minus = (a: Map<string, number>, b: Map<string, number>) =>
    new Map([...a].map(([key, value]) => [key, value - (b.get(key) ?? 0)]));
  return {
    atMost: minus(after.atMost, before.atMost),
    total: after.total - before.total,
    byTicks: minus(after.byTicks, before.byTicks),
  };
}

function add(sum: SilenceCounts | null, more: SilenceCounts): SilenceCounts {
  if (sum === null) return more;
  const plus = (a: Map<string, number>, b: Map<string, number>) => {
    const result = new Map(a);
    for (const [key, value] of b) result.set(key, (result.get(key) ?? 0) + value);
    return result;
  };
  return {
    atMost: plus(sum.atMost, more.atMost),
    total: sum.total + more.total,
    byTicks: plus(sum.byTicks, more.byTicks),
  };
}
