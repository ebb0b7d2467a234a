// Task and status records built field by field, on the paths every launched task takes (its
// launch, each status update and acknowledgement). Object spread of a decoded command's
// definition (`{ ...definition, … }`) took V8's slow copy path: about 60 times the cost of these
// literals in a micro-benchmark, the leader's largest self time in apply in the launch bench
// (issue 12). Typed literals also keep them complete: a field added to Task or TaskStatus that is
// not copied here does not compile. The fields are the same as the spread's, so the state and its
// hash are unchanged (the hash reads keys sorted, not in insertion order).
import type { AgentId, FrameworkId, LogIndex, TaskId } from './ids.ts';
import type { Role } from './roles.ts';
import type { Task, TaskStatus } from './state.ts';
import type { StatusReport, TaskDefinition } from './values.ts';

/** Where and for whom a launched task runs, and when it was made. */
export interface TaskPlacement {
  readonly taskGroup: TaskId | null;
  readonly frameworkId: FrameworkId;
  readonly user: string | null;
  readonly agentId: AgentId;
  readonly role: Role;
  readonly createdAt: number;
  readonly index: LogIndex;
}

/** A task in TASK_STAGING, made by a launch, with `staging` as its first status. */
export function stagingTask(definition: TaskDefinition, placement: TaskPlacement, staging: TaskStatus): Task {
  return {
    id: definition.id,
    name: definition.name,
    resources: definition.resources,
    command: definition.command,
    container: definition.container,
    healthCheck: definition.healthCheck,
    killGracePeriodMs: definition.killGracePeriodMs,
    labels: definition.labels,
    executor: definition.executor,
    data: definition.data,
    taskGroup: placement.taskGroup,
    frameworkId: placement.frameworkId,
    user: placement.user,
    agentId: placement.agentId,
    role: placement.role,
    state: 'TASK_STAGING',
    killRequestedAt: null,
    statuses: [staging],
    createdAt: placement.createdAt,
    createIndex: placement.index,
    modifyIndex: placement.index,
  };
}

/** What a task's update may change; the rest is copied. */
export interface TaskChanges {
  readonly state?: Task['state'];
  readonly statuses?: Task['statuses'];
  readonly killRequestedAt?: Task['killRequestedAt'];
  readonly modifyIndex: LogIndex;
}

/** A new version of `task` with `changes` (`{ ...task, ...changes }`, without the slow spread). */
export function taskWith(task: Task, changes: TaskChanges): Task {
  return {
    id: task.id,
    name: task.name,
    resources: task.resources,
    command: task.command,
    container: task.container,
    healthCheck: task.healthCheck,
    killGracePeriodMs: task.killGracePeriodMs,
    labels: task.labels,
    executor: task.executor,
    data: task.data,
    taskGroup: task.taskGroup,
    frameworkId: task.frameworkId,
    user: task.user,
    agentId: task.agentId,
    role: task.role,
    state: changes.state === undefined ? task.state : changes.state,
    killRequestedAt: changes.killRequestedAt === undefined ? task.killRequestedAt : changes.killRequestedAt,
    statuses: changes.statuses === undefined ? task.statuses : changes.statuses,
    createdAt: task.createdAt,
    createIndex: task.createIndex,
    modifyIndex: changes.modifyIndex,
  };
}

/** A status as the master records it: the agent's report with its acknowledgement and receipt. */
export function recordedStatus(
  report: StatusReport,
  acknowledged: boolean,
  receivedAt: number,
  index: LogIndex,
): TaskStatus {
  return {
    state: report.state,
    reason: report.reason,
    message: report.message,
    source: report.source,
    uuid: report.uuid,
    timestampMs: report.timestampMs,
    healthy: report.healthy,
    data: report.data,
    acknowledged,
    receivedAt,
    index,
  };
}
