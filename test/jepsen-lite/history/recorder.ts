// Appends every event to history.jsonl as it happens (one JSON object per line), and keeps
// them in memory for the checkers. The file is written synchronously: a run that crashes
// still leaves its history behind, and the order of lines is the order of events.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { MonotonicClock } from './clock.ts';
import type { CompletionType, HistoryEvent, OperationName } from './events.ts';

/** An invoked operation not yet completed; complete() it exactly once. */
export interface OpenOperation {
  readonly invoke: HistoryEvent;
  completed: boolean;
}

export interface Completion {
  readonly type: CompletionType;
  readonly value?: unknown;
  readonly node?: string;
  readonly error?: string;
}

export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  private readonly open = new Map<number, OpenOperation>();
  private descriptor: number | null;

  constructor(
    readonly file: string,
    private readonly clock: MonotonicClock,
  ) {
    this.descriptor = openSync(file, 'w');
  }

  invoke(process: number, client: number, f: OperationName, key: string | undefined, value: unknown): OpenOperation {
    if (this.open.has(process))
      throw new Error(`history: process ${process} invoked while its last operation is still open`);
    const event = this.append({
      type: 'invoke',
      process,
      client,
      f,
      ...(key === undefined ? {} : { key }),
      value: value ?? null,
    });
    const operation: OpenOperation = { invoke: event, completed: false };
    this.open.set(process, operation);
    return operation;
  }

  complete(operation: OpenOperation, completion: Completion): HistoryEvent {
    if (operation.completed) throw new Error(`history: operation ${operation.invoke.index} completed twice`);
    operation.completed = true;
    this.open.delete(operation.invoke.process);
    const { process, client, f, key } = operation.invoke;
    return this.append({
      type: completion.type,
      process,
      client,
      f,
      ...(key === undefined ? {} : { key }),
      value: completion.value ?? null,
      ...(completion.node === undefined ? {} : { node: completion.node }),
      ...(completion.error === undefined ? {} : { error: completion.error }),
    });
  }

  /** Operations still open when the run ends become `info`: their outcome is unknown. */
  closeOpenOperations(): void {
    for (const operation of [...this.open.values()]) this.complete(operation, { type: 'info', error: 'RUN_ENDED' });
  }

  close(): void {
    if (this.descriptor === null) return;
    closeSync(this.descriptor);
    this.descriptor = null;
  }

  private append(fields: Omit<HistoryEvent, 'index' | 'timeNs'>): HistoryEvent {
    if (this.descriptor === null) throw new Error('history: recorder is closed');
    const event: HistoryEvent = { index: this.events.length, ...fields, timeNs: this.clock.nowNs() };
    this.events.push(event);
    writeSync(this.descriptor, `${JSON.stringify(event)}\n`);
    return event;
  }
}
