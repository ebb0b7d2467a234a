// Tasks as `flotilla tasks` shows them, from GET_TASKS (master.proto Response.GetTasks).
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import { isTerminalTaskState, taskStates } from '../../protocol/task-states.ts';
import { isoSeconds, scalarTotals } from '../output/format.ts';

export { taskStates };

export function isTerminal(state: string): boolean {
  return isTerminalTaskState(state);
}

export interface TaskRow {
  readonly id: string;
  readonly name: string;
  readonly framework_id: string;
  readonly agent_id: string;
  readonly state: Mesos.TaskState;
  readonly resources: Readonly<Record<string, number>>;
  /** The Docker image it runs in, or null for a plain process. */
  readonly image: string | null;
  /** When it first reported TASK_STARTING or TASK_RUNNING; null if it never started. */
  readonly started: string | null;
  /** Its latest status update's time. */
  readonly updated: string | null;
  /** The latest update's reason and message, when it has them (why a task failed). */
  readonly reason: string | null;
  readonly message: string | null;
}

export function taskRow(task: Mesos.Task): TaskRow {
  const statuses = task.statuses ?? [];
  const started = statuses.find((status) => status.state === 'TASK_RUNNING' || status.state === 'TASK_STARTING');
  const latest = statuses[statuses.length - 1];
  return {
    id: task.task_id.value,
    name: task.name,
    framework_id: task.framework_id.value,
    agent_id: task.agent_id.value,
    state: task.state,
    resources: scalarTotals(task.resources),
    image: task.container?.docker?.image ?? task.container?.mesos?.image.docker.name ?? null,
    started: isoSeconds(started?.timestamp),
    updated: isoSeconds(latest?.timestamp),
    reason: latest?.reason ?? null,
    message: latest?.message ?? null,
  };
}

/** Every task the master holds (live, unreachable and completed), the most recently updated last. */
export function allTasks(answer: Operator.GetTasks): Mesos.Task[] {
  return [
    ...(answer.pending_tasks ?? []),
    ...(answer.tasks ?? []),
    ...(answer.unreachable_tasks ?? []),
    ...(answer.completed_tasks ?? []),
    ...(answer.orphan_tasks ?? []),
  ];
}

export interface TaskFilter {
  readonly frameworkId: string | null;
  readonly states: ReadonlySet<string> | null;
}

/** `--framework` takes a whole framework id or its start, as tables show ids shortened. */
export function frameworkMatches(wanted: string | null, frameworkId: string): boolean {
  return wanted === null || frameworkId === wanted || frameworkId.startsWith(wanted);
}

/** The first 8 characters of a UUID (as `git` and `docker` shorten ids); any other id whole. */
export function shortId(id: string): string {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id) ? id.slice(0, 8) : id;
}

export function taskRows(answer: Operator.GetTasks, filter: TaskFilter): TaskRow[] {
  return allTasks(answer)
    .filter((task) => frameworkMatches(filter.frameworkId, task.framework_id.value))
    .filter((task) => filter.states === null || filter.states.has(task.state))
    .map(taskRow)
    .sort((a, b) => (a.updated ?? '').localeCompare(b.updated ?? '') || a.id.localeCompare(b.id));
}

/**
 * `--state running`, `--state TASK_RUNNING,failed`, or the groups `active` (not terminal) and
 * `terminal`; null when the flag is absent. Throws with the valid names on a typo.
 */
export function parseStateFilter(text: string | undefined): Set<string> | null {
  if (text === undefined) return null;
  const states = new Set<string>();
  for (const part of text.split(',')) {
    const word = part.trim().toUpperCase();
    if (word === '') continue;
    if (word === 'ACTIVE' || word === 'TERMINAL') {
      for (const state of taskStates) if (isTerminal(state) === (word === 'TERMINAL')) states.add(state);
      continue;
    }
    const state = word.startsWith('TASK_') ? word : `TASK_${word}`;
    if (!(taskStates as readonly string[]).includes(state)) {
      const names = taskStates.map((name) => name.replace('TASK_', '').toLowerCase()).join(', ');
      throw new Error(`"${part.trim()}" is not a task state; use one of ${names}, or active, terminal`);
    }
    states.add(state);
  }
  if (states.size === 0) throw new Error('--state is empty');
  return states;
}

/** Tasks by state, in the order of `taskStates`. */
export function countTasksByState(tasks: readonly Mesos.Task[]): Map<string, number> {
  const counts = new Map<string, number>(taskStates.map((state) => [state, 0]));
  for (const task of tasks) counts.set(task.state, (counts.get(task.state) ?? 0) + 1);
  return counts;
}
