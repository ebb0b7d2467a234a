// `flotilla jobs list|show|add FILE|run|history|delete`: an operator's view of the jobs
// framework through its Metronome API — through the masters (--masters / FLOTILLA_MASTERS) like
// every command, or at --api for a jobs process run on its own. Each prints a table or summary,
// or the API's JSON with --json; a refused request prints the API's message and details and exits 1.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { CliError } from '../client/errors.ts';
import { reportFailure } from '../commands/cluster-command.ts';
import { FrameworkApi, type FrameworkApiFlags, frameworkFlags, withFrameworkFlags } from '../commands/framework-api.ts';
import { JobsApiClient, JobsApiError } from './api-client.ts';
import {
  type HistoryJson,
  type JobInfo,
  jobSummary,
  jobsTable,
  historyTable,
  type RunJson,
  runLine,
} from './format.ts';

export const defaultJobsApi = '127.0.0.1:5060';
const runWaitPollMs = 500;

type CommonFlags = FrameworkApiFlags;

function client(flags: CommonFlags): JobsApiClient {
  return new JobsApiClient(FrameworkApi.fromFlags(flags, 'FLOTILLA_JOBS_API', process.env));
}

function print(flags: CommonFlags, answer: unknown, text: () => string): void {
  process.stdout.write(`${flags.json ? JSON.stringify(answer, null, 2) : text()}\n`);
}

/**
 * Runs one subcommand's work with its flags and its parent's (--masters may be written before the
 * subcommand); a refused request or unreachable API exits 1 with the reason, a cluster failure
 * (no master answers, no leader) with the status every command uses.
 */
function action<Flags extends CommonFlags>(
  work: (flags: Flags, ...args: string[]) => Promise<void>,
): (...parameters: unknown[]) => Promise<void> {
  return async (...parameters: unknown[]) => {
    const command = parameters[parameters.length - 1] as Command;
    const flags = frameworkFlags<Flags>(command);
    try {
      await work(flags, ...parameters.slice(0, -2).map(String));
    } catch (error) {
      if (error instanceof CliError) process.exit(reportFailure('jobs', error, flags.json === true));
      if (!(error instanceof JobsApiError)) throw error;
      process.stderr.write(`flotilla jobs: ${error.message}\n`);
      process.exit(1);
    }
  };
}

const enc = encodeURIComponent;

export function registerJobsOperatorCommands(jobs: Command): void {
  const common = (command: Command) =>
    withFrameworkFlags(
      command,
      'a jobs process run on its own (default $FLOTILLA_JOBS_API; without either, the masters serve the API)',
    );
  common(jobs.command('list').description('list jobs with their schedules, next runs and results')).action(
    action(async (flags: CommonFlags) => {
      const answer = await client(flags).request<JobInfo[]>(
        'GET',
        '/v1/jobs?embed=activeRuns&embed=schedules&embed=historySummary',
      );
      print(flags, answer, () => jobsTable(answer));
    }),
  );
  common(
    jobs
      .command('show')
      .argument('<id>', 'the job id')
      .description('one job: its spec, schedule, active runs (and why they wait)'),
  ).action(
    action(async (flags: CommonFlags, id = '') => {
      const answer = await client(flags).request<JobInfo>(
        'GET',
        `/v1/jobs/${enc(id)}?embed=activeRuns&embed=schedules&embed=historySummary`,
      );
      print(flags, answer, () => jobSummary(answer));
    }),
  );
  common(
    jobs
      .command('add')
      .argument('<file>', 'a JobSpec JSON file (with "schedules", optionally)')
      .description('create a job'),
  ).action(
    action(async (flags: CommonFlags, file = '') => {
      const answer = await client(flags).request<JobInfo>('POST', '/v1/jobs', JSON.parse(readFileSync(file, 'utf8')));
      print(flags, answer, () => `created job ${answer.id}`);
    }),
  );
  registerRunCommand(common(jobs.command('run').argument('<id>', 'the job id').description('start a run now')));
  common(
    jobs.command('history').argument('<id>', 'the job id').description('finished runs and skipped schedule slots'),
  ).action(
    action(async (flags: CommonFlags, id = '') => {
      const answer = await client(flags).request<{ history: HistoryJson }>('GET', `/v1/jobs/${enc(id)}?embed=history`);
      print(flags, answer.history, () => historyTable(answer.history));
    }),
  );
  common(jobs.command('delete').argument('<id>', 'the job id').description('delete a job'))
    .option('--stop-runs', 'stop its active runs too (stopCurrentJobRuns=true)')
    .action(
      action(async (flags: CommonFlags & { stopRuns?: boolean }, id = '') => {
        const query = flags.stopRuns ? '?stopCurrentJobRuns=true' : '';
        const answer = await client(flags).request<unknown>('DELETE', `/v1/jobs/${enc(id)}${query}`);
        print(flags, answer, () => `deleted job ${id}`);
      }),
    );
}

function registerRunCommand(command: Command): void {
  command.option('--wait', 'follow the run until it finishes; exit 0 only on SUCCESS').action(
    action(async (flags: CommonFlags & { wait?: boolean }, id = '') => {
      const api = client(flags);
      let run = await api.request<RunJson>('POST', `/v1/jobs/${enc(id)}/runs`);
      print(flags, run, () => `started run ${run.id} of ${id}`);
      if (!flags.wait) return;
      while (run.status !== 'SUCCESS' && run.status !== 'FAILED') {
        await sleep(runWaitPollMs);
        run = await api.request<RunJson>('GET', `/v1/jobs/${enc(id)}/runs/${enc(run.id)}`);
      }
      print(flags, run, () => runLine(run).trim());
      process.exit(run.status === 'SUCCESS' ? 0 : 1);
    }),
  );
}
