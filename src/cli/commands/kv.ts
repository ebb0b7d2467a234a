// `flotilla kv get|put|cas|del NAMESPACE KEY [VALUE] [--version N]`: the replicated key-value
// store (DESIGN.md "Key-value API"). A version grows with every write of a key; `cas` (or
// put/del with --version) writes only if the key is at that version (0: only if absent).
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError, usageError } from '../client/errors.ts';
import { kvDelete, kvGet, kvPut, type KvWrite } from '../client/kv.ts';
import { renderFields } from '../output/table.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

interface KvFlags extends ClusterFlags {
  readonly version?: number;
}

function version(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new InvalidArgumentError(`must be a version number (0: absent), got "${text}"`);
  return Number(text);
}

export const registerKvCommand: CommandRegistration = (program: Command) => {
  const kv = program.command('kv').description('the replicated key-value store: get, put, cas, del');
  withClusterFlags(
    kv.command('get').description("a key's value and version").argument('<namespace>').argument('<key>'),
  ).action(clusterAction('kv get', get));
  withClusterFlags(
    kv
      .command('put')
      .description('write a value ("-" reads it from stdin); with --version, only if the key is at that version')
      .argument('<namespace>')
      .argument('<key>')
      .argument('<value>')
      .option('--version <n>', 'write only if the key is at this version (0: only if absent)', version),
  ).action(clusterAction('kv put', (context, args, flags) => put(context, args, flags as KvFlags, 'put')));
  withClusterFlags(
    kv
      .command('cas')
      .description('compare-and-set: write only if the key is at --version (0: only if absent)')
      .argument('<namespace>')
      .argument('<key>')
      .argument('<value>')
      .requiredOption('--version <n>', 'the version the key must be at (0: absent)', version),
  ).action(clusterAction('kv cas', (context, args, flags) => put(context, args, flags as KvFlags, 'cas')));
  withClusterFlags(
    kv
      .command('del')
      .description('delete a key; with --version, only if it is at that version')
      .argument('<namespace>')
      .argument('<key>')
      .option('--version <n>', 'delete only if the key is at this version', version),
  ).action(clusterAction('kv del', del));
};

async function get(context: CommandContext, args: readonly unknown[]): Promise<number> {
  const [namespace, key] = args as [string, string];
  const entry = await kvGet(context.client, namespace, key);
  if (entry === null)
    throw new CliError('NOT_FOUND', `no key ${key} in namespace ${namespace}`, null, 404, 'KEY_NOT_FOUND');
  if (context.json) context.printJson(entry);
  else
    context.print(
      renderFields(context.colors, [
        ['key', entry.key],
        ['version', entry.version],
        ['value', entry.value],
      ]),
    );
  return 0;
}

function valueArgument(text: string): string {
  if (text !== '-') return text;
  try {
    return readFileSync(0, 'utf8');
  } catch (error) {
    throw usageError(`cannot read the value from stdin: ${(error as Error).message}`);
  }
}

async function put(
  context: CommandContext,
  args: readonly unknown[],
  flags: KvFlags,
  verb: 'put' | 'cas',
): Promise<number> {
  const [namespace, key, text] = args as [string, string, string];
  const expected = flags.version ?? null;
  const written = await explainMismatch(context, namespace, key, expected, verb, () =>
    kvPut(context.client, namespace, key, valueArgument(text), expected),
  );
  report(context, namespace, written, 'written');
  return 0;
}

async function del(context: CommandContext, args: readonly unknown[], flags: ClusterFlags): Promise<number> {
  const [namespace, key] = args as [string, string];
  const expected = (flags as KvFlags).version ?? null;
  const deleted = await explainMismatch(context, namespace, key, expected, 'del', () =>
    kvDelete(context.client, namespace, key, expected),
  );
  report(context, namespace, deleted, 'deleted');
  return 0;
}

function report(context: CommandContext, namespace: string, write: KvWrite, verb: string): void {
  if (context.json) context.printJson({ namespace, ...write });
  else context.print(`${namespace}/${write.key} ${verb}${write.version === null ? '' : ` (version ${write.version})`}`);
}

/** A 412 says which version the key is at, and how to retry; nothing was written. */
async function explainMismatch(
  context: CommandContext,
  namespace: string,
  key: string,
  expected: number | null,
  verb: string,
  write: () => Promise<KvWrite>,
): Promise<KvWrite> {
  try {
    return await write();
  } catch (error) {
    if (!(error instanceof CliError) || error.status !== 412) throw error;
    const current = await kvGet(context.client, namespace, key).catch(() => undefined);
    const now =
      current === undefined ? 'at another version' : current === null ? 'absent' : `at version ${current.version}`;
    const retry = current === undefined ? '' : ` and repeat with --version ${current === null ? 0 : current.version}`;
    throw new CliError(
      'REFUSED',
      `kv ${verb} ${namespace} ${key}: the key is ${now}, not ${expected === 0 ? 'absent' : `at version ${expected}`} ` +
        '(412 VERSION_MISMATCH): nothing was written',
      `someone else wrote it since you read it: read it again with \`flotilla kv get ${namespace} ${key}\`${retry}`,
      412,
      error.serverCode,
    );
  }
}
