// `flotilla tasks [--framework ID] [--state S] [--watch]`: the tasks the master holds (live,
// unreachable, completed), oldest update first; --watch then follows the operator event
// stream and prints one line per change.
import type { Command } from 'commander';
import type * as Operator from '../../protocol/operator.ts';
import { usageError } from '../client/errors.ts';
import { operatorRead } from '../client/operator.ts';
import { stateColor } from '../output/colors.ts';
import { describeScalars } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import { parseStateFilter, type TaskFilter, type TaskRow, taskRows } from '../views/tasks.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import { watchTasks } from './tasks-watch.ts';
import type { CommandRegistration } from './types.ts';

interface TasksFlags extends ClusterFlags {
  readonly framework?: string;
  readonly state?: string;
  readonly watch?: boolean;
}

export const registerTasksCommand: CommandRegistration = (program: Command) => {
  withClusterFlags(
    program
      .command('tasks')
      .description('the tasks: state, framework, agent, resources, start time; --watch follows changes live')
      .option('--framework <id>', "only this framework's tasks")
      .option('--state <states>', 'only these states: running, failed, … (comma-separated), or active, terminal')
      .option('--watch', 'after the list, print each change as it happens (Ctrl-C stops)'),
  ).action(clusterAction('tasks', tasks));
};

export function taskFilter(flags: TasksFlags): TaskFilter {
  try {
    return { frameworkId: flags.framework ?? null, states: parseStateFilter(flags.state) };
  } catch (error) {
    throw usageError(`--state: ${(error as Error).message}`);
  }
}

async function tasks(context: CommandContext, _args: readonly unknown[], flags: TasksFlags): Promise<number> {
  const filter = taskFilter(flags);
  if (flags.watch === true) return watchTasks(context, filter);
  const answer = await operatorRead<{ get_tasks: Operator.GetTasks }>(context.client, { type: 'GET_TASKS' });
  const rows = taskRows(answer.get_tasks, filter);
  if (context.json) context.printJson(rows);
  else context.print(rows.length === 0 ? 'no tasks match' : renderTaskTable(context, rows));
  return 0;
}

export function renderTaskTable(context: CommandContext, rows: readonly TaskRow[]): string {
  const { colors } = context;
  return renderTable(
    colors,
    ['ID', 'NAME', 'STATE', 'FRAMEWORK', 'AGENT', 'RESOURCES', 'IMAGE', 'STARTED', 'UPDATED'],
    rows.map((row) => [
      row.id,
      row.name,
      stateColor(colors, row.state),
      row.framework_id,
      row.agent_id,
      describeScalars(row.resources),
      row.image,
      row.started,
      row.updated,
    ]),
  );
}
