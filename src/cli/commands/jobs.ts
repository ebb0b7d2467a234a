// `flotilla jobs --masters … --listen host:port`: the jobs framework (Metronome's API) as its
// own process. Only flags are parsed here; startJobsDaemon does the rest. The operator
// subcommands (list, show, add, run, history, delete) are in src/cli/jobs/.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { defaultMasters, parseMasterList } from '../../frameworks/sdk/masters.ts';
import { type CredentialFlags, frameworkCredentials } from '../client/credentials.ts';
import { daemonTls } from './cluster-command.ts';
import { startJobsDaemon } from '../../frameworks/jobs/daemon.ts';
import { defaultTickMs } from '../../frameworks/jobs/limits.ts';
import { defaultJobsApi, registerJobsOperatorCommands } from '../jobs/operator-commands.ts';
import type { CommandRegistration } from './types.ts';

interface DaemonFlags extends CredentialFlags {
  masters?: string;
  tlsCa?: string;
  listen: string;
  namespace: string;
  role: string;
  tickMs: number;
  testClockFile?: string;
}

function listenAddress(text: string): { host: string; port: number } {
  const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || !(port >= 0 && port <= 65535))
    throw new InvalidArgumentError(`--listen must be host:port, got "${text}"`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidArgumentError(`must be a positive whole number, got "${text}"`);
  return value;
}

export const registerJobsCommand: CommandRegistration = (program: Command) => {
  const jobs = program
    .command('jobs')
    .description('the jobs framework (Metronome API): run it with --masters/--listen, or manage jobs with a subcommand')
    .option('--masters <list>', 'masters host:port,… (default $FLOTILLA_MASTERS, else the three local ones)')
    .option('--listen <host:port>', 'where the Metronome API listens', defaultJobsApi)
    .option('--namespace <name>', 'the KV namespace of the jobs state', 'flotilla-jobs')
    .option('--role <role>', 'the role the framework subscribes with', '*')
    .option('--tls-ca <file>', 'masters with --tls-*: speak HTTPS trusting this PEM CA (default $FLOTILLA_TLS_CA)')
    .option('--principal <name>', "the framework's principal (default $FLOTILLA_PRINCIPAL)")
    .option('--secret-file <file>', "the principal's secret (default $FLOTILLA_SECRET)")
    .addOption(
      new Option('--tick-ms <ms>', 'how often schedules are evaluated')
        .argParser(positiveInteger)
        .default(defaultTickMs)
        .hideHelp(),
    )
    .addOption(new Option('--test-clock-file <file>', 'tests only: read the time (epoch ms) from this file').hideHelp())
    .action(async (flags: DaemonFlags) => {
      let masters: ReturnType<typeof parseMasterList>;
      try {
        masters = parseMasterList(flags.masters ?? (process.env.FLOTILLA_MASTERS || defaultMasters));
      } catch (error) {
        process.stderr.write(`flotilla jobs: --masters: ${(error as Error).message}\n`);
        process.exit(2);
      }
      let credentials: ReturnType<typeof frameworkCredentials>;
      try {
        credentials = frameworkCredentials(flags, process.env);
      } catch (error) {
        process.stderr.write(`flotilla jobs: ${(error as Error).message}\n`);
        process.exit(2);
      }
      const { host, port } = listenAddress(flags.listen);
      const daemon = await startJobsDaemon({
        ...(credentials === undefined ? {} : { credentials }),
        tls: daemonTls(flags, 'jobs'),
        masters,
        host,
        port,
        namespace: flags.namespace,
        role: flags.role,
        tickMs: flags.tickMs,
        ...(flags.testClockFile === undefined ? {} : { testClockFile: flags.testClockFile }),
      });
      const shutdown = (): void => {
        void daemon.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    });
  registerJobsOperatorCommands(jobs);
};
