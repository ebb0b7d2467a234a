// Job run ids as Metronome makes them (JobRunId.scala): the decision time as yyyyMMddHHmmss
// (UTC) followed by five random letters and digits, e.g. 20160715130259A34HX.
import { randomInt } from 'node:crypto';
import { runIdRandomLength } from './limits.ts';
import type { RunId } from './model.ts';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** `random(n)` returns an integer in [0, n); injectable so tests can pin ids. */
export function newRunId(now: number, random: (bound: number) => number = randomInt): RunId {
  const stamp = new Date(now).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  let suffix = '';
  for (let position = 0; position < runIdRandomLength; position++) suffix += alphabet[random(alphabet.length)];
  return `${stamp}${suffix}` as RunId;
}

/** Metronome's time format, "2016-07-15T13:02:59.735+0000" (api/v1/models DateTimeFormat, in UTC). */
export function formatTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('Z', '+0000');
}
