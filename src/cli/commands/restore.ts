// `flotilla restore --from FILE --data-dir DIR --id ID --peers m1=host:port,…`: writes a backup
// (`flotilla backup`) into an empty master data directory, offline, as the starting state of a
// new cluster of the masters in --peers (src/master/backup/restore.ts says how). Run it once per
// master, each with its own --id and --data-dir and the same --peers, then start the masters with
// those flags as usual. Needs no running cluster.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { masterOptions } from '../../master/config.ts';
import { restoreBackup, RestoreTargetError } from '../../master/backup/restore.ts';
import { OptionError } from '../../util/options.ts';
import { CliError, usageError } from '../client/errors.ts';
import { checkedBackup } from './backup.ts';
import { reportFailure } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

interface RestoreFlags {
  readonly from: string;
  readonly dataDir: string;
  readonly id: string;
  readonly peers: string;
  readonly json?: boolean;
}

export const registerRestoreCommand: CommandRegistration = (program: Command) => {
  program
    .command('restore')
    .description("write a backup into an empty master's data directory, as the state of a new cluster")
    .requiredOption('--from <file>', 'the backup file (`flotilla backup --out`)')
    .requiredOption('--data-dir <dir>', "the master's --data-dir, empty or absent")
    .requiredOption('--id <id>', "the master's --id")
    .requiredOption('--peers <list>', "every master of the new cluster, as the masters' --peers: m1=host:port,…")
    .option('--json', 'print JSON instead of text (errors too, on stderr)')
    .action((flags: RestoreFlags) => {
      let status: number;
      try {
        status = restore(flags);
      } catch (error) {
        status = reportFailure('restore', error, flags.json === true);
      }
      process.exit(status);
    });
};

function restore(flags: RestoreFlags): number {
  let peers: Readonly<Record<string, string>>;
  try {
    peers = masterOptions.peers.parse(flags.peers);
  } catch (error) {
    if (error instanceof OptionError) throw usageError(error.message, 'give --peers as the masters will be started');
    throw error;
  }
  if (peers[flags.id] === undefined) throw usageError(`--peers must include this master (${flags.id})`);
  let file: Buffer;
  try {
    file = readFileSync(flags.from);
  } catch (error) {
    throw usageError(`--from ${flags.from}: ${(error as Error).message}`);
  }
  checkedBackup(file, flags.from);
  let checked: ReturnType<typeof restoreBackup>;
  try {
    checked = restoreBackup(file, { dataDir: flags.dataDir, peers });
  } catch (error) {
    if (error instanceof RestoreTargetError) {
      throw new CliError('DATA_DIR_NOT_EMPTY', error.message, 'give a new folder, or move the old one aside first');
    }
    throw error;
  }
  const summary = {
    id: flags.id,
    data_dir: flags.dataDir,
    applied_index: checked.header.appliedIndex,
    state_hash: checked.stateHash,
    peers,
  };
  if (flags.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  else
    process.stdout.write(
      `restored the state at log index ${summary.applied_index} (state hash ${summary.state_hash}) into ` +
        `${flags.dataDir}; start ${flags.id} with --data-dir ${flags.dataDir} --peers ${flags.peers}\n`,
    );
  return 0;
}
