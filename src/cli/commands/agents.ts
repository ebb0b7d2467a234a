// `flotilla agents`: the registered agents (GET_AGENTS) with their state, zone and resources.
import type { Command } from 'commander';
import type * as Operator from '../../protocol/operator.ts';
import { operatorRead } from '../client/operator.ts';
import { stateColor } from '../output/colors.ts';
import { usedOfTotal } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import { agentRows } from '../views/agents.ts';
import { type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

export const registerAgentsCommand: CommandRegistration = (program: Command) => {
  withClusterFlags(
    program
      .command('agents')
      .description('the registered agents: state, zone, allocated/total cpus, mem (MB) and disk (MB)'),
  ).action(clusterAction('agents', agents));
};

async function agents(context: CommandContext): Promise<number> {
  const answer = await operatorRead<{ get_agents: Operator.GetAgents }>(context.client, { type: 'GET_AGENTS' });
  const rows = agentRows(answer.get_agents);
  if (context.json) {
    context.printJson(rows);
    return 0;
  }
  if (rows.length === 0) {
    context.print('no agents are registered (start one with `flotilla agent --masters …`, or `npm start`)');
    return 0;
  }
  const { colors } = context;
  context.print(
    renderTable(
      colors,
      ['ID', 'HOSTNAME', 'ADDRESS', 'STATE', 'ZONE', 'CPUS', 'MEM', 'DISK', 'ATTRIBUTES'],
      rows.map((row) => [
        row.id,
        row.hostname,
        row.address,
        stateColor(colors, row.state),
        row.zone,
        usedOfTotal(row.allocated, row.total, 'cpus'),
        usedOfTotal(row.allocated, row.total, 'mem'),
        usedOfTotal(row.allocated, row.total, 'disk'),
        Object.entries(row.attributes)
          .map(([name, value]) => `${name}:${value}`)
          .join(';') || null,
      ]),
    ),
  );
  return 0;
}
