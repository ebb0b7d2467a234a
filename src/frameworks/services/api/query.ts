// Query parameters as Marathon reads them: repeatable (`embed=a&embed=b`) or comma-separated,
// and booleans as "true"/"false".
import { MarathonApiError } from '../api-error.ts';

export function queryList(query: unknown, name: string): string[] {
  const value = (query as Record<string, unknown>)[name];
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list
    .flatMap((item) => String(item).split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function queryBoolean(query: unknown, name: string, fallback = false): boolean {
  const value = (query as Record<string, unknown>)[name];
  if (value === undefined || value === '') return fallback;
  const text = String(Array.isArray(value) ? value[0] : value).toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  throw new MarathonApiError(400, `Query parameter ${name} must be true or false, got ${text}`);
}

export function queryString(query: unknown, name: string): string | null {
  const value = (query as Record<string, unknown>)[name];
  if (value === undefined) return null;
  return String(Array.isArray(value) ? value[0] : value);
}
