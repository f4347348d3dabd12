// Where the history view's timeline rows come from: the whole registry (`GET /v1/versions`,
// paged) or one entry (the versions that touched it, found by following each operation's
// `before.version` back, and by a bounded search where no such link exists). A row is a
// version with its changeset: `{version, parent, timestamp, actor, changeset, op?}` (`op`: the
// entry's own operation, in an entry's history).

/** Versions one page of the timeline shows. */
export const PAGE = 20;
/** Versions one search step reads when an entry's history has no link to follow. */
export const SCAN = 200;

/** True for the registry's "folded by retention" answer. */
export const isFolded = (e) => e?.status === 410 || e?.code === "version_folded";

/** Versions with their changesets kept by `versionLoader` (the most recently read). */
const CACHED = 500;

/** Reads versions with their changesets, each once while cached (a version never changes). */
export function versionLoader(client) {
  const cache = new Map();
  return (v) => {
    let p = cache.get(v);
    if (p) {
      cache.delete(v);
    } else {
      p = client.version(v);
      p.catch(() => cache.delete(v));
    }
    cache.set(v, p);
    if (cache.size > CACHED) cache.delete(cache.keys().next().value);
    return p;
  };
}

/** The versions after `since` (newest first), with their changesets; `head` is the newest. */
async function newerThan(client, load, since) {
  const page = await client.history({ since, limit: 100 });
  const rows = await Promise.all(page.versions.map((v) => load(v.version)));
  return { rows, head: page.head, complete: page.next_before === null };
}

/** The whole registry's timeline. */
export class RegistrySource {
  constructor(client, load) {
    this.client = client;
    this.load = load;
    this.before = undefined;
    this.done = false;
    /** Oldest readable version (older ones were folded by retention). */
    this.oldest = 1;
    this.head = 0;
    /** Why there is nothing older (shown under the timeline), or null. */
    this.note = null;
  }

  /** The next page of older rows. */
  async older() {
    const page = await this.client.history({ before: this.before, limit: PAGE });
    this.oldest = page.oldest;
    this.head = Math.max(this.head, page.head);
    const rows = [];
    for (const v of await Promise.all(page.versions.map((s) => this.load(s.version).catch((e) => e)))) {
      if (v instanceof Error) {
        if (!isFolded(v)) throw v;
        this.oldest = Infinity;
      } else rows.push(v);
    }
    this.before = page.next_before ?? undefined;
    this.done = page.next_before === null || this.oldest === Infinity;
    if (this.done) {
      this.note = page.oldest > 1
        ? `Versions before v${page.oldest} were folded by retention: they are no longer kept.`
        : rows.length || page.versions.length ? "This is the first version." : "No versions yet.";
    }
    return rows;
  }

  /** Rows newer than `since`; `{rows, head, complete}` (`complete` false: more than a page came). */
  newer(since) {
    return newerThan(this.client, this.load, since);
  }

  /** The label of the "older" button. */
  get olderLabel() {
    return "Older versions";
  }
}

/** One entry's timeline: the versions that touched `id`, newest first. */
export class EntrySource {
  constructor(client, load, id) {
    this.client = client;
    this.load = load;
    this.id = id;
    /** Next step: `{chain: v}` (read version v), `{scanBelow: v}` (search below v) or null. */
    this.next = undefined;
    this.done = false;
    this.note = null;
    this.head = 0;
    this.oldest = 1;
  }

  /** The entry's operation in a version, if any. */
  opOf(version) {
    return version.changeset.find((op) => op.id === this.id);
  }

  /** After the row found at `row`, what to read next. */
  follow(row) {
    const before = row.op.before;
    if (before) return { chain: before.version };
    if (row.version <= this.oldest) return null;
    // A create: the chain ends; an earlier entry with this id (since deleted) is not linked.
    this.note = `Created at v${row.version}. An older entry with the same id (deleted before that) would not be ` +
      `linked from here: "Search older versions" reads up to ${SCAN} versions before it.`;
    return { scanBelow: row.version, paused: true };
  }

  /** The next page of older rows. */
  async older() {
    if (this.next === undefined) {
      // A lookup by id that answers [] rather than 404 for a deleted entry (which the browser
      // would log as a failed request): the glob with its special characters escaped.
      const exact = this.id.replace(/[\\*?]/g, "\\$&");
      const [found, top] = await Promise.all([this.client.find({ ".id": exact }), this.client.history({ limit: 1 })]);
      const entry = found.find((e) => e.id === this.id);
      this.head = top.head;
      this.oldest = top.oldest;
      this.next = entry ? { chain: entry.version } : { scanBelow: top.head + 1 };
    } else if (this.next?.paused) {
      this.next = { scanBelow: this.next.scanBelow };
    }
    this.note = null;
    const rows = [];
    while (rows.length < PAGE && this.next && !this.next.paused) {
      if (this.next.chain !== undefined) {
        let version;
        try {
          if (this.next.chain < this.oldest) throw Object.assign(new Error("folded"), { status: 410 });
          version = await this.load(this.next.chain);
        } catch (e) {
          if (!isFolded(e)) throw e;
          this.note = `Older changes of ${this.id} were folded by retention: they are no longer kept.`;
          this.next = null;
          break;
        }
        const row = { ...version, op: this.opOf(version) };
        rows.push(row);
        this.next = this.follow(row);
      } else {
        const found = await this.scan(this.next.scanBelow);
        if (found.row) {
          rows.push(found.row);
          this.next = this.follow(found.row);
        } else if (found.end) {
          this.next = null;
        } else {
          this.next = { scanBelow: found.below, paused: true };
          this.note = `${this.id} was not found in the ${SCAN} versions searched (v${found.below}–v${found.from}).`;
        }
        if (!found.row) break;
      }
    }
    this.done = !this.next;
    if (this.done && !this.note) {
      this.note = this.oldest > 1
        ? `Versions before v${this.oldest} were folded by retention: older changes of ${this.id} are no longer kept.`
        : rows.length ? `No older changes of ${this.id}.` : `No version touched ${this.id}.`;
    }
    return rows;
  }

  /**
   * Searches up to SCAN versions below `below`, newest first, for the newest that touched
   * the entry: `{row}`, or `{end}` (history exhausted), or `{below, from}` (budget spent).
   */
  async scan(below) {
    let read = 0;
    let before = below;
    const from = below - 1;
    while (read < SCAN) {
      const page = await this.client.history({ before, limit: Math.min(50, SCAN - read) });
      this.oldest = page.oldest;
      if (page.versions.length === 0) return { end: true };
      const versions = await Promise.all(page.versions.map((s) => this.load(s.version)));
      for (const version of versions) {
        const op = this.opOf(version);
        if (op) return { row: { ...version, op } };
      }
      read += versions.length;
      before = versions[versions.length - 1].version;
      if (page.next_before === null) return { end: true };
    }
    return { below: before, from };
  }

  /** Rows newer than `since` that touched the entry. */
  async newer(since) {
    const got = await newerThan(this.client, this.load, since);
    const rows = [];
    for (const v of got.rows) {
      const op = this.opOf(v);
      if (op) rows.push({ ...v, op });
    }
    return { ...got, rows };
  }

  /** The label of the "older" button. */
  get olderLabel() {
    return this.next?.scanBelow !== undefined ? "Search older versions" : "Older versions";
  }
}
