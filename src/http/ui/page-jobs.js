// The jobs page: the jobs framework's jobs (Metronome API /v1/jobs, hosted by the leading master)
// with their schedule and next run, the runs active now, and their history: successes, failures,
// the last finished runs and any schedule slots skipped (with the reason).
import { h } from './dom.js';
import { pollFramework } from './framework-poll.js';
import { pages } from './pages.js';
import { section, table } from './widgets.js';

const jobColumns = [
  { title: 'job' },
  { title: 'schedule' },
  { title: 'next run' },
  { title: 'active runs' },
  { title: 'succeeded', className: 'number' },
  { title: 'failed', className: 'number' },
  { title: 'last runs' },
  { title: 'skipped slots' },
];

const jobsPath = '/v1/jobs?embed=activeRuns&embed=schedules&embed=history';
const lastRunsShown = 3;

function scheduleText(job) {
  const schedule = (job.schedules ?? [])[0];
  if (schedule === undefined) return ['—', '—'];
  const cron = `${schedule.cron} ${schedule.timezone ?? ''}`.trim();
  return [schedule.enabled === false ? `${cron} (disabled)` : cron, schedule.nextRunAt ?? '—'];
}

/** The newest finished runs, successes and failures together: "20300101100105abcde SUCCESS". */
export function lastRuns(history) {
  const runs = [
    ...(history?.successfulFinishedRuns ?? []).map((run) => ({ ...run, status: 'SUCCESS' })),
    ...(history?.failedFinishedRuns ?? []).map((run) => ({ ...run, status: 'FAILED' })),
  ];
  runs.sort((left, right) => (left.finishedAt < right.finishedAt ? 1 : -1));
  return runs.slice(0, lastRunsShown).map((run) => `${run.id} ${run.status}`);
}

function skippedText(history) {
  const skipped = history?.skippedSlots ?? [];
  if (skipped.length === 0) return '—';
  return skipped.map((entry) => `${entry.count} × ${entry.reason}`).join('; ');
}

function jobsTable(jobs) {
  const element = table({
    columns: jobColumns,
    rows: [...jobs].sort((left, right) => (left.id < right.id ? -1 : 1)),
    empty: 'no job: POST one to /v1/jobs, or `flotilla jobs add FILE`',
    cells: (job) => {
      const [cron, next] = scheduleText(job);
      const active = (job.activeRuns ?? []).map((run) => `${run.id} ${run.status}`);
      return [
        [job.id, job.description ? h('span', { class: 'secondary' }, job.description) : null],
        cron,
        next,
        active.length === 0 ? '—' : active.join(', '),
        job.history?.successCount ?? 0,
        job.history?.failureCount ?? 0,
        lastRuns(job.history).join(', ') || '—',
        skippedText(job.history),
      ];
    },
  });
  element.id = 'jobs-table';
  return element;
}

function createJobsView(context) {
  const note = h('p', { class: 'note' }, 'Reading /v1/jobs from the leading master…');
  const holder = h('div');
  const polling = pollFramework(context, [jobsPath], (answers, error) => {
    if (error !== null) {
      note.textContent = `The jobs framework does not answer: ${error}`;
      return;
    }
    note.textContent = 'The jobs framework (Metronome API, /v1/jobs) as the leading master runs it; every 3 s.';
    holder.replaceChildren(jobsTable(answers[0] ?? []));
  });
  return {
    element: h('div', { class: 'page page-jobs' }, section('Jobs', null, note, holder)),
    update() {},
    destroy() {
      polling.stop();
    },
  };
}

pages.register({
  id: 'jobs',
  title: 'Jobs',
  order: 70,
  nav: true,
  match: (parts) => (parts[0] === 'jobs' && parts.length === 1 ? {} : null),
  create: createJobsView,
});
