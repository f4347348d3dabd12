// The detail view: the selected entry — value (pretty JSON), metadata, kind, version, expiry
// counting down, what it depends on and what depends on it — kept live through a watch on its
// id, with an editor (detail-edit.js). The selection comes from the "select" event and from the
// URL hash `#entry=<id>` (kept in step with it, so a detail can be linked and reloaded).
import { mountEditor } from "./detail-edit.js";
import { prettyJson } from "./detail-json.js";

const TEMPLATE = `
  <p class="placeholder">Select an entry to see its detail.</p>
  <article class="entry" hidden>
    <header>
      <h2 id="detail-title"></h2>
      <button type="button" class="close" aria-label="Close the detail">×</button>
    </header>
    <p class="state" role="status" aria-live="polite"></p>
    <dl class="facts">
      <dt>kind</dt><dd class="kind"></dd>
      <dt>version</dt><dd class="version"></dd>
      <dt>expiry</dt><dd class="expiry"></dd>
    </dl>
    <h3>Value</h3>
    <pre class="value" tabindex="0" aria-label="value"></pre>
    <h3>Metadata</h3>
    <pre class="meta" tabindex="0" aria-label="metadata"></pre>
    <h3>Depends on</h3>
    <ul class="needs" aria-label="depends on"></ul>
    <h3>Needed by</h3>
    <ul class="needed-by" aria-label="needed by"></ul>
    <button type="button" class="history">History of this entry</button>
    <form class="edit" hidden></form>
  </article>`;

/** Glob-escapes an id so that the finder's `.id=` criterion matches exactly it. */
function exactId(id) {
  return `.id=${id.replace(/[\\*?]/g, (c) => `\\${c}`)}`;
}

/** The id in the URL hash (`#entry=<id>`), or null. */
function hashEntry() {
  return new URLSearchParams(location.hash.slice(1)).get("entry");
}

/** Puts `id` (or nothing) into the URL hash, keeping any other hash parameters. */
function setHashEntry(id) {
  const params = new URLSearchParams(location.hash.slice(1));
  if (id === null) params.delete("entry");
  else params.set("entry", id);
  const hash = params.toString().replace(/%3A/gi, ":").replace(/%2F/gi, "/");
  if (hash === location.hash.slice(1)) return;
  history.replaceState(history.state, "", hash ? `#${hash}` : `${location.pathname}${location.search}`);
}

/** "12 s", "3 min 4 s", "10 min", "2 h 5 min" for a duration in ms. */
function duration(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  const parts = s < 3600 ? [[Math.floor(s / 60), "min"], [s % 60, "s"]] : [[Math.floor(s / 3600), "h"], [Math.floor((s % 3600) / 60), "min"]];
  return parts.filter(([n], i) => i === 0 || n > 0).map(([n, unit]) => `${n} ${unit}`).join(" ");
}

/** Mounts the detail view into `el` (the context is www/context.js's). */
export function mountDetail(el, ctx) {
  el.innerHTML = TEMPLATE;
  const $ = (sel) => el.querySelector(sel);
  const editor = mountEditor($("form.edit"), ctx);
  let shown = null; // {id, stream, entry, seen, expiresAt, timer, depsVersion, lastFetch}

  function stopShowing() {
    if (!shown) return;
    shown.stream?.close();
    clearInterval(shown.timer);
    shown = null;
  }

  function show(id) {
    if (shown?.id === id) return;
    stopShowing();
    setHashEntry(id);
    if (id === null) {
      editor.clear();
      $(".entry").hidden = true;
      $(".placeholder").hidden = false;
      return;
    }
    $(".placeholder").hidden = true;
    $(".entry").hidden = false;
    $(".entry").classList.remove("removed");
    $("#detail-title").textContent = id;
    $(".state").textContent = "loading…";
    for (const sel of [".kind", ".version", ".expiry", ".value", ".meta"]) $(sel).textContent = "";
    $(".needs").replaceChildren();
    $(".needed-by").replaceChildren();
    editor.clear();
    const me = { id, entry: null, seen: false, expiresAt: null, depsVersion: null, lastFetch: 0 };
    shown = me;
    me.timer = setInterval(() => tick(me), 500);
    me.stream = ctx.client.watch([exactId(id)]);
    (async () => {
      try {
        for await (const { entries, version } of me.stream) {
          if (shown !== me) break;
          update(me, entries.find((e) => e.id === id) ?? null, version);
        }
      } catch (e) {
        if (shown === me) $(".state").textContent = `Cannot watch this entry: ${e.message ?? e}`;
      }
    })();
  }

  function update(me, entry, version) {
    if (!entry) {
      $(".state").textContent = me.seen
        ? `Removed at version ${version} (deleted or expired).`
        : "There is no entry with this id (or your token may not see it).";
      $(".entry").classList.toggle("removed", me.seen);
      me.expiresAt = null;
      if (me.seen) {
        $(".expiry").textContent = "removed";
        editor.removed();
      }
      return;
    }
    const first = !me.entry;
    me.entry = entry;
    me.seen = true;
    $(".entry").classList.remove("removed");
    $(".state").textContent = "";
    $(".kind").textContent = entry.kind;
    $(".version").textContent = String(entry.version);
    $(".value").textContent = prettyJson(entry.data);
    $(".meta").textContent = Object.keys(entry.meta ?? {}).length ? prettyJson(entry.meta) : "(none)";
    setExpiry(me, entry);
    if (first) editor.show(entry);
    else editor.changed(entry);
    if (me.depsVersion !== entry.version) {
      me.depsVersion = entry.version;
      loadDependencies(me);
    }
  }

  /** Snapshot entries carry their expiry instant; entries of a change only their TTL (a
   *  refresh moves the expiry without a version), so the instant is then read once. */
  function setExpiry(me, entry) {
    if (entry.ttl_ms == null) {
      me.expiresAt = null;
      $(".expiry").textContent = "no TTL";
      return;
    }
    me.expiresAt = entry.expires_at ?? Date.now() + entry.ttl_ms;
    if (entry.expires_at == null) refreshExpiry(me);
    tick(me);
  }

  async function refreshExpiry(me) {
    me.lastFetch = Date.now();
    try {
      const fresh = await ctx.client.getEntry(me.id);
      if (shown === me && fresh && fresh.version === me.entry?.version && fresh.expires_at != null) {
        me.expiresAt = fresh.expires_at;
        tick(me);
      }
    } catch {
      // The countdown keeps its estimate; the watch says when the entry goes.
    }
  }

  function tick(me) {
    if (shown !== me || me.expiresAt === null || !me.entry) return;
    const left = me.expiresAt - Date.now();
    const ttl = duration(me.entry.ttl_ms);
    if (left > 0) {
      $(".expiry").textContent = `in ${duration(left)} (TTL ${ttl})`;
    } else {
      // Expired by our clock but not removed: either the removal is on its way or a provider
      // refreshed it (no version for that): read its expiry again, at most once a second.
      $(".expiry").textContent = `due now (TTL ${ttl})`;
      if (Date.now() - me.lastFetch > 1000) refreshExpiry(me);
    }
  }

  async function loadDependencies(me) {
    let deps;
    try {
      deps = await ctx.client.dependencies(me.id);
    } catch (e) {
      if (shown === me) $(".needs").replaceChildren(note(`unavailable: ${e.message ?? e}`));
      return;
    }
    if (shown !== me) return;
    const needs = deps.needs.map(({ id, exists }) => link(id, exists ? "" : " (missing)"));
    $(".needs").replaceChildren(...(needs.length ? needs : [note("nothing")]));
    const neededBy = deps.needed_by.map((id) => link(id, ""));
    $(".needed-by").replaceChildren(...(neededBy.length ? neededBy : [note("nothing")]));
  }

  function link(id, suffix) {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `#entry=${encodeURIComponent(id)}`;
    a.textContent = id;
    a.dataset.entry = id;
    li.append(a, suffix);
    return li;
  }

  function note(text) {
    const li = document.createElement("li");
    li.className = "none";
    li.textContent = text;
    return li;
  }

  el.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-entry]");
    if (a) {
      e.preventDefault();
      ctx.emit("select", a.dataset.entry);
    }
  });
  $(".history").addEventListener("click", () => shown && ctx.emit("history", shown.id));
  $(".close").addEventListener("click", () => ctx.emit("select", null));
  el.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && shown && !e.defaultPrevented) ctx.emit("select", null);
  });
  ctx.on("select", show);
  window.addEventListener("hashchange", () => {
    const id = hashEntry();
    if (id !== (shown?.id ?? null)) ctx.emit("select", id);
  });
  // Opened with `#entry=<id>`: select it once every view listens.
  const initial = hashEntry();
  if (initial !== null) setTimeout(() => ctx.emit("select", initial));
}
