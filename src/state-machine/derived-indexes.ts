// Indexes of the state by framework, by agent and by where a task stands, so the work of a
// change (an agent lost, a framework torn down, a retry round, an allocation) is proportional to
// what it touches, not to all of history. Derived: never in a snapshot or the state hash; kept
// by writes.ts as apply changes the maps, rebuilt from the maps on restore, and checked against
// a full scan by the invariants (invariants.ts `checkDerivedIndexes`).
//
// Sets keep insertion order, which differs between a replica that applied the log and one that
// restored a snapshot. So anything replicated that iterates a set sorts first (writes.ts
// `sortedKeysOf`), and the two ordered ones — completed tasks per framework, completed
// frameworks — are ordered by (modifyIndex, key) on both paths: a completed task or framework
// never changes again, so its modifyIndex is the index at which it completed, and tasks that
// complete in one command are filed in key order (history.ts).
import { assert } from '../util/assert.ts';
import type { TaskState } from '../protocol/task-states.ts';
import { AgentTotals, type ReadonlyAgentTotals } from './agent-totals.ts';
import { AllocationBook, type ReadonlyAllocationBook } from './allocation-book.ts';
import type { AgentId, ExecutorKey, FrameworkId, LogIndex, OfferId, TaskKey } from './ids.ts';
import { executorKey, taskKey } from './ids.ts';
import { compareStrings } from './ordering.ts';
import { RemovalQueue } from './removal-queue.ts';
import type { Agent, Executor, Framework, Offer, ReplicatedState, Task } from './state.ts';
import { hasUnacknowledgedStatus, isCompletedTask, isLiveTask } from './task-predicates.ts';

export interface ReadonlyDerivedIndexes {
  /** Every task of each framework (live, waiting for acknowledgements, completed). */
  readonly tasksByFramework: ReadonlyMap<FrameworkId, ReadonlySet<TaskKey>>;
  readonly liveTasksByFramework: ReadonlyMap<FrameworkId, ReadonlySet<TaskKey>>;
  /** Live tasks only: a terminal task may name an agent the state has forgotten. */
  readonly liveTasksByAgent: ReadonlyMap<AgentId, ReadonlySet<TaskKey>>;
  /** Tasks with at least one update their framework has not acknowledged. */
  readonly unacknowledgedTasksByFramework: ReadonlyMap<FrameworkId, ReadonlySet<TaskKey>>;
  /** Completed tasks (task-predicates.ts) per framework, oldest first. */
  readonly completedTasksByFramework: ReadonlyMap<FrameworkId, ReadonlySet<TaskKey>>;
  /** Torn-down frameworks, oldest first. */
  readonly completedFrameworks: ReadonlySet<FrameworkId>;
  readonly unreachableAgents: RemovalQueue;
  readonly goneAgents: RemovalQueue;
  readonly offersByFramework: ReadonlyMap<FrameworkId, ReadonlySet<OfferId>>;
  readonly offersByAgent: ReadonlyMap<AgentId, ReadonlySet<OfferId>>;
  /** An agent's executors: its re-registration, removal or pruning visits them, not every executor. */
  readonly executorsByAgent: ReadonlyMap<AgentId, ReadonlySet<ExecutorKey>>;
  /** A framework's executors, for its teardown. */
  readonly executorsByFramework: ReadonlyMap<FrameworkId, ReadonlySet<ExecutorKey>>;
  readonly liveTaskCount: number;
  /** How many tasks (live, unacknowledged and completed ones kept in the history) are in each state. */
  readonly taskCountsByState: ReadonlyMap<TaskState, number>;
  /** What the allocator charges at the start of a cycle: held quantities per role and framework, agent order. */
  readonly allocation: ReadonlyAllocationBook;
  /** Agents by state and activation, and ACTIVE agents' resources, used and offered (the master's gauges). */
  readonly agentTotals: ReadonlyAgentTotals;
}

function addTo<K, M>(map: Map<K, Set<M>>, key: K, member: M): void {
  const members = map.get(key);
  if (members === undefined) map.set(key, new Set([member]));
  else members.add(member);
}

function removeFrom<K, M>(map: Map<K, Set<M>>, key: K, member: M): void {
  const members = map.get(key);
  assert(members?.delete(member) === true, `index: ${String(member)} was not filed under ${String(key)}`);
  if (members.size === 0) map.delete(key);
}

const byModifyIndexThenKey = <T extends { readonly modifyIndex: number }>(
  left: readonly [string, T],
  right: readonly [string, T],
): number => left[1].modifyIndex - right[1].modifyIndex || compareStrings(left[0], right[0]);

export class DerivedIndexes implements ReadonlyDerivedIndexes {
  readonly tasksByFramework = new Map<FrameworkId, Set<TaskKey>>();
  readonly liveTasksByFramework = new Map<FrameworkId, Set<TaskKey>>();
  readonly liveTasksByAgent = new Map<AgentId, Set<TaskKey>>();
  readonly unacknowledgedTasksByFramework = new Map<FrameworkId, Set<TaskKey>>();
  readonly completedTasksByFramework = new Map<FrameworkId, Set<TaskKey>>();
  readonly completedFrameworks = new Set<FrameworkId>();
  readonly unreachableAgents = new RemovalQueue();
  readonly goneAgents = new RemovalQueue();
  readonly offersByFramework = new Map<FrameworkId, Set<OfferId>>();
  readonly offersByAgent = new Map<AgentId, Set<OfferId>>();
  readonly executorsByAgent = new Map<AgentId, Set<ExecutorKey>>();
  readonly executorsByFramework = new Map<FrameworkId, Set<ExecutorKey>>();
  liveTaskCount = 0;
  readonly taskCountsByState = new Map<TaskState, number>();
  readonly allocation = new AllocationBook();
  readonly agentTotals = new AgentTotals();
  /** Tasks that completed in the command being applied, not yet filed (history.ts files them in key order). */
  readonly newlyCompleted: TaskKey[] = [];
  /** The index whose completions #filedAtIndex holds: one command's, or one batch's items'. */
  #filingIndex: LogIndex | null = null;
  /** Per framework, the greatest task key filed at #filingIndex (the tail of its completed list). */
  readonly #greatestFiledAtIndex = new Map<FrameworkId, TaskKey>();
  /** Per framework, every key filed at #filingIndex, for the rare filing out of key order. */
  readonly #filedAtIndex = new Map<FrameworkId, TaskKey[]>();

  /** A task was created (before undefined), replaced, or deleted (after undefined). */
  noteTask(key: TaskKey, before: Task | undefined, after: Task | undefined): void {
    const task = after ?? before;
    assert(task !== undefined, `task ${key}: nothing to note`);
    assert(before === undefined || after === undefined || before.agentId === after.agentId, `task ${key} moved`);
    const framework = task.frameworkId;
    if (before?.state !== after?.state) {
      if (before !== undefined) this.#countState(before.state, -1);
      if (after !== undefined) this.#countState(after.state, 1);
    }
    if (before === undefined) addTo(this.tasksByFramework, framework, key);
    if (after === undefined) removeFrom(this.tasksByFramework, framework, key);
    const wasLive = before !== undefined && isLiveTask(before);
    const isLive = after !== undefined && isLiveTask(after);
    if (wasLive !== isLive) {
      if (isLive) {
        addTo(this.liveTasksByFramework, framework, key);
        addTo(this.liveTasksByAgent, task.agentId, key);
      } else {
        removeFrom(this.liveTasksByFramework, framework, key);
        removeFrom(this.liveTasksByAgent, task.agentId, key);
      }
      this.liveTaskCount += isLive ? 1 : -1;
    }
    if (wasLive && (!isLive || before.resources !== after!.resources || before.role !== after!.role)) {
      this.allocation.hold(before, -1);
      if (isLive) this.allocation.hold(after!, 1);
    } else if (isLive && !wasLive) this.allocation.hold(after!, 1);
    const wasPending = before !== undefined && hasUnacknowledgedStatus(before);
    const isPending = after !== undefined && hasUnacknowledgedStatus(after);
    if (wasPending && !isPending) removeFrom(this.unacknowledgedTasksByFramework, framework, key);
    if (!wasPending && isPending) addTo(this.unacknowledgedTasksByFramework, framework, key);
    this.#noteCompletion(key, before, after);
  }

  #countState(state: TaskState, change: 1 | -1): void {
    const count = (this.taskCountsByState.get(state) ?? 0) + change;
    assert(count >= 0, `more tasks left ${state} than were in it`);
    if (count === 0) this.taskCountsByState.delete(state);
    else this.taskCountsByState.set(state, count);
  }

  #noteCompletion(key: TaskKey, before: Task | undefined, after: Task | undefined): void {
    const wasCompleted = before !== undefined && isCompletedTask(before);
    const isCompleted = after !== undefined && isCompletedTask(after);
    if (!wasCompleted && isCompleted) this.newlyCompleted.push(key);
    if (!wasCompleted || isCompleted) return;
    // Pruned, or an unreachable loss whose agent returned with it (command format 11): it leaves the list.
    assert(after === undefined || isLiveTask(after), `completed task ${key} changed`);
    const pending = this.newlyCompleted.indexOf(key);
    if (pending >= 0) this.newlyCompleted.splice(pending, 1);
    else removeFrom(this.completedTasksByFramework, before!.frameworkId, key);
  }

  /**
   * Files a task completed at `index` in its framework's completed list, which is kept in the
   * order a restored replica rebuilds it from the maps alone: by completion index, then by key.
   * One command's completions arrive in key order (history.ts), but a batch's items each file
   * their own, so a later item may complete a smaller key at the same index: the keys filed
   * earlier at this index that sort after it move behind it.
   */
  fileCompleted(key: TaskKey, frameworkId: FrameworkId, index: LogIndex): void {
    if (this.#filingIndex !== index) {
      this.#filingIndex = index;
      this.#greatestFiledAtIndex.clear();
      this.#filedAtIndex.clear();
    }
    const greatest = this.#greatestFiledAtIndex.get(frameworkId);
    const filed = this.#filedAtIndex.get(frameworkId) ?? [];
    if (greatest === undefined || compareStrings(greatest, key) < 0) {
      addTo(this.completedTasksByFramework, frameworkId, key);
      this.#greatestFiledAtIndex.set(frameworkId, key);
    } else {
      const completed = this.completedTasksByFramework.get(frameworkId);
      const behind = filed
        .filter((each) => compareStrings(each, key) > 0 && completed?.has(each) === true)
        .sort(compareStrings);
      for (const each of behind) completed!.delete(each);
      addTo(this.completedTasksByFramework, frameworkId, key);
      for (const each of behind) completed!.add(each);
    }
    filed.push(key);
    this.#filedAtIndex.set(frameworkId, filed);
  }

  noteOffer(offer: Offer, present: boolean): void {
    this.allocation.hold(offer, present ? 1 : -1);
    if (present) {
      addTo(this.offersByFramework, offer.frameworkId, offer.id);
      addTo(this.offersByAgent, offer.agentId, offer.id);
    } else {
      removeFrom(this.offersByFramework, offer.frameworkId, offer.id);
      removeFrom(this.offersByAgent, offer.agentId, offer.id);
    }
  }

  noteFramework(before: Framework | undefined, after: Framework | undefined): void {
    const id = (after ?? before)?.id;
    assert(id !== undefined, 'framework: nothing to note');
    const wasCompleted = before?.state === 'COMPLETED';
    const isCompleted = after?.state === 'COMPLETED';
    if (!wasCompleted && isCompleted) this.completedFrameworks.add(id);
    if (wasCompleted && !isCompleted) {
      assert(after === undefined, `completed framework ${id} came back`);
      this.completedFrameworks.delete(id);
    }
    if (after === undefined) {
      assert(!this.tasksByFramework.has(id), `framework ${id} is deleted before its tasks`);
      assert(!this.offersByFramework.has(id), `framework ${id} is deleted before its offers`);
      assert(!this.executorsByFramework.has(id), `framework ${id} is deleted before its executors`);
    }
  }

  /** An executor's own resources count in its framework's share, as its tasks' do (Mesos' allocator). */
  noteExecutor(executor: Executor, present: boolean): void {
    const { role, frameworkId, agentId } = executor;
    this.allocation.hold({ role, frameworkId, resources: executor.info.resources }, present ? 1 : -1);
    const key = executorKey(agentId, frameworkId, executor.info.id);
    if (present) {
      addTo(this.executorsByAgent, agentId, key);
      addTo(this.executorsByFramework, frameworkId, key);
    } else {
      removeFrom(this.executorsByAgent, agentId, key);
      removeFrom(this.executorsByFramework, frameworkId, key);
    }
  }

  noteAgent(before: Agent | undefined, after: Agent | undefined): void {
    const id = (after ?? before)?.id;
    assert(id !== undefined, 'agent: nothing to note');
    this.allocation.noteAgent(before, after);
    this.agentTotals.noteAgent(before, after);
    const queueBefore = before === undefined ? null : this.#queueOf(before);
    const queueAfter = after === undefined ? null : this.#queueOf(after);
    if (queueBefore === queueAfter && before?.stateChangedAt === after?.stateChangedAt) return;
    queueBefore?.delete(id);
    if (queueAfter !== null && after !== undefined) queueAfter.add({ agentId: id, removedAt: after.stateChangedAt });
    if (after === undefined) {
      assert(!this.liveTasksByAgent.has(id), `agent ${id} is deleted before its live tasks`);
      assert(!this.offersByAgent.has(id), `agent ${id} is deleted before its offers`);
      assert(!this.executorsByAgent.has(id), `agent ${id} is deleted before its executors`);
    }
  }

  #queueOf(agent: Agent): RemovalQueue | null {
    if (agent.state === 'UNREACHABLE') return this.unreachableAgents;
    return agent.state === 'GONE' ? this.goneAgents : null;
  }

  /** The indexes of a state read from a snapshot (or built in a test), from the maps alone. */
  static rebuild(state: ReplicatedState): DerivedIndexes {
    const steps = DerivedIndexes.rebuildInSteps(state);
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
    }
  }

  /**
   * rebuild as steps, yielding every `rebuildEntitiesPerStep` tasks: a restore builds the indexes
   * of the state it read in slices (at 10,000 tasks, 30-150 ms in one go at a load of 25).
   * `visitTask` is called with each task as it is noted (a restore checks its invariants in the
   * same pass over the tasks).
   */
  static *rebuildInSteps(
    state: ReplicatedState,
    visitTask?: (key: TaskKey, task: Task) => void,
  ): Generator<void, DerivedIndexes> {
    const indexes = new DerivedIndexes();
    for (const offer of state.offers.values()) indexes.noteOffer(offer, true);
    for (const agent of state.agents.values()) indexes.noteAgent(undefined, agent);
    for (const executor of state.executors.values()) indexes.noteExecutor(executor, true);
    const completed = [...state.frameworks.entries()].filter(([, framework]) => framework.state === 'COMPLETED');
    for (const [id] of completed.sort(byModifyIndexThenKey)) indexes.completedFrameworks.add(id as FrameworkId);
    yield;
    // The map itself, not a copy of its entries (100,000 pairs at a restore): it cannot change
    // between steps, as only a restore yields here and its state is not in use yet.
    const done: [string, Task][] = [];
    let noted = 0;
    for (const [key, task] of state.tasks) {
      visitTask?.(key, task);
      indexes.noteTask(key, undefined, task);
      if (isCompletedTask(task)) done.push([key, task]);
      noted += 1;
      if (noted % rebuildEntitiesPerStep === 0) yield;
    }
    indexes.newlyCompleted.length = 0;
    yield;
    done.sort(byModifyIndexThenKey);
    yield;
    for (let position = 0; position < done.length; position++) {
      const [key, task] = done[position]!;
      indexes.fileCompleted(key as TaskKey, task.frameworkId, task.modifyIndex as LogIndex);
      if ((position + 1) % rebuildEntitiesPerStep === 0) yield;
    }
    return indexes;
  }
}

/** Tasks noted between two steps of DerivedIndexes.rebuildInSteps. */
const rebuildEntitiesPerStep = 512;

/** The key of a task, where a caller has the task but not its key. */
export const keyOfTask = (task: Task): TaskKey => taskKey(task.frameworkId, task.id);
