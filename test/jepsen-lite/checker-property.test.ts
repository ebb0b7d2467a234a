// Property tests of the register checker: histories linearizable by construction (each
// operation takes effect at a random instant in its window; indeterminate ones at that instant
// or never) must be valid — a checker that cries wolf is as useless as one that never does —
// and the same histories with one read's answer changed to a value the key did not hold at
// any point of the read's window must be invalid. The seed is printed for a replay.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { SeededRandom } from '../../src/raft/random.ts';
import { checkRegister } from './checker/register-checker.ts';
import type { Operation } from './history/operations.ts';
import { simulateRegisterHistory } from './support/simulated-register.ts';

const property = suite('register checker properties');
const baseSeed = Number(process.env.JEPSEN_CHECKER_SEED ?? Date.now() % 1_000_000);
process.stdout.write(`checker property seed ${baseSeed} (JEPSEN_CHECKER_SEED=${baseSeed} replays it)\n`);

property('histories of a linearizable register are valid', () => {
  for (let round = 0; round < 120; round++) {
    const seed = baseSeed + round;
    const history = simulateRegisterHistory(seed, 60 + (round % 5) * 30, 2 + (round % 4));
    const result = checkRegister(history);
    assert.is(result.valid, true, `seed ${seed}: ${JSON.stringify(result.anomalies[0] ?? result.keys[0])}`);
  }
});

property('a read answered with a value written only after the read returned is invalid', () => {
  let mutated = 0;
  for (let round = 0; round < 120; round++) {
    const seed = baseSeed + 10_000 + round;
    const history = simulateRegisterHistory(seed, 80, 3);
    const changed = readFromTheFuture(history, new SeededRandom(seed));
    if (changed === null) continue;
    mutated += 1;
    const result = checkRegister(changed);
    assert.is(result.valid, false, `seed ${seed}: a read from the future was accepted`);
  }
  assert.ok(mutated > 30, `only ${mutated} histories could be mutated`);
});

/** Makes one ok read return the value of an ok write invoked after that read returned. */
function readFromTheFuture(history: Operation[], random: SeededRandom): Operation[] | null {
  const reads = history.filter((operation) => operation.f === 'read' && operation.type === 'ok');
  for (let attempt = 0; attempt < 10 && reads.length > 0; attempt++) {
    const read = random.pick(reads);
    const later = history.filter(
      (operation) => operation.f === 'write' && operation.type === 'ok' && operation.invokeNs > read.returnNs,
    );
    if (later.length === 0) continue;
    const write = random.pick(later);
    const version = (write.output as { version: number }).version;
    const value = (write.input as { value: string }).value;
    return history.map((operation) => (operation === read ? { ...read, output: { value, version } } : operation));
  }
  return null;
}

property.run();
