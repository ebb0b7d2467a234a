// The cluster state as Mesos' GET_AGENTS, GET_FRAMEWORKS, GET_TASKS and GET_STATE answer it
// (master.proto Response). Pure functions of one ReadonlyState: a single pass over tasks and
// offers per answer, lists in id order, so two replicas at one index answer byte for byte alike.
// The HTTP calls write the large answers in slices instead (state-json.ts, the same text); these
// are the reference for it, and serve one framework's view in the operator stream's events.
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import type { FrameworkId } from '../../state-machine/ids.ts';
import { compareStrings, sortedValues } from '../../state-machine/ordering.ts';
import { listAgents, listFrameworks } from '../../state-machine/queries.ts';
import { sum, type Resources } from '../../state-machine/resources.ts';
import type { Role } from '../../state-machine/roles.ts';
import type { Framework, Offer, ReadonlyState, Task } from '../../state-machine/state.ts';
import { isTerminalTaskState } from '../../protocol/task-states.ts';
import { maxTasksPerResponse } from '../limits.ts';
import { taskListOf, type TaskList } from './state-json.ts';
import {
  mesosAgent,
  mesosFramework,
  mesosOffer,
  noHoldings,
  type FrameworkHoldings,
} from '../../master/mesos/mesos-entities.ts';
import { mesosTask } from '../../master/mesos/mesos-tasks.ts';

/** Registered agents, as Mesos lists them: unreachable and gone agents are not registered. */
export function getAgents(state: ReadonlyState): Operator.GetAgents {
  return { agents: listAgents(state, { states: ['ACTIVE', 'DRAINING'] }).map(mesosAgent), recovered_agents: [] };
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

/** One pass over the given live tasks and outstanding offers (in id order), by framework. */
function holdings(
  state: ReadonlyState,
  liveTasks: Iterable<Task>,
  offers: readonly Offer[],
): Map<FrameworkId, FrameworkHoldings> {
  const accumulators = new Map<FrameworkId, Accumulator>();
  const accumulatorOf = (id: FrameworkId): Accumulator => {
    const found = accumulators.get(id);
    if (found !== undefined) return found;
    const created: Accumulator = { offers: [], allocated: new Map(), offered: new Map() };
    accumulators.set(id, created);
    return created;
  };
  for (const task of liveTasks) append(accumulatorOf(task.frameworkId).allocated, task.role, task.resources);
  for (const offer of offers) {
    const agent = state.agents.get(offer.agentId);
    if (agent === undefined)
      throw new Error(`offer ${offer.id} names agent ${offer.agentId}, which is not in the state`);
    const accumulator = accumulatorOf(offer.frameworkId);
    accumulator.offers.push(mesosOffer(offer, agent));
    append(accumulator.offered, offer.role, offer.resources);
  }
  return new Map(
    [...accumulators].map(([id, { offers: made, allocated, offered }]) => [
      id,
      { offers: made, allocated: sumByRole(allocated), offered: sumByRole(offered) },
    ]),
  );
}

/** The entities under `keys` of `map` (an index of the state), in key order. */
function atKeys<K extends string, V>(map: ReadonlyMap<K, V>, keys: Iterable<K> | undefined): V[] {
  return [...(keys ?? [])].sort(compareStrings).flatMap((key) => {
    const value = map.get(key);
    return value === undefined ? [] : [value];
  });
}

/** One framework as a FRAMEWORK_ADDED/UPDATED event carries it: its own tasks and offers only (indexes). */
export function frameworkView(state: ReadonlyState, framework: Framework): Operator.Framework {
  const tasks = atKeys(state.tasks, state.derived.liveTasksByFramework.get(framework.id));
  const offers = atKeys(state.offers, state.derived.offersByFramework.get(framework.id));
  return mesosFramework(framework, holdings(state, tasks, offers).get(framework.id) ?? noHoldings);
}

export function getFrameworks(state: ReadonlyState): Operator.GetFrameworks {
  const liveTasks = [...state.tasks.values()].filter((task) => !isTerminalTaskState(task.state));
  const held = holdings(state, liveTasks, sortedValues(state.offers));
  const view = (framework: Framework): Operator.Framework =>
    mesosFramework(framework, held.get(framework.id) ?? noHoldings);
  return {
    frameworks: listFrameworks(state, { states: ['CONNECTED', 'DISCONNECTED'] }).map(view),
    completed_frameworks: listFrameworks(state, { states: ['COMPLETED'] }).map(view),
  };
}

/** Where a live task's last reported usage comes from (the leader's agent gateway). */
export type TaskStatisticsLookup = (frameworkId: string, taskId: string) => Mesos.ResourceStatistics | null;

const noStatistics: TaskStatisticsLookup = () => null;

export function getTasks(state: ReadonlyState, statistics: TaskStatisticsLookup = noStatistics): Operator.GetTasks {
  const lists: Record<TaskList, Mesos.Task[]> = { tasks: [], unreachable_tasks: [], completed_tasks: [] };
  for (const task of sortedValues(state.tasks).slice(0, maxTasksPerResponse)) {
    const list = taskListOf(task);
    const usage = list === 'tasks' ? statistics(task.frameworkId, task.id) : null;
    lists[list].push(usage === null ? mesosTask(task) : { ...mesosTask(task), statistics: usage });
  }
  return { pending_tasks: [], ...lists, orphan_tasks: [] };
}

/** Flotilla has no custom executors: command and container tasks only. */
export function getState(state: ReadonlyState, statistics: TaskStatisticsLookup = noStatistics): Operator.GetState {
  return {
    get_tasks: getTasks(state, statistics),
    get_executors: { executors: [], orphan_executors: [] },
    get_frameworks: getFrameworks(state),
    get_agents: getAgents(state),
  };
}
