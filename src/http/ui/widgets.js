// Small pieces every page draws: resource bars, state badges, tags, key-value lists, plain
// tables. All built with dom.js's h(), so data stays text.
import { append, h } from './dom.js';
import { shortState } from './format.js';
import { taskStateClass } from './task-rows.js';

/** A width share (0..1) through the CSSOM: the CSP forbids style attributes, not this. */
function segment(className, share) {
  const element = h('span', { class: className });
  element.style.width = `${(Math.min(1, Math.max(0, share)) * 100).toFixed(1)}%`;
  return element;
}

/** One labelled bar: used (dark) and offered (light) of the total. */
export function resourceBar(bar) {
  return h(
    'div',
    { class: 'resource' },
    h('span', { class: 'resource-label' }, bar.label),
    h(
      'span',
      { class: 'bar', role: 'img', 'aria-label': bar.label },
      segment('bar-used', bar.usedFraction),
      segment('bar-offered', bar.offeredFraction),
    ),
  );
}

export function stateBadge(state) {
  return h('span', { class: `state ${taskStateClass(state)}`, title: state }, shortState(state));
}

export function tag(text, className = '') {
  return h('span', { class: `tag ${className}`.trim() }, text);
}

/** <dl> of [term, value] pairs; a null value leaves the pair out. */
export function keyValues(pairs, className = 'facts') {
  return h(
    'dl',
    { class: className },
    pairs
      .filter(([, value]) => value !== null && value !== undefined)
      .map(([term, value]) => h('div', {}, h('dt', {}, term), append(h('dd'), [value]))),
  );
}

/**
 * A plain table: `columns` [{title, className}], `cells(row)` → one child per column. Used for
 * short lists (masters, frameworks, roles); the tasks use virtual-table.js.
 */
export function table({ caption, columns, rows, cells, empty, rowClass = () => null }) {
  const body = rows.map((row) =>
    h(
      'tr',
      { class: rowClass(row) },
      cells(row).map((cell, index) =>
        h(
          index === 0 ? 'th' : 'td',
          { class: columns[index]?.className ?? null, scope: index === 0 ? 'row' : null },
          cell,
        ),
      ),
    ),
  );
  if (rows.length === 0) body.push(h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, empty)));
  return h(
    'table',
    {},
    caption ? h('caption', {}, caption) : null,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((column) => h('th', { scope: 'col', class: column.className ?? null }, column.title)),
      ),
    ),
    h('tbody', {}, body),
  );
}

/** A task's health as words: from its last health-checked status. */
export function healthText(record) {
  if (record.healthy === true) return 'healthy';
  if (record.healthy === false) return 'unhealthy';
  return record.hasHealthCheck ? 'not checked yet' : '—';
}

/** A section with a heading and a one-line explanation. */
export function section(title, note, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), note ? h('p', { class: 'note' }, note) : null, children);
}
