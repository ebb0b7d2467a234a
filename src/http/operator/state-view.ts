// The cluster state as Mesos' GET_AGENTS, GET_FRAMEWORKS, GET_TASKS and GET_STATE answer it
// (master.proto Response). Pure functions of one ReadonlyState and what the caller may see
// (visibility.ts): a single pass over tasks and offers per answer, lists in id order, so two
// replicas at one index answer byte for byte alike.
import { assert } from '../../util/assert.ts';
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import { type FrameworkId, type TaskKey, taskKey } from '../../state-machine/ids.ts';
import { compareStrings, sortedValues } from '../../state-machine/ordering.ts';
import { listAgents, listExecutors, listFrameworks } from '../../state-machine/queries.ts';
import { mesosExecutor } from '../../master/mesos/mesos-executors.ts';
import { sum, type Resources } from '../../state-machine/resources.ts';
import type { Role } from '../../state-machine/roles.ts';
import type { Framework, ReadonlyState, Task } from '../../state-machine/state.ts';
import { isTerminalTaskState } from '../../protocol/task-states.ts';
import { maxTasksPerResponse } from '../limits.ts';
import {
  mesosAgent,
  mesosFramework,
  mesosOffer,
  noHoldings,
  type FrameworkHoldings,
} from '../../master/mesos/mesos-entities.ts';
import { mesosTask } from '../../master/mesos/mesos-tasks.ts';
import { taskListOf, type TaskList } from './state-json.ts';
import { seeEverything, type Visibility } from './visibility.ts';

/** Registered agents, as Mesos lists them: unreachable and gone agents are not registered. */
export function getAgents(state: ReadonlyState): Operator.GetAgents {
  return { agents: listAgents(state, { states: ['ACTIVE'] }).map(mesosAgent), recovered_agents: [] };
}

interface Accumulator {
  readonly offers: Mesos.Offer[];
  readonly allocated: Map<Role, Resources[]>;
  readonly offered: Map<Role, Resources[]>;
}

function append(lists: Map<Role, Resources[]>, role: Role, resources: Resources): void {
  const list = lists.get(role);
  if (list === undefined) lists.set(role, [resources]);
  else list.push(resources);
}

function sumByRole(lists: ReadonlyMap<Role, Resources[]>): Map<Role, Resources> {
  return new Map([...lists.keys()].sort(compareStrings).map((role) => [role, sum(lists.get(role)!)]));
}

/** One pass over live tasks, executors and outstanding offers, for the frameworks `wanted` accepts. */
function holdings(state: ReadonlyState, wanted: (id: FrameworkId) => boolean): Map<FrameworkId, FrameworkHoldings> {
  const accumulators = new Map<FrameworkId, Accumulator>();
  const accumulatorOf = (id: FrameworkId): Accumulator => {
    const found = accumulators.get(id);
    if (found !== undefined) return found;
    const created: Accumulator = { offers: [], allocated: new Map(), offered: new Map() };
    accumulators.set(id, created);
    return created;
  };
  // Live tasks through their index: completed ones can outnumber them a thousand to one.
  for (const [frameworkId, keys] of state.derived.liveTasksByFramework) {
    if (!wanted(frameworkId)) continue;
    for (const key of keys) {
      const task = state.tasks.get(key)!;
      assert(!isTerminalTaskState(task.state), `live-task index: ${key} is terminal`);
      append(accumulatorOf(frameworkId).allocated, task.role, task.resources);
    }
  }
  for (const executor of state.executors.values()) {
    if (wanted(executor.frameworkId))
      append(accumulatorOf(executor.frameworkId).allocated, executor.role, executor.info.resources);
  }
  for (const offer of sortedValues(state.offers)) {
    if (!wanted(offer.frameworkId)) continue;
    const agent = state.agents.get(offer.agentId);
    if (agent === undefined)
      throw new Error(`offer ${offer.id} names agent ${offer.agentId}, which is not in the state`);
    const accumulator = accumulatorOf(offer.frameworkId);
    accumulator.offers.push(mesosOffer(offer, agent));
    append(accumulator.offered, offer.role, offer.resources);
  }
  return new Map(
    [...accumulators].map(([id, { offers, allocated, offered }]) => [
      id,
      { offers, allocated: sumByRole(allocated), offered: sumByRole(offered) },
    ]),
  );
}

/** One framework as a FRAMEWORK_ADDED/UPDATED event carries it. */
export function frameworkView(state: ReadonlyState, framework: Framework): Operator.Framework {
  return mesosFramework(framework, holdings(state, (id) => id === framework.id).get(framework.id) ?? noHoldings);
}

export function getFrameworks(state: ReadonlyState, visibility: Visibility = seeEverything): Operator.GetFrameworks {
  const visibleId = (id: FrameworkId): boolean => {
    const framework = state.frameworks.get(id);
    return framework !== undefined && visibility.framework(framework);
  };
  const held = holdings(state, visibility.everything ? () => true : visibleId);
  const view = (framework: Framework): Operator.Framework =>
    mesosFramework(framework, held.get(framework.id) ?? noHoldings);
  const list = (states: Framework['state'][]): Operator.Framework[] =>
    listFrameworks(state, { states })
      .filter((framework) => visibility.framework(framework))
      .map(view);
  return { frameworks: list(['CONNECTED', 'DISCONNECTED']), completed_frameworks: list(['COMPLETED']) };
}

/** Where a live task's last reported usage comes from (the leader's agent gateway), by its key in the state. */
export type TaskStatisticsLookup = (task: Task, key: TaskKey) => Mesos.ResourceStatistics | null;

const noStatistics: TaskStatisticsLookup = () => null;

export function getTasks(
  state: ReadonlyState,
  statistics: TaskStatisticsLookup = noStatistics,
  visibility: Visibility = seeEverything,
): Operator.GetTasks {
  const lists: Record<TaskList, Mesos.Task[]> = { tasks: [], unreachable_tasks: [], completed_tasks: [] };
  const all = sortedValues(state.tasks);
  const visible = visibility.everything ? all : all.filter((task) => visibility.task(task));
  for (const task of visible.slice(0, maxTasksPerResponse)) {
    const list = taskListOf(task);
    const usage = list === 'tasks' ? statistics(task, taskKey(task.frameworkId, task.id)) : null;
    lists[list].push(usage === null ? mesosTask(task) : { ...mesosTask(task), statistics: usage });
  }
  return { pending_tasks: [], ...lists, orphan_tasks: [] };
}

/**
 * master.proto GetExecutors: frameworks' executors and task groups' DEFAULT ones, in key order
 * (agent, framework, executor). The command executors of plain tasks are not listed (Mesos'
 * master does not list them either: they are the agent's).
 */
export function getExecutors(state: ReadonlyState, visibility: Visibility = seeEverything): Operator.GetExecutors {
  const visible = listExecutors(state).filter((executor) => {
    const framework = state.frameworks.get(executor.frameworkId);
    return visibility.everything || (framework !== undefined && visibility.framework(framework));
  });
  return { executors: visible.map(mesosExecutor), orphan_executors: [] };
}

export function getState(
  state: ReadonlyState,
  statistics: TaskStatisticsLookup = noStatistics,
  visibility: Visibility = seeEverything,
): Operator.GetState {
  return {
    get_tasks: getTasks(state, statistics, visibility),
    get_executors: getExecutors(state, visibility),
    get_frameworks: getFrameworks(state, visibility),
    get_agents: getAgents(state),
  };
}
