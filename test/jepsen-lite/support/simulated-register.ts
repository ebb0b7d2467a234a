// Histories of a register that is linearizable by construction: each operation takes effect
// atomically at a random instant inside its [call, return] window, in instant order, and the
// answers are computed from that order. Indeterminate operations either took effect at their
// instant or never, and the client gave up at a random time. For property tests of the
// checker: it must call every such history valid.
import { SeededRandom } from '../../../src/raft/random.ts';
import type { Operation } from '../history/operations.ts';

interface Planned {
  readonly id: number;
  readonly process: number;
  readonly f: 'read' | 'write' | 'cas';
  readonly callNs: number;
  readonly returnNs: number;
  readonly atNs: number;
  readonly indeterminate: boolean;
  readonly applies: boolean;
  readonly value: string;
  readonly expected: string | null;
  readonly expectedVersion: number;
}

export function simulateRegisterHistory(seed: number, operationCount: number, processes: number): Operation[] {
  const random = new SeededRandom(seed);
  const planned = planOperations(random, operationCount, processes);
  return execute(planned);
}

function planOperations(random: SeededRandom, operationCount: number, processes: number): Planned[] {
  const clocks = Array.from({ length: processes }, () => 0);
  // Compare-and-set expects one of the last values written (or absent), so some succeed.
  const recent: (string | null)[] = [null];
  const planned: Planned[] = [];
  for (let id = 0; id < operationCount; id++) {
    const process = random.nextInt(processes);
    const callNs = clocks[process]! + random.nextInt(5);
    const returnNs = callNs + 1 + random.nextInt(20);
    const roll = random.next();
    const f = roll < 0.4 ? 'read' : roll < 0.7 ? 'write' : 'cas';
    const indeterminate = f !== 'read' && random.chance(0.15);
    const expected = recent[Math.max(0, recent.length - 1 - random.nextInt(3))] ?? null;
    planned.push({
      id: id * 2,
      process,
      f,
      callNs,
      returnNs,
      atNs: callNs + random.next() * (returnNs - callNs),
      indeterminate,
      applies: !indeterminate || random.chance(0.5),
      value: `p${process}-${id}`,
      expected,
      expectedVersion: 0,
    });
    if (f !== 'read') recent.push(`p${process}-${id}`);
    // A process that saw an indeterminate answer is done; a new one takes its place (same lane).
    clocks[process] = indeterminate ? returnNs + 1000 : returnNs + 1;
  }
  return planned;
}

function execute(planned: Planned[]): Operation[] {
  let value: string | null = null;
  let version = 0;
  let index = 1;
  const results = new Map<number, { type: Operation['type']; output: unknown; error?: string }>();
  for (const operation of [...planned].sort((left, right) => left.atNs - right.atNs)) {
    index += 1;
    if (operation.f === 'read') {
      results.set(operation.id, { type: 'ok', output: { value, version } });
      continue;
    }
    const compares = operation.f === 'write' || operation.expected === value;
    if (!operation.applies) {
      results.set(operation.id, { type: 'info', output: null, error: 'TIMEOUT' });
      continue;
    }
    if (!compares) {
      results.set(
        operation.id,
        operation.indeterminate
          ? { type: 'info', output: null, error: 'TIMEOUT' }
          : { type: 'fail', output: null, error: 'VERSION_MISMATCH' },
      );
      continue;
    }
    value = operation.value;
    version = index;
    results.set(
      operation.id,
      operation.indeterminate ? { type: 'info', output: null, error: 'TIMEOUT' } : { type: 'ok', output: { version } },
    );
  }
  return planned.map((operation) => {
    const result = results.get(operation.id)!;
    return {
      id: operation.id,
      process: operation.process * 1000 + operation.id,
      client: operation.process,
      f: operation.f,
      key: 'k',
      type: result.type,
      input:
        operation.f === 'read'
          ? null
          : operation.f === 'write'
            ? { value: operation.value }
            : { expected: operation.expected, expectedVersion: operation.expectedVersion, value: operation.value },
      output: result.output,
      invokeNs: operation.callNs,
      completeNs: operation.returnNs,
      returnNs: result.type === 'info' ? Infinity : operation.returnNs,
      node: undefined,
      error: result.error,
    };
  });
}
