// Operator reservations and persistent volumes (master.proto ReserveResources, UnreserveResources,
// CreateVolumes, DestroyVolumes; Mesos "reservation.md", "persistent-volume.md"): each names an
// agent and Mesos Resource JSON. Authorized per role with Mesos' actions (reserve_resources,
// unreserve_resources, create_volumes, destroy_volumes); a volume records the operator's
// principal. As Mesos' master does, offers that hold the agent's resources are rescinded first
// when the resources are not free, and the call retried.
import { principalOf } from '../../auth/requester.ts';
import type { AclAction } from '../../auth/acls.ts';
import type { MasterCore } from '../../master/interface.ts';
import type { Command } from '../../state-machine/commands.ts';
import type { RejectionCode } from '../../state-machine/errors.ts';
import { agentId as toAgentId, type AgentId } from '../../state-machine/ids.ts';
import { reservedRoles, signVolumes, type Resources } from '../../state-machine/resources.ts';
import { stampedOnSubmit } from '../../master/interface.ts';
import { requireAllowed, type RequestAccess } from '../access.ts';
import { rejectionToHttp } from '../master-errors.ts';
import { parseResources, parseVolumes } from '../scheduler/parse-resources.ts';
import { idField, objectField, type Fields } from './fields.ts';
import type { OperatorCallTable } from './registry.ts';

/** Refusals that outstanding offers on the agent may cause: rescinding them can make room. */
const heldByOffers: ReadonlySet<RejectionCode> = new Set([
  'RESOURCES_INSUFFICIENT',
  'RESOURCES_IN_USE',
  'VOLUME_IN_USE',
]);
/** Attempts after rescinding: the allocator may offer the resources again in between. */
const maxRescindRounds = 3;

async function rescindOffersOn(master: MasterCore, agent: AgentId): Promise<number> {
  const offers = [...master.state().offers.values()].filter((offer) => offer.agentId === agent);
  for (const offer of offers) await master.submit({ type: 'rescind_offer', at: stampedOnSubmit, offerId: offer.id });
  return offers.length;
}

async function submitRescinding(master: MasterCore, command: Command & { readonly agentId: AgentId }): Promise<void> {
  for (let round = 0; ; round++) {
    const { result } = await master.submit(command);
    if (result.ok) {
      master.allocation.trigger('operator reservation');
      return;
    }
    const retry = heldByOffers.has(result.code) && round < maxRescindRounds;
    if (!retry || (await rescindOffersOn(master, command.agentId)) === 0) throw rejectionToHttp(result);
  }
}

function authorizeRoles(access: RequestAccess, action: AclAction, resources: Resources): void {
  for (const role of reservedRoles(resources)) requireAllowed(access, action, role);
}

interface Parsed {
  readonly agentId: AgentId;
  readonly resources: Resources;
}

function parseCall(call: Fields, member: string, list: 'resources' | 'volumes'): Parsed {
  const body = objectField(call, member);
  const agent = idField(body, 'agent_id', `${member}.agent_id`);
  const resources =
    list === 'volumes'
      ? parseVolumes(body, 'volumes', `${member}.volumes`)
      : parseResources(body, 'resources', `${member}.resources`);
  return { agentId: toAgentId(agent), resources };
}

export const reservationCalls: OperatorCallTable = {
  RESERVE_RESOURCES: {
    write: true,
    accepted: true,
    async handle({ master, call, access }) {
      const { agentId, resources } = parseCall(call, 'reserve_resources', 'resources');
      authorizeRoles(access, 'reserve_resources', resources);
      const principal = principalOf(access.requester);
      await submitRescinding(master, { type: 'reserve_resources', at: stampedOnSubmit, agentId, resources, principal });
      return null;
    },
  },
  UNRESERVE_RESOURCES: {
    write: true,
    accepted: true,
    async handle({ master, call, access }) {
      const { agentId, resources } = parseCall(call, 'unreserve_resources', 'resources');
      authorizeRoles(access, 'unreserve_resources', resources);
      const principal = principalOf(access.requester);
      await submitRescinding(master, {
        type: 'unreserve_resources',
        at: stampedOnSubmit,
        agentId,
        resources,
        principal,
      });
      return null;
    },
  },
  CREATE_VOLUMES: {
    write: true,
    accepted: true,
    async handle({ master, call, access }) {
      const { agentId, resources } = parseCall(call, 'create_volumes', 'volumes');
      authorizeRoles(access, 'create_volumes', resources);
      // The volume records who created it: the operator's principal (null when anonymous).
      const volumes = signVolumes(resources, principalOf(access.requester));
      await submitRescinding(master, { type: 'create_volumes', at: stampedOnSubmit, agentId, volumes });
      return null;
    },
  },
  DESTROY_VOLUMES: {
    write: true,
    accepted: true,
    async handle({ master, call, access }) {
      const { agentId, resources } = parseCall(call, 'destroy_volumes', 'volumes');
      authorizeRoles(access, 'destroy_volumes', resources);
      await submitRescinding(master, { type: 'destroy_volumes', at: stampedOnSubmit, agentId, volumes: resources });
      return null;
    },
  },
};
