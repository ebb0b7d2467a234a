// What a person watching the run sees: a status line while it runs (rewritten in place on a
// terminal, one line every few seconds otherwise) and a summary table at the end.
import type { HistoryEvent } from '../history/events.ts';
import type { Report } from './report.ts';

export interface LiveSource {
  readonly events: readonly HistoryEvent[];
  elapsedMs(): number;
  leader(): string | null;
  fault(): string | null;
}

export class StatusLine {
  private timer: NodeJS.Timeout | null = null;
  private lastPrintedMs = -Infinity;
  private readonly terminal = process.stderr.isTTY === true;

  constructor(
    private readonly source: LiveSource,
    private readonly totalSeconds: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.print(), 1_000);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.terminal) process.stderr.write('\n');
  }

  private print(): void {
    const elapsedMs = this.source.elapsedMs();
    if (!this.terminal && elapsedMs - this.lastPrintedMs < 5_000) return;
    this.lastPrintedMs = elapsedMs;
    const counts = { ok: 0, fail: 0, info: 0 };
    for (const event of this.source.events) if (event.type !== 'invoke') counts[event.type] += 1;
    const line =
      `[${(elapsedMs / 1000).toFixed(0).padStart(4)} s/${this.totalSeconds} s] ok ${counts.ok} fail ${counts.fail} info ${counts.info}` +
      ` | leader ${this.source.leader() ?? '—'} | ${this.source.fault() ?? 'no fault'}`;
    process.stderr.write(this.terminal ? `\r\u001b[2K${line}` : `${line}\n`);
  }
}

export function formatSummary(report: Report): string {
  const verdict =
    report.valid === true ? 'VALID' : report.valid === false ? 'INVALID' : 'UNKNOWN (the checker could not decide)';
  const rows: [string, string][] = [
    ['result', verdict],
    [
      'run',
      `${report.workload} × ${report.nemesis}, ${report.nodes} masters, ${report.clients} clients, ${report.timeSeconds} s, seed ${report.seed}`,
    ],
    ['network', `${report.network}: ${report.networkDetail}`],
    ['operations', `${report.ops} (ok ${report.ok}, fail ${report.fail}, info ${report.info})`],
    ['latency (ok)', `p50 ${report.latency.p50} ms, p99 ${report.latency.p99} ms, max ${report.latency.max} ms`],
    ['faults', `${report.faults.length}`],
  ];
  for (const fault of report.faults) {
    rows.push([
      '',
      `${(fault.startMs / 1000).toFixed(1).padStart(6)}–${(fault.healMs / 1000).toFixed(1).padEnd(6)} s ${fault.description}` +
        `${fault.applied ? '' : ' (not applied)'}; first ok write ${ms(fault.firstOkWriteAfterStartMs)} after start, ${ms(fault.recoveryMs)} after heal`,
    ]);
  }
  for (const [name, value] of Object.entries(report.checker)) {
    const short = Array.isArray(value) ? value.length <= 5 : Object.keys(value ?? {}).length <= 5;
    if (typeof value !== 'object' || value === null || short) rows.push([name, JSON.stringify(value)]);
  }
  rows.push([
    'anomalies',
    report.anomalies.length === 0
      ? 'none'
      : `${report.anomalies.length}: ${report.anomalies.map((anomaly) => anomaly.type).join(', ')}`,
  ]);
  for (const anomaly of report.anomalies.slice(0, 5))
    rows.push(['', `${anomaly.type}${anomaly.key ? ` [${anomaly.key}]` : ''}: ${anomaly.message}`]);
  rows.push(['output', report.outputDir]);
  const nameWidth = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `  ${name.padEnd(nameWidth)}  ${value}`).join('\n');
}

function ms(value: number | null): string {
  return value === null ? '—' : `${value} ms`;
}
