// `flotilla backup --out FILE`: saves the cluster state (GET /api/v1/backup) into FILE, after
// checking it as a restore would (its checksum, the state's hash and invariants), so a backup
// that was saved is one that restores. The file appears whole or not at all (written beside it,
// then renamed). `flotilla restore` (restore.ts) puts it back.
import { renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BackupFormatError } from '../../master/backup/backup-file.ts';
import { checkBackup, RestoreTargetError } from '../../master/backup/restore.ts';
import { SnapshotError } from '../../state-machine/snapshot.ts';
import { downloadBackup } from '../client/backup-download.ts';
import { CliError } from '../client/errors.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

interface BackupFlags extends ClusterFlags {
  readonly out: string;
  readonly stale?: boolean;
}

export const registerBackupCommand: CommandRegistration = (program: Command) => {
  withClusterFlags(
    program
      .command('backup')
      .description('save the cluster state into a file (restore it with `flotilla restore`)')
      .requiredOption('--out <file>', 'the backup file to write')
      .option(
        '--stale',
        "take the answering master's state as it is, without a leader (else: every acknowledged write)",
      ),
  ).action(clusterAction<BackupFlags>('backup', backup));
};

/** The checks a restore makes, as a CliError. */
export function checkedBackup(file: Uint8Array, what: string): ReturnType<typeof checkBackup> {
  try {
    return checkBackup(file);
  } catch (error) {
    if (error instanceof BackupFormatError || error instanceof SnapshotError || error instanceof RestoreTargetError) {
      throw new CliError('BACKUP_INVALID', `${what}: ${error.message}`, 'take a new backup');
    }
    throw error;
  }
}

async function backup(context: CommandContext, _args: readonly unknown[], flags: BackupFlags): Promise<number> {
  const { address, file } = await downloadBackup(
    context.client.masters,
    flags.stale === true,
    context.client.credentialHeaders,
    context.client.tls,
  );
  const checked = checkedBackup(file, `the backup from ${address}`);
  const temporary = `${flags.out}.partial`;
  writeFileSync(temporary, file);
  renameSync(temporary, flags.out);
  const summary = {
    file: flags.out,
    bytes: file.byteLength,
    applied_index: checked.header.appliedIndex,
    term: checked.header.term,
    taken_by: checked.header.takenBy,
    taken_at: new Date(checked.header.takenAtMs).toISOString(),
    state_hash: checked.stateHash,
  };
  if (context.json) context.printJson(summary);
  else
    context.print(
      `saved ${flags.out} (${file.byteLength} bytes): the state at log index ${summary.applied_index}, ` +
        `term ${summary.term}, from ${summary.taken_by} at ${summary.taken_at}; state hash ${summary.state_hash}`,
    );
  return 0;
}
