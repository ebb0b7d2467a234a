// A scheduler Call's JSON (scheduler.proto Call) → a typed call, or a 400 that names the field
// (Mesos: "Failed to validate scheduler::Call"). Calls other than SUBSCRIBE must name their
// framework; a SUBSCRIBE's `framework_id` must equal its `framework_info.id` (Mesos validation).
import {
  maxOfferIdsPerCommand,
  maxOperationsPerAccept,
  maxRolesPerFramework,
  maxTasksPerLaunch,
} from '../../state-machine/limits.ts';
import { isValidRole } from '../../state-machine/roles.ts';
import { schedulerCallTypes, type SchedulerCallType } from '../../protocol/scheduler.ts';
import type { SchedulerCall, SchedulerOperation, TaskReference } from '../../master/scheduler/call.ts';
import { HttpError } from '../errors.ts';
import { maxReconcileTasks } from '../limits.ts';
import { asObject } from '../operator/fields.ts';
import {
  enumField,
  type Fields,
  messageList,
  optionalIdField,
  optionalMessage,
  optionalNumberField,
  optionalString,
  requiredIdField,
  requiredString,
  stringList,
} from './json-fields.ts';
import { parseFrameworkInfo } from './parse-framework.ts';
import { parseResources, parseVolumes } from './parse-resources.ts';
import { executorApiLimits } from '../../protocol/limits.ts';
import { parseExecutorInfo } from './parse-executor.ts';
import { parseTaskInfo } from './parse-task.ts';

function idList(container: Fields, name: string, path: string): string[] {
  return messageList(container, name, path, maxOfferIdsPerCommand).map((_, position) =>
    requiredIdField({ id: (container[name] as unknown[])[position] }, 'id', `${path}[${position}]`),
  );
}

function body(call: Fields, name: string): Fields {
  return optionalMessage(call, name, name) ?? {};
}

/**
 * The calls whose body Mesos requires (scheduler/validation.cpp: "Expecting 'accept' to be
 * present", …). TEARDOWN, REVIVE and SUPPRESS need none. A client that puts a body under the
 * wrong name (mesos-framework 0.5 sends SHUTDOWN's under `kill`) hears 400, as from Mesos.
 */
const bodyRequired: ReadonlySet<SchedulerCallType> = new Set([
  'ACCEPT',
  'DECLINE',
  'ACCEPT_INVERSE_OFFERS',
  'DECLINE_INVERSE_OFFERS',
  'KILL',
  'SHUTDOWN',
  'ACKNOWLEDGE',
  'RECONCILE',
  'MESSAGE',
  'REQUEST',
  'UPDATE_FRAMEWORK',
]);

function checkBodyPresent(type: SchedulerCallType, call: Fields): void {
  const name = type.toLowerCase();
  if (bodyRequired.has(type) && optionalMessage(call, name, name) === null)
    throw new HttpError('INVALID_BODY', `Expecting '${name}' to be present`);
}

const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** SHUTDOWN and MESSAGE name their executor and agent (required fields of Call.Shutdown and Call.Message). */
function executorCall(type: 'SHUTDOWN' | 'MESSAGE', call: Fields, frameworkId: string): SchedulerCall {
  const name = type.toLowerCase();
  const part = body(call, name);
  const target = {
    frameworkId,
    executorId: requiredIdField(part, 'executor_id', `${name}.executor_id`),
    agentId: requiredIdField(part, 'agent_id', `${name}.agent_id`),
  };
  if (type === 'SHUTDOWN') return { type, ...target };
  const data = requiredString(part, 'data', 'message.data');
  if (!base64Pattern.test(data)) throw new HttpError('INVALID_BODY', 'message.data must be base64 (bytes in JSON)');
  if (data.length > Math.ceil(executorApiLimits.maxMessageBytes / 3) * 4)
    throw new HttpError('INVALID_BODY', `message.data is more than ${executorApiLimits.maxMessageBytes} bytes`);
  return { type, ...target, data };
}

function refuseSeconds(container: Fields, path: string): number | null {
  const filters = optionalMessage(container, 'filters', `${path}.filters`);
  if (filters === null) return null;
  const seconds = optionalNumberField(filters, 'refuse_seconds', `${path}.filters.refuse_seconds`);
  if (seconds !== null && seconds < 0)
    throw new HttpError('INVALID_BODY', `${path}.filters.refuse_seconds must not be negative`);
  return seconds;
}

/**
 * Offer::Operation::LaunchGroup: the group's DEFAULT executor (Flotilla's agent runs it) and its
 * tasks, launched together in one replicated ACCEPT, all or none, on that executor.
 */
function parseLaunchGroup(operation: Fields, path: string, frameworkId: string): SchedulerOperation {
  const launchGroup = body(operation, 'launch_group');
  const executor = optionalMessage(launchGroup, 'executor', `${path}.launch_group.executor`);
  if (executor === null) throw new HttpError('INVALID_BODY', `${path}.launch_group.executor is required`);
  const group = optionalMessage(launchGroup, 'task_group', `${path}.launch_group.task_group`) ?? {};
  const tasks = messageList(group, 'tasks', `${path}.launch_group.task_group.tasks`, maxTasksPerLaunch);
  if (tasks.length === 0)
    throw new HttpError('INVALID_BODY', `${path}.launch_group.task_group.tasks must not be empty`);
  const context = { frameworkId, operation: 'LAUNCH_GROUP' } as const;
  return {
    type: 'LAUNCH_GROUP',
    executor: parseExecutorInfo(executor, `${path}.launch_group.executor`, frameworkId, 'LAUNCH_GROUP'),
    tasks: tasks.map(
      (task, position) => parseTaskInfo(task, `${path}.launch_group.task_group.tasks[${position}]`, context).definition,
    ),
  };
}

function parseOperation(operation: Fields, path: string, frameworkId: string): SchedulerOperation {
  const type = requiredString(operation, 'type', `${path}.type`);
  switch (type) {
    case 'LAUNCH': {
      const context = { frameworkId, operation: 'LAUNCH' } as const;
      return {
        type,
        tasks: messageList(body(operation, 'launch'), 'task_infos', `${path}.launch.task_infos`, maxTasksPerLaunch).map(
          (task, position) => parseTaskInfo(task, `${path}.launch.task_infos[${position}]`, context).definition,
        ),
      };
    }
    case 'LAUNCH_GROUP':
      return parseLaunchGroup(operation, path, frameworkId);
    case 'RESERVE':
    case 'UNRESERVE':
      return {
        type,
        resources: parseResources(
          body(operation, type.toLowerCase()),
          'resources',
          `${path}.${type.toLowerCase()}.resources`,
        ),
      };
    case 'CREATE':
    case 'DESTROY': {
      const name = type.toLowerCase();
      return { type, volumes: parseVolumes(body(operation, name), 'volumes', `${path}.${name}.volumes`) };
    }
    default:
      throw new HttpError(
        'INVALID_BODY',
        `${path}.type: Flotilla runs LAUNCH, LAUNCH_GROUP, RESERVE, UNRESERVE, CREATE and DESTROY operations, not ${type}`,
      );
  }
}

function taskReferences(container: Fields, name: string, path: string): TaskReference[] {
  return messageList(container, name, path, maxReconcileTasks).map((task, position) => ({
    taskId: requiredIdField(task, 'task_id', `${path}[${position}].task_id`),
    agentId: optionalIdField(task, 'agent_id', `${path}[${position}].agent_id`),
  }));
}

/** A list of role names, each valid as Mesos' roles::validate requires (a 400 names the first bad one). */
function validRoles(roles: string[], path: string): string[] {
  const invalid = roles.findIndex((role) => !isValidRole(role));
  if (invalid >= 0)
    throw new HttpError('INVALID_BODY', `${path}[${invalid}] must be a role: "*" or parts like "eng/web"`);
  return roles;
}

/** REVIVE/SUPPRESS name roles in `roles`, or (before Mesos 1.9) one in `role`. */
function roleList(container: Fields, path: string): string[] {
  const single = optionalString(container, 'role', `${path}.role`);
  return validRoles(
    [...stringList(container, 'roles', `${path}.roles`, maxRolesPerFramework), ...(single === null ? [] : [single])],
    `${path}.roles`,
  );
}

function subscribeLike(call: Fields, name: 'subscribe' | 'update_framework', frameworkId: string | null) {
  const part = body(call, name);
  const infoFields = optionalMessage(part, 'framework_info', `${name}.framework_info`);
  if (infoFields === null) throw new HttpError('INVALID_BODY', `${name}.framework_info is required`);
  const infoId = optionalIdField(infoFields, 'id', `${name}.framework_info.id`);
  if (frameworkId !== null && infoId !== frameworkId) {
    throw new HttpError('INVALID_BODY', `'framework_id' differs from '${name}.framework_info.id'`);
  }
  const info = parseFrameworkInfo(infoFields, `${name}.framework_info`);
  return {
    frameworkId: infoId,
    info,
    suppressedRoles: validRoles(
      stringList(part, 'suppressed_roles', `${name}.suppressed_roles`, maxRolesPerFramework),
      `${name}.suppressed_roles`,
    ),
  };
}

function acknowledge(call: Fields, frameworkId: string): SchedulerCall {
  const part = body(call, 'acknowledge');
  const uuid = requiredString(part, 'uuid', 'acknowledge.uuid');
  if (Buffer.from(uuid, 'base64').byteLength !== 16 || !/^[A-Za-z0-9+/]{22}==$/.test(uuid)) {
    throw new HttpError('INVALID_BODY', 'acknowledge.uuid must be 16 bytes in base64');
  }
  return {
    type: 'ACKNOWLEDGE',
    frameworkId,
    uuid,
    agentId: requiredIdField(part, 'agent_id', 'acknowledge.agent_id'),
    taskId: requiredIdField(part, 'task_id', 'acknowledge.task_id'),
  };
}

function parseFrameworkCall(
  type: Exclude<SchedulerCallType, 'SUBSCRIBE'>,
  call: Fields,
  frameworkId: string,
): SchedulerCall {
  checkBodyPresent(type, call);
  switch (type) {
    case 'SHUTDOWN':
    case 'MESSAGE':
      return executorCall(type, call, frameworkId);
    case 'TEARDOWN':
    case 'REQUEST':
      return { type, frameworkId };
    case 'ACCEPT': {
      const part = body(call, 'accept');
      const operations = messageList(part, 'operations', 'accept.operations', maxOperationsPerAccept).map(
        (operation, position) => parseOperation(operation, `accept.operations[${position}]`, frameworkId),
      );
      return {
        type,
        frameworkId,
        offerIds: idList(part, 'offer_ids', 'accept.offer_ids'),
        operations,
        refuseSeconds: refuseSeconds(part, 'accept'),
      };
    }
    case 'DECLINE': {
      const part = body(call, 'decline');
      return {
        type,
        frameworkId,
        offerIds: idList(part, 'offer_ids', 'decline.offer_ids'),
        refuseSeconds: refuseSeconds(part, 'decline'),
      };
    }
    case 'ACCEPT_INVERSE_OFFERS':
    case 'DECLINE_INVERSE_OFFERS': {
      const name = type.toLowerCase();
      const part = body(call, name);
      // `filters` is checked as Mesos parses it, then unused: an answered inverse offer stays
      // outstanding rather than being made anew when the filter expires (src/master/scheduler/sessions.ts).
      refuseSeconds(part, name);
      return { type, frameworkId, inverseOfferIds: idList(part, 'inverse_offer_ids', `${name}.inverse_offer_ids`) };
    }
    case 'REVIVE':
    case 'SUPPRESS':
      return { type, frameworkId, roles: roleList(body(call, type.toLowerCase()), type.toLowerCase()) };
    case 'KILL': {
      const part = body(call, 'kill');
      return {
        type,
        frameworkId,
        task: {
          taskId: requiredIdField(part, 'task_id', 'kill.task_id'),
          agentId: optionalIdField(part, 'agent_id', 'kill.agent_id'),
        },
      };
    }
    case 'ACKNOWLEDGE':
      return acknowledge(call, frameworkId);
    case 'RECONCILE':
      return { type, frameworkId, tasks: taskReferences(body(call, 'reconcile'), 'tasks', 'reconcile.tasks') };
    case 'UPDATE_FRAMEWORK': {
      const parsed = subscribeLike(call, 'update_framework', frameworkId);
      return { type, frameworkId, info: parsed.info, suppressedRoles: parsed.suppressedRoles };
    }
  }
}

export function parseSchedulerCall(raw: unknown): SchedulerCall {
  const call = asObject(raw, 'the call');
  const type = enumField(call, 'type', 'type', [...schedulerCallTypes, 'UNKNOWN'], 'UNKNOWN');
  if (type === 'UNKNOWN')
    throw new HttpError('UNKNOWN_CALL', `a scheduler call needs a type: one of ${schedulerCallTypes.join(', ')}`);
  const frameworkId = optionalIdField(call, 'framework_id', 'framework_id');
  if (type === 'SUBSCRIBE') {
    const parsed = subscribeLike(call, 'subscribe', frameworkId);
    return { type, frameworkId: parsed.frameworkId, info: parsed.info, suppressedRoles: parsed.suppressedRoles };
  }
  if (frameworkId === null) throw new HttpError('INVALID_BODY', `a ${type} call needs 'framework_id'`);
  return parseFrameworkCall(type, call, frameworkId);
}
