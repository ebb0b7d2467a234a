// Operator calls that remove an agent or a framework for good (master.proto Teardown,
// MarkAgentGone). TEARDOWN kills the framework's tasks (TASK_KILLED, REASON_FRAMEWORK_REMOVED)
// and completes it; MARK_AGENT_GONE asserts the agent will never return: its tasks become
// TASK_GONE_BY_OPERATOR and it may never re-register.
import { agentId, frameworkId } from '../../state-machine/ids.ts';
import { stampedOnSubmit } from '../../master/interface.ts';
import { rejectionToHttp } from '../master-errors.ts';
import { submitOrFail } from '../submit.ts';
import { idField, objectField } from './fields.ts';
import type { OperatorCallTable } from './registry.ts';

export const teardownCalls: OperatorCallTable = {
  TEARDOWN: {
    write: true,
    async handle({ master, call }) {
      const id = idField(objectField(call, 'teardown'), 'framework_id', 'teardown.framework_id');
      await submitOrFail(master, { type: 'teardown_framework', at: stampedOnSubmit, frameworkId: frameworkId(id) });
      return null;
    },
  },
  MARK_AGENT_GONE: {
    write: true,
    async handle({ master, call }) {
      const id = idField(objectField(call, 'mark_agent_gone'), 'agent_id', 'mark_agent_gone.agent_id');
      const { result } = await master.submit({ type: 'mark_agent_gone', at: stampedOnSubmit, agentId: agentId(id) });
      // As in Mesos (master/http.cpp, markAgentGone), marking an agent that is already gone
      // succeeds: the operator's retry after a lost answer must not look like a failure.
      if (!result.ok && result.code !== 'AGENT_GONE') throw rejectionToHttp(result);
      return null;
    },
  },
};
