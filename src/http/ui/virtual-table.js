// A table that draws only the rows in view: 10,000 tasks are 10,000 records in memory but some
// thirty row elements in the DOM. Rows have one fixed height, so the scroll position says
// which rows show; a spacer as tall as all rows keeps the scroll bar honest. Row elements are
// reused; a row is redrawn only when its record changed (records are replaced, never changed,
// so identity says it) or it now shows another record.
//
// ARIA table roles keep it a table for screen readers (aria-rowcount is the full count).
import { h } from './dom.js';

/** Rows drawn above and below the visible ones, so a fast scroll does not show blanks. */
const overscanRows = 8;
/** An upper bound on drawn rows, whatever the viewport claims (a zoomed-out 8K screen). */
const maxDrawnRows = 400;

export class VirtualTable {
  #scheduled = false;

  /**
   * `columns`: [{title, className}], `template`: the CSS grid columns, `cells(record)` → one
   * child per column, `href(record)`: where a row leads, `rowHeightPx`: must match style.css.
   */
  constructor({ label, columns, template, cells, href, rowHeightPx = 32, emptyText = 'nothing to show' }) {
    Object.assign(this, { columns, template, cells, href, rowHeightPx, emptyText });
    this.rows = [];
    this.viewport = h('div', { class: 'vtable-viewport', tabindex: '0' });
    this.spacer = h('div', { class: 'vtable-spacer', role: 'rowgroup' });
    this.empty = h('p', { class: 'empty vtable-empty' }, emptyText);
    this.viewport.append(this.spacer, this.empty);
    const header = h(
      'div',
      { class: 'vtable-row vtable-head', role: 'row' },
      columns.map((column) => h('div', { role: 'columnheader', class: column.className ?? null }, column.title)),
    );
    header.style.gridTemplateColumns = template;
    this.element = h(
      'div',
      { class: 'vtable', role: 'table', 'aria-label': label },
      h('div', { role: 'rowgroup' }, header),
      this.viewport,
    );
    this.pool = [];
    this.viewport.addEventListener('scroll', () => this.#schedule(), { passive: true });
  }

  /** Every row the table has (it draws the visible few). */
  setRows(rows) {
    this.rows = rows;
    this.element.setAttribute('aria-rowcount', String(rows.length + 1));
    this.spacer.style.height = `${rows.length * this.rowHeightPx}px`;
    this.empty.hidden = rows.length > 0;
    this.draw();
  }

  /** Row elements in the DOM now (what the 10,000-task test checks stays small). */
  get drawnRowCount() {
    return this.spacer.childElementCount;
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    requestAnimationFrame(() => {
      this.#scheduled = false;
      this.draw();
    });
  }

  /** Redraws the visible rows even where the record is the same (their "3m ago" has aged). */
  refresh() {
    for (const row of this.pool) row.record = null;
    this.draw();
  }

  /** Draws the rows the viewport shows now. */
  draw() {
    const height = this.viewport.clientHeight || this.rowHeightPx * 20;
    const first = Math.max(0, Math.floor(this.viewport.scrollTop / this.rowHeightPx) - overscanRows);
    const visible = Math.ceil(height / this.rowHeightPx) + 2 * overscanRows;
    const last = Math.min(this.rows.length, first + Math.min(visible, maxDrawnRows));
    const count = Math.max(0, last - first);
    while (this.pool.length < count) this.pool.push(this.#newRow());
    for (let offset = 0; offset < count; offset += 1) this.#fill(this.pool[offset], first + offset);
    // Spare rows leave the DOM but stay pooled for the next scroll.
    for (let offset = count; offset < this.pool.length; offset += 1) this.pool[offset].element.remove();
  }

  #newRow() {
    const element = h('a', { class: 'vtable-row', role: 'row' });
    element.style.gridTemplateColumns = this.template;
    element.style.height = `${this.rowHeightPx}px`;
    return { element, record: null, index: -1 };
  }

  #fill(row, index) {
    const record = this.rows[index];
    if (row.element.parentNode !== this.spacer) this.spacer.append(row.element);
    if (row.index !== index) {
      row.element.style.transform = `translateY(${index * this.rowHeightPx}px)`;
      row.element.setAttribute('aria-rowindex', String(index + 2));
      row.index = index;
    }
    if (row.record === record) return;
    row.record = record;
    row.element.setAttribute('href', this.href(record));
    row.element.replaceChildren(
      ...this.cells(record).map((cell, column) =>
        h('span', { role: 'cell', class: this.columns[column]?.className ?? null }, cell),
      ),
    );
  }
}
