// Operator calls that read the cluster state (master.proto Response.GetState, GetAgents,
// GetFrameworks, GetExecutors, GetTasks). Reads: a ReadIndex round first unless ?stale=true (routes/operator.ts).
// The state is captured at once and the answer written in slices as the client reads it
// (state-json.ts, sliced-body.ts): at 100,000 tasks no answer holds the event loop for long.
// Frameworks and tasks the caller may not view (view_frameworks, view_tasks) are left out, as
// Mesos filters them; agents are visible to every authenticated caller.
import type { MasterCore } from '../../master/interface.ts';
import { slicedBody } from '../sliced-body.ts';
import { type OperatorCallTable, StreamingResponse } from './registry.ts';
import {
  captureView,
  getAgentsJson,
  getFrameworksJson,
  getStateJson,
  getTasksJson,
  type CapturedView,
} from './state-json.ts';
import { getExecutors } from './state-view.ts';
import { seeEverything, type Visibility, visibilityOf } from './visibility.ts';

type Writer = (view: CapturedView) => Generator<string>;

/** `{"type":"<type>","<field>":` the value `}`, written in slices from the state as it is now. */
function answer(
  master: MasterCore,
  visibility: Visibility,
  type: string,
  field: string,
  write: Writer,
): StreamingResponse {
  const view = captureView(
    master.state(),
    (task, key) => master.taskStatistics(task.agentId, key),
    JSON.stringify,
    visibility,
  );
  function* text(): Generator<string> {
    yield `{"type":"${type}","${field}":`;
    yield* write(view);
    yield '}';
  }
  return new StreamingResponse(slicedBody(text()));
}

export const stateCalls: OperatorCallTable = {
  GET_STATE: {
    write: false,
    async handle({ master, access }) {
      return answer(master, visibilityOf(access), 'GET_STATE', 'get_state', getStateJson);
    },
  },
  GET_AGENTS: {
    write: false,
    async handle({ master }) {
      return answer(master, seeEverything, 'GET_AGENTS', 'get_agents', getAgentsJson);
    },
  },
  GET_FRAMEWORKS: {
    write: false,
    async handle({ master, access }) {
      return answer(master, visibilityOf(access), 'GET_FRAMEWORKS', 'get_frameworks', getFrameworksJson);
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
      return answer(master, visibilityOf(access), 'GET_TASKS', 'get_tasks', getTasksJson);
    },
  },
};
