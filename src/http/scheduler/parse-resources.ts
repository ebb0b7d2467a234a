// Mesos Resource JSON (mesos.proto Resource) → Flotilla resources. The reservation is the last
// entry of `reservations` (the refinement stack, Mesos ≥ 1.4), else the deprecated `role`, else
// unreserved "*". A `disk` is a persistent volume (DiskInfo.persistence and .volume); disk
// sources (mount and path disks), SET resources and revocable resources have no Flotilla form:
// a clear 400 rather than a silent drop.
import { maxReservationsPerResource } from '../limits.ts';
import {
  canonicalize,
  type DiskInfo,
  InvalidResourcesError,
  type Resource,
  type Resources,
  type ValueRange,
} from '../../state-machine/resources.ts';
import { maxRangesPerResource, maxResourcesPerList } from '../../state-machine/limits.ts';
import { unreservedRole, type Role } from '../../state-machine/roles.ts';
import { HttpError } from '../errors.ts';
import { asObject } from '../operator/fields.ts';
import {
  enumField,
  type Fields,
  messageList,
  numberField,
  optionalMessage,
  optionalString,
  requiredString,
} from './json-fields.ts';

function reservedRole(resource: Fields, path: string): Role {
  const reservations = messageList(resource, 'reservations', `${path}.reservations`, maxReservationsPerResource);
  const last = reservations[reservations.length - 1];
  if (last !== undefined) {
    const role = optionalString(last, 'role', `${path}.reservations[${reservations.length - 1}].role`);
    if (role === null) throw new HttpError('INVALID_BODY', `${path}.reservations: a reservation needs a role`);
    return role;
  }
  return optionalString(resource, 'role', `${path}.role`) ?? unreservedRole;
}

function parseRanges(resource: Fields, path: string): ValueRange[] {
  const ranges = asObject(optionalMessage(resource, 'ranges', `${path}.ranges`) ?? {}, `${path}.ranges`);
  return messageList(ranges, 'range', `${path}.ranges.range`, maxRangesPerResource).map((range, position) => ({
    begin: numberField(range, 'begin', `${path}.ranges.range[${position}].begin`),
    end: numberField(range, 'end', `${path}.ranges.range[${position}].end`),
  }));
}

export function parseResource(resource: Fields, path: string): Resource {
  const name = requiredString(resource, 'name', `${path}.name`);
  const type = enumField(resource, 'type', `${path}.type`, ['SCALAR', 'RANGES', 'SET', 'TEXT'], 'SCALAR');
  for (const unsupported of ['revocable', 'shared', 'provider_id'] as const) {
    if (optionalMessage(resource, unsupported, `${path}.${unsupported}`) !== null) {
      throw new HttpError('INVALID_BODY', `${path}.${unsupported}: Flotilla has no ${unsupported} resources`);
    }
  }
  const role = reservedRole(resource, path);
  const disk = optionalMessage(resource, 'disk', `${path}.disk`);
  if (type === 'SCALAR') {
    const scalar = optionalMessage(resource, 'scalar', `${path}.scalar`);
    if (scalar === null) throw new HttpError('INVALID_BODY', `${path}.scalar is required for a SCALAR resource`);
    const value = numberField(scalar, 'value', `${path}.scalar.value`);
    if (disk === null) return { name, role, type: 'SCALAR', scalar: value };
    return { name, role, type: 'SCALAR', scalar: value, disk: parseDiskInfo(disk, `${path}.disk`) };
  }
  if (disk !== null) throw new HttpError('INVALID_BODY', `${path}.disk: only a SCALAR disk resource has a DiskInfo`);
  if (type === 'RANGES') return { name, role, type: 'RANGES', ranges: parseRanges(resource, path) };
  throw new HttpError('INVALID_BODY', `${path}.type: Flotilla resources are SCALAR or RANGES, not ${type}`);
}

/**
 * DiskInfo of a persistent volume: persistence {id, principal} and volume {container_path, mode}.
 * The principal is the caller's (the master overwrites it with the framework's or operator's).
 */
function parseDiskInfo(disk: Fields, path: string): DiskInfo {
  if (optionalMessage(disk, 'source', `${path}.source`) !== null)
    throw new HttpError('INVALID_BODY', `${path}.source: Flotilla has no mount or path disks`);
  const persistence = optionalMessage(disk, 'persistence', `${path}.persistence`);
  if (persistence === null)
    throw new HttpError('INVALID_BODY', `${path}.persistence is required: Flotilla disks are persistent volumes`);
  const volume = optionalMessage(disk, 'volume', `${path}.volume`);
  if (volume === null) throw new HttpError('INVALID_BODY', `${path}.volume is required for a persistent volume`);
  for (const unsupported of ['host_path', 'image', 'source'] as const) {
    if (volume[unsupported] !== undefined && volume[unsupported] !== null)
      throw new HttpError('INVALID_BODY', `${path}.volume.${unsupported}: a persistent volume has none`);
  }
  return {
    persistenceId: requiredString(persistence, 'id', `${path}.persistence.id`),
    principal: optionalString(persistence, 'principal', `${path}.persistence.principal`),
    containerPath: requiredString(volume, 'container_path', `${path}.volume.container_path`),
    mode: enumField(volume, 'mode', `${path}.volume.mode`, ['RW', 'RO'], 'RW'),
  };
}

/**
 * CREATE / DESTROY / CREATE_VOLUMES / DESTROY_VOLUMES: every resource a persistent volume, each
 * (role, id) once (canonical form would otherwise add two of them up).
 */
export function parseVolumes(container: Fields, name: string, path: string): Resources {
  const list = messageList(container, name, path, maxResourcesPerList).map((resource, position) =>
    parseResource(resource, `${path}[${position}]`),
  );
  if (list.length === 0) throw new HttpError('INVALID_BODY', `${path} must name at least one volume`);
  const seen = new Set<string>();
  for (const [position, resource] of list.entries()) {
    if (resource.type !== 'SCALAR' || resource.disk === undefined)
      throw new HttpError('INVALID_BODY', `${path}[${position}] is not a persistent volume (disk.persistence)`);
    const key = `${resource.role}\u0000${resource.disk.persistenceId}`;
    if (seen.has(key))
      throw new HttpError('INVALID_BODY', `${path}[${position}]: volume ${resource.disk.persistenceId} appears twice`);
    seen.add(key);
  }
  return canonicalOrBadRequest(list, path);
}

function canonicalOrBadRequest(list: readonly Resource[], path: string): Resources {
  try {
    return canonicalize(list);
  } catch (error) {
    if (error instanceof InvalidResourcesError) throw new HttpError('INVALID_BODY', `${path}: ${error.message}`);
    throw error;
  }
}

/** A repeated Resource field, validated and made canonical. */
export function parseResources(container: Fields, name: string, path: string): Resources {
  const list = messageList(container, name, path, maxResourcesPerList).map((resource, position) =>
    parseResource(resource, `${path}[${position}]`),
  );
  return canonicalOrBadRequest(list, path);
}
