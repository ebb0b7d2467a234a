// GET_STATE, GET_TASKS and GET_FRAMEWORKS (and the get_state inside the operator stream's
// SUBSCRIBED) written as JSON text in steps, so a caller can give the event loop back between
// them (DESIGN.md, "One event loop, never blocked"): at 100,000 tasks the one-go build and
// JSON.stringify held the loop for seconds. The state is captured first (arrays of entity
// pointers: entities never change in place), so the answer is the state at one index however
// long the writing takes; the text is byte for byte what JSON.stringify makes of the answers of
// state-view.ts, which stay the reference (and serve the small answers).
//
// A generator yields pieces of text; an empty piece marks a point where the caller may yield.
import type * as Mesos from '../../protocol/mesos.ts';
import { isTerminalTaskState } from '../../protocol/task-states.ts';
import type { FrameworkId, TaskKey } from '../../state-machine/ids.ts';
import { compareStrings } from '../../state-machine/ordering.ts';
import { add, emptyResources, type Resources } from '../../state-machine/resources.ts';
import type { Role } from '../../state-machine/roles.ts';
import type * as Operator from '../../protocol/operator.ts';
import type { Agent, Executor, Framework, Offer, ReadonlyState, Task } from '../../state-machine/state.ts';
import { isCompletedTask } from '../../state-machine/task-predicates.ts';
import { mesosFramework, mesosOffer, type FrameworkHoldings } from '../../master/mesos/mesos-entities.ts';
import { maxTasksPerResponse } from '../limits.ts';
import { agentText, taskText } from './entity-json.ts';
import { HeldSum } from './held-sums.ts';
import { sortedKeyPositions } from './key-order.ts';
import { getExecutors, type TaskStatisticsLookup } from './state-view.ts';
import { seeEverything, type Visibility } from './visibility.ts';

/** Entities converted between two yield points. */
const entitiesPerStep = 256;

export interface CapturedView {
  /** The state's agents and tasks maps, for their identity only (key-order.ts): never read. */
  readonly agentsMap: object;
  readonly tasksMap: object;
  readonly offersMap: object;
  readonly agents: readonly Agent[];
  readonly frameworks: readonly Framework[];
  readonly offers: readonly Offer[];
  readonly taskKeys: readonly TaskKey[];
  readonly tasks: readonly Task[];
  readonly executors: readonly Executor[];
  /** GET_EXECUTORS' answer, built at capture: executors are few (one per framework and agent at most). */
  readonly executorsAnswer: Operator.GetExecutors;
  readonly statistics: TaskStatisticsLookup;
  /** JSON.stringify for plain answers; asciiJson inside RecordIO streams. */
  readonly stringify: (value: object) => string;
  /** What the caller may see (visibility.ts), as state-view.ts filters: tasks, frameworks. */
  readonly visibility: Visibility;
}

/** O(entities) pointer copies, no conversion: cheap enough to take in one go at any size. */
export function captureView(
  state: ReadonlyState,
  statistics: TaskStatisticsLookup,
  stringify: (value: object) => string = JSON.stringify,
  visibility: Visibility = seeEverything,
): CapturedView {
  return {
    agentsMap: state.agents,
    tasksMap: state.tasks,
    offersMap: state.offers,
    agents: [...state.agents.values()],
    frameworks: [...state.frameworks.values()],
    offers: [...state.offers.values()],
    taskKeys: [...state.tasks.keys()],
    tasks: [...state.tasks.values()],
    executors: [...state.executors.values()],
    executorsAnswer: getExecutors(state, visibility),
    statistics,
    stringify,
    visibility,
  };
}

/** sortedKeyPositions, its steps as yield points of a text generator. */
function* sortedPositions(map: object, keys: readonly string[]): Generator<string, Uint32Array> {
  const steps = sortedKeyPositions(map, keys);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    yield '';
  }
}

/**
 * `[` items `]` with a yield point every `entitiesPerStep` items. The comma is a piece of its
 * own: `,${text}` made a new string of each cached text, copied again when encoded (sliced-body.ts).
 */
function* jsonArray<T>(items: Iterable<T>, write: (item: T) => string): Generator<string> {
  yield '[';
  let count = 0;
  for (const item of items) {
    if (count > 0) yield ',';
    yield write(item);
    if (++count % entitiesPerStep === 0) yield '';
  }
  yield ']';
}

export type TaskList = 'tasks' | 'unreachable_tasks' | 'completed_tasks';

/** master.proto GetTasks: live or waiting for an acknowledgement, unreachable, or completed. */
export function taskListOf(task: Task): TaskList {
  if (task.state === 'TASK_UNREACHABLE') return 'unreachable_tasks';
  return isCompletedTask(task) ? 'completed_tasks' : 'tasks';
}

/** The first `maxTasksPerResponse` tasks in key order, split into GetTasks' lists: their positions in the view. */
function* taskLists(view: CapturedView): Generator<string, Record<TaskList, number[]>> {
  const order = yield* sortedPositions(view.tasksMap, view.taskKeys);
  const lists: Record<TaskList, number[]> = { tasks: [], unreachable_tasks: [], completed_tasks: [] };
  let listed = 0;
  for (let position = 0; position < order.length && listed < maxTasksPerResponse; position += 1) {
    const index = order[position]!;
    const task = view.tasks[index]!;
    if (position % (16 * entitiesPerStep) === 0) yield '';
    if (!view.visibility.everything && !view.visibility.task(task)) continue;
    lists[taskListOf(task)].push(index);
    listed += 1;
  }
  return lists;
}

/**
 * The task's cached text (entity-json.ts), with its usage as the last field when it has one: the
 * same text as stringify({ ...mesosTask(task), statistics }), since Task has no `statistics` of its own.
 * The usage is looked up by the state's own key string (its hash kept): building a key per task
 * and finding the task's agent again cost the leader as much as the rest of the tasks' text.
 */
function taskJson(view: CapturedView, index: number, list: TaskList): string {
  const task = view.tasks[index]!;
  const usage: Mesos.ResourceStatistics | null =
    list === 'tasks' ? view.statistics(task, view.taskKeys[index] as TaskKey) : null;
  const text = taskText(task, view.stringify);
  return usage === null ? text : `${text.slice(0, -1)},"statistics":${view.stringify(usage)}}`;
}

/** The value of GET_TASKS' `get_tasks`. */
export function* getTasksJson(view: CapturedView): Generator<string> {
  const lists = yield* taskLists(view);
  yield '{"pending_tasks":[]';
  for (const list of ['tasks', 'unreachable_tasks', 'completed_tasks'] as const) {
    yield `,"${list}":`;
    yield* jsonArray(lists[list], (index) => taskJson(view, index, list));
  }
  yield ',"orphan_tasks":[]}';
}

interface Accumulated {
  readonly offers: Mesos.Offer[];
  readonly allocated: Map<Role, Resources>;
  readonly offered: Map<Role, Resources>;
}

const byRoleSorted = (held: ReadonlyMap<Role, Resources>): Map<Role, Resources> =>
  new Map([...held.entries()].sort((left, right) => compareStrings(left[0], right[0])));

/** Whether the caller may see the framework (state-view.ts: a framework unknown to the state: no). */
function visibleFrameworks(view: CapturedView): (id: FrameworkId) => boolean {
  if (view.visibility.everything) return () => true;
  const visible = new Set(
    view.frameworks.filter((framework) => view.visibility.framework(framework)).map((framework) => framework.id),
  );
  return (id) => visible.has(id);
}

function heldSumOf(held: Map<FrameworkId, Map<Role, HeldSum>>, frameworkId: FrameworkId, role: Role): HeldSum {
  let byRole = held.get(frameworkId);
  if (byRole === undefined) {
    byRole = new Map();
    held.set(frameworkId, byRole);
  }
  let sum = byRole.get(role);
  if (sum === undefined) {
    sum = new HeldSum();
    byRole.set(role, sum);
  }
  return sum;
}

/** What each visible framework's live tasks hold, by role (held-sums.ts). */
function* liveTasksHeld(
  view: CapturedView,
  visibleFramework: (id: FrameworkId) => boolean,
): Generator<string, Map<FrameworkId, Map<Role, HeldSum>>> {
  const held = new Map<FrameworkId, Map<Role, HeldSum>>();
  let count = 0;
  for (const task of view.tasks) {
    if (!isTerminalTaskState(task.state) && visibleFramework(task.frameworkId)) {
      heldSumOf(held, task.frameworkId, task.role).add(task.resources);
    }
    if (++count % (4 * entitiesPerStep) === 0) yield '';
  }
  return held;
}

/** What each visible framework holds (state-view.ts `holdings`): live tasks by role, offers in id order. */
function* holdingsInSteps(view: CapturedView): Generator<string, Map<FrameworkId, FrameworkHoldings>> {
  const accumulated = new Map<FrameworkId, Accumulated>();
  const of = (id: FrameworkId): Accumulated => {
    let found = accumulated.get(id);
    if (found === undefined) {
      found = { offers: [], allocated: new Map(), offered: new Map() };
      accumulated.set(id, found);
    }
    return found;
  };
  const charge = (held: Map<Role, Resources>, role: Role, resources: Resources) =>
    held.set(role, add(held.get(role) ?? emptyResources, resources));
  const visibleFramework = visibleFrameworks(view);
  for (const [frameworkId, byRole] of yield* liveTasksHeld(view, visibleFramework)) {
    const allocated = of(frameworkId).allocated;
    for (const [role, sum] of byRole) allocated.set(role, sum.total());
  }
  // An executor's own resources are its framework's, as in state-view.ts.
  for (const executor of view.executors) {
    if (visibleFramework(executor.frameworkId))
      charge(of(executor.frameworkId).allocated, executor.role, executor.info.resources);
  }
  // At 10,000 agents one framework can hold an offer on each: sorted, converted and summed in steps.
  const agents = new Map(view.agents.map((agent) => [agent.id, agent]));
  const order = yield* sortedPositions(
    view.offersMap,
    view.offers.map((offer) => offer.id),
  );
  const offered = new Map<FrameworkId, Map<Role, HeldSum>>();
  for (let position = 0; position < order.length; position += 1) {
    const offer = view.offers[order[position]!]!;
    if (position % entitiesPerStep === entitiesPerStep - 1) yield '';
    if (!visibleFramework(offer.frameworkId)) continue;
    const agent = agents.get(offer.agentId);
    if (agent === undefined)
      throw new Error(`offer ${offer.id} names agent ${offer.agentId}, which is not in the state`);
    of(offer.frameworkId).offers.push(mesosOffer(offer, agent));
    heldSumOf(offered, offer.frameworkId, offer.role).add(offer.resources);
  }
  for (const [frameworkId, byRole] of offered) {
    const held = of(frameworkId).offered;
    for (const [role, sum] of byRole) held.set(role, sum.total());
  }
  const holdings = new Map<FrameworkId, FrameworkHoldings>();
  for (const [id, held] of accumulated)
    holdings.set(id, {
      offers: held.offers,
      allocated: byRoleSorted(held.allocated),
      offered: byRoleSorted(held.offered),
    });
  return holdings;
}

const noHoldings: FrameworkHoldings = { offers: [], allocated: new Map(), offered: new Map() };

/** The value of GET_FRAMEWORKS' `get_frameworks`. */
export function* getFrameworksJson(view: CapturedView): Generator<string> {
  const holdings = yield* holdingsInSteps(view);
  const sorted = [...view.frameworks]
    .filter((framework) => view.visibility.framework(framework))
    .sort((left, right) => compareStrings(left.id, right.id));
  const write = (framework: Framework) => frameworkJson(view, framework, holdings.get(framework.id) ?? noHoldings);
  yield '{"frameworks":';
  yield* jsonArrayInSteps(
    sorted.filter((framework) => framework.state !== 'COMPLETED'),
    write,
  );
  yield ',"completed_frameworks":';
  yield* jsonArrayInSteps(
    sorted.filter((framework) => framework.state === 'COMPLETED'),
    write,
  );
  yield '}';
}

/** `[` items `]`, each item written by a generator of its own. */
function* jsonArrayInSteps<T>(items: readonly T[], write: (item: T) => Generator<string>): Generator<string> {
  yield '[';
  for (const [index, item] of items.entries()) {
    if (index > 0) yield ',';
    yield* write(item);
  }
  yield ']';
}

/**
 * stringify(mesosFramework(...)) field by field, its offers one by one: one framework can hold
 * 10,000 offers, megabytes of text that one stringify wrote in a single step. JSON.stringify
 * writes a plain object's own fields in order, leaving out undefined ones, as this does.
 */
function* frameworkJson(view: CapturedView, framework: Framework, holdings: FrameworkHoldings): Generator<string> {
  let separator = '{';
  for (const [field, value] of Object.entries(mesosFramework(framework, holdings))) {
    if (value === undefined) continue;
    yield `${separator}${JSON.stringify(field)}:`;
    separator = ',';
    if (field === 'offers') yield* jsonArray(holdings.offers, (offer) => view.stringify(offer));
    else yield view.stringify(value as object);
  }
  yield separator === '{' ? '{}' : '}';
}

/** The value of GET_AGENTS' `get_agents`: registered agents (unreachable and gone ones are not). */
export function* getAgentsJson(view: CapturedView): Generator<string> {
  const order = yield* sortedPositions(
    view.agentsMap,
    view.agents.map((agent) => agent.id),
  );
  const registered = [...order].map((position) => view.agents[position]!).filter((agent) => agent.state === 'ACTIVE');
  yield '{"agents":';
  yield* jsonArray(registered, (agent) => agentText(agent, view.stringify));
  yield ',"recovered_agents":[]}';
}

/** The value of GET_STATE's `get_state`. */
export function* getStateJson(view: CapturedView): Generator<string> {
  yield '{"get_tasks":';
  yield* getTasksJson(view);
  yield `,"get_executors":${view.stringify(view.executorsAnswer)},"get_frameworks":`;
  yield* getFrameworksJson(view);
  yield ',"get_agents":';
  yield* getAgentsJson(view);
  yield '}';
}
