// Command decoding: every command survives encode → decode unchanged; anything else a buggy or
// old leader could have written decodes to a rejection with a stable code and never throws,
// checked on hand-made cases and on fast-check fuzz (seed printed; FLOTILLA_SEED=<n> replays).
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandFormatVersion, decodeCommand, encodeCommand } from '../../src/state-machine/codec.ts';
import { Harness, registerAgent, runningTaskSetup, subscribe } from './support/fixtures.ts';
import { commandSamples } from './support/samples.ts';
import { propertySeed } from './support/seed.ts';

const seed = propertySeed();
console.log(`codec.test.ts seed ${seed} (replay: FLOTILLA_SEED=${seed})`);

const text = (value: string): Uint8Array => new Uint8Array(Buffer.from(value, 'utf8'));
const envelope = (command: unknown): Uint8Array => text(JSON.stringify({ version: commandFormatVersion, command }));
const codeOf = (bytes: Uint8Array): string => {
  const decoded = decodeCommand(bytes);
  return decoded.ok ? 'ok' : decoded.code;
};

test('every command type survives encode → decode unchanged', () => {
  for (const command of Object.values(commandSamples)) {
    const decoded = decodeCommand(encodeCommand(command));
    assert.ok(decoded.ok, `${command.type}: ${decoded.ok ? '' : decoded.message}`);
    if (decoded.ok) assert.equal(decoded.command, command, command.type);
  }
});

test('COMPAT: a format 1 command lacks the members format 2 added; they decode to their defaults', () => {
  const launch = commandSamples.accept_offers;
  const format1 = JSON.parse(JSON.stringify({ version: 1, command: launch })) as {
    command: { operations: { tasks?: { container: Record<string, unknown> | null }[] }[] };
  };
  for (const operation of format1.command.operations) {
    for (const task of operation.tasks ?? []) {
      if (task.container === null) continue;
      for (const added of ['portMappings', 'volumes', 'privileged', 'parameters', 'hostname'])
        delete task.container[added];
    }
  }
  const decoded = decodeCommand(text(JSON.stringify(format1)));
  assert.ok(decoded.ok);
  const task = decoded.ok && decoded.command.type === 'accept_offers' ? decoded.command.operations[2] : undefined;
  assert.equal(task?.type === 'LAUNCH' ? task.tasks[0]?.container?.portMappings : 'no launch', []);
  const subscribe1 = { ...commandSamples.update_framework, info: { ...commandSamples.update_framework.info } };
  delete (subscribe1.info as { user?: unknown }).user;
  const framework = decodeCommand(text(JSON.stringify({ version: 1, command: subscribe1 })));
  assert.equal(framework.ok && framework.command.type === 'update_framework' ? framework.command.info.user : 'x', null);
});

test('format 7: a task command carries uris; format 6 entries have none; a uri outside the sandbox is rejected', () => {
  const launch = JSON.parse(JSON.stringify(commandSamples.accept_offers)) as {
    operations: { type: string; tasks?: { command: Record<string, unknown> | null }[] }[];
  };
  const task = launch.operations.find((operation) => operation.type === 'LAUNCH')!.tasks![0]!;
  const uri = {
    value: 'https://files.example/a.tgz',
    executable: false,
    extract: true,
    cache: false,
    outputFile: null,
  };
  task.command = { value: 'x', shell: true, arguments: [], environment: {}, user: null, uris: [uri] };
  const decoded = decodeCommand(envelope(launch));
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.message);
  assert.equal(decoded.ok ? JSON.parse(JSON.stringify(decoded.command)) : null, launch);
  const { uris: _added, ...format6Command } = task.command;
  task.command = format6Command;
  const old = decodeCommand(text(JSON.stringify({ version: 6, command: launch })));
  assert.ok(old.ok);
  const oldTask = old.ok && old.command.type === 'accept_offers' ? old.command.operations[2] : undefined;
  assert.ok(oldTask?.type === 'LAUNCH' && !('uris' in (oldTask.tasks[0]?.command ?? {})), 'absent, as written');
  task.command = { ...format6Command, uris: [{ ...uri, outputFile: '../../etc/x' }] };
  assert.is(codeOf(envelope(launch)), 'MALFORMED_COMMAND');
});

test('COMPAT: a format 3 reregister_agent names its tasks without states; they decode as null', () => {
  const { keepsReservations: _addedInFormat5, ...reregister } = commandSamples.reregister_agent;
  const tasks = reregister.tasks.map(({ frameworkId, taskId }) => ({ frameworkId, taskId }));
  const decoded = decodeCommand(text(JSON.stringify({ version: 3, command: { ...reregister, tasks } })));
  assert.ok(decoded.ok);
  assert.equal(
    decoded.ok && decoded.command.type === 'reregister_agent' ? decoded.command.tasks.map((task) => task.state) : [],
    [null],
  );
  assert.is(decoded.ok && decoded.command.type === 'reregister_agent' && decoded.command.keepsReservations, false);
});

test('members the schema does not know are dropped, not kept', () => {
  const decoded = decodeCommand(envelope({ type: 'noop', sneaky: 1 }));
  assert.equal(decoded, { ok: true, command: { type: 'noop' } });
});

test('malformed commands are rejected with MALFORMED_COMMAND, naming the field', () => {
  const malformed: unknown[] = [
    null,
    [],
    'noop',
    { type: 'kv_put' },
    { type: 'kill_task', at: -1, frameworkId: 'f1', taskId: 't1' },
    { type: 'kill_task', at: 1, frameworkId: 'f/1', taskId: 't1' },
    { type: 'kill_task', at: 1.5, frameworkId: 'f1', taskId: 't1' },
    { ...commandSamples.reserve_resources, resources: [{ name: 'cpus', role: '*', type: 'SCALAR', scalar: -1 }] },
    { ...commandSamples.reserve_resources, resources: [{ name: 'ports', role: '*', type: 'SCALAR', scalar: 1 }] },
    { ...commandSamples.update_agent_state, state: 'GONE' },
    { ...commandSamples.kv_put, namespace: 'a/b' },
    { ...commandSamples.kv_put, value: 'x'.repeat(64 * 1024 + 1) },
    { ...commandSamples.update_weights, weights: [{ role: 'web', weight: 0 }] },
    { ...commandSamples.start_maintenance, machines: [{ hostname: '', ip: '' }] },
    { ...commandSamples.subscribe_framework, info: { ...commandSamples.subscribe_framework.info, roles: [] } },
    { type: 'constructor' },
    { type: '__proto__' },
    { type: 'toString' },
  ];
  for (const command of malformed)
    assert.is(codeOf(envelope(command)), 'MALFORMED_COMMAND', JSON.stringify(command)?.slice(0, 80));
  const decoded = decodeCommand(envelope({ type: 'kill_task', at: 1, frameworkId: 'f1', taskId: 't/1' }));
  assert.ok(!decoded.ok && decoded.message.startsWith('command.taskId:'), decoded.ok ? '' : decoded.message);
});

test('broken envelopes: not UTF-8, not JSON, no version, another version, deep nesting', () => {
  assert.is(codeOf(new Uint8Array([0x7b, 0xff, 0x7d])), 'MALFORMED_COMMAND');
  assert.is(codeOf(text('')), 'MALFORMED_COMMAND');
  assert.is(codeOf(text('42')), 'MALFORMED_COMMAND');
  assert.is(codeOf(text('{"command":{"type":"noop"}}')), 'UNSUPPORTED_COMMAND_VERSION');
  assert.is(codeOf(text('{"version":"1","command":{"type":"noop"}}')), 'UNSUPPORTED_COMMAND_VERSION');
  assert.is(codeOf(text(`{"version":1,"command":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)), 'MALFORMED_COMMAND');
});

test('fuzz: random bytes never crash the machine and never change the state', () => {
  const harness = new Harness(runningTaskSetup());
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      const result = harness.applyBytes(bytes);
      return !result.ok;
    }),
    { seed, numRuns: 500 },
  );
});

/** Every path to a member of a JSON value, for the mutation fuzzer. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return [prefix, ...entries.flatMap(([key, member]) => paths(member, [...prefix, key]))];
}

function replaceAt(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return replacement;
  if (Array.isArray(value))
    return value.map((item, index) => (index === head ? replaceAt(item, rest, replacement) : item));
  const record = value as Record<string, unknown>;
  return { ...record, [head]: replaceAt(record[String(head)], rest, replacement) };
}

test('fuzz: a valid command with one member replaced by random JSON is decoded or rejected, never thrown', () => {
  const samples = Object.values(commandSamples);
  const harness = new Harness([registerAgent(), subscribe()]);
  fc.assert(
    fc.property(fc.nat(samples.length - 1), fc.nat(), fc.jsonValue({ maxDepth: 3 }), (which, where, replacement) => {
      const sample = samples[which];
      const candidates = paths(sample);
      const path = candidates[where % candidates.length] ?? [];
      harness.applyBytes(envelope(replaceAt(sample, path, replacement)));
      return true;
    }),
    { seed, numRuns: 1000 },
  );
});

test.run();
