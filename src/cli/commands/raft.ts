// `flotilla raft members|add|remove|transfer|promote|rebuild`: the masters' Raft group (GET_RAFT,
// ADD_MASTER, REMOVE_MASTER, TRANSFER_LEADERSHIP, PROMOTE_MASTER). Replacing a dead master:
// `raft add m4 host:port` (it joins as a learner and is promoted once caught up), then
// `raft remove m3`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { surveyMasters } from '../client/masters-survey.ts';
import { operatorCall } from '../client/operator.ts';
import { masterRows } from '../views/masters.ts';
import { type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import { registerRaftRebuild } from './raft-rebuild.ts';
import { renderMasterTable } from './status.ts';
import type { CommandRegistration } from './types.ts';

const transferWaitMs = 10_000;
const transferPollMs = 100;

export const registerRaftCommand: CommandRegistration = (program: Command) => {
  const raft = program
    .command('raft')
    .description("the masters' Raft group: members, add, remove, transfer, promote, rebuild");
  withClusterFlags(
    raft.command('members', { isDefault: true }).description('every master: role, membership, term, indexes, lag'),
  ).action(clusterAction('raft members', members));
  withClusterFlags(
    raft
      .command('add')
      .description('add a master as a learner; it is promoted to voter once it has caught up')
      .argument('<id>', "the new master's id (its --id)")
      .argument('<address>', 'its host:port (its --listen); start it with --join first'),
  ).action(clusterAction('raft add', add));
  withClusterFlags(
    raft.command('remove').description('remove a master from the group').argument('<id>', "the master's id"),
  ).action(clusterAction('raft remove', remove));
  withClusterFlags(
    raft.command('promote').description('promote a learner to voter now').argument('<id>', "the learner's id"),
  ).action(clusterAction('raft promote', promote));
  withClusterFlags(
    raft
      .command('transfer')
      .description('hand leadership to a voter (the most caught-up one when no id is given)')
      .argument('[id]', 'the voter to lead'),
  ).action(clusterAction('raft transfer', transfer));
  registerRaftRebuild(raft);
};

async function members(context: CommandContext): Promise<number> {
  const survey = masterRows(await surveyMasters(context.client));
  if (context.json) context.printJson(survey.rows);
  else context.print(renderMasterTable(context.colors, survey.rows));
  return 0;
}

async function add(context: CommandContext, args: readonly unknown[]): Promise<number> {
  const [id, address] = args as [string, string];
  const answer = await operatorCall<{ add_master: { id: string; address: string; index: number } }>(context.client, {
    type: 'ADD_MASTER',
    add_master: { id, address },
  });
  if (context.json) context.printJson(answer?.add_master ?? null);
  else
    context.print(
      `added ${id} at ${address} as a learner (log index ${answer?.add_master.index ?? '?'}); ` +
        'it becomes a voter once it has caught up (`flotilla raft members` shows it)',
    );
  return 0;
}

async function remove(context: CommandContext, args: readonly unknown[]): Promise<number> {
  const id = args[0] as string;
  const answer = await operatorCall<{ remove_master: { id: string; index: number } }>(context.client, {
    type: 'REMOVE_MASTER',
    remove_master: { id },
  });
  if (context.json) context.printJson(answer?.remove_master ?? null);
  else context.print(`removed ${id} (log index ${answer?.remove_master.index ?? '?'})`);
  return 0;
}

async function promote(context: CommandContext, args: readonly unknown[]): Promise<number> {
  const id = args[0] as string;
  const answer = await operatorCall<{ promote_master: { id: string; index: number } }>(context.client, {
    type: 'PROMOTE_MASTER',
    promote_master: { id },
  });
  if (context.json) context.printJson(answer?.promote_master ?? null);
  else context.print(`promoted ${id} to voter (log index ${answer?.promote_master.index ?? '?'})`);
  return 0;
}

/** Asks the leader to hand over, then waits until another master leads (bounded). */
async function transfer(context: CommandContext, args: readonly unknown[]): Promise<number> {
  const to = (args[0] as string | undefined) ?? null;
  const before = masterRows(await surveyMasters(context.client)).leader;
  await operatorCall(context.client, {
    type: 'TRANSFER_LEADERSHIP',
    ...(to === null ? {} : { transfer_leadership: { id: to } }),
  });
  const deadline = performance.now() + transferWaitMs;
  while (performance.now() < deadline) {
    const leader = masterRows(await surveyMasters(context.client)).leader;
    if (leader !== null && leader.id !== before?.id && (to === null || leader.id === to)) {
      if (context.json) context.printJson({ from: before?.id ?? null, to: leader.id, term: leader.term });
      else context.print(`leadership moved from ${before?.id ?? '?'} to ${leader.id} (term ${leader.term})`);
      return 0;
    }
    await sleep(transferPollMs);
  }
  throw new CliError(
    'TRANSFER_NOT_DONE',
    `the leader accepted the transfer, but ${to ?? 'no other master'} leads after ${transferWaitMs / 1000} s`,
    'see `flotilla raft members`: the target may be behind, or an election may have returned leadership',
  );
}
