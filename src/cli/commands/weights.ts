// `flotilla weights [get] | set ROLE=W …` (Mesos weights.md): a role's weight scales its fair
// share in the DRF allocator.
import type { Command } from 'commander';
import type * as Operator from '../../protocol/operator.ts';
import { usageError } from '../client/errors.ts';
import { operatorCall, operatorRead } from '../client/operator.ts';
import { renderTable } from '../output/table.ts';
import { type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

export const registerWeightsCommand: CommandRegistration = (program: Command) => {
  const weights = program.command('weights').description("roles' weights in the fair-share allocator");
  withClusterFlags(weights.command('get', { isDefault: true }).description('every weight set')).action(
    clusterAction('weights get', get),
  );
  withClusterFlags(
    weights
      .command('set')
      .description('set weights, e.g. `flotilla weights set prod=3 dev=1`')
      .argument('<weights...>', 'ROLE=WEIGHT pairs (a weight is a positive number)'),
  ).action(clusterAction('weights set', set));
};

export function parseWeight(text: string): Operator.WeightInfo {
  const match = /^([^=\s]+)=([0-9.eE+-]+)$/.exec(text);
  const weight = match ? Number(match[2]) : NaN;
  if (!match || !Number.isFinite(weight) || weight <= 0)
    throw usageError(`"${text}" is not ROLE=WEIGHT with a positive weight`, 'e.g. `flotilla weights set prod=3`');
  return { role: match[1]!, weight };
}

async function set(context: CommandContext, args: readonly unknown[]): Promise<number> {
  const weightInfos = (args[0] as string[]).map(parseWeight);
  await operatorCall(context.client, { type: 'UPDATE_WEIGHTS', update_weights: { weight_infos: weightInfos } });
  if (context.json) context.printJson(weightInfos);
  else context.print(`weights set: ${weightInfos.map((info) => `${info.role}=${info.weight}`).join(' ')}`);
  return 0;
}

async function get(context: CommandContext): Promise<number> {
  const answer = await operatorRead<{ get_weights: { weight_infos: Operator.WeightInfo[] } }>(context.client, {
    type: 'GET_WEIGHTS',
  });
  const rows = answer.get_weights.weight_infos ?? [];
  if (context.json) context.printJson(rows);
  else if (rows.length === 0) context.print('no weights are set (every role weighs 1)');
  else
    context.print(
      renderTable(
        context.colors,
        ['ROLE', 'WEIGHT'],
        rows.map((row) => [row.role, row.weight]),
      ),
    );
  return 0;
}
