// `flotilla frameworks`: the frameworks (GET_STATE: frameworks with their live task counts).
import type { Command } from 'commander';
import type * as Operator from '../../protocol/operator.ts';
import { operatorRead } from '../client/operator.ts';
import { stateColor } from '../output/colors.ts';
import { describeScalars } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import { frameworkRows } from '../views/frameworks.ts';
import { allTasks } from '../views/tasks.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

interface FrameworksFlags extends ClusterFlags {
  readonly all?: boolean;
}

export const registerFrameworksCommand: CommandRegistration = (program: Command) => {
  withClusterFlags(
    program
      .command('frameworks')
      .description('the frameworks: state, roles, active tasks, allocated resources, outstanding offers')
      .option('--all', 'list completed (torn down) frameworks too'),
  ).action(clusterAction('frameworks', frameworks));
};

async function frameworks(context: CommandContext, _args: readonly unknown[], flags: FrameworksFlags): Promise<number> {
  const answer = await operatorRead<{ get_state: Operator.GetState }>(context.client, { type: 'GET_STATE' });
  const state = answer.get_state;
  const all = flags.all === true;
  const rows = frameworkRows(state.get_frameworks, allTasks(state.get_tasks), all);
  if (context.json) {
    context.printJson(rows);
    return 0;
  }
  const completed = (state.get_frameworks.completed_frameworks ?? []).length;
  const note = !all && completed > 0 ? `(${completed} completed framework(s) not shown: --all lists them)` : null;
  if (rows.length === 0) {
    context.print(['no frameworks are registered', note].filter((line) => line !== null).join('\n'));
    return 0;
  }
  const { colors } = context;
  const table = renderTable(
    colors,
    ['ID', 'NAME', 'STATE', 'ROLES', 'TASKS', 'ALLOCATED', 'OFFERS', 'REGISTERED'],
    rows.map((row) => [
      row.id,
      row.name,
      stateColor(colors, row.state),
      row.roles.join(','),
      row.active_tasks,
      describeScalars(row.allocated),
      row.offers,
      row.registered,
    ]),
  );
  context.print(note === null ? table : `${table}\n${colors.dim(note)}`);
  return 0;
}
