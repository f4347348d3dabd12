// The history view: the version timeline of the registry or of one entry (newest first, paged,
// kept current by a cheap poll), a version's changeset as before/after, a diff between two
// chosen versions and rollback with a confirmation (history-rollback.js). Opened by the shell's
// History tab, by `ctx.emit("history", id)` and by the URL hash `#history` / `#history=<id>`.
import { countsHtml, esc, renderChangeset } from "./history-changes.js";
import { ROLLBACK_HTML, confirmRollback } from "./history-rollback.js";
import { EntrySource, RegistrySource, versionLoader } from "./history-sources.js";

/** How often the open history view asks for versions newer than the ones it shows. */
const POLL_MS = 2000;

/** "3 min ago" for a Unix-ms instant. */
function relative(ts, now = Date.now()) {
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const s = Math.round((ts - now) / 1000);
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [Infinity, "day"]];
  let n = s;
  for (const [size, unit] of steps) {
    if (Math.abs(n) < size) return rtf.format(n, unit);
    n = Math.round(n / size);
  }
  return rtf.format(n, "day");
}

/** The `#history` / `#history=<id>` hash: undefined when the hash is not a history one. */
function hashTarget() {
  const m = /^#history(?:=(.*))?$/.exec(location.hash);
  if (!m) return undefined;
  return m[1] ? decodeURIComponent(m[1]) : null;
}

const VIEW_HTML = `<div class="hist-head">
    <h2 class="hist-title">History</h2>
    <form class="hist-entry-form">
      <label>entry id <input name="entry" class="hist-entry" autocomplete="off" placeholder="e.g. svc:web"></label>
      <button type="submit">Show its history</button>
      <button type="button" class="hist-all">Whole registry</button>
    </form>
  </div>
  <p class="hist-msg" role="status" aria-live="polite"></p>
  <div class="hist-cols">
    <section class="hist-timeline" aria-label="versions">
      <div class="hist-compare">
        <span>Diff from <strong class="hist-from">–</strong> to <strong class="hist-to">–</strong></span>
        <button type="button" class="hist-diff" disabled>Show diff</button>
      </div>
      <ol class="hist-list"></ol>
      <p class="hist-note"></p>
      <button type="button" class="hist-older" hidden>Older versions</button>
    </section>
    <section class="hist-detail" aria-label="changes" tabindex="-1">
      <p class="hist-empty">Select a version to see its changes, or pick "from" and "to" for a diff.</p>
    </section>
  </div>
  ${ROLLBACK_HTML}`;

/** Mounts the history view into `el` (the context is www/context.js's). */
export function mountHistory(el, ctx) {
  el.innerHTML = VIEW_HTML;
  const $ = (sel) => el.querySelector(sel);
  const list = $(".hist-list");
  const detail = $(".hist-detail");
  const load = versionLoader(ctx.client);
  let source = null;
  let rows = [];
  let head = 0;
  let pick = { from: null, to: null };
  let generation = 0;
  let timer = null;
  let inflight = null;
  let ready = false;

  const say = (text) => {
    $(".hist-msg").textContent = text;
  };

  function rowHtml(row) {
    const when = new Date(row.timestamp);
    const v = row.version;
    const current = v === head;
    const entryOp = row.op ? `<span class="hist-badge op-${esc(row.op.op)}">${esc(row.op.op)}</span>` : "";
    return `<li data-version="${v}">
      <button type="button" class="hist-v" aria-label="changes of version ${v}">v${v}</button>
      <time datetime="${when.toISOString()}" data-ts="${row.timestamp}" title="${esc(when.toLocaleString())}">
        <span class="hist-rel">${esc(relative(row.timestamp))}</span> <span class="hist-abs">${esc(when.toLocaleString())}</span></time>
      <span class="hist-actor" title="actor">${esc(row.actor)}</span>
      ${countsHtml(row.changeset)} ${entryOp}
      <span class="hist-picks">
        <label><input type="radio" name="hist-from" value="${v}" aria-label="diff from version ${v}"> from</label>
        <label><input type="radio" name="hist-to" value="${v}" aria-label="diff to version ${v}"> to</label>
      </span>
      ${current ? '<span class="hist-current">current</span>'
        : `<button type="button" class="hist-rollback" aria-label="roll back to version ${v}">Roll back here</button>`}
    </li>`;
  }

  function render() {
    list.innerHTML = rows.map(rowHtml).join("");
    for (const kind of ["from", "to"]) {
      const input = pick[kind] === null ? null : list.querySelector(`input[name="hist-${kind}"][value="${pick[kind]}"]`);
      if (input) input.checked = true;
    }
    const older = $(".hist-older");
    older.hidden = !source || !ready || source.done;
    older.textContent = source?.olderLabel ?? "Older versions";
    $(".hist-note").textContent = source?.note ?? "";
    markSelected();
  }

  let selected = null;
  function markSelected() {
    for (const li of list.children) li.classList.toggle("selected", Number(li.dataset.version) === selected);
  }

  /** Opens the timeline of the registry (`id` null) or of one entry. */
  async function open(id) {
    const gen = ++generation;
    source = id === null ? new RegistrySource(ctx.client, load) : new EntrySource(ctx.client, load, id);
    rows = [];
    ready = false;
    pick = { from: null, to: null };
    selected = null;
    updatePick();
    $(".hist-title").textContent = id === null ? "History of the registry" : `History of ${id}`;
    $(".hist-entry").value = id ?? "";
    el.dataset.entry = id ?? "";
    detail.innerHTML = '<p class="hist-empty">Select a version to see its changes, or pick "from" and "to" for a diff.</p>';
    render();
    say("Loading versions…");
    await older(gen);
  }

  async function older(gen = generation) {
    const btn = $(".hist-older");
    btn.disabled = true;
    try {
      const page = await source.older();
      if (gen !== generation) return;
      head = Math.max(head, source.head);
      ready = true;
      rows.push(...page.filter((r) => !rows.some((x) => x.version === r.version)));
      say(`${rows.length} version${rows.length === 1 ? "" : "s"} shown · registry at v${head} · new versions appear live`);
      render();
    } catch (e) {
      if (gen === generation) say(`Could not read the history: ${e.message ?? e}`);
    } finally {
      btn.disabled = false;
    }
  }

  /** Adds versions newer than the newest known (the live part of the timeline); one at a time. */
  function poll() {
    if (!inflight) inflight = pollOnce().finally(() => { inflight = null; });
    return inflight;
  }

  async function pollOnce() {
    if (!ready) return;
    const gen = generation;
    try {
      const got = await source.newer(head);
      if (gen !== generation) return;
      if (!got.complete) return void open(source.id ?? null);
      const fresh = got.rows.filter((r) => !rows.some((x) => x.version === r.version));
      const moved = got.head !== head;
      head = Math.max(head, got.head);
      if (fresh.length || moved) {
        rows.unshift(...fresh.sort((a, b) => b.version - a.version));
        render();
        say(`${rows.length} version${rows.length === 1 ? "" : "s"} shown · registry at v${head} · new versions appear live`);
      } else {
        for (const t of list.querySelectorAll("time[data-ts]")) {
          t.querySelector(".hist-rel").textContent = relative(Number(t.dataset.ts));
        }
      }
    } catch {
      // A failed poll is retried on the next tick; the connection status is the shell's.
    }
  }

  function showVersion(v) {
    const row = rows.find((r) => r.version === v);
    if (!row) return;
    selected = v;
    markSelected();
    const when = new Date(row.timestamp).toLocaleString();
    detail.innerHTML = `<h3>Version ${v}</h3>
      <p class="hist-meta">${esc(when)} · by <strong>${esc(row.actor)}</strong> · parent v${row.parent} ·
        ${row.changeset.length} operation${row.changeset.length === 1 ? "" : "s"}</p><div class="hist-changes"></div>`;
    renderChangeset(detail.querySelector(".hist-changes"), row.changeset, "This version changed nothing you may read.");
  }

  function updatePick() {
    $(".hist-from").textContent = pick.from === null ? "–" : `v${pick.from}`;
    $(".hist-to").textContent = pick.to === null ? "–" : `v${pick.to}`;
    $(".hist-diff").disabled = pick.from === null || pick.to === null || pick.from === pick.to;
  }

  async function showDiff() {
    const { from, to } = pick;
    detail.innerHTML = `<h3>Diff v${from} → v${to}</h3>
      <p class="hist-meta">What changed from the state at v${from} to the state at v${to}${to < from ? " (backwards)" : ""}.</p>
      <div class="hist-changes"><p>Reading…</p></div>`;
    try {
      const { changeset } = await ctx.client.diff(from, to);
      renderChangeset(detail.querySelector(".hist-changes"), changeset, `The states at v${from} and v${to} are the same.`);
    } catch (e) {
      detail.querySelector(".hist-changes").innerHTML = `<p class="hist-error" role="alert">${esc(e.status === 410
        ? `A version in this range was folded by retention: ${e.message}` : `Could not read the diff: ${e.message ?? e}`)}</p>`;
    }
    detail.focus();
  }

  list.addEventListener("click", (e) => {
    const li = e.target.closest("li[data-version]");
    if (!li) return;
    const v = Number(li.dataset.version);
    if (e.target.closest(".hist-v")) showVersion(v);
    if (e.target.closest(".hist-rollback")) {
      confirmRollback($(".hist-dialog"), ctx.client, v, (result) => {
        poll().then(poll).then(() => {
          showVersion(result.version);
          say(`Rolled back to v${result.to}: the registry is now at v${result.version}.`);
        });
      });
    }
  });
  list.addEventListener("change", (e) => {
    const m = /^hist-(from|to)$/.exec(e.target.name ?? "");
    if (!m) return;
    pick[m[1]] = Number(e.target.value);
    updatePick();
  });
  $(".hist-diff").addEventListener("click", showDiff);
  $(".hist-older").addEventListener("click", () => older());
  $(".hist-all").addEventListener("click", () => ctx.emit("history", null));
  $(".hist-entry-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $(".hist-entry").value.trim();
    ctx.emit("history", id || null);
  });

  ctx.on("history", (id) => {
    const hash = id === null ? "#history" : `#history=${encodeURIComponent(id)}`;
    if (location.hash !== hash) history.replaceState(null, "", hash);
    open(id ?? null);
  });
  window.addEventListener("hashchange", () => {
    const target = hashTarget();
    if (target !== undefined) ctx.emit("history", target);
  });

  // Shown by the History tab (no event) or hidden by the Entries tab: load on first show, poll
  // while shown, and keep the hash in step.
  const visible = () => {
    if (el.hidden) {
      clearInterval(timer);
      timer = null;
      if (hashTarget() !== undefined) history.replaceState(null, "", location.pathname + location.search);
      return;
    }
    if (!source) open(null);
    if (hashTarget() === undefined) history.replaceState(null, "", el.dataset.entry ? `#history=${encodeURIComponent(el.dataset.entry)}` : "#history");
    if (!timer) timer = setInterval(poll, POLL_MS);
  };
  new MutationObserver(visible).observe(el, { attributes: true, attributeFilter: ["hidden"] });

  const target = hashTarget();
  if (target !== undefined) ctx.emit("history", target);
}
