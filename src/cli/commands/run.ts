// `flotilla run [flags] -- CMD…`: run one task on the cluster, like mesos-execute: print its
// state changes and output, exit 0 only if it finished (TASK_FINISHED). With --json, the same
// as JSON lines (src/cli/run/json-output.ts), and a usage error as one JSON object on stderr.
import { frameworkCredentials } from '../client/credentials.ts';
import { CliError } from '../client/errors.ts';
import os from 'node:os';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { MasterAddress } from '../../frameworks/sdk/masters.ts';
import type { ClientTls } from '../../protocol/tls-client.ts';
import { resolveMasters, resolveTls } from './cluster-command.ts';
import type { TaskCommand } from '../../frameworks/sdk/task-info.ts';
import { jsonRunOutput } from '../run/json-output.ts';
import { exitStatus, type RunPlan, runFrameworkName, runTask, textRunOutput } from '../run/task-runner.ts';
import { newTaskId } from '../../frameworks/sdk/task-info.ts';
import type { CommandRegistration } from './types.ts';

interface RunFlags {
  cpus: number;
  mem: number;
  disk: number;
  dockerImage?: string;
  name: string;
  masters?: string;
  role: string;
  timeoutSeconds: number;
  shell: boolean;
  output: boolean;
  refuseSeconds: number;
  principal?: string;
  secretFile?: string;
  tlsCa?: string;
  json?: boolean;
}

function positiveNumber(flag: string, allowZero = false): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
      throw new InvalidArgumentError(
        `${flag} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${text}"`,
      );
    }
    return value;
  };
}

export const registerRunCommand: CommandRegistration = (program: Command) => {
  program
    .command('run')
    .description('run one task on the cluster and follow it (like mesos-execute); exit 0 when it finishes')
    .argument(
      '[command...]',
      'the command, after --: one word is a shell line; several are quoted and joined (argv with --no-shell)',
    )
    .option('--cpus <n>', 'CPUs for the task', positiveNumber('--cpus'), 0.1)
    .option('--mem <mb>', 'memory for the task, in MB', positiveNumber('--mem'), 32)
    .option('--disk <mb>', 'disk for the task, in MB', positiveNumber('--disk', true), 0)
    .option('--docker-image <image>', "run in this Docker image (without a command: the image's own)")
    .option('--name <name>', "the task's name", runFrameworkName)
    .option('--masters <list>', 'masters host:port,… (default $FLOTILLA_MASTERS, else the three local ones)')
    .option('--tls-ca <file>', 'masters with --tls-*: speak HTTPS trusting this PEM CA (default $FLOTILLA_TLS_CA)')
    .option('--role <role>', 'the role the framework subscribes with', '*')
    .option(
      '--timeout-seconds <s>',
      'kill the task and fail after this long (0: no limit)',
      positiveNumber('--timeout-seconds', true),
      0,
    )
    .option('--no-shell', 'run the arguments as argv, without /bin/sh -c')
    .option('--no-output', "do not follow the task's stdout and stderr")
    .option('--json', 'JSON lines on stdout: message, notice, status, stdout, stderr events, then exit')
    .option('--principal <name>', 'authenticate and register as this principal (default $FLOTILLA_PRINCIPAL)')
    .option('--secret-file <file>', "the principal's secret (default $FLOTILLA_SECRET)")
    .addOption(
      new Option('--refuse-seconds <s>', 'decline offers that do not fit for this long')
        .argParser(positiveNumber('--refuse-seconds', true))
        .default(1)
        .hideHelp(),
    )
    .action(async (words: string[], flags: RunFlags) => {
      const plan = buildPlan(words, flags);
      const interrupted = new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      if (flags.json !== true) process.exit(await runTask(plan, textRunOutput(), interrupted));
      const output = jsonRunOutput((text) => process.stdout.write(text));
      const code = await runTask(plan, output, interrupted);
      output.exit(plan.spec.taskId!, code);
      process.exit(code);
    });
};

function buildPlan(words: readonly string[], flags: RunFlags): RunPlan {
  if (words.length === 0 && flags.dockerImage === undefined)
    usage('give a command after --, or --docker-image', flags.json);
  const command: TaskCommand | undefined =
    words.length === 0
      ? undefined
      : flags.shell
        ? { kind: 'shell', line: shellLine(words) }
        : { kind: 'argv', argv: words };
  return {
    masters: mastersFrom(flags),
    requirement: { cpus: flags.cpus, memMb: flags.mem, diskMb: flags.disk, role: flags.role },
    spec: {
      name: flags.name,
      taskId: newTaskId(flags.name),
      ...(command === undefined ? {} : { command }),
      ...(flags.dockerImage === undefined ? {} : { dockerImage: flags.dockerImage }),
    },
    user: os.userInfo().username,
    timeoutSeconds: flags.timeoutSeconds,
    refuseSeconds: flags.refuseSeconds,
    followOutput: flags.output,
    credentials: runCredentials(flags),
    tls: runTls(flags),
  };
}

function runTls(flags: RunFlags): ClientTls | null {
  try {
    return resolveTls(flags, process.env);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    usage(error.message, flags.json);
  }
}

function runCredentials(flags: RunFlags): RunPlan['credentials'] {
  try {
    return frameworkCredentials(flags, process.env) ?? null;
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    usage(error.message, flags.json);
  }
}

/**
 * One word is a shell line as written (`flotilla run -- 'make && make test'`); several words
 * are quoted where needed, so `flotilla run -- sh -c 'exit 3'` runs what the user's shell saw.
 */
export function shellLine(words: readonly string[]): string {
  if (words.length === 1) return words[0]!;
  return words
    .map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

function mastersFrom(flags: RunFlags): MasterAddress[] {
  try {
    return resolveMasters(flags.masters, process.env);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    usage(error.message, flags.json);
  }
}

/** With --json a usage error is one JSON object on stderr, as in every command. */
function usage(message: string, json: boolean | undefined): never {
  if (json === true) {
    const error = { code: 'USAGE', message, hint: null, status: null };
    process.stderr.write(`${JSON.stringify({ error, server_code: null })}\n`);
  } else process.stderr.write(`flotilla run: ${message}\n`);
  process.exit(exitStatus.usage);
}
