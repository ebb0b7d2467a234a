// Operator calls that read the cluster state (master.proto Response.GetState, GetAgents,
// GetFrameworks, GetExecutors, GetTasks). Reads: a ReadIndex round first unless ?stale=true (routes/operator.ts).
import type { OperatorCallTable } from './registry.ts';
import { getAgents, getExecutors, getFrameworks, getState, getTasks } from './state-view.ts';

export const stateCalls: OperatorCallTable = {
  GET_STATE: {
    write: false,
    async handle({ master }) {
      return {
        type: 'GET_STATE',
        get_state: getState(master.state(), (framework, task) => master.taskStatistics(framework, task)),
      };
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
    async handle({ master }) {
      return { type: 'GET_FRAMEWORKS', get_frameworks: getFrameworks(master.state()) };
    },
  },
  GET_EXECUTORS: {
    write: false,
    async handle({ master }) {
      return { type: 'GET_EXECUTORS', get_executors: getExecutors(master.state()) };
    },
  },
  GET_TASKS: {
    write: false,
    async handle({ master }) {
      return {
        type: 'GET_TASKS',
        get_tasks: getTasks(master.state(), (framework, task) => master.taskStatistics(framework, task)),
      };
    },
  },
};
