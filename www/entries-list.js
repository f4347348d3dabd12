// A virtualized, keyboard-navigable list of fixed-height rows: only the rows in view (plus a
// few either side) exist in the DOM, drawn from a pool of elements that is reused as the list
// scrolls, so the DOM work of a redraw is bounded by the viewport, not by the number of rows.

const OVERSCAN = 6;

/** The key that identifies a row across rebuilds (an entry id or a tree path). */
export function rowKey(row) {
  return row.kind === "group" ? `g:${row.path}` : `e:${row.id}`;
}

/**
 * The list. `el`: the scrolling container (gets role, tabindex and the keyboard); options:
 * `rowHeight` (px), `draw(rowEl, row, fresh)` (fills a row element; `fresh`: it showed another
 * row before), `activate(row)` (Enter or a click), `fold(row, open)` (a group opened or
 * closed by arrows or a click on it), `label` (the accessible name).
 */
export class VirtualList {
  constructor(el, { rowHeight, draw, activate, fold, label }) {
    this.el = el;
    this.rowHeight = rowHeight;
    this.draw = draw;
    this.activate = activate;
    this.fold = fold;
    this.rows = [];
    this.active = -1;
    this.activeKey = null;
    this.pool = [];
    this.shown = new Map();
    el.setAttribute("role", "tree");
    el.setAttribute("aria-label", label);
    el.tabIndex = 0;
    this.spacer = document.createElement("div");
    this.spacer.className = "spacer";
    el.append(this.spacer);
    el.addEventListener("scroll", () => this.schedule());
    el.addEventListener("keydown", (e) => this.key(e));
    el.addEventListener("click", (e) => this.click(e));
    this.frame = 0;
    new ResizeObserver(() => this.schedule()).observe(el);
  }

  /** New rows (keeps the active row by its key). */
  setRows(rows) {
    this.rows = rows;
    this.spacer.style.height = `${rows.length * this.rowHeight}px`;
    if (this.activeKey !== null) {
      const i = rows.findIndex((r) => rowKey(r) === this.activeKey);
      this.active = i;
      if (i < 0) this.activeKey = null;
    }
    for (const [, rowEl] of this.shown) rowEl.dataset.index = "";
    this.render(true);
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render(false);
    });
  }

  /** The index range in view `[first, last)` (with overscan). */
  range() {
    const h = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.el.scrollTop / this.rowHeight) - OVERSCAN);
    const last = Math.min(this.rows.length, Math.ceil((this.el.scrollTop + h) / this.rowHeight) + OVERSCAN);
    return [first, last];
  }

  /** The rows in view now. */
  visibleRows() {
    const [first, last] = this.range();
    return this.rows.slice(first, last);
  }

  /** Draws the rows in view; `all`: redraw them even if they showed the same row. */
  render(all) {
    const [first, last] = this.range();
    const keep = new Map();
    for (const [i, rowEl] of this.shown) {
      if (i >= first && i < last && rowEl.dataset.index === String(i)) keep.set(i, rowEl);
      else this.pool.push(rowEl);
    }
    for (let i = first; i < last; i++) {
      const row = this.rows[i];
      let rowEl = keep.get(i);
      const fresh = !rowEl;
      if (fresh) {
        rowEl = this.pool.pop() ?? this.make();
        rowEl.dataset.index = String(i);
        rowEl.style.transform = `translateY(${i * this.rowHeight}px)`;
        keep.set(i, rowEl);
      }
      if (fresh || all) {
        rowEl.id = `entries-row-${i}`;
        rowEl.setAttribute("aria-level", String(row.depth + 1));
        rowEl.setAttribute("aria-posinset", String(i + 1));
        rowEl.setAttribute("aria-setsize", String(this.rows.length));
        if (row.kind === "group") rowEl.setAttribute("aria-expanded", String(row.open));
        else rowEl.removeAttribute("aria-expanded");
        rowEl.classList.toggle("active", i === this.active);
        this.draw(rowEl, row, fresh);
      }
      if (!rowEl.isConnected) this.el.append(rowEl);
    }
    for (const rowEl of this.pool) if (rowEl.isConnected) rowEl.remove();
    this.shown = keep;
    const act = this.shown.get(this.active);
    if (act) this.el.setAttribute("aria-activedescendant", act.id);
    else this.el.removeAttribute("aria-activedescendant");
  }

  /** Redraws the row elements in view whose row satisfies `pred` (e.g. a changed entry). */
  redraw(pred) {
    for (const [i, rowEl] of this.shown) {
      const row = this.rows[i];
      if (row && pred(row)) this.draw(rowEl, row, false);
    }
  }

  make() {
    const rowEl = document.createElement("div");
    rowEl.className = "row";
    rowEl.setAttribute("role", "treeitem");
    rowEl.style.height = `${this.rowHeight}px`;
    return rowEl;
  }

  /** Makes row `i` the active one and scrolls it into view. */
  setActive(i) {
    if (this.rows.length === 0) return;
    i = Math.max(0, Math.min(this.rows.length - 1, i));
    this.active = i;
    this.activeKey = rowKey(this.rows[i]);
    const top = i * this.rowHeight;
    const h = this.el.clientHeight;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + this.rowHeight > this.el.scrollTop + h) this.el.scrollTop = top + this.rowHeight - h;
    for (const [j, rowEl] of this.shown) rowEl.classList.toggle("active", j === i);
    this.render(false);
  }

  key(e) {
    const row = this.rows[this.active];
    const page = Math.max(1, Math.floor(this.el.clientHeight / this.rowHeight) - 1);
    switch (e.key) {
      case "ArrowDown": this.setActive(this.active + 1); break;
      case "ArrowUp": this.setActive(this.active < 0 ? 0 : this.active - 1); break;
      case "PageDown": this.setActive(this.active + page); break;
      case "PageUp": this.setActive(this.active - page); break;
      case "Home": this.setActive(0); break;
      case "End": this.setActive(this.rows.length - 1); break;
      case "ArrowRight":
        if (row?.kind === "group" && !row.open) this.fold(row, true);
        else if (row?.kind === "group") this.setActive(this.active + 1);
        break;
      case "ArrowLeft":
        if (row?.kind === "group" && row.open) this.fold(row, false);
        else if (row && row.depth > 0) {
          let j = this.active - 1;
          while (j >= 0 && this.rows[j].depth >= row.depth) j--;
          this.setActive(j);
        }
        break;
      case "Enter":
      case " ":
        if (!row) return;
        if (row.kind === "group" && (e.key === " " || !row.id)) this.fold(row, !row.open);
        else this.activate(row);
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  click(e) {
    const rowEl = e.target.closest(".row");
    if (!rowEl || rowEl.dataset.index === "") return;
    const i = Number(rowEl.dataset.index);
    const row = this.rows[i];
    if (!row) return;
    this.setActive(i);
    if (row.kind === "group" && (!row.id || e.target.closest(".caret"))) this.fold(row, !row.open);
    else this.activate(row);
  }
}
