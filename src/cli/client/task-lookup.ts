// Finding a task by id for `logs` and `kill`: which framework holds it (task ids are unique
// per framework only) and which agent runs it, and where that agent's API answers.
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import { agentAddress } from '../views/agents.ts';
import { allTasks, frameworkMatches } from '../views/tasks.ts';
import type { ClusterClient } from './cluster-client.ts';
import { CliError } from './errors.ts';
import { operatorRead } from './operator.ts';

export interface FoundTask {
  readonly task: Mesos.Task;
  readonly frameworkId: string;
}

/** The one task with this id (in `frameworkId` when given); NOT_FOUND or AMBIGUOUS otherwise. */
export async function findTask(client: ClusterClient, taskId: string, frameworkId: string | null): Promise<FoundTask> {
  const answer = await operatorRead<{ get_tasks: Operator.GetTasks }>(client, { type: 'GET_TASKS' });
  const matches = allTasks(answer.get_tasks).filter(
    (task) => task.task_id.value === taskId && frameworkMatches(frameworkId, task.framework_id.value),
  );
  if (matches.length === 0) {
    const where = frameworkId === null ? '' : ` in framework ${frameworkId}`;
    throw new CliError(
      'NOT_FOUND',
      `no task ${taskId}${where}`,
      '`flotilla tasks` lists the tasks the masters hold (completed ones are pruned over time)',
    );
  }
  if (matches.length > 1) {
    const frameworks = matches.map((task) => task.framework_id.value).join(', ');
    throw new CliError('AMBIGUOUS', `task id ${taskId} is used by frameworks ${frameworks}`, 'add --framework ID');
  }
  return { task: matches[0]!, frameworkId: matches[0]!.framework_id.value };
}

/** The address of the agent's own API (files, GET_STATE); AGENT_UNREACHABLE if it is not registered. */
export async function findAgentAddress(client: ClusterClient, agentId: string): Promise<MasterAddress> {
  const answer = await operatorRead<{ get_agents: Operator.GetAgents }>(client, { type: 'GET_AGENTS' });
  const agent = (answer.get_agents.agents ?? []).find((candidate) => candidate.agent_info.id.value === agentId);
  if (agent === undefined) {
    throw new CliError(
      'AGENT_UNREACHABLE',
      `agent ${agentId} is not registered (unreachable, or gone): the task's sandbox cannot be read`,
      '`flotilla status` shows unreachable and gone agents',
    );
  }
  const address = agentAddress(agent);
  if (address === null) throw new CliError('BAD_ANSWER', `agent ${agentId} has no usable address (pid "${agent.pid}")`);
  return address;
}
