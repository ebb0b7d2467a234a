// Field readers for operator call bodies: `unknown` in, typed out, or a 400 INVALID_BODY that
// names the field. Protobuf JSON rules (DESIGN.md): `null` means unset, an absent repeated
// field is an empty list, and only own members count ("constructor" is not a field).
import { isValidId } from '../../state-machine/ids.ts';
import { maxIdLength } from '../../state-machine/limits.ts';
import { SchemaError, type Schema } from '../../state-machine/schema.ts';
import { HttpError } from '../errors.ts';

export type Fields = Readonly<Record<string, unknown>>;

function member(container: Fields, name: string): unknown {
  return Object.hasOwn(container, name) ? container[name] : undefined;
}

const isUnset = (value: unknown): value is null | undefined => value === undefined || value === null;

export function asObject(value: unknown, path: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError('INVALID_BODY', `${path} must be an object`);
  }
  return value as Fields;
}

export function objectField(container: Fields, name: string, path: string = name): Record<string, unknown> {
  return asObject(member(container, name), path) as Record<string, unknown>;
}

/** An optional message: null when unset. */
export function optionalObjectField(container: Fields, name: string, path: string = name): Fields | null {
  const value = member(container, name);
  return isUnset(value) ? null : asObject(value, path);
}

export function stringField(container: Fields, name: string, pattern: RegExp, path: string): string {
  const value = member(container, name);
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new HttpError('INVALID_BODY', `${path} must be a string matching ${pattern.source}`);
  }
  return value;
}

/** An optional string: "" when unset, as protobuf reads it. */
export function optionalStringField(container: Fields, name: string, path: string): string {
  const value = member(container, name);
  if (isUnset(value)) return '';
  if (typeof value !== 'string') throw new HttpError('INVALID_BODY', `${path} must be a string`);
  return value;
}

export function optionalBooleanField(container: Fields, name: string, path: string): boolean | null {
  const value = member(container, name);
  if (isUnset(value)) return null;
  if (typeof value !== 'boolean') throw new HttpError('INVALID_BODY', `${path} must be true or false`);
  return value;
}

/** A repeated field: an absent one is empty; the length is bounded either way. */
export function listField(
  container: Fields,
  name: string,
  path: string,
  bounds: { readonly maxLength: number; readonly minLength?: number },
): readonly unknown[] {
  const value = member(container, name);
  const list = isUnset(value) ? [] : value;
  if (!Array.isArray(list)) throw new HttpError('INVALID_BODY', `${path} must be an array`);
  const minLength = bounds.minLength ?? 0;
  if (list.length < minLength || list.length > bounds.maxLength) {
    throw new HttpError('INVALID_BODY', `${path} must have ${minLength} to ${bounds.maxLength} items`);
  }
  return list;
}

/** A Mesos id message, `{"value": "<id>"}` (AgentID, FrameworkID…). */
export function idField(container: Fields, name: string, path: string): string {
  const id = member(objectField(container, name, path), 'value');
  if (typeof id !== 'string' || !isValidId(id)) {
    throw new HttpError(
      'INVALID_BODY',
      `${path}.value must be an id: up to ${maxIdLength} letters, digits, ".", "_", ":", "@", "+" or "-"`,
    );
  }
  return id;
}

const decimalDigits = /^\d{1,19}$/;
const nanosecondsPerMillisecond = 1_000_000n;

/**
 * An int64 count of nanoseconds (TimeInfo, DurationInfo), as milliseconds. Protobuf JSON may
 * send an int64 as a number or as a decimal string; today's time in nanoseconds is past 2^53,
 * so a number is only as precise as a double (well under a millisecond off).
 */
export function nanosecondsFieldAsMilliseconds(
  container: Fields,
  name: string,
  path: string,
  maxMilliseconds: number,
): number {
  const value = member(container, name);
  let milliseconds: number;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) milliseconds = Math.floor(value / 1e6);
  else if (typeof value === 'string' && decimalDigits.test(value))
    milliseconds = Number(BigInt(value) / nanosecondsPerMillisecond);
  else throw new HttpError('INVALID_BODY', `${path} must be a non-negative whole number of nanoseconds`);
  if (milliseconds > maxMilliseconds)
    throw new HttpError('INVALID_BODY', `${path} must be at most ${maxMilliseconds * 1e6} nanoseconds`);
  return milliseconds;
}

/** Runs one of the state machine's schemas (the command decoder's own rules) on a body part. */
export function parseWith<T>(schema: Schema<T>, value: unknown, path: string): T {
  try {
    return schema(value, path);
  } catch (error) {
    if (error instanceof SchemaError) throw new HttpError('INVALID_BODY', error.message);
    throw error;
  }
}
