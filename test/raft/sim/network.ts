// A simulated network between Raft cores. Every fault is drawn from one seeded generator, so a
// seed replays the same drops, delays, duplicates and reorderings exactly (DESIGN.md, "Raft",
// Simulation; TigerBeetle's VOPR does the same for its clock, network and disk).
//
// Time: the network has its own clock, `now`, advanced by the simulation once per node tick.
// A message sent at `now` with delay d becomes deliverable at `now + d`; until then it is in
// flight. Delivery picks the oldest deliverable message, or (with the reorder probability) any
// deliverable one. Partitions are checked at delivery, as a real partition drops packets that
// are already on the wire; a blocked message is consumed, never held back until the heal.
import type { SeededRandom } from '../../../src/raft/random.ts';
import type { Message, NodeId } from '../../../src/raft/types.ts';

export interface NetworkFaults {
  readonly dropProbability: number;
  readonly duplicateProbability: number;
  /** Chance that a delivery takes a random deliverable message instead of the oldest one. */
  readonly reorderProbability: number;
  /** Each copy of a message waits a delay drawn uniformly from [0, maxDelayTicks] network ticks. */
  readonly maxDelayTicks: number;
  /** Chance that a copy is held back much longer, up to `longDelayTicks`: it arrives from the past. */
  readonly longDelayProbability: number;
  readonly longDelayTicks: number;
}

export const quietNetwork: NetworkFaults = {
  dropProbability: 0,
  duplicateProbability: 0,
  reorderProbability: 0,
  maxDelayTicks: 0,
  longDelayProbability: 0,
  longDelayTicks: 0,
};

/** A bound on messages in flight: a simulation that exceeds it has a message storm (a bug in itself). */
export const maxMessagesInFlight = 20_000;

interface InFlight {
  readonly message: Message;
  readonly deliverableAt: number;
}

export interface Delivery {
  readonly message: Message;
  /** True when a partition swallowed the message: it is gone, and was not delivered. */
  readonly blocked: boolean;
}

export interface NetworkCounters {
  sent: number;
  dropped: number;
  duplicated: number;
  blocked: number;
  delivered: number;
}

export class SimNetwork {
  now = 0;
  readonly counters: NetworkCounters = { sent: 0, dropped: 0, duplicated: 0, blocked: 0, delivered: 0 };
  private faults: NetworkFaults;
  private inFlight: InFlight[] = [];
  /** Directed links that are cut, as "from>to". A symmetric partition cuts both directions. */
  private readonly cutLinks = new Set<string>();
  /** Directed links that are congested: every message on one waits this many more ticks. */
  private readonly slowLinks = new Map<string, number>();

  constructor(
    private readonly random: SeededRandom,
    faults: NetworkFaults,
  ) {
    this.faults = checkedFaults(faults);
  }

  setFaults(faults: NetworkFaults): void {
    this.faults = checkedFaults(faults);
  }

  currentFaults(): NetworkFaults {
    return this.faults;
  }

  send(message: Message): void {
    this.counters.sent++;
    if (this.random.chance(this.faults.dropProbability)) {
      this.counters.dropped++;
      return;
    }
    this.enqueue(message);
    if (this.random.chance(this.faults.duplicateProbability)) {
      this.counters.duplicated++;
      this.enqueue(message);
    }
  }

  private enqueue(message: Message): void {
    if (this.inFlight.length >= maxMessagesInFlight) {
      throw new Error(`network: more than ${maxMessagesInFlight} messages in flight (a message storm)`);
    }
    const faults = this.faults;
    let delay = faults.maxDelayTicks === 0 ? 0 : this.random.nextInt(faults.maxDelayTicks + 1);
    if (faults.longDelayProbability > 0 && this.random.chance(faults.longDelayProbability))
      delay += this.random.nextInt(faults.longDelayTicks + 1);
    if (this.slowLinks.size > 0) delay += this.slowLinks.get(linkName(message.from, message.to)) ?? 0;
    this.inFlight.push({ message, deliverableAt: this.now + delay });
  }

  tick(): void {
    this.now++;
  }

  inFlightCount(): number {
    return this.inFlight.length;
  }

  /** Takes the next message off the wire, or null when nothing is deliverable yet. */
  takeNext(): Delivery | null {
    const position = this.pickPosition();
    if (position < 0) return null;
    const [flight] = this.inFlight.splice(position, 1);
    const message = flight!.message;
    if (this.isCut(message.from, message.to)) {
      this.counters.blocked++;
      return { message, blocked: true };
    }
    this.counters.delivered++;
    return { message, blocked: false };
  }

  private pickPosition(): number {
    const oldest = this.inFlight.findIndex((flight) => flight.deliverableAt <= this.now);
    if (oldest < 0 || !this.random.chance(this.faults.reorderProbability)) return oldest;
    const deliverable: number[] = [];
    for (let position = oldest; position < this.inFlight.length; position++) {
      if (this.inFlight[position]!.deliverableAt <= this.now) deliverable.push(position);
    }
    return this.random.pick(deliverable);
  }

  /** Takes the in-flight messages `select` picks off the wire: a script holds them back to send later. */
  holdBack(select: (message: Message) => boolean): Message[] {
    const held = this.inFlight.filter((flight) => select(flight.message)).map((flight) => flight.message);
    this.inFlight = this.inFlight.filter((flight) => !select(flight.message));
    return held;
  }

  /** Cuts every link between different groups, both ways (a symmetric partition). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const group of groups) {
      for (const other of groups) {
        if (other === group) continue;
        for (const from of group) for (const to of other) this.cutLinks.add(linkName(from, to));
      }
    }
  }

  /** Messages from `from` to `to` are lost; the other direction still works. */
  cutOneWay(from: NodeId, to: NodeId): void {
    this.cutLinks.add(linkName(from, to));
  }

  /** Messages from `from` to `to` arrive `extraTicks` late (a congested link), until the heal. */
  slowDown(from: NodeId, to: NodeId, extraTicks: number): void {
    this.slowLinks.set(linkName(from, to), extraTicks);
  }

  heal(): void {
    this.cutLinks.clear();
    this.slowLinks.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.size > 0 && this.cutLinks.has(linkName(from, to));
  }

  /** The chance a message is dropped now (beacons are lost as messages are). */
  dropChance(): number {
    return this.faults.dropProbability;
  }

  isPartitioned(): boolean {
    return this.cutLinks.size > 0 || this.slowLinks.size > 0;
  }
}

function linkName(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}

function checkedFaults(faults: NetworkFaults): NetworkFaults {
  const probabilities = [
    faults.dropProbability,
    faults.duplicateProbability,
    faults.reorderProbability,
    faults.longDelayProbability,
  ];
  if (probabilities.some((probability) => !(probability >= 0 && probability < 1))) {
    throw new RangeError(`network faults: probabilities must be in [0, 1), got ${JSON.stringify(faults)}`);
  }
  for (const [name, ticks] of [
    ['maxDelayTicks', faults.maxDelayTicks],
    ['longDelayTicks', faults.longDelayTicks],
  ] as const) {
    if (!Number.isInteger(ticks) || ticks < 0)
      throw new RangeError(`network faults: ${name} must be a non-negative integer, got ${ticks}`);
  }
  return faults;
}
