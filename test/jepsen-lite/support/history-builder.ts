// Builds histories for checker tests: each operation with its call and return time in ms
// (return null = info, never returned), in the same shape the workloads record.
import type { CompletionType } from '../history/events.ts';
import type { Operation } from '../history/operations.ts';

export class HistoryBuilder {
  readonly operations: Operation[] = [];
  private nextId = 0;
  private nextProcess = 0;

  private add(fields: {
    f: Operation['f'];
    key?: string;
    type: CompletionType;
    input: unknown;
    output: unknown;
    call: number;
    ret: number | null;
    error?: string;
    process?: number;
  }): Operation {
    const operation: Operation = {
      id: this.nextId,
      process: fields.process ?? this.nextProcess++,
      client: 0,
      f: fields.f,
      key: fields.key ?? 'k',
      type: fields.type,
      input: fields.input,
      output: fields.output,
      invokeNs: fields.call * 1e6,
      completeNs: (fields.ret ?? fields.call) * 1e6,
      returnNs: fields.type === 'info' ? Infinity : (fields.ret ?? fields.call) * 1e6,
      node: undefined,
      error: fields.error,
    };
    this.nextId += 2;
    this.operations.push(operation);
    return operation;
  }

  read(call: number, ret: number, value: string | null, version = 0, key?: string): this {
    this.add({ f: 'read', key, type: 'ok', input: null, output: { value, version }, call, ret });
    return this;
  }

  write(call: number, ret: number | null, value: string, version: number | null = null, key?: string): this {
    const type: CompletionType = ret === null ? 'info' : 'ok';
    this.add({
      f: 'write',
      key,
      type,
      input: { value },
      output: type === 'ok' ? { version: version ?? 0 } : null,
      call,
      ret,
      ...(type === 'info' ? { error: 'TIMEOUT' } : {}),
    });
    return this;
  }

  failedWrite(call: number, ret: number, value: string, key?: string): this {
    this.add({ f: 'write', key, type: 'fail', input: { value }, output: null, call, ret, error: 'NO_LEADER' });
    return this;
  }

  /** outcome: 'ok' (with version), 'mismatch' (412), 'info' (ret ignored), 'fail' (another definite failure). */
  cas(
    call: number,
    ret: number | null,
    expected: string | null,
    value: string,
    outcome: 'ok' | 'mismatch' | 'info' | 'fail',
    version = 0,
    key?: string,
  ): this {
    const type: CompletionType = outcome === 'ok' ? 'ok' : outcome === 'info' ? 'info' : 'fail';
    const error =
      outcome === 'mismatch'
        ? 'VERSION_MISMATCH'
        : outcome === 'fail'
          ? 'NO_LEADER'
          : outcome === 'info'
            ? 'TIMEOUT'
            : undefined;
    this.add({
      f: 'cas',
      key,
      type,
      input: { expected, expectedVersion: 0, value },
      output: outcome === 'ok' ? { version } : null,
      call,
      ret: outcome === 'info' ? null : ret,
      ...(error ? { error } : {}),
    });
    return this;
  }

  addElement(call: number, ret: number | null, element: string, outcome: 'ok' | 'fail' | 'info', bucket = 'b0'): this {
    this.add({
      f: 'add',
      key: bucket,
      type: outcome,
      input: { element },
      output: outcome === 'ok' ? { version: 1, attempts: 1 } : null,
      call,
      ret: outcome === 'info' ? null : ret,
    });
    return this;
  }

  /**
   * Marks the last operation as retried after `count` indeterminate attempts, as the KV client
   * records it (output.unknownAttempts, beside the result when there is one).
   */
  retried(count: number): this {
    const last = this.operations.pop();
    if (last === undefined) throw new Error('history builder: nothing to mark as retried');
    const output = { ...((last.output as Record<string, unknown> | null) ?? {}), unknownAttempts: count };
    this.operations.push({ ...last, output });
    return this;
  }

  finalRead(call: number, ret: number, elements: string[], bucket = 'b0'): this {
    this.add({ f: 'final-read', key: bucket, type: 'ok', input: null, output: { elements, version: 1 }, call, ret });
    return this;
  }
}
