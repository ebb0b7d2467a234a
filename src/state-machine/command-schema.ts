// The schema of every command: what the decoder accepts from a log entry. The mapped type of
// `taggedUnion` makes this list exhaustive; `object<T>` checks each variant field by field.
import type * as C from './commands.ts';
import * as limits from './limits.ts';
import { taskStates } from '../protocol/task-states.ts';
import {
  addedInCommandFormat4,
  addedInCommandFormat5,
  addedWithLostTaskReturn,
  addedWithTerminalAcknowledgement,
  array,
  boolean,
  integer,
  literal,
  nullable,
  object,
  oneOf,
  refine,
  taggedUnion,
  timestampMs,
  type Schema,
} from './schema.ts';
import {
  agentIdSchema,
  agentInfoSchema,
  durationMsSchema,
  executorDefinitionSchema,
  executorIdSchema,
  frameworkIdSchema,
  nameSchema,
  frameworkInfoSchema,
  kvKeySchema,
  kvNamespaceSchema,
  kvValueSchema,
  machineListSchema,
  maintenanceWindowSchema,
  offerIdSchema,
  quotaConfigSchema,
  resourcesSchema,
  roleSchema,
  roleWeightSchema,
  statusReportSchema,
  statusUuidSchema,
  taskDefinitionSchema,
  taskIdSchema,
} from './value-schema.ts';

const offerIdsSchema = array(offerIdSchema, { minLength: 1, maxLength: limits.maxOfferIdsPerCommand });
const expectedVersionSchema = nullable(integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const historyCountSchema = integer({ min: 0, max: limits.maxHistoryCount });

const offerOperationSchema = taggedUnion<C.OfferOperation>({
  LAUNCH: object<Extract<C.OfferOperation, { type: 'LAUNCH' }>>({
    type: literal('LAUNCH'),
    tasks: array(taskDefinitionSchema, { minLength: 1, maxLength: limits.maxTasksPerLaunch }),
  }),
  LAUNCH_GROUP: object<Extract<C.OfferOperation, { type: 'LAUNCH_GROUP' }>>({
    type: literal('LAUNCH_GROUP'),
    executor: executorDefinitionSchema,
    tasks: array(taskDefinitionSchema, { minLength: 1, maxLength: limits.maxTasksPerLaunch }),
  }),
  RESERVE: object<Extract<C.OfferOperation, { type: 'RESERVE' }>>({
    type: literal('RESERVE'),
    resources: resourcesSchema,
  }),
  CREATE: object<Extract<C.OfferOperation, { type: 'CREATE' }>>({
    type: literal('CREATE'),
    volumes: resourcesSchema,
  }),
  DESTROY: object<Extract<C.OfferOperation, { type: 'DESTROY' }>>({
    type: literal('DESTROY'),
    volumes: resourcesSchema,
  }),
  UNRESERVE: object<Extract<C.OfferOperation, { type: 'UNRESERVE' }>>({
    type: literal('UNRESERVE'),
    resources: resourcesSchema,
  }),
});

const offerDefinitionSchema = object<C.OfferDefinition>({
  offerId: offerIdSchema,
  frameworkId: frameworkIdSchema,
  agentId: agentIdSchema,
  role: roleSchema,
  resources: resourcesSchema,
});

const taskReferenceSchema = object<C.TaskReference>({
  frameworkId: frameworkIdSchema,
  taskId: taskIdSchema,
  state: addedInCommandFormat4(nullable(oneOf(taskStates)), null),
});

/**
 * COMPAT: command formats 1–4 set an agent ACTIVE or DRAINING with update_agent_state; since format 5
 * deactivation is a flag of its own (deactivate_agent, reactivate_agent), and old entries read as
 * those commands, so a replayed log applies as it did.
 */
interface LegacyUpdateAgentState extends Omit<C.UpdateAgentState, 'state'> {
  readonly state: 'ACTIVE' | 'DRAINING' | 'UNREACHABLE';
}

function upgradeLegacy(command: C.Command | LegacyUpdateAgentState): C.Command {
  if (command.type !== 'update_agent_state' || command.state === 'UNREACHABLE') return command as C.Command;
  const type = command.state === 'DRAINING' ? 'deactivate_agent' : 'reactivate_agent';
  return { type, at: command.at, agentId: command.agentId };
}

const updateTaskStatusSchema = object<C.UpdateTaskStatus>({
  type: literal('update_task_status'),
  at: timestampMs,
  frameworkId: frameworkIdSchema,
  taskId: taskIdSchema,
  agentId: agentIdSchema,
  status: statusReportSchema,
});

const acknowledgeTaskStatusSchema = object<C.AcknowledgeTaskStatus>({
  type: literal('acknowledge_task_status'),
  at: timestampMs,
  frameworkId: frameworkIdSchema,
  taskId: taskIdSchema,
  agentId: agentIdSchema,
  uuid: statusUuidSchema,
  completesTerminalTask: addedWithTerminalAcknowledgement,
});

/** The same fields as the single commands, without `at`: the batch's stamp is every item's. */
const taskStatusBatchItemSchema = taggedUnion<C.TaskStatusBatchItem>({
  update_task_status: object<Omit<C.UpdateTaskStatus, 'at'>>({
    type: literal('update_task_status'),
    frameworkId: frameworkIdSchema,
    taskId: taskIdSchema,
    agentId: agentIdSchema,
    status: statusReportSchema,
  }),
  acknowledge_task_status: object<Omit<C.AcknowledgeTaskStatus, 'at'>>({
    type: literal('acknowledge_task_status'),
    frameworkId: frameworkIdSchema,
    taskId: taskIdSchema,
    agentId: agentIdSchema,
    uuid: statusUuidSchema,
    completesTerminalTask: addedWithTerminalAcknowledgement,
  }),
});

/** The same fields as the single commands, without `at`; added in format 9, so every member is present. */
const agentRegistrationBatchItemSchema = taggedUnion<C.AgentRegistrationBatchItem>({
  register_agent: object<Omit<C.RegisterAgent, 'at'>>({
    type: literal('register_agent'),
    agentId: agentIdSchema,
    info: agentInfoSchema,
  }),
  reregister_agent: object<Omit<C.ReregisterAgent, 'at'>>({
    type: literal('reregister_agent'),
    agentId: agentIdSchema,
    info: agentInfoSchema,
    tasks: array(taskReferenceSchema, { maxLength: limits.maxReportedTasks }),
    keepsReservations: boolean,
    restoresLostTasks: addedWithLostTaskReturn,
  }),
});

const currentOrLegacySchema = taggedUnion<C.Command | LegacyUpdateAgentState>({
  register_agent: object<C.RegisterAgent>({
    type: literal('register_agent'),
    at: timestampMs,
    agentId: agentIdSchema,
    info: agentInfoSchema,
  }),
  reregister_agent: object<C.ReregisterAgent>({
    type: literal('reregister_agent'),
    at: timestampMs,
    agentId: agentIdSchema,
    info: agentInfoSchema,
    tasks: array(taskReferenceSchema, { maxLength: limits.maxReportedTasks }),
    keepsReservations: addedInCommandFormat5(boolean, false),
    restoresLostTasks: addedWithLostTaskReturn,
  }),
  agent_registration_batch: object<C.AgentRegistrationBatch>({
    type: literal('agent_registration_batch'),
    at: timestampMs,
    items: array(agentRegistrationBatchItemSchema, { minLength: 1, maxLength: limits.maxAgentRegistrationBatchItems }),
  }),
  update_agent_state: object<LegacyUpdateAgentState>({
    type: literal('update_agent_state'),
    at: timestampMs,
    agentId: agentIdSchema,
    state: oneOf(['ACTIVE', 'DRAINING', 'UNREACHABLE']),
  }),
  mark_agent_gone: object<C.MarkAgentGone>({
    type: literal('mark_agent_gone'),
    at: timestampMs,
    agentId: agentIdSchema,
  }),
  deactivate_agent: object<C.DeactivateAgent>({
    type: literal('deactivate_agent'),
    at: timestampMs,
    agentId: agentIdSchema,
  }),
  reactivate_agent: object<C.ReactivateAgent>({
    type: literal('reactivate_agent'),
    at: timestampMs,
    agentId: agentIdSchema,
  }),
  drain_agent: object<C.DrainAgent>({
    type: literal('drain_agent'),
    at: timestampMs,
    agentId: agentIdSchema,
    maxGracePeriodMs: nullable(durationMsSchema),
    markGone: boolean,
  }),
  mark_agent_drained: object<C.MarkAgentDrained>({
    type: literal('mark_agent_drained'),
    at: timestampMs,
    agentId: agentIdSchema,
  }),
  subscribe_framework: object<C.SubscribeFramework>({
    type: literal('subscribe_framework'),
    at: timestampMs,
    frameworkId: frameworkIdSchema,
    info: frameworkInfoSchema,
  }),
  update_framework: object<C.UpdateFramework>({
    type: literal('update_framework'),
    at: timestampMs,
    frameworkId: frameworkIdSchema,
    info: frameworkInfoSchema,
  }),
  disconnect_framework: object<C.DisconnectFramework>({
    type: literal('disconnect_framework'),
    at: timestampMs,
    frameworkId: frameworkIdSchema,
  }),
  teardown_framework: object<C.TeardownFramework>({
    type: literal('teardown_framework'),
    at: timestampMs,
    frameworkId: frameworkIdSchema,
  }),
  create_offers: object<C.CreateOffers>({
    type: literal('create_offers'),
    at: timestampMs,
    offers: array(offerDefinitionSchema, { minLength: 1, maxLength: limits.maxOffersPerCommand }),
  }),
  rescind_offer: object<C.RescindOffer>({ type: literal('rescind_offer'), at: timestampMs, offerId: offerIdSchema }),
  decline_offers: object<C.DeclineOffers>({
    type: literal('decline_offers'),
    at: timestampMs,
    frameworkId: frameworkIdSchema,
    offerIds: offerIdsSchema,
  }),
  accept_offers: object<C.AcceptOffers>({
    type: literal('accept_offers'),
    at: timestampMs,
    frameworkId: frameworkIdSchema,
    offerIds: offerIdsSchema,
    operations: array(offerOperationSchema, { maxLength: limits.maxOperationsPerAccept }),
  }),
  update_task_status: updateTaskStatusSchema,
  acknowledge_task_status: acknowledgeTaskStatusSchema,
  task_status_batch: object<C.TaskStatusBatch>({
    type: literal('task_status_batch'),
    at: timestampMs,
    items: array(taskStatusBatchItemSchema, { minLength: 1, maxLength: limits.maxTaskStatusBatchItems }),
  }),
  kill_task: object<C.KillTask>({
    type: literal('kill_task'),
    at: timestampMs,
    frameworkId: frameworkIdSchema,
    taskId: taskIdSchema,
  }),
  remove_executor: object<C.RemoveExecutor>({
    type: literal('remove_executor'),
    at: timestampMs,
    agentId: agentIdSchema,
    frameworkId: frameworkIdSchema,
    executorId: executorIdSchema,
  }),
  reserve_resources: object<C.ReserveResources>({
    type: literal('reserve_resources'),
    at: timestampMs,
    agentId: agentIdSchema,
    resources: resourcesSchema,
    principal: addedInCommandFormat5(nullable(nameSchema), null),
  }),
  unreserve_resources: object<C.UnreserveResources>({
    type: literal('unreserve_resources'),
    at: timestampMs,
    agentId: agentIdSchema,
    resources: resourcesSchema,
    principal: addedInCommandFormat5(nullable(nameSchema), null),
  }),
  create_volumes: object<C.CreateVolumes>({
    type: literal('create_volumes'),
    at: timestampMs,
    agentId: agentIdSchema,
    volumes: resourcesSchema,
  }),
  destroy_volumes: object<C.DestroyVolumes>({
    type: literal('destroy_volumes'),
    at: timestampMs,
    agentId: agentIdSchema,
    volumes: resourcesSchema,
  }),
  update_quota: object<C.UpdateQuota>({
    type: literal('update_quota'),
    configs: array(quotaConfigSchema, { minLength: 1, maxLength: limits.maxQuotaConfigsPerCommand }),
  }),
  update_weights: object<C.UpdateWeights>({
    type: literal('update_weights'),
    weights: array(roleWeightSchema, { minLength: 1, maxLength: limits.maxWeightsPerCommand }),
  }),
  update_maintenance_schedule: object<C.UpdateMaintenanceSchedule>({
    type: literal('update_maintenance_schedule'),
    at: timestampMs,
    windows: array(maintenanceWindowSchema, { maxLength: limits.maxMaintenanceWindows }),
  }),
  start_maintenance: object<C.StartMaintenance>({
    type: literal('start_maintenance'),
    at: timestampMs,
    machines: machineListSchema(limits.maxMachinesPerCommand),
  }),
  stop_maintenance: object<C.StopMaintenance>({
    type: literal('stop_maintenance'),
    at: timestampMs,
    machines: machineListSchema(limits.maxMachinesPerCommand),
  }),
  kv_put: object<C.KvPut>({
    type: literal('kv_put'),
    namespace: kvNamespaceSchema,
    key: kvKeySchema,
    value: kvValueSchema,
    expectedVersion: expectedVersionSchema,
  }),
  kv_delete: object<C.KvDelete>({
    type: literal('kv_delete'),
    namespace: kvNamespaceSchema,
    key: kvKeySchema,
    expectedVersion: expectedVersionSchema,
  }),
  update_history_limits: object<C.UpdateHistoryLimits>({
    type: literal('update_history_limits'),
    at: timestampMs,
    maxCompletedFrameworks: historyCountSchema,
    maxCompletedTasksPerFramework: historyCountSchema,
    maxRemovedAgentAgeMs: integer({ min: 0, max: limits.maxDurationMs }),
    maxRemovedAgentCount: historyCountSchema,
  }),
  noop: object<C.Noop>({ type: literal('noop') }),
});

export const commandSchema: Schema<C.Command> = refine(currentOrLegacySchema, upgradeLegacy);
