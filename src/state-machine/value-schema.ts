// Schemas of the value types (values.ts) and ids: shared by the command decoder and the snapshot
// reader. Lists that the state keeps sorted and unique (roles, capabilities, machines, resources)
// are brought into that form here; the snapshot reader additionally compares the state hash, so
// a row that was not in canonical form is caught there rather than silently normalized.
import type { AgentId, ExecutorId, FrameworkId, OfferId, TaskId } from './ids.ts';
import { isValidId } from './ids.ts';
import * as limits from './limits.ts';
import { compareStrings } from './ordering.ts';
import {
  canonicalizeParsed,
  type DiskInfo,
  InvalidResourcesError,
  type RangesResource,
  type Resources,
  type ScalarResource,
  type ValueRange,
} from './resources.ts';
import { isValidRole, type Role } from './roles.ts';
import {
  addedInFormat2,
  addedInFormat3,
  addedWithExecutorContainers,
  addedWithFetcher,
  array,
  boolean,
  integer,
  literal,
  nullable,
  number,
  object,
  oneOf,
  record,
  refine,
  SchemaError,
  string,
  taggedUnion,
  type Schema,
} from './schema.ts';
import { taskReasons, taskSources, taskStates } from '../protocol/task-states.ts';
import { type CommandUri, commandUriProblem, maxCommandUris } from '../protocol/command-uris.ts';
import {
  frameworkCapabilities,
  type AgentAddress,
  type AgentInfo,
  type ContainerVolume,
  type DockerParameter,
  type ExecutorDefinition,
  type FrameworkInfo,
  type HealthCheck,
  type MachineId,
  type MaintenanceWindow,
  type PortMapping,
  type QuotaConfig,
  type ResourceQuantities,
  type RoleWeight,
  type StatusReport,
  type TaskCommand,
  type TaskContainer,
  type TaskDefinition,
} from './values.ts';

function idSchema<T extends string>(kind: string): Schema<T> {
  return (input, path) => {
    if (typeof input !== 'string' || !isValidId(input)) {
      throw new SchemaError(
        path,
        `must be a ${kind}: up to ${limits.maxIdLength} letters, digits, ".", "_", ":", "@", "+" or "-"`,
      );
    }
    return input as T;
  };
}

export const agentIdSchema = idSchema<AgentId>('agent id');
export const frameworkIdSchema = idSchema<FrameworkId>('framework id');
export const taskIdSchema = idSchema<TaskId>('task id');
export const offerIdSchema = idSchema<OfferId>('offer id');
export const executorIdSchema = idSchema<ExecutorId>('executor id');

export const roleSchema: Schema<Role> = (input, path) => {
  if (typeof input !== 'string' || !isValidRole(input))
    throw new SchemaError(path, 'must be a role: "*" or parts like "eng/web"');
  return input;
};

export const logIndexSchema = integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
export const durationMsSchema = integer({ min: 0, max: limits.maxDurationMs });
export const textSchema = string({ maxLength: limits.maxTextLength });
export const nameSchema = string({ minLength: 1, maxLength: limits.maxNameLength });
export const hostnameSchema = string({
  minLength: 1,
  maxLength: limits.maxHostnameLength,
  pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/,
});
export const ipSchema = string({ minLength: 1, maxLength: 45, pattern: /^[0-9A-Fa-f.:]+$/ });
const labelKeySchema = string({ minLength: 1, maxLength: 128, pattern: /^[A-Za-z0-9_./-]+$/ });
const environmentNameSchema = string({ minLength: 1, maxLength: 128, pattern: /^[A-Za-z_][A-Za-z0-9_]*$/ });
/** A Unix user name, as getent and docker --user take it. */
export const userNameSchema = string({
  minLength: 1,
  maxLength: limits.maxUserNameLength,
  pattern: /^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$/,
});
/** Mesos status uuids: 16 bytes, base64. */
export const statusUuidSchema = string({ minLength: 24, maxLength: 24, pattern: /^[A-Za-z0-9+/]{22}==$/ });

function sortedUnique<T extends string>(
  item: Schema<T>,
  options: { readonly maxLength: number; readonly minLength?: number },
): Schema<readonly T[]> {
  return refine(array(item, options), (values) => [...new Set(values)].sort(compareStrings));
}

const rangeSchema = object<ValueRange>({
  begin: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  end: integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
});
const resourceNameSchema = string({ minLength: 1, maxLength: 64 });
const diskInfoSchema = object<DiskInfo>({
  persistenceId: string({ minLength: 1, maxLength: 128 }),
  principal: nullable(string({ minLength: 1, maxLength: 255 })),
  containerPath: string({ minLength: 1, maxLength: limits.maxPathLength }),
  mode: oneOf(['RW', 'RO'] as const),
});
/** Absent on every resource but a persistent volume (canonicalize checks the rest). */
const optionalDiskSchema: Schema<DiskInfo | undefined> = (input, path) =>
  input === undefined ? undefined : diskInfoSchema(input, path);
const resourceSchema = taggedUnion<ScalarResource | RangesResource>({
  SCALAR: object<ScalarResource>({
    name: resourceNameSchema,
    role: roleSchema,
    type: literal('SCALAR'),
    scalar: number({ min: 0, max: limits.maxScalarValue }),
    disk: optionalDiskSchema,
  }),
  RANGES: object<RangesResource>({
    name: resourceNameSchema,
    role: roleSchema,
    type: literal('RANGES'),
    ranges: array(rangeSchema, { maxLength: limits.maxRangesPerResource }),
  }),
});

export const resourcesSchema: Schema<Resources> = refine(
  array(resourceSchema, { maxLength: limits.maxResourcesPerList }),
  (list, path) => {
    try {
      return canonicalizeParsed(list);
    } catch (error) {
      if (error instanceof InvalidResourcesError) throw new SchemaError(path, error.message);
      throw error;
    }
  },
);

const addressSchema = object<AgentAddress>({ ip: ipSchema, port: integer({ min: 0, max: 65_535 }) });

export const agentInfoShape = {
  hostname: hostnameSchema,
  address: addressSchema,
  zone: nullable(string({ minLength: 1, maxLength: 128, pattern: /^[A-Za-z0-9_.-]+$/ })),
  resources: resourcesSchema,
  attributes: record(labelKeySchema, string({ maxLength: 1024 }), { maxEntries: limits.maxAttributes }),
} as const satisfies { readonly [K in keyof AgentInfo]-?: Schema<AgentInfo[K]> };
export const agentInfoSchema = object<AgentInfo>(agentInfoShape);

export const frameworkInfoSchema = object<FrameworkInfo>({
  name: nameSchema,
  principal: nullable(nameSchema),
  roles: sortedUnique(roleSchema, { minLength: 1, maxLength: limits.maxRolesPerFramework }),
  failoverTimeoutMs: durationMsSchema,
  capabilities: sortedUnique(oneOf(frameworkCapabilities), { maxLength: frameworkCapabilities.length * 2 }),
  hostname: nullable(hostnameSchema),
  webuiUrl: nullable(string({ minLength: 1, maxLength: 2048 })),
  user: addedInFormat2(nullable(userNameSchema), null),
});

const commandUriSchema = refine(
  object<CommandUri>({
    value: string({ minLength: 1, maxLength: limits.maxTextLength }),
    executable: boolean,
    extract: boolean,
    cache: boolean,
    outputFile: nullable(string({ minLength: 1, maxLength: limits.maxPathLength })),
  }),
  (uri, path) => {
    const problem = commandUriProblem(uri);
    if (problem !== null) throw new SchemaError(path, problem);
    return uri;
  },
);

const taskCommandSchema = object<TaskCommand>({
  value: string({ minLength: 1, maxLength: limits.maxTextLength }),
  shell: boolean,
  arguments: array(textSchema, { maxLength: limits.maxArguments }),
  environment: record(environmentNameSchema, textSchema, { maxEntries: limits.maxEnvironmentVariables }),
  user: nullable(userNameSchema),
  uris: addedWithFetcher(array(commandUriSchema, { minLength: 1, maxLength: maxCommandUris })),
});

const portSchema = integer({ min: 1, max: 65_535 });
const portMappingSchema = object<PortMapping>({
  hostPort: portSchema,
  containerPort: portSchema,
  protocol: oneOf(['tcp', 'udp']),
});
/** ":" and "," separate the parts of a Docker bind; NUL ends a C string. */
const volumePathSchema = string({ minLength: 1, maxLength: limits.maxPathLength, pattern: /^[^:,\0]+$/ });
const containerVolumeSchema = object<ContainerVolume>({
  containerPath: volumePathSchema,
  hostPath: volumePathSchema,
  mode: oneOf(['RW', 'RO']),
});
const dockerParameterSchema = object<DockerParameter>({
  key: string({ minLength: 1, maxLength: 64, pattern: /^[a-z][a-z0-9-]*$/ }),
  value: textSchema,
});

const taskContainerSchema = object<TaskContainer>({
  type: oneOf(['DOCKER', 'MESOS']),
  image: nullable(string({ minLength: 1, maxLength: 1024 })),
  network: oneOf(['HOST', 'BRIDGE', 'NONE']),
  forcePullImage: boolean,
  portMappings: addedInFormat2(array(portMappingSchema, { maxLength: limits.maxPortMappings }), []),
  volumes: addedInFormat2(array(containerVolumeSchema, { maxLength: limits.maxVolumes }), []),
  privileged: addedInFormat2(boolean, false),
  parameters: addedInFormat2(array(dockerParameterSchema, { maxLength: limits.maxDockerParameters }), []),
  hostname: addedInFormat2(nullable(hostnameSchema), null),
});

const healthCheckSchema = object<HealthCheck>({
  type: oneOf(['COMMAND', 'HTTP', 'TCP']),
  command: nullable(string({ minLength: 1, maxLength: limits.maxTextLength })),
  port: nullable(integer({ min: 1, max: 65_535 })),
  path: nullable(string({ minLength: 1, maxLength: 1024 })),
  delayMs: durationMsSchema,
  intervalMs: integer({ min: 1, max: limits.maxDurationMs }),
  timeoutMs: integer({ min: 1, max: limits.maxDurationMs }),
  consecutiveFailures: integer({ min: 1, max: 1000 }),
  gracePeriodMs: durationMsSchema,
});

/** Base64 of at most `bytes` bytes (padding included), as protobuf JSON writes `bytes` fields. */
export function base64Schema(bytes: number): Schema<string> {
  return string({
    maxLength: limits.base64Length(bytes),
    pattern: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  });
}

export const executorDefinitionSchema = object<ExecutorDefinition>({
  id: executorIdSchema,
  type: oneOf(['CUSTOM', 'DEFAULT']),
  name: nullable(nameSchema),
  command: nullable(taskCommandSchema),
  resources: resourcesSchema,
  shutdownGracePeriodMs: nullable(durationMsSchema),
  labels: record(labelKeySchema, string({ maxLength: 1024 }), { maxEntries: limits.maxLabels }),
  container: addedWithExecutorContainers(nullable(taskContainerSchema), null),
});

export const taskDefinitionShape = {
  id: taskIdSchema,
  name: nameSchema,
  resources: resourcesSchema,
  command: nullable(taskCommandSchema),
  container: nullable(taskContainerSchema),
  healthCheck: nullable(healthCheckSchema),
  killGracePeriodMs: nullable(durationMsSchema),
  labels: record(labelKeySchema, string({ maxLength: 1024 }), { maxEntries: limits.maxLabels }),
  executor: addedInFormat3(nullable(executorDefinitionSchema), null),
  data: addedInFormat3(nullable(base64Schema(limits.maxTaskDataBytes)), null),
} as const satisfies { readonly [K in keyof TaskDefinition]-?: Schema<TaskDefinition[K]> };
export const taskDefinitionSchema = object<TaskDefinition>(taskDefinitionShape);

export const statusReportShape = {
  state: oneOf(taskStates),
  reason: nullable(oneOf(taskReasons)),
  message: nullable(textSchema),
  source: oneOf(taskSources),
  uuid: nullable(statusUuidSchema),
  timestampMs: integer({ min: 0, max: limits.maxTimestampMs }),
  healthy: nullable(boolean),
  data: addedInFormat3(nullable(base64Schema(limits.maxStatusDataBytes)), null),
} as const satisfies { readonly [K in keyof StatusReport]-?: Schema<StatusReport[K]> };
export const statusReportSchema = object<StatusReport>(statusReportShape);

export const machineIdSchema: Schema<MachineId> = refine(
  object<MachineId>({
    hostname: string({ maxLength: limits.maxHostnameLength, pattern: /^([A-Za-z0-9_][A-Za-z0-9_.-]*)?$/ }),
    ip: string({ maxLength: 45, pattern: /^[0-9A-Fa-f.:]*$/ }),
  }),
  (machine, path) => {
    if (machine.hostname === '' && machine.ip === '')
      throw new SchemaError(path, 'a machine needs a hostname or an ip');
    return machine;
  },
);

const compareMachines = (left: MachineId, right: MachineId): number =>
  compareStrings(left.hostname, right.hostname) || compareStrings(left.ip, right.ip);

export const machineListSchema = (maxLength: number): Schema<readonly MachineId[]> =>
  refine(array(machineIdSchema, { maxLength }), (machines) => {
    const unique = new Map(machines.map((machine) => [`${machine.hostname}|${machine.ip}`, machine]));
    return [...unique.values()].sort(compareMachines);
  });

export const maintenanceWindowSchema = object<MaintenanceWindow>({
  machines: machineListSchema(limits.maxMachinesPerWindow),
  startMs: integer({ min: 0, max: limits.maxTimestampMs }),
  durationMs: durationMsSchema,
});

/** Amounts in whole thousandths, like resource scalars. */
const quantitiesSchema: Schema<ResourceQuantities> = refine(
  record(resourceNameSchema, number({ min: 0, max: limits.maxScalarValue }), {
    maxEntries: limits.maxResourcesPerList,
  }),
  (amounts) =>
    Object.fromEntries(Object.entries(amounts).map(([name, amount]) => [name, Math.round(amount * 1000) / 1000])),
);

export const quotaConfigShape = {
  role: roleSchema,
  guarantees: quantitiesSchema,
  limits: quantitiesSchema,
} as const satisfies { readonly [K in keyof QuotaConfig]-?: Schema<QuotaConfig[K]> };
export const quotaConfigSchema = object<QuotaConfig>(quotaConfigShape);

export const roleWeightSchema = object<RoleWeight>({
  role: roleSchema,
  weight: number({ min: 0, max: 1e6, exclusiveMin: true }),
});

export const kvNamespaceSchema = string({
  minLength: 1,
  maxLength: limits.maxKvNamespaceLength,
  pattern: /^[A-Za-z0-9._-]+$/,
});
export const kvKeySchema = string({ minLength: 1, maxLength: limits.maxKvKeyLength, pattern: /^[A-Za-z0-9._:@/-]+$/ });
export const kvValueSchema: Schema<string> = (input, path) => {
  if (typeof input !== 'string') throw new SchemaError(path, 'must be a string');
  if (Buffer.byteLength(input, 'utf8') > limits.maxKvValueBytes)
    throw new SchemaError(path, `must be at most ${limits.maxKvValueBytes} bytes`);
  return input;
};
