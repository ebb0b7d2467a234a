// What one caller may see of the cluster state, as Mesos filters its state endpoints and the
// operator event stream (authorization.md: view_frameworks, view_tasks, view_roles): a framework
// by its FrameworkInfo.user, a task by the user it runs as (null: ANY), a role by name. Answers
// and streams leave out what the caller may not see; they never fail for it.
import type { Role } from '../../state-machine/roles.ts';
import type { Framework, Task } from '../../state-machine/state.ts';
import { allowedObjects, type RequestAccess } from '../access.ts';

export interface Visibility {
  /** True when nothing is filtered: callers may skip the per-entity checks. */
  readonly everything: boolean;
  task(task: Task): boolean;
  framework(framework: Framework): boolean;
  role(role: Role): boolean;
}

export const seeEverything: Visibility = {
  everything: true,
  task: () => true,
  framework: () => true,
  role: () => true,
};

export function visibilityOf(access: RequestAccess): Visibility {
  const users = { tasks: allowedObjects(access, 'view_tasks'), frameworks: allowedObjects(access, 'view_frameworks') };
  const roles = allowedObjects(access, 'view_roles');
  const filtered = ['view_tasks', 'view_frameworks', 'view_roles'] as const;
  if (access.requester.kind === 'cluster' || filtered.every((action) => access.authorizer.allowsEverything(action)))
    return seeEverything;
  return {
    everything: false,
    task: (task) => users.tasks(task.user),
    framework: (framework) => users.frameworks(framework.info.user),
    role: (role) => roles(role),
  };
}
