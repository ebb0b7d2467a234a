// Plain-text views of apps for `flotilla services list|show`: one line per app; for one app its
// instances, its deployment and, when instances wait, why (Marathon's reject summary).
interface Json {
  readonly [key: string]: unknown;
}

function waitingReasons(queue: Json | null | undefined): string {
  if (queue === null || queue === undefined) return '';
  const summary = queue.processedOffersSummary as {
    rejectSummaryLastOffers?: { reason: string; declined: number }[];
    quotaReached?: string;
  };
  const reasons = (summary?.rejectSummaryLastOffers ?? []).filter((step) => step.declined > 0);
  const delay = (queue.delay as { timeLeftSeconds?: number } | undefined)?.timeLeftSeconds ?? 0;
  const parts = reasons.map((step) => `${step.reason} (${step.declined} offers)`);
  if (summary?.quotaReached !== undefined) parts.push(summary.quotaReached);
  if (delay > 0) parts.push(`back-off ${delay}s`);
  return `${queue.count} waiting${parts.length === 0 ? '' : `: ${parts.join(', ')}`}`;
}

export function printApps(apps: readonly Json[]): void {
  const rows = apps.map((app) => [
    String(app.id),
    `${app.tasksRunning}/${app.instances}`,
    String(app.tasksHealthy),
    (app.deployments as unknown[]).length > 0 ? 'deploying' : '',
    waitingReasons(app.queue as Json | null),
  ]);
  const header = ['ID', 'RUNNING', 'HEALTHY', 'DEPLOYMENT', 'WAITING'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  for (const row of [header, ...rows]) {
    process.stdout.write(
      `${row
        .map((cell, column) => cell.padEnd(widths[column]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

export function printApp(app: Json): void {
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out(`${app.id}  version ${app.version}`);
  out(
    `  instances ${app.instances}, running ${app.tasksRunning}, healthy ${app.tasksHealthy}, staged ${app.tasksStaged}`,
  );
  const deployments = app.deployments as { id: string }[];
  if (deployments.length > 0) out(`  deployment ${deployments.map((deployment) => deployment.id).join(', ')}`);
  const waiting = waitingReasons(app.queue as Json | null);
  if (waiting !== '') out(`  ${waiting}`);
  for (const task of (app.tasks as Json[] | undefined) ?? []) {
    const health = (task.healthCheckResults as { alive: boolean }[]).map((result) =>
      result.alive ? 'healthy' : 'unhealthy',
    );
    out(
      `  ${task.id}  ${task.state}  ${task.host}:${(task.ports as number[]).join(',')}  ${health.join(' ')}`.trimEnd(),
    );
  }
  const failure = app.lastTaskFailure as Json | undefined;
  if (failure !== undefined) out(`  last failure: ${failure.taskId} ${failure.state} ${failure.message}`);
}
