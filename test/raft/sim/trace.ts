// The last events of a simulation, kept in a ring so a failing seed can show how it got there
// (`npm run sim -- --seed S --trace`). Events are stored as data and formatted only when a
// trace is printed: a passing run pays for an array write per event, not for string building.
import type { Message } from '../../../src/raft/types.ts';

export const defaultTraceEvents = 50;

export interface TraceEvent {
  readonly step: number;
  what: string;
  readonly message?: Message;
  /** Filled in after the step: the role/term/commit of the node the step touched. */
  after?: string;
}

export class TraceRing {
  private readonly events: (TraceEvent | undefined)[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number = defaultTraceEvents) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`trace capacity must be a positive integer, got ${capacity}`);
    this.events = new Array<TraceEvent | undefined>(capacity);
  }

  record(event: TraceEvent): TraceEvent {
    this.events[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    return event;
  }

  /** Oldest first. */
  lines(): string[] {
    const lines: string[] = [];
    for (let offset = this.count; offset > 0; offset--) {
      const event = this.events[(this.next - offset + this.capacity) % this.capacity]!;
      const message = event.message === undefined ? '' : ` ${describeMessage(event.message)}`;
      const after = event.after === undefined ? '' : `  => ${event.after}`;
      lines.push(`#${event.step} ${event.what}${message}${after}`);
    }
    return lines;
  }
}

export function describeMessage(message: Message): string {
  const head = `${message.from}->${message.to} ${message.type} t${message.term}`;
  switch (message.type) {
    case 'pre-vote':
    case 'vote':
      return `${head} last ${message.lastIndex}/${message.lastTerm}${message.type === 'vote' && message.transfer ? ' transfer' : ''}`;
    case 'pre-vote-response':
    case 'vote-response':
      return `${head} ${message.reject ? 'reject' : 'grant'}`;
    case 'append': {
      const first = message.entries[0];
      const last = message.entries[message.entries.length - 1];
      const range = first === undefined ? 'no entries' : `entries ${first.index}..${last!.index}`;
      return `${head} prev ${message.prevIndex}/${message.prevTerm} ${range} commit ${message.commit}`;
    }
    case 'append-response':
      return `${head} ${message.reject ? `reject ${message.index} hint ${message.hintIndex}/${message.hintTerm}` : `ok ${message.index}`}`;
    case 'heartbeat':
      return `${head} commit ${message.commit}${message.context === '' ? '' : ` ctx ${message.context}`}`;
    case 'heartbeat-response':
      return `${head}${message.context === '' ? '' : ` ctx ${message.context}`}`;
    case 'snapshot-chunk':
      return `${head} snap ${message.meta.index}/${message.meta.term} bytes ${message.offset}+${message.data.byteLength}/${message.totalBytes}`;
    case 'snapshot-response':
      return `${head} snap ${message.snapshotIndex} received ${message.receivedBytes}${message.done ? ' done' : ''}`;
    case 'timeout-now':
      return head;
    case 'read-index':
      return `${head} ctx ${message.context}`;
    case 'read-index-response':
      return `${head} ctx ${message.context} ${message.reject ? 'reject' : `index ${message.index}`}`;
  }
}
