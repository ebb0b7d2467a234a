// timeline.html: one self-contained page (inline SVG and CSS, no script, no network) that a
// person opens to see the run: every operation as a bar in its client's lane, coloured by
// outcome (ok green, fail red, info orange — hover for the details), the faults as shaded
// bands, throughput per second, and each operation's latency on a log scale.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Operation } from '../history/operations.ts';
import type { Report } from './report.ts';
import { latencyMs, maximum } from './stats.ts';

const width = 1500;
const left = 80;
const right = 20;
const plotWidth = width - left - right;
const laneHeight = 12;
const throughputHeight = 110;
const latencyHeight = 220;
const outcomeColours: Record<string, string> = { ok: '#2e9e44', fail: '#d64545', info: '#f0a020' };
const faultColours: Record<string, string> = {
  'kill-leader': '#c0392b',
  kill: '#e74c3c',
  pause: '#8e44ad',
  partition: '#2980b9',
  latency: '#16a085',
  restart: '#d35400',
  membership: '#7f8c8d',
  heal: '#95a5a6',
};

interface Scale {
  x(ms: number): number;
  endMs: number;
}

export function writeTimeline(outputDir: string, report: Report, operations: readonly Operation[]): string {
  const file = path.join(outputDir, 'timeline.html');
  writeFileSync(file, renderTimeline(report, operations));
  return file;
}

export function renderTimeline(report: Report, operations: readonly Operation[]): string {
  const endMs = Math.max(
    1,
    maximum(operations.map((operation) => operation.completeNs / 1e6)),
    maximum(report.faults.map((fault) => fault.endMs)),
  );
  const scale: Scale = { x: (ms) => left + (ms / endMs) * plotWidth, endMs };
  const lanes = Math.max(1, maximum(operations.map((operation) => operation.client + 1)));
  const lanesTop = 30;
  const lanesBottom = lanesTop + lanes * laneHeight;
  const throughputTop = lanesBottom + 40;
  const latencyTop = throughputTop + throughputHeight + 40;
  const height = latencyTop + latencyHeight + 40;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    faultBands(report, scale, lanesTop - 12, height - 30),
    timeAxis(scale, height - 30),
    lanesSection(operations, scale, lanesTop, lanes),
    throughputSection(operations, scale, throughputTop),
    latencySection(operations, scale, latencyTop),
    '</svg>',
  ].join('\n');
  return page(report, svg);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function faultBands(report: Report, scale: Scale, top: number, bottom: number): string {
  return report.faults
    .map((fault) => {
      const x = scale.x(fault.startMs);
      const bandWidth = Math.max(1, scale.x(fault.healMs) - x);
      const colour = faultColours[fault.kind] ?? '#999';
      const label = `${fault.description} — ${fault.detail}`;
      return (
        `<g><title>${escapeHtml(`${(fault.startMs / 1000).toFixed(1)}–${(fault.healMs / 1000).toFixed(1)} s: ${label}`)}</title>` +
        `<rect x="${x.toFixed(1)}" y="${top}" width="${bandWidth.toFixed(1)}" height="${bottom - top}" fill="${colour}" fill-opacity="0.13"/>` +
        `<text x="${(x + 2).toFixed(1)}" y="${top + 9}" fill="${colour}">${escapeHtml(fault.kind)}</text></g>`
      );
    })
    .join('\n');
}

function timeAxis(scale: Scale, y: number): string {
  const seconds = scale.endMs / 1000;
  const step = [1, 2, 5, 10, 15, 30, 60, 120].find((candidate) => seconds / candidate <= 15) ?? 300;
  const ticks: string[] = [`<line x1="${left}" y1="${y}" x2="${left + plotWidth}" y2="${y}" stroke="#444"/>`];
  for (let second = 0; second <= seconds; second += step) {
    const x = scale.x(second * 1000).toFixed(1);
    ticks.push(
      `<line x1="${x}" y1="${y}" x2="${x}" y2="${y + 4}" stroke="#444"/><text x="${x}" y="${y + 14}" text-anchor="middle">${second} s</text>`,
    );
  }
  return ticks.join('');
}

function lanesSection(operations: readonly Operation[], scale: Scale, top: number, lanes: number): string {
  const parts: string[] = [`<text x="4" y="${top - 16}" font-weight="bold">operations by client</text>`];
  for (let lane = 0; lane < lanes; lane++) {
    parts.push(`<text x="${left - 6}" y="${top + lane * laneHeight + 9}" text-anchor="end">client ${lane}</text>`);
  }
  for (const operation of operations) {
    const x = scale.x(operation.invokeNs / 1e6);
    const barWidth = Math.max(0.8, scale.x(operation.completeNs / 1e6) - x);
    const y = top + operation.client * laneHeight + 1;
    const title =
      `#${operation.id} p${operation.process} ${operation.f} ${operation.key ?? ''} ${JSON.stringify(operation.input)} → ${operation.type} ` +
      `${operation.type === 'ok' ? JSON.stringify(operation.output) : (operation.error ?? '')} (${latencyMs(operation).toFixed(1)} ms${operation.node ? `, ${operation.node}` : ''})`;
    parts.push(
      `<rect x="${x.toFixed(1)}" y="${y}" width="${barWidth.toFixed(1)}" height="${laneHeight - 3}" fill="${outcomeColours[operation.type]}"><title>${escapeHtml(title)}</title></rect>`,
    );
  }
  return parts.join('\n');
}

function throughputSection(operations: readonly Operation[], scale: Scale, top: number): string {
  const seconds = Math.ceil(scale.endMs / 1000);
  const buckets = Array.from({ length: seconds + 1 }, () => ({ ok: 0, fail: 0, info: 0 }));
  for (const operation of operations) buckets[Math.floor(operation.completeNs / 1e9)]![operation.type] += 1;
  const peak = Math.max(1, maximum(buckets.map((bucket) => bucket.ok + bucket.fail + bucket.info)));
  const parts = [`<text x="4" y="${top - 8}" font-weight="bold">completions per second (peak ${peak})</text>`];
  buckets.forEach((bucket, second) => {
    let y = top + throughputHeight;
    const x = scale.x(second * 1000);
    const barWidth = Math.max(1, scale.x((second + 1) * 1000) - x - 1);
    for (const type of ['ok', 'fail', 'info'] as const) {
      const barHeight = (bucket[type] / peak) * throughputHeight;
      if (barHeight <= 0) continue;
      y -= barHeight;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${barHeight.toFixed(1)}" fill="${outcomeColours[type]}"><title>${second} s: ${bucket[type]} ${type}</title></rect>`,
      );
    }
  });
  return parts.join('\n');
}

function latencySection(operations: readonly Operation[], scale: Scale, top: number): string {
  const maxMs = Math.max(10, maximum(operations.map(latencyMs)));
  const topDecade = Math.ceil(Math.log10(maxMs));
  const bottomDecade = -1;
  const y = (ms: number) =>
    top + latencyHeight - ((Math.log10(Math.max(ms, 0.1)) - bottomDecade) / (topDecade - bottomDecade)) * latencyHeight;
  const parts = [`<text x="4" y="${top - 8}" font-weight="bold">latency (log scale) at completion</text>`];
  for (let decade = bottomDecade; decade <= topDecade; decade++) {
    const ms = 10 ** decade;
    parts.push(
      `<line x1="${left}" y1="${y(ms).toFixed(1)}" x2="${left + plotWidth}" y2="${y(ms).toFixed(1)}" stroke="#ddd"/><text x="${left - 6}" y="${(y(ms) + 3).toFixed(1)}" text-anchor="end">${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}</text>`,
    );
  }
  for (const operation of operations) {
    const latency = latencyMs(operation);
    parts.push(
      `<circle cx="${scale.x(operation.completeNs / 1e6).toFixed(1)}" cy="${y(latency).toFixed(1)}" r="1.6" fill="${outcomeColours[operation.type]}" fill-opacity="0.7"/>`,
    );
  }
  return parts.join('\n');
}

function page(report: Report, svg: string): string {
  const verdict = report.valid === true ? 'VALID' : report.valid === false ? 'INVALID' : 'UNKNOWN';
  const verdictColour = report.valid === true ? '#2e9e44' : report.valid === false ? '#d64545' : '#f0a020';
  const faultRows = report.faults
    .map(
      (fault) =>
        `<tr><td>${(fault.startMs / 1000).toFixed(1)}–${(fault.healMs / 1000).toFixed(1)} s</td>` +
        `<td>${escapeHtml(fault.description)}</td><td>${escapeHtml(fault.detail)}</td><td>${milliseconds(fault.firstOkWriteAfterStartMs)}</td><td>${milliseconds(fault.recoveryMs)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>jepsen-lite ${escapeHtml(report.workload)} × ${escapeHtml(report.nemesis)} — ${verdict}</title>
<style>
body { font-family: sans-serif; margin: 16px; color: #222; }
.verdict { color: #fff; background: ${verdictColour}; padding: 2px 8px; border-radius: 3px; }
table { border-collapse: collapse; font-size: 12px; } td, th { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: left; vertical-align: top; }
.legend span { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 12px; }
pre { background: #f6f6f6; padding: 8px; font-size: 11px; overflow-x: auto; }
</style></head><body>
<h2>jepsen-lite: ${escapeHtml(report.workload)} × ${escapeHtml(report.nemesis)} <span class="verdict">${verdict}</span></h2>
<p>${report.nodes} masters, ${escapeHtml(report.network)} (${escapeHtml(report.networkDetail)}), ${report.clients} clients, seed ${report.seed}, ${report.timeSeconds} s
(quiet ${report.quietSeconds} s), started ${escapeHtml(report.startedAt)}.<br>
${report.ops} operations: ${report.ok} ok, ${report.fail} fail, ${report.info} info. Latency of ok operations: p50 ${report.latency.p50} ms, p99 ${report.latency.p99} ms, max ${report.latency.max} ms.</p>
<p class="legend"><span style="background:${outcomeColours.ok}"></span>ok<span style="background:${outcomeColours.fail}"></span>fail<span style="background:${outcomeColours.info}"></span>info (indeterminate)
${Object.entries(faultColours)
  .map(([kind, colour]) => `<span style="background:${colour};opacity:0.4"></span>${kind}`)
  .join(' ')}</p>
${svg}
<h3>Faults</h3><table><tr><th>when</th><th>fault</th><th>what was done</th><th>first ok write after start</th><th>after heal</th></tr>
${faultRows}</table>
<h3>Anomalies (${report.anomalies.length})</h3>
<pre>${escapeHtml(JSON.stringify(report.anomalies, null, 2).slice(0, 200_000))}</pre>
<h3>Checker</h3><pre>${escapeHtml(JSON.stringify(report.checker, null, 2))}</pre>
</body></html>
`;
}

function milliseconds(value: number | null): string {
  return value === null ? '—' : `${value} ms`;
}
