// Removed agents (unreachable, or gone) in the order they are forgotten: oldest removal first,
// by (removal time, agent id), as Mesos' registry GC prunes its unreachable and gone lists
// (master.cpp `doRegistryGc`). An indexed binary min-heap: add, delete and the oldest are
// O(log n), and the order is a function of the agents alone, so a replica that rebuilt it from
// a snapshot forgets the same agent as one that applied the log.
import { assert } from '../util/assert.ts';
import type { AgentId } from './ids.ts';
import { compareStrings } from './ordering.ts';

export interface Removal {
  readonly agentId: AgentId;
  /** The agent's `stateChangedAt`: when it became unreachable or gone (leader-stamped ms). */
  readonly removedAt: number;
}

const before = (left: Removal, right: Removal): boolean =>
  left.removedAt < right.removedAt ||
  (left.removedAt === right.removedAt && compareStrings(left.agentId, right.agentId) < 0);

export class RemovalQueue {
  readonly #heap: Removal[] = [];
  readonly #positions = new Map<AgentId, number>();

  get size(): number {
    return this.#heap.length;
  }

  get(agentId: AgentId): Removal | undefined {
    const position = this.#positions.get(agentId);
    return position === undefined ? undefined : this.#heap[position];
  }

  oldest(): Removal | undefined {
    return this.#heap[0];
  }

  add(removal: Removal): void {
    assert(!this.#positions.has(removal.agentId), `agent ${removal.agentId} is queued twice`);
    this.#heap.push(removal);
    this.#positions.set(removal.agentId, this.#heap.length - 1);
    this.#up(this.#heap.length - 1);
  }

  delete(agentId: AgentId): void {
    const position = this.#positions.get(agentId);
    assert(position !== undefined, `agent ${agentId} is not queued`);
    const last = this.#heap.pop()!;
    this.#positions.delete(agentId);
    if (position === this.#heap.length) return;
    this.#heap[position] = last;
    this.#positions.set(last.agentId, position);
    this.#down(position);
    this.#up(position);
  }

  /** Every queued removal, oldest first (O(n log n): invariant checks and tests only). */
  inOrder(): Removal[] {
    return [...this.#heap].sort((left, right) => (before(left, right) ? -1 : before(right, left) ? 1 : 0));
  }

  #swap(left: number, right: number): void {
    const first = this.#heap[left]!;
    const second = this.#heap[right]!;
    this.#heap[left] = second;
    this.#heap[right] = first;
    this.#positions.set(second.agentId, left);
    this.#positions.set(first.agentId, right);
  }

  #up(start: number): void {
    for (let position = start; position > 0; ) {
      const parent = (position - 1) >> 1;
      if (!before(this.#heap[position]!, this.#heap[parent]!)) return;
      this.#swap(position, parent);
      position = parent;
    }
  }

  #down(start: number): void {
    const count = this.#heap.length;
    for (let position = start; ; ) {
      const left = 2 * position + 1;
      const right = left + 1;
      let smallest = position;
      if (left < count && before(this.#heap[left]!, this.#heap[smallest]!)) smallest = left;
      if (right < count && before(this.#heap[right]!, this.#heap[smallest]!)) smallest = right;
      if (smallest === position) return;
      this.#swap(position, smallest);
      position = smallest;
    }
  }
}
