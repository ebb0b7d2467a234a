// The running state of one script: a Harness, the output of the command being run, and what
// each node looked like last time (so role and term changes are printed where they happen).
import type { Harness, HarnessNode } from '../support/harness.ts';
import type { Message, MessageType, NodeId, Role, Term } from '../../../src/raft/types.ts';
import { formatMessage } from './format.ts';

/** A bound on delivery rounds: a scenario that still has messages flowing after this is a livelock. */
export const maxStabilizeRounds = 1_000;

/** Every message type, checked by the compiler against the Message union. */
const messageTypeNames: Readonly<Record<MessageType, true>> = {
  'pre-vote': true,
  'pre-vote-response': true,
  vote: true,
  'vote-response': true,
  append: true,
  'append-response': true,
  heartbeat: true,
  'heartbeat-response': true,
  'snapshot-chunk': true,
  'snapshot-response': true,
  'timeout-now': true,
  'read-index': true,
  'read-index-response': true,
};

export interface MessageFilter {
  readonly from?: readonly string[];
  readonly to?: readonly string[];
  readonly types?: readonly MessageType[];
}

/** A filter from `from=`, `to=` and `type=` lists; a misspelt type is an error, not an empty match. */
export function messageFilter(
  from?: readonly string[],
  to?: readonly string[],
  types?: readonly string[],
): MessageFilter {
  for (const type of types ?? []) {
    if (!Object.hasOwn(messageTypeNames, type))
      throw new Error(`unknown message type ${type} (known: ${Object.keys(messageTypeNames).join(' ')})`);
  }
  return { from, to, types: types as readonly MessageType[] | undefined };
}

export function matches(filter: MessageFilter, message: Message): boolean {
  return (
    (filter.from === undefined || filter.from.includes(message.from)) &&
    (filter.to === undefined || filter.to.includes(message.to)) &&
    (filter.types === undefined || filter.types.includes(message.type))
  );
}

interface Seen {
  readonly role: Role;
  readonly term: Term;
}

export class Scenario {
  private current: Harness | null = null;
  private readonly seen = new Map<NodeId, Seen>();
  private lines: string[] = [];
  /** How many of each node's read results `reads` has printed already. */
  readonly readsShown = new Map<NodeId, { states: number; failures: number }>();

  get hasCluster(): boolean {
    return this.current !== null;
  }

  get harness(): Harness {
    if (this.current === null) throw new Error('no cluster yet: start the script with `cluster m1 m2 m3`');
    return this.current;
  }

  /** A new cluster replaces the old one: a script may tell two timelines of the same story. */
  start(harness: Harness): void {
    this.current = harness;
    this.seen.clear();
    this.readsShown.clear();
    this.remember();
  }

  print(line: string): void {
    this.lines.push(line);
  }

  /** The lines printed since the last call. */
  takeOutput(): string[] {
    const lines = this.lines;
    this.lines = [];
    return lines;
  }

  /** Takes every node's current role and term as already printed (a restart prints its own status). */
  remember(): void {
    for (const node of this.harness.nodes.values()) {
      const status = node.core.status();
      this.seen.set(node.id, { role: status.role, term: status.term });
    }
  }

  /** Prints every role or term change since the last look, `indent`ed under the event that caused it. */
  observe(indent = ''): void {
    for (const node of this.harness.nodes.values()) {
      if (!node.up) continue;
      const status = node.core.status();
      const before = this.seen.get(node.id);
      if (before === undefined || before.role !== status.role || before.term !== status.term) {
        this.print(`${indent}${node.id} became ${status.role} term=${status.term}`);
        this.seen.set(node.id, { role: status.role, term: status.term });
      }
    }
  }

  /** Every node runs its Ready loop (persist, send, apply, advance) until it has nothing left. */
  process(indent = ''): void {
    this.harness.process();
    this.observe(indent);
  }

  node(id: string): HarnessNode {
    return this.harness.node(id);
  }

  upNode(id: string): HarnessNode {
    const node = this.node(id);
    if (!node.up) throw new Error(`${id} is down`);
    return node;
  }

  /** Why a message cannot arrive, or null. */
  private undeliverable(message: Message): string | null {
    const target = this.harness.nodes.get(message.to);
    if (target === undefined) return `no node ${message.to}`;
    if (!target.up) return `${message.to} is down`;
    if (this.harness.cut.has(`${message.from}>${message.to}`)) return 'partition';
    return null;
  }

  /**
   * One round: every queued message that matches is delivered (or lost to a partition or a
   * crash), in queue order, then every node processes its Ready. Returns how many were taken.
   */
  deliverRound(filter: MessageFilter, echo: boolean): number {
    this.process(echo ? '  ' : '');
    const harness = this.harness;
    const taken = harness.queue.filter((message) => matches(filter, message));
    harness.queue = harness.queue.filter((message) => !matches(filter, message));
    for (const message of taken) {
      const reason = this.undeliverable(message);
      if (echo) this.print(reason === null ? formatMessage(message) : `${formatMessage(message)} (dropped: ${reason})`);
      if (reason !== null) continue;
      harness.deliver(message);
      this.observe(echo ? '  ' : '');
    }
    this.process(echo ? '  ' : '');
    return taken.length;
  }

  stabilize(filter: MessageFilter, echo: boolean): void {
    for (let round = 0; round < maxStabilizeRounds; round++) {
      if (this.deliverRound(filter, echo) === 0) return;
    }
    throw new Error(`messages still flowing after ${maxStabilizeRounds} rounds`);
  }

  tick(node: HarnessNode): void {
    node.core.tick();
    this.observe();
  }
}
