// How the runner shows progress and results: prefixed output lines, a live status line on a
// terminal, the closing table and the one closing line that CI reads.
import type { TestCounts } from './test-summary.ts';

export interface ReportRow extends TestCounts {
  readonly name: string;
  readonly seconds: number;
  readonly problems: readonly string[];
  /** What the file printed about its failure (see test-excerpt.ts); empty when it passed. */
  readonly excerpt: readonly string[];
}

export function formatTable(rows: readonly ReportRow[], totals: TestCounts, totalSeconds: number): string {
  const header = ['file', 'passed', 'failed', 'skipped', 'seconds'];
  const body = rows.map((row) => [
    row.name,
    String(row.passed),
    String(row.failed),
    String(row.skipped),
    row.seconds.toFixed(1),
  ]);
  const footer = [
    'total',
    String(totals.passed),
    String(totals.failed),
    String(totals.skipped),
    totalSeconds.toFixed(1),
  ];
  const table = [header, ...body, footer];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length)));
  const formatRow = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [formatRow(header), rule, ...body.map(formatRow), rule, formatRow(footer)].join('\n');
}

/**
 * One line per file that failed, so the reason is found without scrolling up, followed by what
 * that file printed about its failure.
 */
export function formatFailures(rows: readonly ReportRow[]): string[] {
  return rows
    .filter((row) => row.failed > 0 || row.problems.length > 0)
    .flatMap((row) => [
      `failed: ${row.name}: ${[`${row.failed} failed`, ...row.problems].join('; ')}`,
      ...row.excerpt.map((line) => `  ${row.name} ▸ ${line}`),
    ]);
}

/**
 * Writes whole lines and, on a terminal, keeps one status line below them. Every output line
 * goes through `printLine` so the status line is erased first and redrawn after.
 */
export class StatusLine {
  private status = '';

  constructor(
    private readonly output: NodeJS.WriteStream,
    private readonly live: boolean,
  ) {}

  printLine(text: string): void {
    this.erase();
    this.output.write(`${text}\n`);
    this.draw();
  }

  update(status: string): void {
    if (!this.live) return;
    this.erase();
    this.status = status;
    this.draw();
  }

  /** Removes the status line for good, before the closing lines. */
  close(): void {
    this.erase();
    this.status = '';
  }

  private erase(): void {
    if (this.live && this.status !== '') this.output.write('\r\u001b[2K');
  }

  private draw(): void {
    if (!this.live || this.status === '') return;
    const columns = this.output.columns || 80;
    this.output.write(this.status.length < columns ? this.status : `${this.status.slice(0, columns - 2)}…`);
  }
}
