// The entries view: every entry of the registry (all kinds), or those matching a query, live,
// as a tree of names split on "." and ":" or a flat list, in a virtualized list (entries-list.js)
// over the view's data (entries-model.js). One `client.watch(criteria)` feeds it: its items'
// `ops` are applied incrementally, batched per animation frame.

import { EntriesModel } from "./entries-model.js";
import { VirtualList } from "./entries-list.js";

const ROW_HEIGHT = 30;
/** How long a changed value stays highlighted (ms). */
const HIGHLIGHT_MS = 1000;
/** At most this many expiry reads in flight (entries past their known expiry, in view). */
const MAX_EXPIRY_READS = 4;
/** Values longer than this are cut in the list (the detail view shows them whole). */
const MAX_VALUE_CHARS = 160;

/** Splits the query box's text into criteria: one per whitespace-separated word. */
export function parseQuery(text) {
  return text.trim().split(/\s+/).filter(Boolean);
}

/** "1h 2m", "4m 05s", "12s": a TTL countdown. */
export function formatLeft(ms) {
  const s = Math.ceil(ms / 1000);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${s}s`;
}

/** The numbers the benchmark reads (bench/dashboard.mjs): per applied batch, its duration. */
function statsHook() {
  const stats = { batches: 0, items: 0, ops: 0, applyMs: [], reset() {
    this.batches = 0; this.items = 0; this.ops = 0; this.applyMs = [];
  } };
  window.__dashboardStats = stats;
  return stats;
}

const TEMPLATE = `
  <div class="entries-bar">
    <div class="seg" role="group" aria-label="layout">
      <button type="button" data-mode="tree" aria-pressed="true">tree</button>
      <button type="button" data-mode="flat" aria-pressed="false">flat</button>
    </div>
    <button type="button" class="expand-all">expand all</button>
    <button type="button" class="collapse-all">collapse all</button>
    <label class="filter">filter names <input type="search" class="name-filter" autocomplete="off" placeholder="kitchen"></label>
  </div>
  <form class="query-form">
    <label for="entries-query">query</label>
    <input id="entries-query" class="query" autocomplete="off" spellcheck="false"
      placeholder="^meta.room=kit ~.id=^svc:" aria-describedby="entries-query-help entries-query-error">
    <button type="submit">watch</button>
    <button type="button" class="query-clear">all entries</button>
    <small id="entries-query-help">Finder criteria, ANDed, separated by spaces: <code>[op]field=pattern</code>
      (ops: none glob, <code>~</code> regex, <code>*</code> contains, <code>^</code> prefix, <code>$</code> suffix).</small>
    <p id="entries-query-error" class="query-error" role="alert" hidden></p>
  </form>
  <p class="counts" aria-live="polite"><span class="count-total">0</span> entries
    <span class="count-query"></span> · <span class="count-shown">0</span> shown</p>
  <div class="entries-rows"></div>
  <p class="no-match" hidden>No entry matches the query (yet: the result stays live).</p>
  <p class="empty" hidden>No entries. Publish a register with
    <code>curl -X PUT <span class="origin"></span>/provider -d '{"registers":{"demo":{"value":1,"ttl":"60s"}}}'</code></p>`;

/** Mounts the entries view into `el` (the context is www/context.js's). */
export function mountEntries(el, ctx) {
  el.innerHTML = TEMPLATE;
  el.classList.add("entries");
  const q = (sel) => el.querySelector(sel);
  q(".origin").textContent = ctx.base;
  const stats = statsHook();
  const model = new EntriesModel();
  let selected = null;
  let query = [];

  const list = new VirtualList(q(".entries-rows"), {
    rowHeight: ROW_HEIGHT,
    label: "entries",
    draw: (rowEl, row, fresh) => drawRow(rowEl, row, fresh),
    activate: (row) => row.id && ctx.emit("select", row.id),
    fold: (row, open) => {
      model.setOpen(row.path, open);
      relayout();
    },
  });

  function drawRow(rowEl, row, fresh) {
    const it = row.id ? model.items.get(row.id) : null;
    if (!rowEl.firstChild) {
      rowEl.innerHTML = '<span class="caret" aria-hidden="true"></span><span class="name"></span>'
        + '<span class="count"></span><span class="kind"></span><span class="value"></span><span class="ttl"></span>';
    }
    const key = `${row.kind}:${row.id ?? row.path}`;
    if (fresh || rowEl.dataset.key !== key) {
      rowEl.dataset.key = key;
      rowEl.lastDrawnChange = it?.changedAt ?? 0;
      fresh = true;
    }
    const [caret, name, count, kind, value, ttl] = rowEl.children;
    rowEl.style.setProperty("--depth", row.depth);
    rowEl.classList.toggle("group", row.kind === "group");
    if (row.id) rowEl.dataset.id = row.id;
    else delete rowEl.dataset.id;
    if (row.kind === "group") rowEl.dataset.path = row.path;
    else delete rowEl.dataset.path;
    caret.textContent = row.kind === "group" ? (row.open ? "▾" : "▸") : "";
    name.textContent = row.label;
    name.title = row.id ?? row.path;
    count.textContent = row.kind === "group" ? String(row.count) : "";
    rowEl.classList.toggle("selected", !!row.id && row.id === selected);
    rowEl.classList.toggle("removed", !!it && it.removedAt !== null);
    rowEl.setAttribute("aria-selected", String(!!row.id && row.id === selected));
    if (!it) {
      kind.textContent = value.textContent = ttl.textContent = "";
      return;
    }
    kind.textContent = it.entry.kind === "register" ? "" : it.entry.kind;
    const text = JSON.stringify(it.entry.data) ?? "null";
    value.textContent = text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS)}…` : text;
    drawTtl(ttl, row.id);
    if (it.changedAt > rowEl.lastDrawnChange) {
      rowEl.lastDrawnChange = it.changedAt;
      if (!fresh && performance.now() - it.changedAt < HIGHLIGHT_MS) {
        rowEl.animate([{ backgroundColor: "#fde68a" }, { backgroundColor: "transparent" }], HIGHLIGHT_MS);
      }
    }
  }

  function drawTtl(ttlEl, id) {
    const t = model.ttl(id);
    if (!t) {
      ttlEl.textContent = "";
      ttlEl.title = "";
      ttlEl.className = "ttl";
      return;
    }
    ttlEl.textContent = `${t.keptAlive ? "↻ " : ""}${formatLeft(t.left)}`;
    ttlEl.title = t.keptAlive
      ? "time to live; its provider keeps it alive (seen publishing it again)"
      : "time to live; no refresh seen yet (it is removed when this reaches 0 unless its provider publishes it again)";
    ttlEl.className = `ttl${t.keptAlive ? " kept" : ""}`;
  }

  function counts() {
    q(".count-total").textContent = String(model.live);
    q(".count-query").textContent = query.length ? `matching ${query.join(" ")}` : "";
    q(".count-shown").textContent = String(model.shown ?? 0);
    q(".empty").hidden = model.items.size > 0 || query.length > 0;
    q(".no-match").hidden = model.items.size > 0 || query.length === 0;
  }

  function relayout() {
    list.setRows(model.rows());
    counts();
  }

  // Items of the watch, applied once per frame.
  let queue = [];
  let frame = 0;
  function flush() {
    frame = 0;
    const t0 = performance.now();
    const items = queue;
    queue = [];
    const changed = new Set();
    let ops = 0;
    for (const item of items) {
      if (item.ops) {
        model.apply(item.ops, item.version);
        for (const op of item.ops) changed.add(op.id);
        ops += item.ops.length;
      } else {
        model.reset(item.entries, item.version);
        model.cache = null;
      }
    }
    if (model.structural || !model.cache) relayout();
    else {
      list.redraw((row) => row.id !== undefined && changed.has(row.id));
      counts();
    }
    if (items.length) ctx.emit("version", model.version);
    stats.batches++;
    stats.items += items.length;
    stats.ops += ops;
    stats.applyMs.push(performance.now() - t0);
    if (stats.applyMs.length > 100_000) stats.applyMs.splice(0, 50_000);
  }

  let current = null;
  /** Watches `criteria`; the current watch is replaced only once the new one delivers, so an
   *  invalid query leaves the shown result as it was and explains itself inline. */
  function watch(criteria) {
    const stream = ctx.client.watch(criteria);
    const errEl = q(".query-error");
    let first = true;
    stream.subscribe((item) => {
      if (first) {
        first = false;
        current?.close();
        current = stream;
        query = criteria;
        errEl.hidden = true;
        q(".query").removeAttribute("aria-invalid");
        queue = [];
        model.items.clear();
        model.structural = true;
      }
      queue.push(item);
      if (!frame) frame = requestAnimationFrame(flush);
    });
    (async () => {
      try {
        for await (const _ of stream);
      } catch (e) {
        if (stream !== current || e.code === "invalid_criterion") {
          errEl.textContent = `Not a valid query: ${e.message ?? e}`;
          errEl.hidden = false;
          q(".query").setAttribute("aria-invalid", "true");
        } else {
          ctx.emit("stream-error", e);
        }
      }
    })();
  }

  // Toolbar.
  for (const b of el.querySelectorAll(".seg button")) {
    b.addEventListener("click", () => {
      for (const o of el.querySelectorAll(".seg button")) o.setAttribute("aria-pressed", String(o === b));
      model.setMode(b.dataset.mode);
      el.classList.toggle("flat", b.dataset.mode === "flat");
      relayout();
    });
  }
  q(".expand-all").addEventListener("click", () => {
    model.foldAll(true);
    relayout();
  });
  q(".collapse-all").addEventListener("click", () => {
    model.foldAll(false);
    relayout();
  });
  q(".name-filter").addEventListener("input", (e) => {
    model.setFilter(e.target.value);
    relayout();
  });
  q(".query-form").addEventListener("submit", (e) => {
    e.preventDefault();
    watch(parseQuery(q(".query").value));
  });
  q(".query-clear").addEventListener("click", () => {
    q(".query").value = "";
    watch([]);
  });
  ctx.on("select", (id) => {
    selected = id;
    list.redraw(() => true);
  });

  // Once a second: removed entries vanish, TTLs in view count down, and entries in view past
  // their known expiry have their new expiry read (their provider refreshed them).
  const reading = new Set();
  setInterval(() => {
    if (model.sweep()) relayout();
    list.redraw((row) => !!row.id && model.items.get(row.id)?.expiresAt != null);
    for (const row of list.visibleRows()) {
      if (!row.id || reading.has(row.id) || reading.size >= MAX_EXPIRY_READS) continue;
      if (!model.ttl(row.id)?.stale) continue;
      reading.add(row.id);
      ctx.client.getEntry(row.id)
        .then((e) => e && model.refreshed(row.id, e.expires_at))
        .catch(() => {})
        .finally(() => reading.delete(row.id));
    }
  }, 1000);

  relayout();
  watch([]);
}
