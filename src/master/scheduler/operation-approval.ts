// Whether the caller of an ACCEPT may do each of its operations: the HTTP layer answers from its
// ACLs (run_tasks by the user a task would run as, reserve_resources and unreserve_resources by
// role, create_volumes and destroy_volumes by role); the master acts on the answers as Mesos'
// master does (master.cpp `accept`, authorization of each operation): a LAUNCH refused makes its
// tasks TASK_ERROR with REASON_TASK_UNAUTHORIZED, a RESERVE, UNRESERVE, CREATE or DESTROY refused
// is dropped, and the other operations go on.
import { reservedRoles } from '../../state-machine/resources.ts';
import type { Framework } from '../../state-machine/state.ts';
import type { TaskDefinition } from '../../state-machine/values.ts';
import type { SchedulerEvent } from '../../protocol/scheduler.ts';
import { assertNever } from '../../util/assert.ts';
import type { SchedulerOperation } from './call.ts';
import { masterUpdateEvent } from './events.ts';

export interface OperationApproval {
  /** `user`: who the task would run as (its command's user, else its framework's; null: the agent's). Null when allowed, else why not. */
  launch(user: string | null): string | null;
  reserve(role: string): string | null;
  unreserve(role: string): string | null;
  createVolumes(role: string): string | null;
  destroyVolumes(role: string): string | null;
}

/** Without ACLs (and in tests): everything allowed. */
export const approveEverything: OperationApproval = {
  launch: () => null,
  reserve: () => null,
  unreserve: () => null,
  createVolumes: () => null,
  destroyVolumes: () => null,
};

export interface ApprovedOperations {
  readonly operations: readonly SchedulerOperation[];
  /** TASK_ERROR updates for the tasks of refused LAUNCHes. */
  readonly refusedTasks: readonly SchedulerEvent[];
}

/** As the state machine resolves it at launch (apply-accept.ts): the command's user, else the framework's. */
export function launchUser(task: TaskDefinition, framework: Framework): string | null {
  return task.command?.user ?? framework.info.user ?? null;
}

function firstRefusal<Item>(items: readonly Item[], judge: (item: Item) => string | null): string | null {
  for (const item of items) {
    const refusal = judge(item);
    if (refusal !== null) return refusal;
  }
  return null;
}

export function approveOperations(
  approval: OperationApproval,
  framework: Framework,
  operations: readonly SchedulerOperation[],
  nowMs: number,
): ApprovedOperations {
  const approved: SchedulerOperation[] = [];
  const refusedTasks: SchedulerEvent[] = [];
  for (const operation of operations) {
    switch (operation.type) {
      case 'LAUNCH': {
        const allowed = operation.tasks.filter((task) => {
          const refusal = approval.launch(launchUser(task, framework));
          if (refusal === null) return true;
          refusedTasks.push(
            masterUpdateEvent(
              task.id,
              null,
              'TASK_ERROR',
              'REASON_TASK_UNAUTHORIZED',
              `Task is not authorized: ${refusal}`,
              nowMs,
            ),
          );
          return false;
        });
        if (allowed.length > 0) approved.push({ type: 'LAUNCH', tasks: allowed });
        break;
      }
      case 'LAUNCH_GROUP': {
        // A task group is authorized as a unit (Mesos: one unauthorized task refuses the group).
        const refusal = firstRefusal(operation.tasks, (task) => approval.launch(launchUser(task, framework)));
        if (refusal === null) approved.push(operation);
        else
          for (const task of operation.tasks)
            refusedTasks.push(
              masterUpdateEvent(
                task.id,
                null,
                'TASK_ERROR',
                'REASON_TASK_UNAUTHORIZED',
                `Task group is not authorized: ${refusal}`,
                nowMs,
              ),
            );
        break;
      }
      case 'RESERVE':
        if (firstRefusal(reservedRoles(operation.resources), (role) => approval.reserve(role)) === null)
          approved.push(operation);
        break;
      case 'UNRESERVE':
        if (firstRefusal(reservedRoles(operation.resources), (role) => approval.unreserve(role)) === null)
          approved.push(operation);
        break;
      case 'CREATE':
        if (firstRefusal(reservedRoles(operation.volumes), (role) => approval.createVolumes(role)) === null)
          approved.push(operation);
        break;
      case 'DESTROY':
        if (firstRefusal(reservedRoles(operation.volumes), (role) => approval.destroyVolumes(role)) === null)
          approved.push(operation);
        break;
      default:
        assertNever(operation);
    }
  }
  return { operations: approved, refusedTasks };
}
