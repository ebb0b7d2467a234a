// Plain-text tables and summaries for `flotilla jobs` (no colours, one row per line, so the
// output greps and diffs well); every subcommand also takes --json for the API's own answer.

/** Columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const orDash = (value: unknown): string =>
  value === null || value === undefined || value === '' ? '-' : String(value);

export interface JobInfo {
  readonly id: string;
  readonly description?: string;
  readonly run: {
    readonly cmd?: string;
    readonly args?: readonly string[];
    readonly cpus: number;
    readonly mem: number;
    readonly docker?: { readonly image: string };
  };
  readonly dependencies?: readonly { readonly id: string }[];
  readonly schedules?: readonly {
    readonly id: string;
    readonly cron: string;
    readonly timezone: string;
    readonly enabled: boolean;
    readonly concurrencyPolicy: string;
    readonly nextRunAt: string | null;
  }[];
  readonly activeRuns?: readonly RunJson[];
  readonly history?: HistoryJson;
  readonly historySummary?: {
    readonly successCount: number;
    readonly failureCount: number;
    readonly lastSuccessAt: string | null;
    readonly lastFailureAt: string | null;
  };
}

export interface RunJson {
  readonly id: string;
  readonly jobId: string;
  readonly status: string;
  readonly createdAt: string;
  readonly completedAt: string | null;
  readonly tasks: readonly { readonly id: string; readonly status: string }[];
  readonly reason?: string;
  readonly placement?: { readonly processedOffers: number; readonly unusedOffers: Record<string, number> };
}

export interface HistoryJson {
  readonly successCount: number;
  readonly failureCount: number;
  readonly lastSuccessAt: string | null;
  readonly lastFailureAt: string | null;
  readonly successfulFinishedRuns: readonly {
    readonly id: string;
    readonly createdAt: string;
    readonly finishedAt: string;
  }[];
  readonly failedFinishedRuns: readonly {
    readonly id: string;
    readonly createdAt: string;
    readonly finishedAt: string;
  }[];
  readonly skippedSlots: readonly {
    readonly scheduleId: string;
    readonly firstSlotAt: string;
    readonly lastSlotAt: string;
    readonly count: number;
    readonly reason: string;
  }[];
}

export function jobsTable(jobs: readonly JobInfo[]): string {
  return table(
    ['ID', 'SCHEDULE', 'NEXT RUN', 'ACTIVE', 'OK', 'FAILED', 'LAST SUCCESS'],
    jobs.map((job) => {
      const schedule = job.schedules?.[0];
      return [
        job.id,
        schedule === undefined ? '-' : `${schedule.cron}${schedule.enabled ? '' : ' (disabled)'}`,
        orDash(schedule?.nextRunAt),
        String(job.activeRuns?.length ?? 0),
        String(job.historySummary?.successCount ?? 0),
        String(job.historySummary?.failureCount ?? 0),
        orDash(job.historySummary?.lastSuccessAt),
      ];
    }),
  );
}

function runLine(run: RunJson): string {
  const placement =
    run.placement === undefined
      ? ''
      : `; waiting: ${run.placement.processedOffers} offers did not fit (${Object.entries(run.placement.unusedOffers)
          .map(([reason, count]) => `${reason} ×${count}`)
          .join(', ')})`;
  const tasks = run.tasks.map((task) => `${task.id} ${task.status}`).join(', ');
  return `  ${run.id}  ${run.status}  created ${run.createdAt}${tasks === '' ? '' : `  tasks: ${tasks}`}${run.reason ? `  (${run.reason})` : ''}${placement}`;
}

export function jobSummary(job: JobInfo): string {
  const command = job.run.cmd ?? job.run.args?.join(' ') ?? `(image ${job.run.docker?.image ?? '?'})`;
  const lines = [
    `${job.id}${job.description ? ` — ${job.description}` : ''}`,
    `  command: ${command}`,
    `  resources: cpus ${job.run.cpus}, mem ${job.run.mem} MB`,
  ];
  if (job.dependencies?.length)
    lines.push(`  depends on: ${job.dependencies.map((dependency) => dependency.id).join(', ')}`);
  for (const schedule of job.schedules ?? [])
    lines.push(
      `  schedule ${schedule.id}: ${schedule.cron} ${schedule.timezone} ${schedule.concurrencyPolicy}${schedule.enabled ? '' : ' disabled'}; next run ${orDash(schedule.nextRunAt)}`,
    );
  lines.push(`active runs: ${job.activeRuns?.length ?? 0}`, ...(job.activeRuns ?? []).map(runLine));
  const history = job.historySummary;
  if (history !== undefined)
    lines.push(
      `history: ${history.successCount} succeeded (last ${orDash(history.lastSuccessAt)}), ${history.failureCount} failed (last ${orDash(history.lastFailureAt)})`,
    );
  return lines.join('\n');
}

export function historyTable(history: HistoryJson): string {
  const rows = [
    ...history.successfulFinishedRuns.map((run) => [run.id, 'SUCCESS', run.createdAt, run.finishedAt, '']),
    ...history.failedFinishedRuns.map((run) => [run.id, 'FAILED', run.createdAt, run.finishedAt, '']),
    ...history.skippedSlots.map((slot) => [
      '-',
      'SKIPPED',
      slot.firstSlotAt,
      slot.lastSlotAt,
      `${slot.count} slot(s) of ${slot.scheduleId}: ${slot.reason}`,
    ]),
  ].sort((left, right) => (left[2]! < right[2]! ? 1 : -1));
  return `${history.successCount} succeeded, ${history.failureCount} failed\n${table(['RUN', 'RESULT', 'CREATED / FIRST SLOT', 'FINISHED / LAST SLOT', 'NOTE'], rows)}`;
}

export { runLine };
