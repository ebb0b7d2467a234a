// Legal task state paths (Mesos' task state diagram, as Flotilla's agents and master produce it):
// a launch starts in TASK_STAGING; the agent moves it through STARTING and RUNNING (RUNNING may
// repeat, for health changes); KILLING precedes KILLED; an unreachable agent's task may come
// back; a terminal state is the last. Anything else — RUNNING after FINISHED, STARTING after
// RUNNING, a second STAGING — means a status was applied out of order or a task ran twice.
import { isTerminalTaskState, type TaskState } from '../../../src/protocol/task-states.ts';

const progressRank: Partial<Record<TaskState, number>> = {
  TASK_STAGING: 0,
  TASK_STARTING: 1,
  TASK_RUNNING: 2,
  TASK_KILLING: 3,
};

/** Why `next` cannot follow `previous`, or null when it can. */
export function illegalStep(previous: TaskState, next: TaskState): string | null {
  if (isTerminalTaskState(previous)) return `${next} after the terminal ${previous}`;
  if (next === 'TASK_STAGING') return 'TASK_STAGING again (only a launch makes it)';
  if (isTerminalTaskState(next) || next === 'TASK_UNREACHABLE' || next === 'TASK_UNKNOWN') return null;
  // Back from unreachable: the agent re-registered and reports where the task is now.
  if (previous === 'TASK_UNREACHABLE' || previous === 'TASK_UNKNOWN') return null;
  const from = progressRank[previous];
  const to = progressRank[next];
  if (from === undefined || to === undefined) return `${previous} → ${next} is not a known step`;
  if (to < from) return `${next} after ${previous}`;
  if (to === from && next !== 'TASK_RUNNING' && next !== 'TASK_KILLING') return `${next} twice in a row`;
  return null;
}

export interface IllegalPath {
  readonly task: string;
  readonly path: readonly TaskState[];
  readonly problem: string;
}

/** `complete`: the paths start at the launch (the log was not compacted). */
export function checkTaskPaths(paths: ReadonlyMap<string, readonly TaskState[]>, complete: boolean): IllegalPath[] {
  const illegal: IllegalPath[] = [];
  for (const [task, path] of paths) {
    if (complete && path[0] !== 'TASK_STAGING') {
      illegal.push({ task, path, problem: `starts in ${path[0] ?? 'nothing'}, not TASK_STAGING` });
      continue;
    }
    for (let step = 1; step < path.length; step++) {
      const problem = illegalStep(path[step - 1]!, path[step]!);
      if (problem !== null) {
        illegal.push({ task, path, problem });
        break;
      }
    }
  }
  return illegal;
}
