// Durations as Mesos writes them in executors' environment (stout's Duration: a number and a
// unit, e.g. "15mins", "5secs", "250ms"). The agent formats them, the executor SDK reads them.

const unitsMs: readonly (readonly [string, number])[] = [
  ['weeks', 7 * 24 * 60 * 60 * 1000],
  ['days', 24 * 60 * 60 * 1000],
  ['hrs', 60 * 60 * 1000],
  ['mins', 60 * 1000],
  ['secs', 1000],
  ['ms', 1],
  ['us', 1 / 1000],
  ['ns', 1 / 1_000_000],
];

/** Whole milliseconds in the largest unit that divides them exactly ("15mins", "2secs", "250ms"). */
export function formatDuration(milliseconds: number): string {
  if (!Number.isSafeInteger(milliseconds) || milliseconds < 0)
    throw new RangeError(`a duration is whole, non-negative milliseconds, not ${milliseconds}`);
  for (const [unit, size] of unitsMs) {
    if (size >= 1 && milliseconds % size === 0 && milliseconds > 0) return `${milliseconds / size}${unit}`;
  }
  return '0ms';
}

const durationPattern = /^\s*(\d+(?:\.\d+)?)\s*(weeks|days|hrs|mins|secs|ms|us|ns)\s*$/;

/** Milliseconds of a stout duration; null when `text` is not one. */
export function parseDuration(text: string): number | null {
  const match = durationPattern.exec(text);
  if (match === null) return null;
  const size = unitsMs.find(([unit]) => unit === match[2])?.[1];
  return size === undefined ? null : Number(match[1]) * size;
}
