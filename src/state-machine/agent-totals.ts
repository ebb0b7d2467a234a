// What the Mesos master's gauges report of the agents (master/agents_active, master/cpus_used, …:
// src/master/metrics/state-gauges.ts), kept as agents are written instead of summed over every
// agent per /metrics scrape: at 10,000 agents, with /metrics read once a second, that walk was
// about a tenth of the leader's CPU in one profile (issue 12). Part of the derived indexes
// (derived-indexes.ts): never replicated, rebuilt on restore, and checked against a scan by the
// invariants (invariants.ts). Quantities in thousandths, so repeated sums never drift.
import { addQuantities, type Quantities, sameQuantities } from './quantities.ts';
import type { Agent, AgentState } from './state.ts';

export interface ReadonlyAgentTotals {
  readonly byState: Readonly<Record<AgentState, number>>;
  /** ACTIVE agents only (unreachable and gone ones offer nothing): not deactivated, ... */
  readonly activated: number;
  /** ... deactivated (DEACTIVATE_AGENT or draining), ... */
  readonly deactivated: number;
  /** ... and by drain state. */
  readonly draining: number;
  readonly drained: number;
  /** Of ACTIVE agents: their resources, what tasks and executors use, what is offered. */
  readonly total: ReadonlyMap<string, number>;
  readonly used: ReadonlyMap<string, number>;
  readonly offered: ReadonlyMap<string, number>;
}

export class AgentTotals implements ReadonlyAgentTotals {
  readonly byState: Record<AgentState, number> = { ACTIVE: 0, UNREACHABLE: 0, GONE: 0 };
  activated = 0;
  deactivated = 0;
  draining = 0;
  drained = 0;
  readonly total: Quantities = new Map();
  readonly used: Quantities = new Map();
  readonly offered: Quantities = new Map();

  /** An agent was registered or changed (before undefined: new), or removed (after undefined). */
  noteAgent(before: Agent | undefined, after: Agent | undefined): void {
    if (before !== undefined) this.#count(before, -1, after);
    if (after !== undefined) this.#count(after, 1, before);
  }

  /** Adds `sign` × the agent; resource lists the other version shares (the same object) are skipped. */
  #count(agent: Agent, sign: 1 | -1, other: Agent | undefined): void {
    this.byState[agent.state] += sign;
    if (agent.state !== 'ACTIVE') return;
    if (agent.deactivated) this.deactivated += sign;
    else this.activated += sign;
    if (agent.drain?.state === 'DRAINING') this.draining += sign;
    if (agent.drain?.state === 'DRAINED') this.drained += sign;
    const same = other?.state === 'ACTIVE';
    if (!same || other.resources !== agent.resources) addQuantities(this.total, agent.resources, sign);
    if (!same || other.used !== agent.used) addQuantities(this.used, agent.used, sign);
    if (!same || other.offered !== agent.offered) addQuantities(this.offered, agent.offered, sign);
  }
}

export function sameAgentTotals(left: ReadonlyAgentTotals, right: ReadonlyAgentTotals): boolean {
  return (
    JSON.stringify(left.byState) === JSON.stringify(right.byState) &&
    left.activated === right.activated &&
    left.deactivated === right.deactivated &&
    left.draining === right.draining &&
    left.drained === right.drained &&
    sameQuantities(left.total, right.total) &&
    sameQuantities(left.used, right.used) &&
    sameQuantities(left.offered, right.offered)
  );
}
