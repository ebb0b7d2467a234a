// `flotilla kill TASK [--framework ID]`: kills one task through the operator API's KILL_TASK
// (Flotilla's own call: the task's agent gets TERM, its grace period, then KILL; its framework
// hears TASK_KILLED as from any kill), then waits until the master records it terminal.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { CliError } from '../client/errors.ts';
import { operatorCall } from '../client/operator.ts';
import { findTask } from '../client/task-lookup.ts';
import { stateColor } from '../output/colors.ts';
import { isTerminal } from '../views/tasks.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

const pollIntervalMs = 250;
const defaultWaitSeconds = 60;

interface KillFlags extends ClusterFlags {
  readonly framework?: string;
  readonly waitSeconds: number;
}

function waitSeconds(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 3_600)
    throw new InvalidArgumentError(`must be a number of seconds in [0, 3600], got "${text}"`);
  return value;
}

export const registerKillCommand: CommandRegistration = (program: Command) => {
  withClusterFlags(
    program
      .command('kill')
      .description('kill one task (operator KILL_TASK: TERM, its grace period, KILL) and wait until it has ended')
      .argument('<task>', 'the task id')
      .option('--framework <id>', 'the framework of the task, when several use the same task id')
      .option(
        '--wait-seconds <s>',
        'how long to wait for the terminal state (0: do not wait)',
        waitSeconds,
        defaultWaitSeconds,
      ),
  ).action(clusterAction('kill', kill));
};

async function kill(context: CommandContext, args: readonly unknown[], flags: KillFlags): Promise<number> {
  const taskId = args[0] as string;
  const { task, frameworkId } = await findTask(context.client, taskId, flags.framework ?? null);
  if (isTerminal(task.state))
    throw new CliError('TASK_TERMINAL', `task ${taskId} has already ended: ${task.state}`, null);
  await operatorCall(context.client, {
    type: 'KILL_TASK',
    kill_task: { framework_id: { value: frameworkId }, task_id: { value: taskId } },
  });
  if (flags.waitSeconds === 0) return report(context, taskId, frameworkId, 'KILL_SENT');
  const state = await waitForTerminal(context, taskId, frameworkId, flags.waitSeconds);
  return report(context, taskId, frameworkId, state);
}

async function waitForTerminal(
  context: CommandContext,
  taskId: string,
  frameworkId: string,
  seconds: number,
): Promise<string> {
  const deadline = performance.now() + seconds * 1000;
  let state = 'unknown';
  while (performance.now() < deadline) {
    state = (await findTask(context.client, taskId, frameworkId)).task.state;
    if (isTerminal(state)) return state;
    await sleep(pollIntervalMs);
  }
  throw new CliError(
    'KILL_FAILED',
    `KILL was sent, but task ${taskId} is still ${state} after ${seconds} s`,
    'its kill grace period may be long, or its agent unreachable: see `flotilla tasks` and `flotilla agents`',
  );
}

function report(context: CommandContext, taskId: string, frameworkId: string, state: string): number {
  if (context.json) context.printJson({ task_id: taskId, framework_id: frameworkId, state });
  else if (state === 'KILL_SENT') context.print(`KILL sent for task ${taskId} (framework ${frameworkId})`);
  else context.print(`task ${taskId} (framework ${frameworkId}) is ${stateColor(context.colors, state)}`);
  return 0;
}
