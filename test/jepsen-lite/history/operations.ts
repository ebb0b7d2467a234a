// Pairs each invoke with its completion into one operation, the unit the checkers and the
// report work on. An info operation's return time is +∞: it may take effect at any moment
// after its invocation, or never.
import type { CompletionType, HistoryEvent, OperationName } from './events.ts';

export interface Operation {
  /** The index of the invoke event: unique, and stable across re-reads of the file. */
  readonly id: number;
  readonly process: number;
  readonly client: number;
  readonly f: OperationName;
  readonly key: string | undefined;
  readonly type: CompletionType;
  readonly input: unknown;
  readonly output: unknown;
  readonly invokeNs: number;
  /** When the completion was recorded (also for info: when the client gave up). */
  readonly completeNs: number;
  /** completeNs for ok and fail; +∞ for info. */
  readonly returnNs: number;
  readonly node: string | undefined;
  readonly error: string | undefined;
}

export function pairOperations(events: readonly HistoryEvent[]): Operation[] {
  const open = new Map<number, HistoryEvent>();
  const operations: Operation[] = [];
  for (const event of events) {
    if (event.type === 'invoke') {
      if (open.has(event.process))
        throw new Error(`history: process ${event.process} invoked twice without a completion (event ${event.index})`);
      open.set(event.process, event);
      continue;
    }
    const invoke = open.get(event.process);
    if (invoke === undefined) throw new Error(`history: completion without an invoke (event ${event.index})`);
    open.delete(event.process);
    operations.push(toOperation(invoke, event.type, event.value, event.timeNs, event.node, event.error));
  }
  // An invoke without completion (a history cut short) is indeterminate.
  for (const invoke of open.values())
    operations.push(toOperation(invoke, 'info', null, invoke.timeNs, undefined, 'NO_COMPLETION'));
  return operations.sort((left, right) => left.id - right.id);
}

function toOperation(
  invoke: HistoryEvent,
  type: CompletionType,
  output: unknown,
  completeNs: number,
  node: string | undefined,
  error: string | undefined,
): Operation {
  return {
    id: invoke.index,
    process: invoke.process,
    client: invoke.client,
    f: invoke.f,
    key: invoke.key,
    type,
    input: invoke.value,
    output,
    invokeNs: invoke.timeNs,
    completeNs,
    returnNs: type === 'info' ? Infinity : completeNs,
    node,
    error,
  };
}
