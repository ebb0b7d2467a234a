// ScheduleSpec from JSON (api/.../v1/schema/schedulespec.schema.json and the readers in
// api/v1/models: `timezone` defaults to UTC, startingDeadlineSeconds to 900 and at least 60,
// concurrencyPolicy to ALLOW, enabled to true). The schedule schema allows additional
// properties, so a schedule read back from GET (with its `nextRunAt`) can be PUT again.
import { Cron } from 'croner';
import {
  defaultStartingDeadlineSeconds,
  maxScheduleIdLength,
  maxSecondsValue,
  minStartingDeadlineSeconds,
} from './limits.ts';
import { concurrencyPolicies, type ScheduleSpec } from './model.ts';
import { isObject, Problems, readBoolean, readEnum, readNumber, readString } from './validation.ts';

/** Metronome's schedule id: a-z 0-9 and inner dashes, at least two characters. */
const scheduleIdPattern = /^([a-z0-9][a-z0-9-]*[a-z0-9]+)$/;
const cronFieldCount = 5;

/** Whether `name` is an IANA time zone this runtime knows (Metronome: ZoneId.getAvailableZoneIds). */
export function isKnownTimeZone(name: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Why `cron` is not a five-field expression croner reads, or null when it is one. */
export function cronProblem(cron: string, timezone: string): string | null {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== cronFieldCount)
    return `must have five fields (minute hour day month weekday), got ${fields.length}`;
  try {
    new Cron(cron, { timezone, mode: '5-part', paused: true });
    return null;
  } catch (error) {
    return `is not a valid cron expression: ${(error as Error).message}`;
  }
}

/** The ScheduleSpec in `body` (at `path`), or the problems; `pathId` (PUT …/schedules/{id}) wins over the body's. */
export function parseScheduleSpec(body: unknown, path = '', pathId?: string): ScheduleSpec | Problems {
  const problems = new Problems();
  if (!isObject(body)) {
    problems.add(path, 'a ScheduleSpec must be a JSON object');
    return problems;
  }
  const id = pathId ?? readString(body, 'id', path, problems, { required: true, minLength: 1 });
  if (id !== undefined && (id.length > maxScheduleIdLength || !scheduleIdPattern.test(id)))
    problems.add(
      `${path}/id`,
      'must be 2–64 characters of a-z, 0-9 and dashes, neither starting nor ending with a dash',
    );
  const timezone = readString(body, 'timezone', path, problems) ?? 'UTC';
  if (!isKnownTimeZone(timezone)) problems.add(`${path}/timezone`, `No time zone found with this id: ${timezone}`);
  const cron = readString(body, 'cron', path, problems, { required: true });
  const problem = cron === undefined ? null : cronProblem(cron, isKnownTimeZone(timezone) ? timezone : 'UTC');
  if (problem !== null) problems.add(`${path}/cron`, problem);
  const startingDeadlineSeconds =
    readNumber(body, 'startingDeadlineSeconds', path, problems, {
      integer: true,
      minimum: minStartingDeadlineSeconds,
      maximum: maxSecondsValue,
    }) ?? defaultStartingDeadlineSeconds;
  const concurrencyPolicy = readEnum(body, 'concurrencyPolicy', concurrencyPolicies, path, problems) ?? 'ALLOW';
  const enabled = readBoolean(body, 'enabled', path, problems) ?? true;
  if (!problems.empty || id === undefined || cron === undefined) return problems;
  return { id, cron: cron.trim(), timezone, startingDeadlineSeconds, concurrencyPolicy, enabled };
}
