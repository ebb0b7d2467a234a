// Agents as `flotilla agents` shows them, from GET_AGENTS (master.proto Response.GetAgents).
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import { parseMasterAddress } from '../../frameworks/sdk/masters.ts';
import type * as Operator from '../../protocol/operator.ts';
import { isoNanoseconds, scalarTotals } from '../output/format.ts';

export interface AgentRow {
  readonly id: string;
  readonly hostname: string;
  /** The agent's own HTTP API (files, GET_STATE), from its pid `slave(1)@ip:port`. */
  readonly address: string | null;
  /** DRAINING/DRAINED: DRAIN_AGENT (drain_info); DEACTIVATED: DEACTIVATE_AGENT; INACTIVE: not active otherwise. */
  readonly state: 'ACTIVE' | 'DRAINING' | 'DRAINED' | 'DEACTIVATED' | 'INACTIVE';
  readonly zone: string | null;
  readonly total: Readonly<Record<string, number>>;
  readonly allocated: Readonly<Record<string, number>>;
  readonly offered: Readonly<Record<string, number>>;
  readonly attributes: Readonly<Record<string, string>>;
  readonly registered: string | null;
}

/** The agent's API address from `pid` ("slave(1)@127.0.0.1:5055"), else hostname:port. */
export function agentAddress(agent: Operator.Agent): MasterAddress | null {
  const fromPid = /@([^@]+:\d+)$/.exec(agent.pid)?.[1];
  const candidate = fromPid ?? `${agent.agent_info.hostname}:${agent.agent_info.port}`;
  try {
    return parseMasterAddress(candidate);
  } catch {
    return null;
  }
}

function attributeText(attribute: Operator.Agent['agent_info']['attributes'][number]): string {
  if (attribute.text !== undefined) return attribute.text.value;
  if (attribute.scalar !== undefined) return String(attribute.scalar.value);
  return '';
}

function agentState(agent: Operator.Agent): AgentRow['state'] {
  if (agent.drain_info !== undefined) return agent.drain_info.state;
  if (agent.deactivated) return 'DEACTIVATED';
  return agent.active ? 'ACTIVE' : 'INACTIVE';
}

export function agentRow(agent: Operator.Agent): AgentRow {
  const info = agent.agent_info;
  return {
    id: info.id.value,
    hostname: info.hostname,
    address: agentAddress(agent),
    state: agentState(agent),
    zone: info.domain?.fault_domain.zone.name ?? null,
    total: scalarTotals(agent.total_resources),
    allocated: scalarTotals(agent.allocated_resources),
    offered: scalarTotals(agent.offered_resources),
    attributes: Object.fromEntries(info.attributes.map((attribute) => [attribute.name, attributeText(attribute)])),
    registered: isoNanoseconds(agent.reregistered_time ?? agent.registered_time),
  };
}

export function agentRows(answer: Operator.GetAgents): AgentRow[] {
  return (answer.agents ?? []).map(agentRow).sort((a, b) => a.hostname.localeCompare(b.hostname));
}
