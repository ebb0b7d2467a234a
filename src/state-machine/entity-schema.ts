// Schemas of the state's entities, for reading snapshot rows back. Like the command schemas, the
// mapped types make the compiler check them against state.ts field by field, so a field added to
// an entity without a schema (and a snapshot format decision) breaks the build.
import {
  addedInFormat3,
  addedInFormat5,
  array,
  boolean,
  integer,
  literal,
  nullable,
  number,
  object,
  oneOf,
  refine,
  string,
  type Schema,
} from './schema.ts';
import { maxDurationMs, maxHistoryCount, maxMaintenanceWindows, maxStatusHistory, maxTimestampMs } from './limits.ts';
import type {
  Agent,
  AgentDrain,
  Executor,
  Framework,
  HistoryLimits,
  KvEntry,
  MachineStatus,
  MaintenanceSchedule,
  Offer,
  OperationRecord,
  QuotaEntry,
  Task,
  TaskStatus,
  WeightEntry,
} from './state.ts';
import { taskStates } from '../protocol/task-states.ts';
import {
  agentIdSchema,
  agentInfoShape,
  durationMsSchema,
  executorDefinitionSchema,
  frameworkIdSchema,
  frameworkInfoSchema,
  kvKeySchema,
  kvNamespaceSchema,
  kvValueSchema,
  logIndexSchema,
  machineIdSchema,
  maintenanceWindowSchema,
  offerIdSchema,
  quotaConfigShape,
  resourcesSchema,
  roleSchema,
  statusReportShape,
  taskDefinitionShape,
  taskIdSchema,
  userNameSchema,
} from './value-schema.ts';

const at = integer({ min: 0, max: maxTimestampMs });
const maybeAt = nullable(at);

const agentDrainSchema = object<AgentDrain>({
  state: oneOf(['DRAINING', 'DRAINED']),
  maxGracePeriodMs: nullable(durationMsSchema),
  markGone: boolean,
  startedAt: at,
});

/** COMPAT: snapshot formats 1 to 4 had an agent state DRAINING: a deactivated ACTIVE agent now. */
interface LegacyAgent extends Omit<Agent, 'state'> {
  readonly state: Agent['state'] | 'DRAINING';
}

const legacyAgentSchema = object<LegacyAgent>({
  ...agentInfoShape,
  id: agentIdSchema,
  state: oneOf(['ACTIVE', 'DRAINING', 'UNREACHABLE', 'GONE']),
  deactivated: addedInFormat5(boolean, false),
  drain: addedInFormat5(nullable(agentDrainSchema), null),
  used: resourcesSchema,
  offered: resourcesSchema,
  registeredAt: at,
  reregisteredAt: maybeAt,
  stateChangedAt: at,
  createIndex: logIndexSchema,
  modifyIndex: logIndexSchema,
});

export const agentSchema: Schema<Agent> = refine(legacyAgentSchema, (agent) =>
  agent.state === 'DRAINING' ? { ...agent, state: 'ACTIVE', deactivated: true } : { ...agent, state: agent.state },
);

export const frameworkSchema: Schema<Framework> = object<Framework>({
  id: frameworkIdSchema,
  info: frameworkInfoSchema,
  state: oneOf(['CONNECTED', 'DISCONNECTED', 'COMPLETED']),
  registeredAt: at,
  reregisteredAt: maybeAt,
  disconnectedAt: maybeAt,
  completedAt: maybeAt,
  createIndex: logIndexSchema,
  modifyIndex: logIndexSchema,
});

export const offerSchema: Schema<Offer> = object<Offer>({
  id: offerIdSchema,
  frameworkId: frameworkIdSchema,
  agentId: agentIdSchema,
  role: roleSchema,
  resources: resourcesSchema,
  createdAt: at,
  createIndex: logIndexSchema,
});

const taskStatusSchema = object<TaskStatus>({
  ...statusReportShape,
  acknowledged: boolean,
  receivedAt: at,
  index: logIndexSchema,
});

const taskObjectSchema: Schema<Task> = object<Task>({
  ...taskDefinitionShape,
  frameworkId: frameworkIdSchema,
  user: nullable(userNameSchema),
  agentId: agentIdSchema,
  role: roleSchema,
  state: oneOf(taskStates),
  statuses: array(taskStatusSchema, { minLength: 1, maxLength: maxStatusHistory }),
  killRequestedAt: maybeAt,
  createdAt: at,
  taskGroup: addedInFormat3(nullable(taskIdSchema), null),
  createIndex: logIndexSchema,
  modifyIndex: logIndexSchema,
});

/** COMPAT: a task of snapshot format 1 has no `user`; it ran as its command's user, if any. */
function withFormat1User(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input) || Object.hasOwn(input, 'user')) return input;
  const command = (input as { command?: unknown }).command;
  const user = typeof command === 'object' && command !== null ? (command as { user?: unknown }).user : undefined;
  return { ...input, user: user ?? null };
}

export const taskSchema: Schema<Task> = (input, path) => taskObjectSchema(withFormat1User(input), path);

export const executorSchema: Schema<Executor> = object<Executor>({
  info: executorDefinitionSchema,
  frameworkId: frameworkIdSchema,
  agentId: agentIdSchema,
  role: roleSchema,
  createdAt: at,
  createIndex: logIndexSchema,
  modifyIndex: logIndexSchema,
});

export const quotaEntrySchema: Schema<QuotaEntry> = object<QuotaEntry>({
  ...quotaConfigShape,
  modifyIndex: logIndexSchema,
});

export const weightEntrySchema: Schema<WeightEntry> = object<WeightEntry>({
  role: roleSchema,
  weight: number({ min: 0, max: 1e6, exclusiveMin: true }),
  modifyIndex: logIndexSchema,
});

export const maintenanceScheduleSchema: Schema<MaintenanceSchedule> = object<MaintenanceSchedule>({
  windows: array(maintenanceWindowSchema, { maxLength: maxMaintenanceWindows }),
  modifyIndex: logIndexSchema,
});

export const machineStatusSchema: Schema<MachineStatus> = object<MachineStatus>({
  machine: machineIdSchema,
  mode: oneOf(['DRAINING', 'DOWN']),
  modeChangedAt: at,
  modifyIndex: logIndexSchema,
});

export const kvEntrySchema: Schema<KvEntry> = object<KvEntry>({
  namespace: kvNamespaceSchema,
  key: kvKeySchema,
  value: kvValueSchema,
  version: logIndexSchema,
  createIndex: logIndexSchema,
});

const historyCount = nullable(integer({ min: 0, max: maxHistoryCount }));

export const historyLimitsSchema: Schema<HistoryLimits> = object<HistoryLimits>({
  maxCompletedFrameworks: historyCount,
  maxCompletedTasksPerFramework: historyCount,
  maxRemovedAgentAgeMs: nullable(integer({ min: 0, max: maxDurationMs })),
  maxRemovedAgentCount: historyCount,
  modifyIndex: logIndexSchema,
});

export const operationRecordSchema: Schema<OperationRecord> = object<OperationRecord>({
  key: string({ minLength: 1, maxLength: 64, pattern: /^[0-9]{16}-[0-9]{3}$/ }),
  uuid: string({ minLength: 24, maxLength: 24, pattern: /^[A-Za-z0-9+/]{22}==$/ }),
  type: oneOf(['RESERVE', 'UNRESERVE', 'CREATE', 'DESTROY']),
  frameworkId: nullable(frameworkIdSchema),
  agentId: agentIdSchema,
  resources: resourcesSchema,
  state: literal('OPERATION_FINISHED'),
  at,
  index: logIndexSchema,
});
