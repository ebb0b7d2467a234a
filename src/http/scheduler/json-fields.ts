// Readers for the scheduler API's JSON beyond the operator ones (fields.ts): protobuf JSON
// numbers (an int64/uint64 may come as a decimal string), doubles, enums and id messages that
// are optional. `unknown` in, typed out, or a 400 INVALID_BODY naming the field.
import { isValidId } from '../../state-machine/ids.ts';
import { maxIdLength } from '../../state-machine/limits.ts';
import { HttpError } from '../errors.ts';
import { asObject, type Fields } from '../operator/fields.ts';

export type { Fields };

export function member(container: Fields, name: string): unknown {
  return Object.hasOwn(container, name) ? container[name] : undefined;
}

export const isUnset = (value: unknown): value is null | undefined => value === undefined || value === null;

const decimalNumber = /^-?\d{1,20}(\.\d+)?$/;

/** A number, or a protobuf JSON int64 string; null when unset. */
export function optionalNumberField(container: Fields, name: string, path: string): number | null {
  const value = member(container, name);
  if (isUnset(value)) return null;
  const parsed = typeof value === 'string' && decimalNumber.test(value) ? Number(value) : value;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed))
    throw new HttpError('INVALID_BODY', `${path} must be a number`);
  return parsed;
}

export function numberField(container: Fields, name: string, path: string): number {
  const value = optionalNumberField(container, name, path);
  if (value === null) throw new HttpError('INVALID_BODY', `${path} is required`);
  return value;
}

export function optionalString(container: Fields, name: string, path: string): string | null {
  const value = member(container, name);
  if (isUnset(value)) return null;
  if (typeof value !== 'string') throw new HttpError('INVALID_BODY', `${path} must be a string`);
  return value;
}

export function requiredString(container: Fields, name: string, path: string): string {
  const value = optionalString(container, name, path);
  if (value === null) throw new HttpError('INVALID_BODY', `${path} is required`);
  return value;
}

/** An enum field: one of `values`, or `fallback` when unset. */
export function enumField<const T extends string>(
  container: Fields,
  name: string,
  path: string,
  values: readonly T[],
  fallback: T,
): T {
  const value = member(container, name);
  if (isUnset(value)) return fallback;
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new HttpError('INVALID_BODY', `${path} must be one of ${values.join(', ')}`);
  }
  return value as T;
}

/** An optional id message `{"value": "<id>"}`: null when unset. */
export function optionalIdField(container: Fields, name: string, path: string): string | null {
  const value = member(container, name);
  if (isUnset(value)) return null;
  const id = member(asObject(value, path), 'value');
  if (typeof id !== 'string' || !isValidId(id)) {
    throw new HttpError(
      'INVALID_BODY',
      `${path}.value must be an id: up to ${maxIdLength} letters, digits, ".", "_", ":", "@", "+" or "-"`,
    );
  }
  return id;
}

export function requiredIdField(container: Fields, name: string, path: string): string {
  const id = optionalIdField(container, name, path);
  if (id === null) throw new HttpError('INVALID_BODY', `${path} is required`);
  return id;
}

/** A repeated field of messages; absent means empty; bounded. */
export function messageList(container: Fields, name: string, path: string, maxLength: number): Fields[] {
  const value = member(container, name);
  if (isUnset(value)) return [];
  if (!Array.isArray(value)) throw new HttpError('INVALID_BODY', `${path} must be an array`);
  if (value.length > maxLength) throw new HttpError('INVALID_BODY', `${path} may have at most ${maxLength} items`);
  return value.map((item, position) => asObject(item, `${path}[${position}]`));
}

export function stringList(container: Fields, name: string, path: string, maxLength: number): string[] {
  const value = member(container, name);
  if (isUnset(value)) return [];
  if (!Array.isArray(value) || value.length > maxLength || !value.every((item) => typeof item === 'string')) {
    throw new HttpError('INVALID_BODY', `${path} must be an array of at most ${maxLength} strings`);
  }
  return value as string[];
}

export function optionalMessage(container: Fields, name: string, path: string): Fields | null {
  const value = member(container, name);
  return isUnset(value) ? null : asObject(value, path);
}
