// `flotilla raft rebuild <id> --data-dir DIR`: rebuilds a master whose Raft files are damaged (an
// entry or the snapshot fails its checksum: the master refuses to start and names the damage) from
// its peers. Run on the master's machine, with the master stopped:
//   1. refuse while the master answers or holds its files (MASTER_RUNNING); check the files as a starting master
//      would, and refuse (DATA_DIR_INTACT) if they check out, unless --force;
//   2. REMOVE_MASTER <id>: the group forgets it, and with it every vote it cast. Rejoining with
//      an empty log under its old membership could let it vote twice in a term (§5.2) or count
//      toward a commit it does not hold (§5.4) — etcd's "remove, wipe, add" rule for a lost disk;
//   3. move the data directory aside (kept as DIR.damaged-<ms> for a post-mortem);
//   4. ADD_MASTER <id> <address>: it comes back as a learner, which catches up by the leader's
//      snapshot and log and is promoted to voter once caught up (learner-promoter.ts).
// Then start the master again with the same flags plus --join.
import type { Command } from 'commander';
import { checkDataDirectory, moveDataDirectoryAside } from '../../master/rebuild/data-directory-check.ts';
import { CliError, usageError } from '../client/errors.ts';
import { surveyMasters } from '../client/masters-survey.ts';
import { findLeader, type MasterProbe } from '../views/masters.ts';
import { operatorCall } from '../client/operator.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';

interface RebuildFlags extends ClusterFlags {
  readonly dataDir: string;
  readonly address?: string;
  readonly force?: boolean;
}

export function registerRaftRebuild(raft: Command): void {
  withClusterFlags(
    raft
      .command('rebuild')
      .description(
        'rebuild a stopped master whose Raft files are damaged: remove it, move its data aside, add it back as a learner',
      )
      .argument('<id>', "the master's id (its --id)")
      .requiredOption('--data-dir <dir>', "the master's --data-dir (on this machine; the master stopped)")
      .option('--address <host:port>', 'its --listen address, needed only when it is no longer a member')
      .option('--force', 'rebuild even though its files check out'),
  ).action(clusterAction<RebuildFlags>('raft rebuild', rebuild));
}

async function rebuild(context: CommandContext, args: readonly unknown[], flags: RebuildFlags): Promise<number> {
  const id = args[0] as string;
  const probes = await surveyMasters(context.client);
  // Moving the files of a running master away under it would lose what it writes next.
  if (probes.some((probe) => probe.view?.id === id)) {
    throw new CliError(
      'MASTER_RUNNING',
      `${id} is running and answering`,
      `stop it first (systemctl stop flotilla-master)`,
    );
  }
  const check = checkDataDirectory(flags.dataDir);
  // A master that holds its files but does not answer (frozen, or partitioned from this host).
  if (check.state === 'in-use') {
    throw new CliError(
      'MASTER_RUNNING',
      `${id} is running: a process holds ${flags.dataDir}'s Raft files`,
      `stop it first (systemctl stop flotilla-master)`,
    );
  }
  if (check.state !== 'damaged' && flags.force !== true) {
    const what =
      check.state === 'absent'
        ? `${flags.dataDir} holds no Raft files`
        : `the Raft files in ${flags.dataDir} check out (term ${check.term}, snapshot ${check.snapshotIndex}, last index ${check.lastIndex})`;
    throw new CliError(
      'DATA_DIR_INTACT',
      `${what}: nothing to rebuild`,
      'start the master as it is; give --force to rebuild it anyway',
    );
  }
  if (check.state === 'damaged') context.notice(`damaged: ${check.code}: ${check.message}`);
  const membersBefore = leaderMembers(probes);
  const address = flags.address ?? memberAddress(membersBefore, id);
  if (membersBefore.some((member) => member.id === id)) {
    await operatorCall(context.client, { type: 'REMOVE_MASTER', remove_master: { id } });
  }
  const aside = check.state === 'absent' ? null : moveDataDirectoryAside(flags.dataDir, Date.now());
  const answer = await operatorCall<{ add_master: { index: number } }>(context.client, {
    type: 'ADD_MASTER',
    add_master: { id, address },
  });
  const summary = {
    id,
    address,
    damage: check.state === 'damaged' ? { code: check.code, message: check.message } : null,
    moved_to: aside,
    added_at_index: answer?.add_master.index ?? null,
  };
  if (context.json) context.printJson(summary);
  else
    context.print(
      `removed ${id} and added it back as a learner at ${address} (log index ${summary.added_at_index ?? '?'}); ` +
        `its old files are in ${aside ?? '(there were none)'}.\n` +
        `Now start it with its usual flags plus --join (same --id, --listen, --data-dir ${flags.dataDir}): ` +
        'it catches up from the leader and becomes a voter again (`flotilla raft members` shows it).',
    );
  return 0;
}

function leaderMembers(probes: readonly MasterProbe[]): readonly { id: string; address: string }[] {
  const leaderView = findLeader(probes);
  if (leaderView === null) {
    throw new CliError(
      'NO_LEADER',
      'no master leads: a membership change needs a leader',
      'see `flotilla raft members`',
    );
  }
  return leaderView.members;
}

function memberAddress(members: readonly { id: string; address: string }[], id: string): string {
  const member = members.find((candidate) => candidate.id === id);
  if (member === undefined)
    throw usageError(`${id} is not a member of the group`, 'give its address with --address host:port');
  return member.address;
}
