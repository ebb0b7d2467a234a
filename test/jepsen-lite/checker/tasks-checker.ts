// The tasks workload's verdict. Evidence comes from three independent places: the framework's
// history (what it was told), the tasks themselves (each appends its id to a shared file when
// it starts: what really ran), and every master's committed log replayed with invariant checks
// (what was decided, index by index). The properties (DESIGN.md, jepsen-lite; issue 7):
//   - every acknowledged launch is in the final state, exactly once, and ran exactly once;
//   - no task ever ran twice; a launch that definitely failed never ran;
//   - no agent was over-committed at any applied index (the replayed invariants);
//   - every task's state history is a legal path;
//   - every update the framework heard was acknowledged in the end: a terminal task left out of
//     GET_TASKS' completed_tasks after the framework subscribed again has an update the master
//     never sent again (at-least-once delivery, master/scheduler/update-retries.ts).
import type { Operation } from '../history/operations.ts';
import { type Anomaly, summarizeOperation, type Validity } from './anomaly.ts';
import { checkTaskPaths } from './task-paths.ts';
import type { Divergence } from './committed-logs.ts';
import type { ReplayResult } from './log-replay.ts';

export interface FinalTask {
  readonly taskId: string;
  readonly state: string;
  /**
   * In GET_TASKS' completed_tasks: terminal with every update acknowledged (Mesos moves a task
   * there only then). Absent when the read did not say.
   */
  readonly completed?: boolean;
}

/** How the framework's acknowledgements ended (workloads/tasks.ts `finish`). */
export interface AcknowledgementEvidence {
  /** Terminal tasks with an update unacknowledged once the retries alone had had their time. */
  readonly unacknowledgedBeforeResubscribing: number;
  /** Whether the framework subscribed again to hear every pending update on SUBSCRIBE. */
  readonly resubscribed: boolean;
}

export interface TasksEvidence {
  readonly operations: readonly Operation[];
  /** Task ids in the order their processes started (one line each in the runs file). */
  readonly runs: readonly string[];
  /** The final read (GET_TASKS on the leader); null when it could not be made. */
  readonly finalTasks: readonly FinalTask[] | null;
  readonly acknowledgements?: AcknowledgementEvidence;
  /** The replayed log of the master with the longest whole committed log (it speaks for all when they agree). */
  readonly replays: ReadonlyMap<string, ReplayResult | { readonly error: string }>;
  /** Indexes where masters hold different committed entries, and how many masters were compared. */
  readonly divergences: readonly Divergence[];
  readonly mastersCompared: number;
}

export interface TasksCheck {
  readonly valid: Validity;
  readonly anomalies: readonly Anomaly[];
  readonly summary: Readonly<Record<string, unknown>>;
}

const maxListed = 20;

export const terminalStates: ReadonlySet<string> = new Set([
  'TASK_FINISHED',
  'TASK_FAILED',
  'TASK_KILLED',
  'TASK_ERROR',
  'TASK_LOST',
  'TASK_DROPPED',
  'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

function countRuns(runs: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const task of runs) counts.set(task, (counts.get(task) ?? 0) + 1);
  return counts;
}

function launchAnomalies(
  evidence: TasksEvidence,
  runCounts: ReadonlyMap<string, number>,
  finalById: ReadonlyMap<string, FinalTask> | null,
): Anomaly[] {
  const anomalies: Anomaly[] = [];
  const launches = evidence.operations.filter((operation) => operation.f === 'launch');
  const group = (type: string, message: string, operations: readonly Operation[]): void => {
    if (operations.length > 0)
      anomalies.push({
        type,
        message: `${operations.length} ${message}`,
        operations: operations.slice(0, maxListed).map(summarizeOperation),
      });
  };
  const ok = launches.filter((operation) => operation.type === 'ok');
  group(
    'lost-launch',
    'acknowledged launch(es) missing from the final state',
    finalById === null ? [] : ok.filter((operation) => !finalById.has(operation.key ?? '')),
  );
  group(
    'acknowledged-never-ran',
    'acknowledged launch(es) that finished without ever running',
    ok.filter(
      (operation) =>
        finalById?.get(operation.key ?? '')?.state === 'TASK_FINISHED' &&
        (runCounts.get(operation.key ?? '') ?? 0) === 0,
    ),
  );
  group(
    'failed-launch-ran',
    'launch(es) answered as definite failures whose task ran',
    launches.filter((operation) => operation.type === 'fail' && (runCounts.get(operation.key ?? '') ?? 0) > 0),
  );
  const invoked = new Set(launches.map((operation) => operation.key));
  const phantoms = [...runCounts.keys()].filter((task) => !invoked.has(task));
  if (phantoms.length > 0)
    anomalies.push({
      type: 'phantom-task',
      message: `${phantoms.length} task(s) ran that no client launched`,
      details: { tasks: phantoms.slice(0, maxListed) },
    });
  return anomalies;
}

function replayAnomalies(replays: TasksEvidence['replays']): {
  anomalies: Anomaly[];
  checkedIndexes: number;
  illegalPaths: number;
} {
  const anomalies: Anomaly[] = [];
  let checkedIndexes = 0;
  let illegalPaths = 0;
  for (const [master, replay] of replays) {
    if ('error' in replay) {
      anomalies.push({ type: 'unreadable-log', message: `${master}: ${replay.error}` });
      continue;
    }
    checkedIndexes = Math.max(checkedIndexes, replay.throughIndex - replay.fromIndex + 1);
    if (replay.violation !== null) {
      anomalies.push({
        type: 'invariant-violated',
        message: `${master}: at index ${replay.violation.index}: ${replay.violation.message}`,
      });
    }
    const illegal = checkTaskPaths(replay.taskPaths, replay.complete);
    illegalPaths = Math.max(illegalPaths, illegal.length);
    if (illegal.length > 0) {
      anomalies.push({
        type: 'illegal-task-path',
        message: `${master}: ${illegal.length} task(s) took an illegal path`,
        details: { examples: illegal.slice(0, maxListed) },
      });
    }
  }
  return { anomalies, checkedIndexes, illegalPaths };
}

export function checkTasks(evidence: TasksEvidence): TasksCheck {
  const runCounts = countRuns(evidence.runs);
  const finalById =
    evidence.finalTasks === null ? null : new Map(evidence.finalTasks.map((task) => [task.taskId, task]));
  const twice = [...runCounts].filter(([, count]) => count > 1).map(([task, count]) => ({ task, count }));
  const anomalies: Anomaly[] = [...launchAnomalies(evidence, runCounts, finalById)];
  if (twice.length > 0)
    anomalies.push({
      type: 'ran-twice',
      message: `${twice.length} task id(s) started more than once`,
      details: { tasks: twice.slice(0, maxListed) },
    });
  const unacknowledged = (evidence.finalTasks ?? []).filter(
    (task) => terminalStates.has(task.state) && task.completed === false,
  );
  if (unacknowledged.length > 0)
    anomalies.push({
      type: 'update-never-acknowledged',
      message: `${unacknowledged.length} terminal task(s) with an update still unacknowledged at the end, though the framework acknowledges every update it hears${evidence.acknowledgements?.resubscribed === true ? ' and subscribed again' : ''}`,
      details: { tasks: unacknowledged.slice(0, maxListed) },
    });
  const replay = replayAnomalies(evidence.replays);
  anomalies.push(...replay.anomalies);
  if (evidence.divergences.length > 0) {
    anomalies.push({
      type: 'committed-logs-diverge',
      message: `masters hold different committed entries at ${evidence.divergences.length} index(es)`,
      details: { divergences: evidence.divergences },
    });
  }
  const launches = evidence.operations.filter((operation) => operation.f === 'launch');
  const count = (type: string) => launches.filter((operation) => operation.type === type).length;
  const finalStates: Record<string, number> = {};
  for (const task of evidence.finalTasks ?? []) finalStates[task.state] = (finalStates[task.state] ?? 0) + 1;
  const valid: Validity = anomalies.length > 0 ? false : evidence.finalTasks === null ? 'unknown' : true;
  return {
    valid,
    anomalies,
    summary: {
      launches: launches.length,
      acknowledged: count('ok'),
      failed: count('fail'),
      indeterminate: count('info'),
      ran: runCounts.size,
      ranTwice: twice.length,
      finalTasks: evidence.finalTasks?.length ?? null,
      finalStates,
      unacknowledgedAtEnd: unacknowledged.length,
      unacknowledgedBeforeResubscribing: evidence.acknowledgements?.unacknowledgedBeforeResubscribing ?? null,
      mastersCompared: evidence.mastersCompared,
      mastersReplayed: evidence.replays.size,
      indexesReplayed: replay.checkedIndexes,
    },
  };
}
