// Agents, frameworks and offers in Mesos v1 JSON (mesos.proto AgentInfo, FrameworkInfo, Offer;
// master.proto Response.GetAgents.Agent and Response.GetFrameworks.Framework).
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import type { Resources } from '../../state-machine/resources.ts';
import type { Role } from '../../state-machine/roles.ts';
import type { Agent, Framework, Offer } from '../../state-machine/state.ts';
import { flotillaVersion } from '../../util/version.ts';
import { idValue, mesosAttributes, mesosDomain, mesosResources, nanoseconds } from './mesos-json.ts';

const millisecondsPerSecond = 1000;

/** Mesos agents' libprocess id; readers take the agent's address from `pid` or `url`. */
const agentProcessId = 'slave(1)';

export function mesosAgentInfo(agent: Agent): Mesos.AgentInfo {
  const domain = mesosDomain(agent.zone);
  return {
    hostname: agent.hostname,
    port: agent.address.port,
    resources: mesosResources(agent.resources),
    attributes: mesosAttributes(agent.attributes),
    id: idValue(agent.id),
    ...(domain === undefined ? {} : { domain }),
  };
}

/** mesos.proto DrainInfo of a drained or draining agent (DRAIN_AGENT), else undefined. */
export function mesosDrainInfo(agent: Agent): Operator.DrainInfo | undefined {
  if (agent.drain === null) return undefined;
  const { state, maxGracePeriodMs, markGone } = agent.drain;
  return {
    state,
    config: {
      ...(maxGracePeriodMs === null ? {} : { max_grace_period: nanoseconds(maxGracePeriodMs) }),
      mark_gone: markGone,
    },
  };
}

/**
 * Mesos 1.9+: `active` is "registered and not deactivated"; `deactivated` is DEACTIVATE_AGENT or
 * DRAIN_AGENT (until REACTIVATE_AGENT); `drain_info` is present once drained or draining. Agents
 * run the master's release, so `version` is ours.
 */
export function mesosAgent(agent: Agent): Operator.Agent {
  const drainInfo = mesosDrainInfo(agent);
  return {
    agent_info: mesosAgentInfo(agent),
    active: agent.state === 'ACTIVE' && !agent.deactivated,
    deactivated: agent.deactivated,
    version: flotillaVersion(),
    pid: `${agentProcessId}@${agent.address.ip}:${agent.address.port}`,
    registered_time: nanoseconds(agent.registeredAt),
    ...(agent.reregisteredAt === null ? {} : { reregistered_time: nanoseconds(agent.reregisteredAt) }),
    total_resources: mesosResources(agent.resources),
    allocated_resources: mesosResources(agent.used),
    offered_resources: mesosResources(agent.offered),
    ...(drainInfo === undefined ? {} : { drain_info: drainInfo }),
  };
}

/**
 * FrameworkInfo.user is required in Mesos: "" when the framework gave none. Frameworks
 * checkpoint always: Flotilla agents checkpoint every task.
 */
export function mesosFrameworkInfo(framework: Framework): Mesos.FrameworkInfo {
  const info = framework.info;
  const singleRole = info.roles.length === 1 && !info.capabilities.includes('MULTI_ROLE') ? info.roles[0] : undefined;
  return {
    user: info.user ?? '',
    name: info.name,
    id: idValue(framework.id),
    failover_timeout: info.failoverTimeoutMs / millisecondsPerSecond,
    checkpoint: true,
    ...(singleRole === undefined ? {} : { role: singleRole }),
    roles: [...info.roles],
    ...(info.hostname === null ? {} : { hostname: info.hostname }),
    ...(info.principal === null ? {} : { principal: info.principal }),
    ...(info.webuiUrl === null ? {} : { webui_url: info.webuiUrl }),
    capabilities: info.capabilities.map((type) => ({ type })),
  };
}

export function mesosOffer(offer: Offer, agent: Agent): Mesos.Offer {
  const domain = mesosDomain(agent.zone);
  return {
    id: idValue(offer.id),
    framework_id: idValue(offer.frameworkId),
    agent_id: idValue(offer.agentId),
    hostname: agent.hostname,
    url: {
      scheme: 'http',
      address: { hostname: agent.hostname, ip: agent.address.ip, port: agent.address.port },
      path: `/${agentProcessId}`,
    },
    ...(domain === undefined ? {} : { domain }),
    resources: mesosResources(offer.resources, offer.role),
    attributes: mesosAttributes(agent.attributes),
    allocation_info: { role: offer.role },
  };
}

/** What a framework holds, by the role it holds it for (from its live tasks and its offers). */
export interface FrameworkHoldings {
  readonly offers: readonly Mesos.Offer[];
  readonly allocated: ReadonlyMap<Role, Resources>;
  readonly offered: ReadonlyMap<Role, Resources>;
}

export const noHoldings: FrameworkHoldings = { offers: [], allocated: new Map(), offered: new Map() };

function byRole(resources: ReadonlyMap<Role, Resources>): Mesos.Resource[] {
  return [...resources.entries()].flatMap(([role, held]) => mesosResources(held, role));
}

export function mesosFramework(framework: Framework, holdings: FrameworkHoldings): Operator.Framework {
  const connected = framework.state === 'CONNECTED';
  return {
    framework_info: mesosFrameworkInfo(framework),
    active: connected,
    connected,
    recovered: false,
    registered_time: nanoseconds(framework.registeredAt),
    ...(framework.reregisteredAt === null ? {} : { reregistered_time: nanoseconds(framework.reregisteredAt) }),
    ...(framework.completedAt === null ? {} : { unregistered_time: nanoseconds(framework.completedAt) }),
    offers: holdings.offers,
    inverse_offers: [],
    allocated_resources: byRole(holdings.allocated),
    offered_resources: byRole(holdings.offered),
  };
}
