// The schedule calculator: pure, with no clock inside (STYLE.md rule 2). Given a schedule, the
// last slot already decided and the deciding instance's `now`, it returns the slots to start
// and those whose starting deadline has passed. Cron arithmetic, time zones and daylight
// saving are croner's; no cron parser of our own.
import { Cron } from 'croner';
import { maxSlotsPerDecision } from './limits.ts';
import type { ScheduleSpec } from './model.ts';

export interface ExpiredSlots {
  readonly firstSlotAt: number;
  readonly lastSlotAt: number;
  readonly count: number;
}

export interface SlotPlan {
  /** Slots within the starting deadline, oldest first, to be started (or skipped by policy). */
  readonly due: readonly number[];
  /** Slots older than the starting deadline: recorded as skipped, never run. */
  readonly expired: ExpiredSlots | null;
  /** Every slot at or before this has been planned; equals the input when nothing was. */
  readonly handledThrough: number;
}

function cronOf(schedule: ScheduleSpec): Cron {
  // paused and without a function: croner computes, it never schedules a timer.
  return new Cron(schedule.cron, { timezone: schedule.timezone, mode: '5-part', paused: true });
}

/** The first slot strictly after `afterMs`, or null if the expression never fires again. */
export function nextSlotAfter(schedule: ScheduleSpec, afterMs: number): number | null {
  if (!Number.isFinite(afterMs)) throw new RangeError(`nextSlotAfter: afterMs must be finite, got ${afterMs}`);
  const next = cronOf(schedule).nextRun(new Date(afterMs));
  return next === null ? null : next.getTime();
}

/**
 * The slots in (handledThrough, now], at most `maxSlots` of them, split by the starting
 * deadline: a slot more than startingDeadlineSeconds before `now` has expired.
 */
export function planSlots(
  schedule: ScheduleSpec,
  handledThrough: number,
  now: number,
  maxSlots: number = maxSlotsPerDecision,
): SlotPlan {
  if (!(maxSlots >= 1)) throw new RangeError(`planSlots: maxSlots must be >= 1, got ${maxSlots}`);
  const cron = cronOf(schedule);
  const deadlineMs = schedule.startingDeadlineSeconds * 1000;
  const due: number[] = [];
  let expiredCount = 0;
  let firstExpiredAt = 0;
  let lastExpiredAt = 0;
  let cursor = handledThrough;
  for (let planned = 0; planned < maxSlots; planned++) {
    const next = cron.nextRun(new Date(cursor));
    if (next === null || next.getTime() > now) break;
    const slot = next.getTime();
    if (slot <= cursor) throw new Error(`croner went backwards: ${slot} after ${cursor}`);
    if (now - slot > deadlineMs) {
      if (expiredCount === 0) firstExpiredAt = slot;
      lastExpiredAt = slot;
      expiredCount += 1;
    } else {
      due.push(slot);
    }
    cursor = slot;
  }
  const expired =
    expiredCount === 0 ? null : { firstSlotAt: firstExpiredAt, lastSlotAt: lastExpiredAt, count: expiredCount };
  return { due, expired, handledThrough: cursor };
}
