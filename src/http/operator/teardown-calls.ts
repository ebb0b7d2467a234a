// Operator calls that end things: a framework or an agent for good (master.proto Teardown,
// MarkAgentGone), or one task (KILL_TASK, Flotilla's own, as GET_RAFT is). TEARDOWN kills the
// framework's tasks (TASK_KILLED, REASON_FRAMEWORK_REMOVED) and completes it; MARK_AGENT_GONE
// asserts the agent will never return: its tasks become TASK_GONE_BY_OPERATOR and it may never
// re-register. KILL_TASK is the scheduler's KILL made by an operator: Mesos has no call for it,
// so an operator there had to tear the whole framework down or impersonate its scheduler.
// Authorized as Mesos does: teardown_frameworks (and kill_tasks, Flotilla's) by the principal the
// framework registered with (ANY for a framework without one, or one this master does not know:
// the call then fails as it would have); mark_agents_gone by agent id.
import { agentId, frameworkId, taskId } from '../../state-machine/ids.ts';
import type { ReadonlyState } from '../../state-machine/state.ts';
import { requireAllowed } from '../access.ts';
import { stampedOnSubmit } from '../../master/interface.ts';
import { rejectionToHttp } from '../master-errors.ts';
import { submitOrFail } from '../submit.ts';
import { idField, objectField } from './fields.ts';
import type { OperatorCallTable } from './registry.ts';

/** The principal framework `id` registered with: the object of teardown_frameworks and kill_tasks. */
function frameworkPrincipal(state: ReadonlyState, id: string): string | null {
  return state.frameworks.get(frameworkId(id))?.info.principal ?? null;
}

export const teardownCalls: OperatorCallTable = {
  TEARDOWN: {
    write: true,
    async handle({ master, call, access }) {
      const id = idField(objectField(call, 'teardown'), 'framework_id', 'teardown.framework_id');
      requireAllowed(access, 'teardown_frameworks', frameworkPrincipal(master.state(), id));
      await submitOrFail(master, { type: 'teardown_framework', at: stampedOnSubmit, frameworkId: frameworkId(id) });
      return null;
    },
  },
  MARK_AGENT_GONE: {
    write: true,
    async handle({ master, call, access }) {
      const id = idField(objectField(call, 'mark_agent_gone'), 'agent_id', 'mark_agent_gone.agent_id');
      requireAllowed(access, 'mark_agents_gone', id);
      const { result } = await master.submit({ type: 'mark_agent_gone', at: stampedOnSubmit, agentId: agentId(id) });
      // As in Mesos (master/http.cpp, markAgentGone), marking an agent that is already gone
      // succeeds: the operator's retry after a lost answer must not look like a failure.
      if (!result.ok && result.code !== 'AGENT_GONE') throw rejectionToHttp(result);
      return null;
    },
  },
  KILL_TASK: {
    write: true,
    async handle({ master, call, access }) {
      const kill = objectField(call, 'kill_task');
      const framework = idField(kill, 'framework_id', 'kill_task.framework_id');
      const task = idField(kill, 'task_id', 'kill_task.task_id');
      requireAllowed(access, 'kill_tasks', frameworkPrincipal(master.state(), framework));
      const { result } = await master.submit({
        type: 'kill_task',
        at: stampedOnSubmit,
        frameworkId: frameworkId(framework),
        taskId: taskId(task),
      });
      // Killing a task that has already ended succeeds, as MARK_AGENT_GONE of a gone agent does:
      // an operator's retry after a lost answer must not look like a failure. Its framework hears
      // how it ended from the task's own terminal update.
      if (!result.ok && result.code !== 'TASK_TERMINAL') throw rejectionToHttp(result);
      return null;
    },
  },
};
