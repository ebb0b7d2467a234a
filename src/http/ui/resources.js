// Mesos resources (endpoint format: {name, type, scalar|ranges}) summed and drawn as bars. Pure.
import { formatAmount } from './format.js';

/** Resources drawn as bars, in this order; others follow by name. */
export const barResources = ['cpus', 'gpus', 'mem', 'disk', 'ports'];

/** Sums a resource list by name: scalars add, ranges count their members. */
export function sumResources(resources) {
  const totals = new Map();
  for (const resource of Array.isArray(resources) ? resources : []) {
    const name = typeof resource?.name === 'string' ? resource.name : null;
    if (name === null) continue;
    totals.set(name, (totals.get(name) ?? 0) + resourceAmount(resource));
  }
  return totals;
}

function resourceAmount(resource) {
  if (resource.type === 'SCALAR' && typeof resource.scalar?.value === 'number') return resource.scalar.value;
  if (resource.type === 'RANGES' && Array.isArray(resource.ranges?.range)) {
    return resource.ranges.range.reduce(
      (count, range) => count + Math.max(0, Number(range.end) - Number(range.begin) + 1),
      0,
    );
  }
  return 0;
}

/** Adds `amounts` (a Map by name) into `into`, times `sign` (+1 or -1); keeps no negative dust. */
export function addAmounts(into, amounts, sign) {
  for (const [name, amount] of amounts) {
    const next = (into.get(name) ?? 0) + sign * amount;
    // Thousandths, as Mesos keeps scalars: 0.1 + 0.2 - 0.3 is 0 here, not 5e-17.
    into.set(name, Math.round(next * 1000) / 1000);
  }
}

function fraction(part, whole) {
  if (!(whole > 0)) return 0;
  return Math.min(1, Math.max(0, part / whole));
}

/**
 * One bar per resource in `total`: used and offered as fractions of total (0..1). `used` and
 * `offered` are Maps by name, as sumResources makes them.
 */
export function resourceBars(total, used, offered) {
  const names = [
    ...barResources.filter((name) => total.has(name)),
    ...[...total.keys()].filter((name) => !barResources.includes(name)).sort(),
  ];
  return names.map((name) => {
    const capacity = total.get(name) ?? 0;
    const usedAmount = used.get(name) ?? 0;
    const offeredAmount = offered.get(name) ?? 0;
    return {
      name,
      total: capacity,
      used: usedAmount,
      offered: offeredAmount,
      usedFraction: fraction(usedAmount, capacity),
      offeredFraction: fraction(offeredAmount, capacity),
      label:
        `${name}: ${formatAmount(name, usedAmount)} used` +
        (offeredAmount > 0 ? `, ${formatAmount(name, offeredAmount)} offered` : '') +
        ` of ${formatAmount(name, capacity)}`,
    };
  });
}

/** "cpus 0.5, mem 128 MiB" for a task's resources. */
export function describeResources(amounts) {
  return barResources
    .filter((name) => (amounts.get(name) ?? 0) > 0)
    .map((name) => `${name} ${formatAmount(name, amounts.get(name))}`)
    .join(', ');
}
