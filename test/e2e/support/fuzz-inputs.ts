// Malformed input for the fuzz test (../fuzz.test.ts), from a seeded generator: bodies that are
// truncated, oversized, deeply nested, of the wrong type at the root or in one field, not UTF-8,
// or of the wrong media type; paths whose parameters are never valid ids; agent-protocol frames
// that are never a well-formed message. Every input is invalid by construction, so the cluster's
// replicated state must not change however the servers answer.
import { agentProtocolVersion } from '../../../src/protocol/agent.ts';
import type { SeededRandom } from '../../../src/raft/random.ts';

export interface FuzzBody {
  readonly kind: string;
  readonly contentType: string | null;
  readonly bytes: Buffer | null;
}

/** One more byte than the masters' body limit (src/http/limits.ts maxBodyBytes, 1 MiB). */
const oversizedBodyBytes = 1024 * 1024 + 1;
/** One more byte than an agent frame may hold (agentProtocolLimits.maxFrameBytes, 4 MiB). */
export const oversizedFrameBytes = 4 * 1024 * 1024 + 1;
const deepNesting = 20_000;

/** Well-formed samples of what the APIs take; the fuzz only ever sends them broken. */
const samples: readonly Record<string, unknown>[] = [
  { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: [{ role: 'web', weight: 2 }] } },
  { type: 'UPDATE_QUOTA', update_quota: { quota_configs: [{ role: 'web', guarantees: { cpus: { value: 1 } } }] } },
  { type: 'RESERVE_RESOURCES', reserve_resources: { agent_id: { value: 'a1' }, resources: [] } },
  { type: 'SUBSCRIBE', subscribe: { framework_info: { user: 'root', name: 'fuzz', roles: ['web'] } } },
  { type: 'TEARDOWN', framework_id: { value: 'f1' } },
  { value: 'a value' },
  { id: '/fuzz/app', cmd: 'sleep 1', cpus: 0.1, mem: 32, instances: 1 },
  { id: 'fuzz-job', run: { cmd: 'true', cpus: 0.1, mem: 32, disk: 0 } },
  { type: 'LAUNCH_NESTED_CONTAINER', launch_nested_container: { container_id: { value: 'c' } } },
];

/** A value of another JSON type than `value` (never null, which many optional fields accept). */
function confused(random: SeededRandom, value: unknown): unknown {
  const others: unknown[] = [];
  if (typeof value !== 'string') others.push('\u0000', 'x'.repeat(5000), '');
  if (typeof value !== 'number') others.push(-1, 1e308, 0.5, -0);
  if (typeof value !== 'boolean') others.push(true, false);
  if (!Array.isArray(value)) others.push([], [1, 'two', {}]);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) others.push({}, { nested: [] });
  return random.pick(others);
}

/** A copy of `sample` with one field (at any depth) of the wrong type. */
function withConfusedField(random: SeededRandom, sample: unknown): unknown {
  if (typeof sample !== 'object' || sample === null) return confused(random, sample);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(sample) ? [...sample] : { ...sample };
  const keys = Object.keys(copy);
  if (keys.length === 0) return confused(random, sample);
  const key = random.pick(keys);
  const child = (copy as Record<string, unknown>)[key];
  const descend = typeof child === 'object' && child !== null && random.chance(0.6);
  (copy as Record<string, unknown>)[key] = descend ? withConfusedField(random, child) : confused(random, child);
  return copy;
}

/**
 * The sample with the field that names it (an operator or scheduler call's `type`, an app's or
 * job's `id`, a KV `value`) 70,000 characters long and never a valid name. Only an existing field:
 * an added one may be an unknown field an API ignores (Marathon does), leaving the body valid.
 */
function withLongName(sample: Record<string, unknown>): Record<string, unknown> {
  const field = ['type', 'id', 'value'].find((name) => typeof sample[name] === 'string') ?? 'type';
  return { ...sample, [field]: '!'.repeat(70_000) };
}

function junkBytes(random: SeededRandom, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let index = 0; index < length; index += 1) bytes[index] = random.nextInt(256);
  return bytes;
}

const json = 'application/json';
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** One malformed body (or none). */
export function fuzzBody(random: SeededRandom): FuzzBody {
  const sample = random.pick(samples);
  const text = JSON.stringify(sample);
  switch (random.nextInt(11)) {
    case 0:
      return { kind: 'none', contentType: random.chance(0.5) ? json : null, bytes: null };
    case 1:
      // A proper prefix of a JSON object is never JSON.
      return { kind: 'truncated', contentType: json, bytes: utf8(text.slice(0, random.nextInt(text.length))) };
    case 2:
      return {
        kind: 'root-type',
        contentType: json,
        bytes: utf8(random.pick(['[1]', '"text"', '7', 'null', 'true', '[{"type":1}]', '{}'])),
      };
    case 3:
    case 4:
      return { kind: 'field-type', contentType: json, bytes: utf8(JSON.stringify(withConfusedField(random, sample))) };
    case 5:
      return random.chance(0.1)
        ? { kind: 'oversized', contentType: json, bytes: utf8(`{"value":"${'x'.repeat(oversizedBodyBytes)}"}`) }
        : {
            kind: 'long-string',
            contentType: json,
            bytes: utf8(JSON.stringify(withLongName(sample))),
          };
    case 6:
      return random.chance(0.5)
        ? { kind: 'deep', contentType: json, bytes: utf8(`${'['.repeat(deepNesting)}${']'.repeat(deepNesting)}`) }
        : { kind: 'deep', contentType: json, bytes: utf8(`${'{"a":'.repeat(deepNesting)}1${'}'.repeat(deepNesting)}`) };
    case 7:
      return { kind: 'binary', contentType: json, bytes: junkBytes(random, 1 + random.nextInt(2048)) };
    case 8:
      return {
        kind: 'media-type',
        contentType: random.pick([
          'text/plain',
          'application/x-protobuf',
          'application/x-www-form-urlencoded',
          'image/png',
          ';;;',
          'application/json; charset=latin1',
        ]),
        bytes: utf8(random.chance(0.5) ? text.slice(0, -1) : 'a=1&b=2'),
      };
    case 9:
      return {
        kind: 'escapes',
        contentType: json,
        bytes: utf8(
          random.pick([
            '{"type":"\\ud800"}',
            '{"__proto__":{"x":1},"type":"GET_HEALTH"',
            '{"type":"GET_HEALTH",,}',
            '{"a":1e999999}',
            '{"type":"\\u0000',
          ]),
        ),
      };
    default:
      return {
        kind: 'invalid-utf8',
        contentType: json,
        bytes: Buffer.concat([utf8('{"type":"'), Buffer.from([0xc3, 0x28, 0xff]), utf8('"')]),
      };
  }
}

/** A path segment no API accepts as an id (characters outside every id pattern, or far too long). */
export function junkSegment(random: SeededRandom): string {
  return random.pick([
    '%00',
    'bad!id',
    '..%2F..%2Fetc%2Fpasswd',
    '%ZZ',
    `${'a'.repeat(4000)}!`,
    'UPPER$CASE',
    '%F0%9F%92%A5!',
    'a%20b%0A!',
  ]);
}

/** `url` of the route table with every parameter and wildcard replaced by junk, and maybe a junk query. */
export function fuzzPath(random: SeededRandom, url: string): string {
  const path = url
    .split('/')
    .map((segment) => (segment.startsWith(':') || segment === '*' ? junkSegment(random) : segment))
    .join('/');
  if (!random.chance(0.3)) return path;
  const query = random.pick([
    'stale=maybe',
    'limit=-5',
    'limit=1e99',
    'after=%ZZ',
    '%00=1',
    `q=${'x'.repeat(3000)}`,
    'offset=NaN&length=-1',
    'path=../../../../etc/passwd&task_id=!',
    'embed=%FF',
  ]);
  return `${path}?${query}`;
}

const agentInfo = {
  hostname: 'fuzz',
  address: { ip: '127.0.0.1', port: 1 },
  zone: null,
  resources: [{ name: 'cpus', role: '*', type: 'SCALAR', scalar: 1 }],
  attributes: {},
};

/** A well-formed register, the template every agent frame is broken from. */
const registerTemplate = {
  v: agentProtocolVersion,
  type: 'register',
  agentId: null,
  info: agentInfo,
  tasks: [],
  executors: [],
};

/** One agent-protocol frame that is never a well-formed message (text or binary). */
export function fuzzAgentFrame(random: SeededRandom): { readonly kind: string; readonly data: string | Buffer } {
  const text = JSON.stringify(registerTemplate);
  switch (random.nextInt(7)) {
    case 0:
      return { kind: 'binary', data: junkBytes(random, 1 + random.nextInt(512)) };
    case 1:
      return { kind: 'truncated', data: text.slice(0, random.nextInt(text.length)) };
    case 2:
      return { kind: 'root-type', data: random.pick(['[]', '"register"', '42', 'null', '{}']) };
    case 3:
      return { kind: 'version', data: JSON.stringify({ ...registerTemplate, v: random.pick([0, 999, '3', null]) }) };
    case 4:
      return {
        kind: 'unknown-type',
        data: JSON.stringify({ v: agentProtocolVersion, type: random.pick(['hack', '', 7, 'REGISTER']) }),
      };
    case 5:
      return { kind: 'oversized', data: random.chance(0.05) ? 'x'.repeat(oversizedFrameBytes) : text.slice(1) };
    default: {
      // One required field of the register (at any depth) of the wrong type.
      const broken = { ...registerTemplate, info: withConfusedField(random, agentInfo) };
      return {
        kind: 'field-type',
        data: JSON.stringify(random.chance(0.3) ? withConfusedField(random, registerTemplate) : broken),
      };
    }
  }
}
