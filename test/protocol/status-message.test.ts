// The bounds on a status update (src/protocol/status-message.ts, the executor API's timestamp):
// what the agent checkpoints, the master must be able to replicate, or the update is lost.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseExecutorCall, updateCallJson } from '../../src/protocol/executor.ts';
import { agentProtocolLimits, executorApiLimits } from '../../src/protocol/limits.ts';
import { boundedStatusMessage } from '../../src/protocol/status-message.ts';
import { maxTextLength, maxTimestampMs } from '../../src/state-machine/limits.ts';

test('the wire, the executor API and the state machine bound status text and time alike', () => {
  assert.is(agentProtocolLimits.maxTextLength, maxTextLength);
  assert.is(executorApiLimits.maxTextLength, maxTextLength);
  assert.is(executorApiLimits.maxTimestampSeconds * 1000, Math.floor(maxTimestampMs / 1000) * 1000);
});

test("an executor's UPDATE with a timestamp the master could not replicate is refused", () => {
  const update = (timestampMs: number) =>
    parseExecutorCall(
      updateCallJson(
        { frameworkId: 'f', executorId: 'e' },
        {
          taskId: 't',
          state: 'TASK_FINISHED',
          uuid: Buffer.alloc(16, 1).toString('base64'),
          reason: null,
          message: null,
          healthy: null,
          data: null,
          timestampMs,
        },
      ),
    );
  assert.is(update(executorApiLimits.maxTimestampSeconds * 1000).type, 'UPDATE');
  assert.throws(() => update(1e17), /timestamp must be seconds since the epoch, at most/);
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
