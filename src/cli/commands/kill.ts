// `flotilla kill TASK [--framework ID] [--take-over]`: kills one task through the scheduler API
// as the framework that owns it (src/cli/client/task-kill.ts says why: the operator API has no
// call for it), then waits until the master records it terminal.
import { setTimeout as sleep } from 'node:timers/promises';
import { type Command, InvalidArgumentError } from 'commander';
import type * as Operator from '../../protocol/operator.ts';
import { CliError } from '../client/errors.ts';
import { operatorRead } from '../client/operator.ts';
import { sendKillAsFramework } from '../client/task-kill.ts';
import { findTask } from '../client/task-lookup.ts';
import { stateColor } from '../output/colors.ts';
import { isTerminal } from '../views/tasks.ts';
import { type ClusterFlags, type CommandContext, clusterAction, withClusterFlags } from './cluster-command.ts';
import type { CommandRegistration } from './types.ts';

const pollIntervalMs = 250;
const defaultWaitSeconds = 60;

interface KillFlags extends ClusterFlags {
  readonly framework?: string;
  readonly takeOver?: boolean;
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
      .description('kill one task (sends KILL as its framework: see --take-over) and wait until it has ended')
      .argument('<task>', 'the task id')
      .option('--framework <id>', 'the framework of the task, when several use the same task id')
      .option(
        '--take-over',
        "also when the framework's scheduler is connected: it loses its stream and must re-subscribe",
      )
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
  const frameworks = await operatorRead<{ get_frameworks: Operator.GetFrameworks }>(context.client, {
    type: 'GET_FRAMEWORKS',
  });
  const framework = (frameworks.get_frameworks.frameworks ?? []).find(
    (candidate) => candidate.framework_info.id.value === frameworkId,
  );
  if (framework === undefined)
    throw new CliError('NOT_FOUND', `framework ${frameworkId} of task ${taskId} is not registered any more`);
  if (framework.connected && flags.takeOver !== true) {
    throw new CliError(
      'FRAMEWORK_CONNECTED',
      `task ${taskId} belongs to framework ${frameworkId} ("${framework.framework_info.name}"), whose scheduler is connected`,
      'the operator API has no call that kills one task; `flotilla kill` sends KILL as the framework, which takes its ' +
        'stream from its scheduler (it must re-subscribe). Ask the framework to kill the task, or repeat with --take-over',
    );
  }
  await sendKillAsFramework(context.client.masters, framework.framework_info, taskId, task.agent_id);
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
