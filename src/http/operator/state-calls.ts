// Operator calls that read the cluster state (master.proto Response.GetState, GetAgents,
// GetFrameworks, GetExecutors, GetTasks). Reads: a ReadIndex round first unless ?stale=true (routes/operator.ts).
// Frameworks and tasks the caller may not view (view_frameworks, view_tasks) are left out, as
// Mesos filters them; agents are visible to every authenticated caller.
import type { OperatorCallTable } from './registry.ts';
import { getAgents, getExecutors, getFrameworks, getState, getTasks } from './state-view.ts';
import { visibilityOf } from './visibility.ts';

export const stateCalls: OperatorCallTable = {
  GET_STATE: {
    write: false,
    async handle({ master, access }) {
      const statistics = (framework: string, task: string) => master.taskStatistics(framework, task);
      return { type: 'GET_STATE', get_state: getState(master.state(), statistics, visibilityOf(access)) };
    },
  },
  GET_AGENTS: {
    write: false,
    async handle({ master }) {
      return { type: 'GET_AGENTS', get_agents: getAgents(master.state()) };
    },
  },
  GET_FRAMEWORKS: {
    write: false,
    async handle({ master, access }) {
      return { type: 'GET_FRAMEWORKS', get_frameworks: getFrameworks(master.state(), visibilityOf(access)) };
    },
  },
  GET_EXECUTORS: {
    write: false,
    async handle({ master, access }) {
      return { type: 'GET_EXECUTORS', get_executors: getExecutors(master.state(), visibilityOf(access)) };
    },
  },
  GET_TASKS: {
    write: false,
    async handle({ master, access }) {
      const statistics = (framework: string, task: string) => master.taskStatistics(framework, task);
      return { type: 'GET_TASKS', get_tasks: getTasks(master.state(), statistics, visibilityOf(access)) };
    },
  },
};
