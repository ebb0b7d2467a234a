// Time charts over the page's own series (sampler.js), drawn by uPlot (small, fast, canvas,
// MIT; served from node_modules through the UI's allow-list). uPlot sizes its parts through
// the CSSOM only, so it lives under the page's CSP without 'unsafe-inline'.
import { h } from './dom.js';
import { trimNumber } from './format.js';
import uPlot from './uplot.js';

/** Colours that read on white and for the common colour-vision deficiencies (Okabe–Ito). */
export const palette = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#999999'];

const chartHeightPx = 180;
const minWidthPx = 240;

/** Percent of a total, per pair of columns ([used, total, used, total] → two percentages). */
export function percentOfTotals(data) {
  const [times, ...columns] = data;
  const out = [times];
  for (let column = 0; column + 1 < columns.length; column += 2) {
    const used = columns[column];
    const total = columns[column + 1];
    out.push(used.map((value, index) => (value === null || !(total[index] > 0) ? null : (100 * value) / total[index])));
  }
  return out;
}

export class TimeChart {
  /**
   * `series`: [{label}], one per value column after `transform`; `unit`: "%", "/s" or "";
   * `transform(data)`: from the series' uPlot data to what is drawn.
   */
  constructor({ title, series, unit = '', transform = (data) => data, percent = false }) {
    Object.assign(this, { series, unit, transform, percent });
    this.plotHolder = h('div', { class: 'chart-plot' });
    this.element = h('figure', { class: 'chart' }, h('figcaption', {}, title), this.plotHolder);
    this.plot = null;
    this.resizeObserver = new ResizeObserver(() => this.#resize());
    this.resizeObserver.observe(this.plotHolder);
  }

  #width() {
    return Math.max(minWidthPx, Math.floor(this.plotHolder.clientWidth));
  }

  #options() {
    const format = (value) => (value === null || value === undefined ? '—' : `${trimNumber(value)}${this.unit}`);
    return {
      width: this.#width(),
      height: chartHeightPx,
      scales: {
        x: { time: true },
        y: this.percent ? { range: [0, 100] } : { range: (_plot, _min, max) => [0, Math.max(1, max * 1.1)] },
      },
      series: [
        {},
        ...this.series.map((entry, index) => ({
          label: entry.label,
          stroke: palette[index % palette.length],
          width: 2,
          value: (_plot, value) => format(value),
        })),
      ],
      axes: [{}, { size: 56, values: (_plot, splits) => splits.map((value) => `${trimNumber(value)}${this.unit}`) }],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
    };
  }

  /** Draws `data` (uPlot's aligned arrays, before `transform`). */
  setData(data) {
    const drawn = this.transform(data);
    if (this.plot === null) {
      // uPlot measures its parent: only create it once the figure is in the page.
      if (!this.element.isConnected) return;
      this.plot = new uPlot(this.#options(), drawn, this.plotHolder);
      return;
    }
    this.plot.setData(drawn);
  }

  #resize() {
    if (this.plot !== null) this.plot.setSize({ width: this.#width(), height: chartHeightPx });
  }

  destroy() {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }
}
