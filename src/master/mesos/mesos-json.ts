// Our values in Mesos v1 JSON (mesos.proto): ids as {value}, times as nanoseconds, resources in
// the endpoint format, attributes, labels, machines. Pure functions; lists come out in the
// order they go in (the state hands them over sorted), so replicas answer alike.
import type * as Mesos from '../../protocol/mesos.ts';
import type { DiskInfo, Resource, Resources } from '../../state-machine/resources.ts';
import { unreservedRole, type Role } from '../../state-machine/roles.ts';
import { compareStrings } from '../../state-machine/ordering.ts';
import type { MachineId, ResourceQuantities } from '../../state-machine/values.ts';

export const nanosecondsPerMillisecond = 1_000_000;

/**
 * Flotilla has zones and no regions: every agent is in one region of this name, so a
 * region-aware Mesos reader sees all agents as local (DomainInfo needs both names).
 */
export const flotillaRegionName = 'default';

export const idValue = (value: string): Mesos.IdValue => ({ value });

/** TimeInfo or DurationInfo of a number of milliseconds. */
export const nanoseconds = (milliseconds: number): Mesos.Nanoseconds => ({
  nanoseconds: milliseconds * nanosecondsPerMillisecond,
});

/**
 * Which kind of reservation: the state keeps only the role a resource is reserved for. Reserving
 * in Flotilla is RESERVE / RESERVE_RESOURCES, which Mesos calls dynamic, so reservations are
 * reported as DYNAMIC (and can be handed back to UNRESERVE as they are).
 */
function reservationFields(role: Role): Pick<Mesos.Resource, 'role' | 'reservations'> {
  if (role === unreservedRole) return { role: unreservedRole };
  return { role, reservations: [{ type: 'DYNAMIC', role }] };
}

export function mesosResource(resource: Resource, allocationRole: Role | null = null): Mesos.Resource {
  const value: Pick<Mesos.Resource, 'type' | 'scalar' | 'ranges'> =
    resource.type === 'SCALAR'
      ? { type: 'SCALAR', scalar: { value: resource.scalar } }
      : { type: 'RANGES', ranges: { range: resource.ranges.map(({ begin, end }) => ({ begin, end })) } };
  return {
    name: resource.name,
    ...value,
    ...reservationFields(resource.role),
    ...(allocationRole === null ? {} : { allocation_info: { role: allocationRole } }),
    ...(resource.type === 'SCALAR' && resource.disk !== undefined ? { disk: mesosDiskInfo(resource.disk) } : {}),
  };
}

function mesosDiskInfo(disk: DiskInfo): Mesos.DiskInfo {
  return {
    persistence: { id: disk.persistenceId, ...(disk.principal === null ? {} : { principal: disk.principal }) },
    volume: { container_path: disk.containerPath, mode: disk.mode },
  };
}

/** `allocationRole`: the role the resources are allocated to (offers, tasks), if any. */
export function mesosResources(resources: Resources, allocationRole: Role | null = null): Mesos.Resource[] {
  return resources.map((resource) => mesosResource(resource, allocationRole));
}

const scalarAttribute = /^-?\d{1,15}(\.\d{1,6})?$/;

/** As Mesos parses `--attributes`: a number is a SCALAR, anything else TEXT. Sorted by name. */
export function mesosAttributes(attributes: Readonly<Record<string, string>>): Mesos.Attribute[] {
  return Object.keys(attributes)
    .sort(compareStrings)
    .map((name) => {
      const value = attributes[name]!;
      return scalarAttribute.test(value)
        ? { name, type: 'SCALAR', scalar: { value: Number(value) } }
        : { name, type: 'TEXT', text: { value } };
    });
}

export function mesosLabels(labels: Readonly<Record<string, string>>): Mesos.Labels {
  return {
    labels: Object.keys(labels)
      .sort(compareStrings)
      .map((key) => ({ key, value: labels[key]! })),
  };
}

export function mesosDomain(zone: string | null): Mesos.DomainInfo | undefined {
  if (zone === null) return undefined;
  return { fault_domain: { region: { name: flotillaRegionName }, zone: { name: zone } } };
}

/** MachineID: "" means "not given" in the state, and an unset field in Mesos. */
export function mesosMachine(machine: MachineId): Mesos.MachineId {
  return {
    ...(machine.hostname === '' ? {} : { hostname: machine.hostname }),
    ...(machine.ip === '' ? {} : { ip: machine.ip }),
  };
}

/** map<string, Value.Scalar>, keys sorted. */
export function mesosScalars(quantities: ResourceQuantities): Record<string, Mesos.Scalar> {
  return Object.fromEntries(
    Object.keys(quantities)
      .sort(compareStrings)
      .map((name) => [name, { value: quantities[name]! }]),
  );
}

/** The same quantities as unreserved scalar resources (QuotaInfo.guarantee). */
export function scalarResources(quantities: ResourceQuantities): Mesos.Resource[] {
  return Object.keys(quantities)
    .sort(compareStrings)
    .map((name) => ({
      name,
      type: 'SCALAR',
      scalar: { value: quantities[name]! },
      role: unreservedRole,
    }));
}
