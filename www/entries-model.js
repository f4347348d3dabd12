// The entries view's data: every entry the current watch shows, by id, with what the page
// needs to draw it (when its value last changed, when it was removed, its expiry), and the rows
// to draw (a flat list or a tree of names split on "." and ":"), rebuilt only when the set of
// ids, the filter or the tree's folding changes — not when a value changes.

/** How long a removed entry stays on screen, marked, before it vanishes (ms). */
export const REMOVED_MS = 2000;
/** Grace after a known expiry before concluding that a provider refreshed the entry (ms). */
export const REFRESH_GRACE_MS = 1500;

/** The segments of an id in the tree: `{key, label}`, the key keeping the separator before it
 *  (so that `a.b` and `a:b` stay two nodes). */
export function segments(id) {
  const parts = id.split(/([.:])/);
  const out = [{ key: parts[0], label: parts[0] }];
  for (let i = 1; i < parts.length; i += 2) out.push({ key: parts[i] + parts[i + 1], label: parts[i + 1] });
  return out;
}

/**
 * One entry as shown: `entry` (the registry's entry), `changedAt` (page time of its last
 * value change, for the highlight), `removedAt` (page time it was removed, or null),
 * `expiresAt` (Unix ms, or null: no TTL), `keptAlive` (seen published again, or outliving an
 * expiry: a provider keeps it alive).
 */
function item(entry, now, wall) {
  return { entry, changedAt: now, removedAt: null, expiresAt: expiryOf(entry, wall), keptAlive: false };
}

/** The expiry of an entry: `expires_at` when the registry sent it (snapshots, reads), else the
 *  write just seen plus its TTL (changes carry `ttl_ms` only). */
function expiryOf(entry, wall) {
  if (typeof entry.expires_at === "number") return entry.expires_at;
  if (typeof entry.ttl_ms === "number") return wall + entry.ttl_ms;
  return null;
}

/** The data of the entries view (see the file comment). */
export class EntriesModel {
  constructor() {
    /** id → item (see `item`). */
    this.items = new Map();
    /** Sorted ids, rebuilt when `structural`. */
    this.ids = [];
    this.structural = true;
    this.mode = "tree";
    this.filter = "";
    /** Tree folding: a node is open when `openByDefault` differs from `flipped.has(path)`. */
    this.openByDefault = true;
    this.flipped = new Set();
    /** The rows to draw (see `rows()`), cached until something structural changes. */
    this.cache = null;
    this.version = null;
  }

  /** Replaces everything with `entries` (a first result, or a result without ops): entries
   *  gone since are marked removed; changed ones highlighted. */
  reset(entries, version, now = performance.now(), wall = Date.now()) {
    const seen = new Set();
    for (const e of entries) {
      seen.add(e.id);
      this.put(e, now, wall);
    }
    for (const [id, it] of this.items) if (!seen.has(id) && it.removedAt === null) this.remove(id, now);
    this.version = version;
  }

  /** Applies the ops of one version (`entry: null` = deleted or no longer matching). */
  apply(ops, version, now = performance.now(), wall = Date.now()) {
    for (const op of ops) {
      if (op.entry) this.put(op.entry, now, wall);
      else this.remove(op.id, now);
    }
    this.version = version;
  }

  /** Takes in one entry; returns whether it was new. */
  put(entry, now, wall) {
    const it = this.items.get(entry.id);
    if (!it) {
      this.items.set(entry.id, item(entry, now, wall));
      this.structural = true;
      return true;
    }
    if (it.removedAt !== null) {
      this.items.set(entry.id, item(entry, now, wall));
      this.cache = null; // counts change
      return false;
    }
    if (it.entry.version !== entry.version || it.entry.data !== entry.data) {
      const same = JSON.stringify(it.entry.data) === JSON.stringify(entry.data)
        && JSON.stringify(it.entry.meta) === JSON.stringify(entry.meta);
      if (!same) it.changedAt = now;
      // Published again (a new version of a live entry with a TTL): someone keeps it alive.
      if (it.entry.version !== entry.version && it.expiresAt !== null) it.keptAlive = true;
      it.entry = entry;
      it.expiresAt = expiryOf(entry, wall);
    }
    return false;
  }

  /** Marks an entry removed (it vanishes after `REMOVED_MS`, see `sweep`). */
  remove(id, now) {
    const it = this.items.get(id);
    if (it && it.removedAt === null) {
      it.removedAt = now;
      this.cache = null; // counts change
    }
  }

  /** Drops the entries removed more than `REMOVED_MS` ago; returns whether any was. */
  sweep(now = performance.now()) {
    let any = false;
    for (const [id, it] of this.items) {
      if (it.removedAt !== null && now - it.removedAt >= REMOVED_MS) {
        this.items.delete(id);
        any = true;
      }
    }
    if (any) this.structural = true;
    return any;
  }

  /** Live (not removed) entries. */
  get live() {
    let n = 0;
    for (const it of this.items.values()) if (it.removedAt === null) n++;
    return n;
  }

  setMode(mode) {
    this.mode = mode;
    this.cache = null;
  }

  setFilter(text) {
    this.filter = text.trim().toLowerCase();
    this.cache = null;
  }

  /** Expands (true) or collapses (false) every node of the tree. */
  foldAll(open) {
    this.openByDefault = open;
    this.flipped.clear();
    this.cache = null;
  }

  isOpen(path) {
    return this.filter !== "" || this.openByDefault !== this.flipped.has(path);
  }

  /** Opens or closes one node of the tree. */
  setOpen(path, open) {
    if (this.isOpen(path) === open || this.filter !== "") return;
    if (this.flipped.has(path)) this.flipped.delete(path);
    else this.flipped.add(path);
    this.cache = null;
  }

  /**
   * The rows to draw: `{kind: "entry", id, depth, label}` and, in the tree, `{kind: "group",
   * path, depth, label, count, open, id?}` (a group whose own path is also an entry carries
   * its id). Counts are live entries below a node. Cached until structural change.
   */
  rows() {
    if (this.structural) {
      this.ids = [...this.items.keys()].sort();
      this.structural = false;
      this.cache = null;
    }
    if (this.cache) return this.cache;
    const f = this.filter;
    const ids = f ? this.ids.filter((id) => id.toLowerCase().includes(f)) : this.ids;
    this.shown = ids.length;
    this.cache = this.mode === "flat"
      ? ids.map((id) => ({ kind: "entry", id, depth: 0, label: id }))
      : this.treeRows(ids);
    return this.cache;
  }

  /** The tree of `ids` (sorted), flattened to the rows of its open nodes. */
  treeRows(ids) {
    const root = { children: new Map(), count: 0 };
    for (const id of ids) {
      const live = this.items.get(id).removedAt === null ? 1 : 0;
      let node = root;
      node.count += live;
      const segs = segments(id);
      let path = "";
      for (const { key, label } of segs) {
        path += key;
        let child = node.children.get(key);
        if (!child) {
          child = { label, path, children: new Map(), count: 0, id: null };
          node.children.set(key, child);
        }
        child.count += live;
        node = child;
      }
      node.id = id;
    }
    const out = [];
    const walk = (node, depth) => {
      const kids = [...node.children.values()].sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
      for (const n of kids) {
        if (n.children.size === 0) {
          out.push({ kind: "entry", id: n.id, depth, label: n.label, path: n.path });
          continue;
        }
        const open = this.isOpen(n.path);
        out.push({ kind: "group", path: n.path, depth, label: n.label, count: n.count, open, id: n.id });
        if (open) walk(n, depth + 1);
      }
    };
    walk(root, 0);
    return out;
  }

  /**
   * The TTL state of an entry at `wall` (Unix ms): null without a TTL, else `{left}` (ms to its
   * known expiry, ≥ 0), `keptAlive`, and `stale` (past its known expiry by more than the
   * grace while still present: a provider refreshed it without a version — the caller reads
   * the new expiry and sets it with `refreshed`).
   */
  ttl(id, wall = Date.now()) {
    const it = this.items.get(id);
    if (!it || it.expiresAt === null || it.removedAt !== null) return null;
    const left = it.expiresAt - wall;
    return { left: Math.max(0, left), keptAlive: it.keptAlive, stale: left < -REFRESH_GRACE_MS };
  }

  /** A newer expiry read for `id` (after `ttl().stale`): its provider keeps it alive. */
  refreshed(id, expiresAt) {
    const it = this.items.get(id);
    if (!it || it.removedAt !== null) return;
    if (typeof expiresAt === "number" && (it.expiresAt === null || expiresAt > it.expiresAt)) {
      it.keptAlive = true;
    }
    it.expiresAt = typeof expiresAt === "number" ? expiresAt : null;
  }
}
