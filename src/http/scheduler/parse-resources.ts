// Mesos Resource JSON (mesos.proto Resource) → Flotilla resources. The reservation is the last
// entry of `reservations` (the refinement stack, Mesos ≥ 1.4), else the deprecated `role`, else
// unreserved "*". SET resources, disks and revocable resources have no Flotilla form: a clear
// 400 rather than a silent drop.
import { maxReservationsPerResource } from '../limits.ts';
import {
  canonicalize,
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
  for (const unsupported of ['disk', 'revocable', 'shared', 'provider_id'] as const) {
    if (optionalMessage(resource, unsupported, `${path}.${unsupported}`) !== null) {
      throw new HttpError('INVALID_BODY', `${path}.${unsupported}: Flotilla has no ${unsupported} resources`);
    }
  }
  const role = reservedRole(resource, path);
  if (type === 'SCALAR') {
    const scalar = optionalMessage(resource, 'scalar', `${path}.scalar`);
    if (scalar === null) throw new HttpError('INVALID_BODY', `${path}.scalar is required for a SCALAR resource`);
    return { name, role, type: 'SCALAR', scalar: numberField(scalar, 'value', `${path}.scalar.value`) };
  }
  if (type === 'RANGES') return { name, role, type: 'RANGES', ranges: parseRanges(resource, path) };
  throw new HttpError('INVALID_BODY', `${path}.type: Flotilla resources are SCALAR or RANGES, not ${type}`);
}

/** A repeated Resource field, validated and made canonical. */
export function parseResources(container: Fields, name: string, path: string): Resources {
  const list = messageList(container, name, path, maxResourcesPerList).map((resource, position) =>
    parseResource(resource, `${path}[${position}]`),
  );
  try {
    return canonicalize(list);
  } catch (error) {
    if (error instanceof InvalidResourcesError) throw new HttpError('INVALID_BODY', `${path}: ${error.message}`);
    throw error;
  }
}
