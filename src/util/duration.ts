// Durations in Mesos' flag syntax (stout's Duration::parse): a number and a unit, with no space:
// "2weeks", "1days", "10mins", "30secs", "500ms", "1.5hrs". Flotilla keeps whole milliseconds.

const millisecondsPerUnit = {
  ns: 1e-6,
  us: 1e-3,
  ms: 1,
  secs: 1000,
  mins: 60 * 1000,
  hrs: 60 * 60 * 1000,
  days: 24 * 60 * 60 * 1000,
  weeks: 7 * 24 * 60 * 60 * 1000,
} as const;

type Unit = keyof typeof millisecondsPerUnit;

const units = Object.keys(millisecondsPerUnit) as Unit[];
const durationPattern = new RegExp(`^(\\d{1,15}(?:\\.\\d{1,9})?)(${units.join('|')})$`);

/** Whole milliseconds; throws a plain message (without a flag name) for text it refuses. */
export function parseMesosDuration(text: string, maxMs: number): number {
  const match = durationPattern.exec(text.trim());
  if (match === null)
    throw new Error(`"${text}" is not a duration: a number and a unit (${units.join(', ')}), e.g. 2weeks or 30secs`);
  const milliseconds = Math.round(Number(match[1]) * millisecondsPerUnit[match[2] as Unit]);
  if (!Number.isSafeInteger(milliseconds) || milliseconds > maxMs)
    throw new Error(`"${text}" is longer than ${showMesosDuration(maxMs)}`);
  return milliseconds;
}

/** The largest unit that divides it ("2weeks", "90secs"), so a parsed default shows as it was written. */
export function showMesosDuration(milliseconds: number): string {
  const whole = ['weeks', 'days', 'hrs', 'mins', 'secs', 'ms'] as const;
  for (const unit of whole) {
    const size = millisecondsPerUnit[unit];
    if (milliseconds !== 0 && milliseconds % size === 0) return `${milliseconds / size}${unit}`;
  }
  return `${milliseconds}ms`;
}
