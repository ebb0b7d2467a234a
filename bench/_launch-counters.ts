// The launch bench's per-task accounting: the leader's /metrics read before and after the launch,
// each counter's growth divided by the tasks launched (Raft proposals and persisted entries, fsyncs,
// allocation cycles and offers, agent status updates and scheduler calls received) and the leader's
// own CPU time per task, which a busy machine disturbs less than tasks per second; and the mean
// commit latency and fsync over the launch (what the launch waited on, where the load shows).
import { readFileSync } from 'node:fs';
import os from 'node:os';

const scrapeTimeoutMs = 10_000;
const writeSystemCallsKey = 'proc_write_system_calls';

/** Counter name (all series summed) → per-task growth label in the bench's line. */
const perTaskCounters: Readonly<Record<string, string>> = {
  flotilla_raft_proposals_total: 'proposals',
  flotilla_raft_persisted_entries_total: 'persisted_entries',
  flotilla_raft_fsync_seconds_count: 'fsyncs',
  flotilla_allocation_cycle_seconds_count: 'allocation_cycles',
  flotilla_allocation_offers_total: 'offers',
  mesos_master_messages_status_update: 'agent_status_updates',
  mesos_master_messages_launch_tasks: 'accepts',
  mesos_master_messages_status_update_acknowledgement: 'acknowledgements',
  [writeSystemCallsKey]: 'write_system_calls',
};

/** Histogram name → label of its mean over the launch, in milliseconds (a busy machine's waits show here). */
const meanHistograms: Readonly<Record<string, string>> = {
  flotilla_raft_commit_latency_seconds: 'commit_latency',
  flotilla_raft_fsync_seconds: 'fsync',
};

const cpuSecondsCounter = 'flotilla_process_process_cpu_seconds_total';

/** `name{labels} value` lines of the Prometheus text format: every series of a name summed. */
export function sumMetrics(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{[^}]*\})? (\S+)/.exec(line);
    if (match !== null) values.set(match[1]!, (values.get(match[1]!) ?? 0) + Number(match[2]));
  }
  return values;
}

/** The leader's /metrics, and its write system calls so far (Linux /proc; none elsewhere). */
export async function scrapeMetrics(address: string, pid: number | undefined): Promise<Map<string, number>> {
  const response = await fetch(`http://${address}/metrics`, { signal: AbortSignal.timeout(scrapeTimeoutMs) });
  if (response.status !== 200) throw new Error(`GET ${address}/metrics answered ${response.status}`);
  const values = sumMetrics(await response.text());
  const writes = pid === undefined ? null : writeSystemCalls(pid);
  if (writes !== null) values.set(writeSystemCallsKey, writes);
  return values;
}

function writeSystemCalls(pid: number): number | null {
  try {
    const match = /^syscw: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** Per task: each counter's growth, and the leader's CPU milliseconds. */
export function perTask(
  before: Map<string, number>,
  after: Map<string, number>,
  tasks: number,
): Record<string, number> {
  const growth = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const figures: Record<string, number> = {
    leader_cpu_ms_per_task: Math.round((growth(cpuSecondsCounter) * 1_000_000) / tasks) / 1000,
  };
  for (const [name, label] of Object.entries(perTaskCounters)) {
    if (!after.has(name)) continue;
    figures[`${label}_per_task`] = Math.round((growth(name) * 1000) / tasks) / 1000;
  }
  for (const [name, label] of Object.entries(meanHistograms)) {
    const count = growth(`${name}_count`);
    if (count > 0) figures[`${label}_mean_ms`] = Math.round((growth(`${name}_sum`) * 1_000_000) / count) / 1000;
  }
  return figures;
}

export function loadAverage(): string {
  return os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ: 100 on Linux). */
const clockTicksPerSecond = 100;

/** A process's CPU time so far (user + system) and its write system calls, from /proc; null elsewhere. */
export function processCounters(pid: number | undefined): { cpuMs: number; writes: number } | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces) in parentheses: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { cpuMs: (ticks * 1000) / clockTicksPerSecond, writes: writeSystemCalls(pid) ?? Number.NaN };
  } catch {
    return null;
  }
}
