// Draining agents to the end (Mesos maintenance.md, "Automatic Node Draining"). DRAIN_AGENT is
// replicated (drain_agent): it deactivates the agent and records a kill request for each of its
// live tasks, which the agent gateway turns into kills with the drain's max_grace_period (and
// sends again to an agent that re-registers). What is left to the leader is to see the end: once
// no task of a DRAINING agent is live, it proposes mark_agent_drained, which makes the agent
// DRAINED (and gone, with mark_gone). The drain lives in the state, so a new leader finds it
// and finishes it: this service checks every draining agent when it starts.
//
// A leader service: it reacts to the task updates and drains it sees applied, and checks every
// `drainCheckIntervalMs` too, so a proposal lost to a leadership change or an overload is made
// again. mark_agent_drained is validated in apply (AGENT_HAS_LIVE_TASKS, AGENT_NOT_DRAINING), so
// a stale or repeated proposal changes nothing.
import type { Logger } from 'pino';
import { isTerminalTaskState } from '../protocol/task-states.ts';
import type { MarkAgentDrained } from '../state-machine/commands.ts';
import type { ChangeEvent } from '../state-machine/events.ts';
import type { AgentId } from '../state-machine/ids.ts';
import { compareStrings } from '../state-machine/ordering.ts';
import type { Agent, ReadonlyState } from '../state-machine/state.ts';
import { assert } from '../util/assert.ts';
import { type ReplicatedMaster, stampedOnSubmit } from './interface.ts';
import type { LeaderService } from './leadership/service.ts';
import { drainCheckIntervalMs } from './limits.ts';

/** A DRAINING agent with no live task left: its drain is done. */
export function drainIsDone(state: ReadonlyState, agent: Agent): boolean {
  if (agent.state === 'GONE' || agent.drain?.state !== 'DRAINING') return false;
  return (state.derived.liveTasksByAgent.get(agent.id)?.size ?? 0) === 0;
}

/** The agents whose drain is done, in id order (pure; the caller skips those in flight). */
export function drainedAgents(state: ReadonlyState): AgentId[] {
  const done: AgentId[] = [];
  for (const agent of state.agents.values()) if (drainIsDone(state, agent)) done.push(agent.id);
  return done.sort(compareStrings);
}

export class AgentDrains implements LeaderService {
  readonly name = 'agent-drains';
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  /** Agents whose mark_agent_drained is proposed and not yet answered: one proposal each at a time. */
  readonly #inFlight = new Set<AgentId>();

  constructor(
    private readonly master: Pick<ReplicatedMaster, 'state' | 'submit' | 'onChange'>,
    private readonly logger: Logger,
  ) {}

  async start(_term: number): Promise<void> {
    assert(this.#timer === null, 'the agent drains service started twice');
    this.#inFlight.clear();
    this.#timer = setInterval(() => this.#checkAll(), drainCheckIntervalMs);
    this.#timer.unref();
    this.#unsubscribe = this.master.onChange((event) => this.#onChange(event));
    this.#checkAll();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
  }

  #onChange(event: ChangeEvent): void {
    // Listeners run inside the apply loop: propose after it, never from within.
    if (event.type === 'TASK_UPDATED' && isTerminalTaskState(event.task.state)) {
      const agentId = event.task.agentId;
      setImmediate(() => this.#check(agentId));
    } else if (event.type === 'AGENT_UPDATED' && event.agent.drain?.state === 'DRAINING') {
      const agentId = event.agent.id;
      setImmediate(() => this.#check(agentId));
    } else if (event.type === 'STATE_RESTORED') {
      setImmediate(() => this.#checkAll());
    }
  }

  #checkAll(): void {
    if (this.#timer === null) return;
    for (const agentId of drainedAgents(this.master.state())) this.#propose(agentId);
  }

  #check(agentId: AgentId): void {
    if (this.#timer === null) return;
    const state = this.master.state();
    const agent = state.agents.get(agentId);
    if (agent !== undefined && drainIsDone(state, agent)) this.#propose(agentId);
  }

  #propose(agentId: AgentId): void {
    if (this.#inFlight.has(agentId)) return;
    this.#inFlight.add(agentId);
    const command: MarkAgentDrained = { type: 'mark_agent_drained', at: stampedOnSubmit, agentId };
    this.master
      .submit(command)
      .then(({ result }) => {
        const gone = result.ok && this.master.state().agents.get(agentId)?.state === 'GONE';
        this.logger.info(
          { agent: agentId, ok: result.ok, code: result.ok ? null : result.code, gone },
          result.ok ? 'agent drained' : 'agent not drained yet',
        );
      })
      .catch((error: Error) => this.logger.info({ agent: agentId, problem: error.message }, 'drain end deferred'))
      .finally(() => this.#inFlight.delete(agentId));
  }
}
