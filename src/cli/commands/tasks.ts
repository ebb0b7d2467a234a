// `flotilla tasks [--framework ID] [--state S] [--watch]`: the tasks the master holds (live,
// unreachable, completed), oldest update first; --watch then follows the operator event
// stream and prints one line per change.
import type { Command } from 'commander';
import type * as Operator from '../../protocol/operator.ts';
import { usageError } from '../client/errors.ts';
import { operatorRead } from '../client/operator.ts';
import { stateColor } from '../output/colors.ts';
import { renderTable } from '../output/table.ts';
import { parseStateFilter, shortId, type TaskFilter, type TaskRow, taskRows } from '../views/tasks.ts';
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
      .option('--framework <id>', "only this framework's tasks (its id, or the start of it as tables show it)")
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
  const [answer, agents] = await Promise.all([
    operatorRead<{ get_tasks: Operator.GetTasks }>(context.client, { type: 'GET_TASKS' }),
    context.json ? null : operatorRead<{ get_agents: Operator.GetAgents }>(context.client, { type: 'GET_AGENTS' }),
  ]);
  const rows = taskRows(answer.get_tasks, filter);
  if (context.json) context.printJson(rows);
  else
    context.print(
      rows.length === 0 ? 'no tasks match' : renderTaskTable(context, rows, agentHostnames(agents!.get_agents)),
    );
  return 0;
}

/** Agent id → hostname, for the AGENT column (an agent no longer registered shows its id). */
export function agentHostnames(agents: Operator.GetAgents): Map<string, string> {
  return new Map((agents.agents ?? []).map((agent) => [agent.agent_info.id.value, agent.agent_info.hostname]));
}

/** Ids shortened and the agent by hostname, so a row fits a terminal; --json has every id whole. */
export function renderTaskTable(
  context: CommandContext,
  rows: readonly TaskRow[],
  hostnames: ReadonlyMap<string, string>,
): string {
  const { colors } = context;
  const withImage = rows.some((row) => row.image !== null);
  return renderTable(
    colors,
    ['ID', 'NAME', 'STATE', 'FRAMEWORK', 'AGENT', 'CPUS', 'MEM', ...(withImage ? ['IMAGE'] : []), 'STARTED'],
    rows.map((row) => [
      row.id,
      row.name,
      stateColor(colors, row.state),
      shortId(row.framework_id),
      hostnames.get(row.agent_id) ?? shortId(row.agent_id),
      row.resources.cpus ?? null,
      row.resources.mem ?? null,
      ...(withImage ? [row.image] : []),
      row.started,
    ]),
  );
}
