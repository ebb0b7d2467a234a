// Field readers for operator call bodies: `unknown` in, typed out, or a 400 that names the field.
import { HttpError } from '../errors.ts';

export function objectField(container: Readonly<Record<string, unknown>>, name: string): Record<string, unknown> {
  const value = container[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError('INVALID_BODY', `${name} must be an object`);
  }
  return value as Record<string, unknown>;
}

export function stringField(container: Readonly<Record<string, unknown>>, name: string, pattern: RegExp, path: string): string {
  const value = container[name];
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new HttpError('INVALID_BODY', `${path} must be a string matching ${pattern.source}`);
  }
  return value;
}
