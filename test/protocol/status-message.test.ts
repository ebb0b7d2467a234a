// The bound on a status update's message (src/protocol/status-message.ts): what the agent
// checkpoints and the master replicates is never longer than the wire and the state machine allow.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { agentProtocolLimits } from '../../src/protocol/limits.ts';
import { boundedStatusMessage } from '../../src/protocol/status-message.ts';
import { maxTextLength } from '../../src/state-machine/limits.ts';

test('the wire and the state machine bound status text alike', () => {
  assert.is(agentProtocolLimits.maxTextLength, maxTextLength);
});

test('a message within the bound, and no message, pass unchanged', () => {
  assert.is(boundedStatusMessage(null), null);
  assert.is(boundedStatusMessage(''), '');
  const exact = 'a'.repeat(maxTextLength);
  assert.is(boundedStatusMessage(exact), exact);
});

test('a longer message keeps its head and says how much was cut', () => {
  for (const length of [maxTextLength + 1, maxTextLength + 10, 100_000, 4_000_000]) {
    const message = `cause first: ${'z'.repeat(length - 13)}`;
    const bounded = boundedStatusMessage(message) ?? '';
    assert.ok(bounded.length <= maxTextLength, `${length}: ${bounded.length} characters`);
    assert.ok(bounded.startsWith('cause first: zzz'));
    const cut = Number(/ … \((\d+) characters cut\)$/.exec(bounded)?.[1]);
    assert.is(bounded.length - ` … (${cut} characters cut)`.length + cut, length, `${length}: the count adds up`);
  }
});

test('a cut never leaves half of a surrogate pair', () => {
  for (let shift = 0; shift < 4; shift++) {
    const message = `${'a'.repeat(shift)}${'😀'.repeat(maxTextLength)}`;
    const bounded = boundedStatusMessage(message) ?? '';
    const head = bounded.slice(0, bounded.indexOf(' … ('));
    assert.is(Buffer.from(head, 'utf8').toString('utf8'), head, `shift ${shift}: the kept head is well-formed text`);
    assert.ok(bounded.length <= maxTextLength);
  }
});

test('a tiny bound is still honoured', () => {
  assert.is(boundedStatusMessage('abcdef', 3), 'abc');
  assert.throws(() => boundedStatusMessage('abc', 0), /positive/);
});

test.run();
