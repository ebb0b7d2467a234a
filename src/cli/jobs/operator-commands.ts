// `flotilla jobs list|show|add FILE|run|history|delete`: an operator's view of the jobs
// framework through its Metronome API. Each prints a table or summary, or the API's JSON
// with --json; a refused request prints the API's message and details and exits 1.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
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

interface CommonFlags {
  api?: string;
  json?: boolean;
}

function client(flags: CommonFlags): JobsApiClient {
  return new JobsApiClient(flags.api ?? (process.env.FLOTILLA_JOBS_API || defaultJobsApi));
}

function print(flags: CommonFlags, answer: unknown, text: () => string): void {
  process.stdout.write(`${flags.json ? JSON.stringify(answer, null, 2) : text()}\n`);
}

/** Runs one subcommand's work; a refused request or unreachable API exits 1 with the reason. */
function action<Args extends unknown[]>(work: (...args: Args) => Promise<void>): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    try {
      await work(...args);
    } catch (error) {
      if (!(error instanceof JobsApiError)) throw error;
      process.stderr.write(`flotilla jobs: ${error.message}\n`);
      process.exit(1);
    }
  };
}

const enc = encodeURIComponent;

export function registerJobsOperatorCommands(jobs: Command): void {
  const common = (command: Command) =>
    command
      .option('--api <host:port>', `the jobs API (default $FLOTILLA_JOBS_API, else ${defaultJobsApi})`)
      .option('--json', 'print the API answer as JSON');
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
    action(async (id: string, flags: CommonFlags) => {
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
    action(async (file: string, flags: CommonFlags) => {
      const answer = await client(flags).request<JobInfo>('POST', '/v1/jobs', JSON.parse(readFileSync(file, 'utf8')));
      print(flags, answer, () => `created job ${answer.id}`);
    }),
  );
  registerRunCommand(common(jobs.command('run').argument('<id>', 'the job id').description('start a run now')));
  common(
    jobs.command('history').argument('<id>', 'the job id').description('finished runs and skipped schedule slots'),
  ).action(
    action(async (id: string, flags: CommonFlags) => {
      const answer = await client(flags).request<{ history: HistoryJson }>('GET', `/v1/jobs/${enc(id)}?embed=history`);
      print(flags, answer.history, () => historyTable(answer.history));
    }),
  );
  common(jobs.command('delete').argument('<id>', 'the job id').description('delete a job'))
    .option('--stop-runs', 'stop its active runs too (stopCurrentJobRuns=true)')
    .action(
      action(async (id: string, flags: CommonFlags & { stopRuns?: boolean }) => {
        const query = flags.stopRuns ? '?stopCurrentJobRuns=true' : '';
        const answer = await client(flags).request<unknown>('DELETE', `/v1/jobs/${enc(id)}${query}`);
        print(flags, answer, () => `deleted job ${id}`);
      }),
    );
}

function registerRunCommand(command: Command): void {
  command.option('--wait', 'follow the run until it finishes; exit 0 only on SUCCESS').action(
    action(async (id: string, flags: CommonFlags & { wait?: boolean }) => {
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
