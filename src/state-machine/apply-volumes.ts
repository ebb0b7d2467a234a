// Persistent volumes (Mesos "persistent-volume.md"): disk reserved to a role becomes a volume
// with an id (unique per agent and role) and a container path; DESTROY turns it back into plain
// reserved disk. The same plans serve the operator's CREATE_VOLUMES / DESTROY_VOLUMES (against
// the agent's free resources) and the scheduler's ACCEPT CREATE / DESTROY (against the offers'
// pool), so both refuse alike. A volume lives in the agent's total as its own resource entry
// (resources.ts keys it by its persistence id), so offers, tasks and accounting carry it as any
// other resource, and it is offered to its role only, as any reserved resource is.
import { freeResources, setTotal } from './agent-accounting.ts';
import type { CreateVolumes, DestroyVolumes } from './commands.ts';
import { reject, success, type ApplyResult, type Rejection } from './errors.ts';
import type { ChangeEvent } from './events.ts';
import type { LogIndex } from './ids.ts';
import {
  add,
  canonicalize,
  contains,
  isEmpty,
  isVolume,
  subtract,
  volumesOf,
  withoutVolumes,
  type Resources,
} from './resources.ts';
import type { Role } from './roles.ts';
import type { State } from './state.ts';

/** What a volume operation works against: what it may take, and the agent's total. */
export interface VolumePool {
  readonly available: Resources;
  readonly total: Resources;
}

/** Every resource a volume, each reserved to `role` when one is required (an ACCEPT's offers' role). */
function volumesProblem(volumes: Resources, role: Role | null, operation: string): Rejection | null {
  if (isEmpty(volumes)) return reject('INVALID_VOLUME', `${operation} names no volumes`);
  for (const resource of volumes) {
    if (!isVolume(resource))
      return reject('INVALID_VOLUME', `${operation}: resource "${resource.name}" has no disk.persistence`);
    if (role !== null && resource.role !== role)
      return reject(
        'INVALID_VOLUME',
        `${operation}: volume ${resource.disk.persistenceId} is not reserved to "${role}"`,
      );
  }
  return null;
}

/** The agent's volume of this role with this id, if any. */
export function findVolume(total: Resources, role: Role, persistenceId: string): Resources[number] | undefined {
  return volumesOf(total).find((volume) => volume.role === role && volume.disk.persistenceId === persistenceId);
}

export function planCreateVolumes(
  pool: VolumePool,
  volumes: Resources,
  role: Role | null,
  operation: string,
): VolumePool | Rejection {
  const problem = volumesProblem(volumes, role, operation);
  if (problem !== null) return problem;
  for (const volume of volumesOf(volumes)) {
    if (findVolume(pool.total, volume.role, volume.disk.persistenceId) !== undefined)
      return reject(
        'VOLUME_ALREADY_EXISTS',
        `volume ${volume.disk.persistenceId} of role "${volume.role}" exists on the agent`,
      );
  }
  const source = withoutVolumes(volumes);
  if (!contains(pool.available, source))
    return reject('RESOURCES_INSUFFICIENT', `${operation}: not that much free disk reserved to the role`);
  return {
    available: add(subtract(pool.available, source), volumes),
    total: add(subtract(pool.total, source), volumes),
  };
}

/**
 * DESTROY names a volume by role and id; the rest of what it gives is not compared (an operator
 * other than the creator destroys with what GET_AGENTS shows). The volume must be in `available`:
 * neither used by a live task nor offered elsewhere.
 */
export function planDestroyVolumes(
  pool: VolumePool,
  volumes: Resources,
  role: Role | null,
  operation: string,
): VolumePool | Rejection {
  const problem = volumesProblem(volumes, role, operation);
  if (problem !== null) return problem;
  const stored: Resources[number][] = [];
  for (const volume of volumesOf(volumes)) {
    const found = findVolume(pool.total, volume.role, volume.disk.persistenceId);
    if (found === undefined)
      return reject(
        'VOLUME_NOT_FOUND',
        `the agent has no volume ${volume.disk.persistenceId} of role "${volume.role}"`,
      );
    stored.push(found);
  }
  const destroyed = canonicalize(stored);
  if (!contains(pool.available, destroyed))
    return reject('VOLUME_IN_USE', `${operation}: a volume is used by a live task or offered`);
  const released = withoutVolumes(destroyed);
  return {
    available: add(subtract(pool.available, destroyed), released),
    total: add(subtract(pool.total, destroyed), released),
  };
}

function agentPool(state: State, command: CreateVolumes | DestroyVolumes): VolumePool | Rejection {
  const agent = state.agents.get(command.agentId);
  if (agent === undefined) return reject('AGENT_NOT_FOUND', `agent ${command.agentId} is not registered`);
  if (agent.state === 'GONE') return reject('AGENT_GONE', `agent ${command.agentId} was marked gone`);
  return { available: freeResources(agent), total: agent.resources };
}

export function applyCreateVolumes(
  state: State,
  command: CreateVolumes,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const pool = agentPool(state, command);
  if ('ok' in pool) return pool;
  const plan = planCreateVolumes(pool, command.volumes, null, 'CREATE_VOLUMES');
  if ('ok' in plan) return plan;
  setTotal(state, command.agentId, plan.total, index);
  events.push({ type: 'AGENT_VOLUMES_CHANGED', agentId: command.agentId });
  return success;
}

export function applyDestroyVolumes(
  state: State,
  command: DestroyVolumes,
  index: LogIndex,
  events: ChangeEvent[],
): ApplyResult {
  const pool = agentPool(state, command);
  if ('ok' in pool) return pool;
  const plan = planDestroyVolumes(pool, command.volumes, null, 'DESTROY_VOLUMES');
  if ('ok' in plan) return plan;
  setTotal(state, command.agentId, plan.total, index);
  events.push({ type: 'AGENT_VOLUMES_CHANGED', agentId: command.agentId });
  return success;
}
