// Operator calls that take an agent out of service and back (master.proto DrainAgent,
// DeactivateAgent, ReactivateAgent; Mesos maintenance.md "Automatic Node Draining" and "Manual
// Node Draining"). Each answers 200 with an empty body once the command is applied.
// - DRAIN_AGENT {agent_id, max_grace_period?: DurationInfo, mark_gone?}: deactivates the agent and
//   kills its tasks (their kill grace period capped by max_grace_period); the leader makes it
//   DRAINED when none is left, and gone with mark_gone. GET_AGENTS shows drain_info.
// - DEACTIVATE_AGENT {agent_id}: no new offers for the agent; its tasks run on.
// - REACTIVATE_AGENT {agent_id}: offers again; ends a drain. 409 when the agent is not deactivated.
// All three are authorized as drain_agents on the agent id (the issue's "drain or mark agents
// gone"; Mesos' DRAIN_AGENT, DEACTIVATE_AGENT and REACTIVATE_AGENT actions in one).
import { stampedOnSubmit } from '../../master/interface.ts';
import { agentId } from '../../state-machine/ids.ts';
import { maxDurationMs } from '../../state-machine/limits.ts';
import { requireAllowed } from '../access.ts';
import { submitOrFail } from '../submit.ts';
import {
  idField,
  nanosecondsFieldAsMilliseconds,
  objectField,
  optionalBooleanField,
  optionalObjectField,
} from './fields.ts';
import type { OperatorCallTable } from './registry.ts';

export const drainCalls: OperatorCallTable = {
  DRAIN_AGENT: {
    write: true,
    async handle({ master, call, access }) {
      const drain = objectField(call, 'drain_agent');
      const id = idField(drain, 'agent_id', 'drain_agent.agent_id');
      const grace = optionalObjectField(drain, 'max_grace_period', 'drain_agent.max_grace_period');
      const maxGracePeriodMs =
        grace === null
          ? null
          : nanosecondsFieldAsMilliseconds(
              grace,
              'nanoseconds',
              'drain_agent.max_grace_period.nanoseconds',
              maxDurationMs,
            );
      const markGone = optionalBooleanField(drain, 'mark_gone', 'drain_agent.mark_gone') ?? false;
      requireAllowed(access, 'drain_agents', id);
      await submitOrFail(master, {
        type: 'drain_agent',
        at: stampedOnSubmit,
        agentId: agentId(id),
        maxGracePeriodMs,
        markGone,
      });
      return null;
    },
  },
  DEACTIVATE_AGENT: {
    write: true,
    async handle({ master, call, access }) {
      const id = idField(objectField(call, 'deactivate_agent'), 'agent_id', 'deactivate_agent.agent_id');
      requireAllowed(access, 'drain_agents', id);
      await submitOrFail(master, { type: 'deactivate_agent', at: stampedOnSubmit, agentId: agentId(id) });
      return null;
    },
  },
  REACTIVATE_AGENT: {
    write: true,
    async handle({ master, call, access }) {
      const id = idField(objectField(call, 'reactivate_agent'), 'agent_id', 'reactivate_agent.agent_id');
      requireAllowed(access, 'drain_agents', id);
      await submitOrFail(master, { type: 'reactivate_agent', at: stampedOnSubmit, agentId: agentId(id) });
      return null;
    },
  },
};
