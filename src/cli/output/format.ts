// Small pure formatters shared by the commands: resource amounts, times, lists.
import type { Resource } from '../../protocol/mesos.ts';

/** Scalar resources summed by name (every role together): {"cpus": 4, "mem": 4096}. */
export function scalarTotals(resources: readonly Resource[] | undefined): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const resource of resources ?? []) {
    if (resource.type !== 'SCALAR' || resource.scalar === undefined) continue;
    totals[resource.name] = roundAmount((totals[resource.name] ?? 0) + resource.scalar.value);
  }
  return totals;
}

/** Three decimals at most, as Mesos keeps scalar resources (fixed point, 0.001). */
export function roundAmount(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** "0.5/4" for a used/total pair of one resource. */
export function usedOfTotal(used: Record<string, number>, total: Record<string, number>, name: string): string {
  return `${roundAmount(used[name] ?? 0)}/${roundAmount(total[name] ?? 0)}`;
}

/** "cpus 1 · mem 256 · disk 0" for a role's or a task's scalars (mem and disk in MB). */
export function describeScalars(amounts: Readonly<Record<string, number>>): string {
  const names = Object.keys(amounts).sort();
  return names.length === 0 ? '-' : names.map((name) => `${name} ${roundAmount(amounts[name]!)}`).join(' · ');
}

/** ISO time to the second, from seconds since the epoch (Mesos TaskStatus.timestamp). */
export function isoSeconds(seconds: number | undefined): string | null {
  if (seconds === undefined || !Number.isFinite(seconds)) return null;
  return new Date(Math.round(seconds * 1000)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** ISO time from Mesos TimeInfo nanoseconds. */
export function isoNanoseconds(time: { readonly nanoseconds: number } | undefined): string | null {
  return time === undefined ? null : isoSeconds(time.nanoseconds / 1e9);
}

/** "12s", "5m", "3h", "2d": how long ago `thenMs` was. */
export function age(thenMs: number, nowMs: number): string {
  const seconds = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3_600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

/** "3 TASK_RUNNING · 1 TASK_FAILED" from counts, in the order given, zeros left out. */
export function describeCounts(counts: ReadonlyMap<string, number>, format: (name: string) => string): string {
  const parts = [...counts].filter(([, count]) => count > 0).map(([name, count]) => `${count} ${format(name)}`);
  return parts.length === 0 ? 'none' : parts.join(' · ');
}
