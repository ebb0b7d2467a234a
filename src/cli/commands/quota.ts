// `flotilla quota get [ROLE] | set ROLE --cpus N --mem MB [--disk MB] [--limit-…] | set ROLE --remove`
// (Mesos 1.9 quota.md: guarantees and limits per role), with what each role holds now.
import { type Command, InvalidArgumentError } from 'commander';
import type * as Operator from '../../protocol/operator.ts';
import { usageError } from '../client/errors.ts';
import { operatorCall, operatorRead } from '../client/operator.ts';
import { describeScalars, scalarTotals } from '../output/format.ts';
import { renderTable } from '../output/table.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

interface QuotaSetFlags extends ClusterFlags {
  readonly cpus?: number;
  readonly mem?: number;
  readonly disk?: number;
  readonly limitCpus?: number;
  readonly limitMem?: number;
  readonly limitDisk?: number;
  readonly remove?: boolean;
}

function amount(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0)
    throw new InvalidArgumentError(`must be a non-negative number, got "${text}"`);
  return value;
}

export const registerQuotaCommand: CommandRegistration = (program: Command) => {
  const quota = program.command('quota').description("roles' quota: guaranteed and limited resources");
  withClusterFlags(
    quota
      .command('get', { isDefault: true })
      .description("every role's quota (or one role's) and what it holds now")
      .argument('[role]', 'only this role'),
  ).action(clusterAction('quota get', get));
  withClusterFlags(
    quota
      .command('set')
      .description("set a role's guarantees (--cpus, --mem, --disk) and limits (--limit-…); --remove drops its quota")
      .argument('<role>', 'the role')
      .option('--cpus <n>', 'guaranteed CPUs', amount)
      .option('--mem <mb>', 'guaranteed memory, MB', amount)
      .option('--disk <mb>', 'guaranteed disk, MB', amount)
      .option('--limit-cpus <n>', 'at most this many CPUs', amount)
      .option('--limit-mem <mb>', 'at most this much memory, MB', amount)
      .option('--limit-disk <mb>', 'at most this much disk, MB', amount)
      .option('--remove', "remove the role's quota"),
  ).action(clusterAction('quota set', set));
};

function scalars(entries: Record<string, number | undefined>): Record<string, { value: number }> {
  return Object.fromEntries(
    Object.entries(entries)
      .filter((entry): entry is [string, number] => entry[1] !== undefined)
      .map(([name, value]) => [name, { value }]),
  );
}

async function set(context: CommandContext, args: readonly unknown[], flags: QuotaSetFlags): Promise<number> {
  const role = args[0] as string;
  const guarantees = scalars({ cpus: flags.cpus, mem: flags.mem, disk: flags.disk });
  const limits = scalars({ cpus: flags.limitCpus, mem: flags.limitMem, disk: flags.limitDisk });
  const empty = Object.keys(guarantees).length === 0 && Object.keys(limits).length === 0;
  if (empty && flags.remove !== true) throw usageError('give --cpus, --mem, --disk or --limit-…, or --remove');
  if (!empty && flags.remove === true) throw usageError('--remove takes no amounts');
  // A config with neither guarantees nor limits removes the role's quota (Mesos quota.md).
  await operatorCall(context.client, {
    type: 'UPDATE_QUOTA',
    update_quota: { quota_configs: [{ role, guarantees, limits }] },
  });
  const unwrap = (record: Record<string, { value: number }>): Record<string, number> =>
    Object.fromEntries(Object.entries(record).map(([name, { value }]) => [name, value]));
  if (context.json) context.printJson({ role, guarantees: unwrap(guarantees), limits: unwrap(limits) });
  else if (empty) context.print(`quota of role ${role} removed`);
  else
    context.print(
      `quota of role ${role}: guarantees ${describeScalars(unwrap(guarantees))}; limits ${describeScalars(unwrap(limits))}`,
    );
  return 0;
}

async function get(context: CommandContext, args: readonly unknown[]): Promise<number> {
  const only = (args[0] as string | undefined) ?? null;
  const [quota, roles] = await Promise.all([
    operatorRead<{ get_quota: { status: Operator.QuotaStatus } }>(context.client, { type: 'GET_QUOTA' }),
    operatorRead<{ get_roles: { roles: Operator.Role[] } }>(context.client, { type: 'GET_ROLES' }),
  ]);
  const held = new Map((roles.get_roles.roles ?? []).map((role) => [role.name, scalarTotals(role.resources)]));
  const unwrap = (record: Readonly<Record<string, { value: number }>>): Record<string, number> =>
    Object.fromEntries(Object.entries(record ?? {}).map(([name, scalar]) => [name, scalar.value]));
  const rows = (quota.get_quota.status.configs ?? [])
    .filter((config) => only === null || config.role === only)
    .map((config) => ({
      role: config.role,
      guarantees: unwrap(config.guarantees),
      limits: unwrap(config.limits),
      allocated: held.get(config.role) ?? {},
    }));
  if (context.json) context.printJson(rows);
  else if (rows.length === 0) context.print(only === null ? 'no role has a quota' : `role ${only} has no quota`);
  else
    context.print(
      renderTable(
        context.colors,
        ['ROLE', 'GUARANTEES', 'LIMITS', 'ALLOCATED'],
        rows.map((row) => [
          row.role,
          describeScalars(row.guarantees),
          describeScalars(row.limits),
          describeScalars(row.allocated),
        ]),
      ),
    );
  return 0;
}
