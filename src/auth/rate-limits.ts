// The --rate-limits file of a master: Mesos' RateLimits JSON (mesos.proto RateLimits, docs
// framework-rate-limiting.md), read and checked at start like the credentials and ACL files:
//   {"limits": [{"principal": "foo", "qps": 55.5, "capacity": 100000}, {"principal": "bar"}],
//    "aggregate_default_qps": 333, "aggregate_default_capacity": 1000000}
// A listed principal with a qps is throttled alone at that rate; one listed without a qps is not
// throttled at all; every other principal (and a framework without one) shares the aggregate
// default, when there is one. `capacity` bounds the calls waiting for their turn; as in Mesos it
// means nothing without a qps. The text is a file path, or the JSON itself when it starts with
// "{" (Mesos' flag takes both).
import { AuthFileError, jsonObject, onlyKnownMembers, readJsonFile } from './auth-file.ts';
import { maxPrincipalChars, maxRateLimitCapacity, maxRateLimitEntries, maxRateLimitQps } from './limits.ts';

/** One throttle: `qps` calls a second at most, `capacity` calls waiting at most. */
export interface Throttle {
  readonly qps: number;
  readonly capacity: number;
}

export interface RateLimits {
  /** By principal: a throttle of its own, or null (listed without a qps: never throttled). */
  readonly principals: ReadonlyMap<string, Throttle | null>;
  /** Shared by every principal not listed, and frameworks without a principal; null: none. */
  readonly aggregateDefault: Throttle | null;
}

function qpsOf(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > maxRateLimitQps)
    throw new AuthFileError(`${path} must be a number above 0 and at most ${maxRateLimitQps}`);
  return value;
}

function capacityOf(value: unknown, path: string): number {
  if (value === undefined) return maxRateLimitCapacity;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > maxRateLimitCapacity)
    throw new AuthFileError(`${path} must be a whole number from 1 to ${maxRateLimitCapacity}`);
  return value;
}

function throttleOf(qps: unknown, capacity: unknown, path: string, capacityName: string): Throttle | null {
  if (qps === undefined) return null;
  return { qps: qpsOf(qps, `${path}`), capacity: capacityOf(capacity, capacityName) };
}

function principalOf(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxPrincipalChars)
    throw new AuthFileError(`${path} must be a principal of 1 to ${maxPrincipalChars} characters`);
  return value;
}

/** The checked limits of a RateLimits JSON value; AuthFileError names the first problem. */
export function parseRateLimits(value: unknown): RateLimits {
  const root = jsonObject(value, 'rate limits');
  onlyKnownMembers(root, ['limits', 'aggregate_default_qps', 'aggregate_default_capacity'], 'rate limits');
  const list = root.limits ?? [];
  if (!Array.isArray(list) || list.length > maxRateLimitEntries)
    throw new AuthFileError(`limits must be a list of at most ${maxRateLimitEntries} entries`);
  const principals = new Map<string, Throttle | null>();
  list.forEach((entry: unknown, index) => {
    const path = `limits[${index}]`;
    const limit = jsonObject(entry, path);
    onlyKnownMembers(limit, ['principal', 'qps', 'capacity'], path);
    const principal = principalOf(limit.principal, `${path}.principal`);
    if (principals.has(principal)) throw new AuthFileError(`${path}.principal ${principal} is listed twice`);
    principals.set(principal, throttleOf(limit.qps, limit.capacity, `${path}.qps`, `${path}.capacity`));
  });
  const aggregateDefault = throttleOf(
    root.aggregate_default_qps,
    root.aggregate_default_capacity,
    'aggregate_default_qps',
    'aggregate_default_capacity',
  );
  return { principals, aggregateDefault };
}

/** --rate-limits: inline JSON (it starts with "{") or a file; AuthFileError says why not. */
export function readRateLimits(text: string): RateLimits {
  if (text.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      throw new AuthFileError('the rate limits are not JSON');
    }
    return parseRateLimits(value);
  }
  const file = text.startsWith('file://') ? text.slice('file://'.length) : text;
  return parseRateLimits(readJsonFile(file, 'rate limits'));
}
