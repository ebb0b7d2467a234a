// What the harness needs from a network: an address for every master (and how to start it
// there), each master's --peers, how clients reach a master, and faults. Faults are written to
// the FaultTable and then applied: the proxy reads the table live, the namespaces translate it
// into iptables rules.
import type { AddressBook } from '../client/endpoint.ts';
import type { FaultTable } from './faults.ts';

export type NetworkKind = 'proxy' | 'namespace';

export interface NodePlacement {
  readonly id: string;
  /** The master's --listen. */
  readonly listen: string;
  /** Put before `node …` when starting it (e.g. ip netns exec <namespace>). */
  readonly commandPrefix: readonly string[];
}

/** Where an agent runs: it must reach every master (present and future), faults or not. */
export interface AgentPlacement {
  readonly id: string;
  /** The agent's --listen. */
  readonly listen: string;
  readonly commandPrefix: readonly string[];
  /** The address the agent dials for master `id` (the real one: agents are not behind the fault proxy). */
  masterAddress(id: string): string;
}

export interface Network {
  readonly kind: NetworkKind;
  readonly book: AddressBook;
  readonly faults: FaultTable;
  /** How an added delay is realised: a real delay, or packet loss where the kernel has no netem. */
  readonly latencyStyle: 'delay' | 'loss';
  /** Gives a master its address (its namespace, its proxies) before it starts. */
  addNode(id: string): Promise<NodePlacement>;
  /** The --peers of `id` when the members are `members` (itself included). */
  peersFlag(id: string, members: readonly string[]): string;
  /** What ADD_MASTER is told: the address every master will use to reach `id`. */
  advertisedAddress(id: string): string;
  /** Gives an agent a place from which it reaches the masters directly. */
  placeAgent(id: string): Promise<AgentPlacement>;
  /** Makes the fault table true on the wire (a no-op where faults are read live). */
  apply(): Promise<void>;
  /** Forgets a master that left (its proxies, its namespace). */
  removeNode(id: string): Promise<void>;
  /** Takes everything down; safe to call twice and after a failure. */
  close(): Promise<void>;
  describe(): string;
}
