// `flotilla tasks --watch`: the current list, then one line per task change from the operator
// event stream, following the leader across failovers. After a reconnection the new
// SUBSCRIBED snapshot is compared with what was known, so a change made while the stream was
// down is printed too (once), not lost.
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import type * as Mesos from '../../protocol/mesos.ts';
import type * as Operator from '../../protocol/operator.ts';
import { followOperatorEvents } from '../client/operator-events.ts';
import { stateColor } from '../output/colors.ts';
import { frameworkMatches, type TaskFilter, type TaskRow, taskRow, taskRows } from '../views/tasks.ts';
import type { CommandContext } from './cluster-command.ts';
import { agentHostnames, renderTaskTable } from './tasks.ts';

type ChangeKind = 'current' | 'added' | 'updated';

interface Change {
  readonly kind: ChangeKind;
  readonly time: string;
  readonly task_id: string;
  readonly framework_id: string;
  readonly agent_id: string | null;
  readonly state: string;
  readonly reason: string | null;
  readonly message: string | null;
}

export async function watchTasks(context: CommandContext, filter: TaskFilter): Promise<number> {
  const known = new Map<string, string>();
  const stop = new AbortController();
  let subscribedOnce = false;
  const interrupted = (): void => stop.abort();
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const print = (change: Change): void => {
    known.set(`${change.framework_id}/${change.task_id}`, change.state);
    if (filter.states !== null && !filter.states.has(change.state)) return;
    if (context.json) process.stdout.write(`${JSON.stringify(change)}\n`);
    else context.print(changeLine(context, change));
  };
  const onSnapshot = (state: Operator.GetState, master: MasterAddress): void => {
    const rows = taskRows(state.get_tasks, { frameworkId: filter.frameworkId, states: null });
    if (!subscribedOnce) {
      subscribedOnce = true;
      for (const row of rows) known.set(`${row.framework_id}/${row.id}`, row.state);
      startingList(context, filter, rows, master, agentHostnames(state.get_agents));
      return;
    }
    context.notice(`resubscribed on ${master}`);
    for (const row of rows) {
      const previous = known.get(`${row.framework_id}/${row.id}`);
      if (previous !== row.state) print(rowChange(previous === undefined ? 'added' : 'updated', row));
    }
  };
  await followOperatorEvents(
    context.client,
    {
      onEvent: (event, master) => {
        if (event.type === 'SUBSCRIBED') onSnapshot(event.subscribed.get_state, master);
        const change = eventChange(event);
        if (change !== null && frameworkMatches(filter.frameworkId, change.framework_id)) print(change);
      },
      onLost: (master, error) =>
        context.notice(`event stream ${master === null ? '' : `from ${master} `}lost: ${error.message}; reconnecting`),
    },
    stop.signal,
  );
  return 0;
}

function startingList(
  context: CommandContext,
  filter: TaskFilter,
  rows: readonly TaskRow[],
  master: MasterAddress,
  hostnames: ReadonlyMap<string, string>,
): void {
  const shown = rows.filter((row) => filter.states === null || filter.states.has(row.state));
  if (context.json) {
    for (const row of shown) process.stdout.write(`${JSON.stringify(rowChange('current', row))}\n`);
    return;
  }
  if (shown.length > 0) context.print(renderTaskTable(context, shown, hostnames));
  context.print(context.colors.dim(`watching task changes on ${master} (Ctrl-C stops)`));
}

function rowChange(kind: ChangeKind, row: TaskRow): Change {
  return {
    kind,
    time: row.updated ?? new Date().toISOString(),
    task_id: row.id,
    framework_id: row.framework_id,
    agent_id: row.agent_id,
    state: row.state,
    reason: row.reason,
    message: row.message,
  };
}

function statusTime(status: Mesos.TaskStatus): string {
  const seconds = status.timestamp;
  return typeof seconds === 'number' && Number.isFinite(seconds)
    ? new Date(seconds * 1000).toISOString()
    : new Date().toISOString();
}

function eventChange(event: Operator.Event): Change | null {
  if (event.type === 'TASK_ADDED') return rowChange('added', taskRow(event.task_added.task));
  if (event.type !== 'TASK_UPDATED') return null;
  const { status, framework_id: frameworkId, state } = event.task_updated;
  return {
    kind: 'updated',
    time: statusTime(status),
    task_id: status.task_id.value,
    framework_id: frameworkId.value,
    agent_id: status.agent_id?.value ?? null,
    state,
    reason: status.reason ?? null,
    message: status.message ?? null,
  };
}

function changeLine(context: CommandContext, change: Change): string {
  const details = [
    change.reason === null ? null : `reason=${change.reason}`,
    change.message === null || change.message === '' ? null : `message=${JSON.stringify(change.message)}`,
  ].filter((part) => part !== null);
  return [
    context.colors.dim(change.time),
    stateColor(context.colors, change.state),
    change.task_id,
    `framework=${change.framework_id}`,
    ...(change.agent_id === null ? [] : [`agent=${change.agent_id}`]),
    ...details,
  ].join(' ');
}
