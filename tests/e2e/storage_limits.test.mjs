// End-to-end: a registry filled to its documented limits keeps working on workerd, whose
// SQLite refuses any string or row over 2 MB. Past version 512 (two full-state checkpoints),
// a rollback to 0 (one changeset holding every entry), a restart, then every version read back.
// Local workerd accepts larger rows than production's 2 MB, so after the rollback the test also
// reads the worker's SQLite files and requires every stored value to be under 2 MB.
// The limits themselves are listed, with their reasons, in docs/decisions.md ("Limits").
//   (a) 65 registers of ~60 KB (~3.9 MB of state, under the 4 MiB state bound); a rollback to
//       the filled version updates every one (entry and pre-image: a ~7.8 MB changeset,
//       SQLITE_TOOBIG as one row);
//   (b) 10,000 small registers (the entry bound), and the 429 past it;
//   (c) the state bound: a registry filled with 60 KB registers answers 429 with the JSON
//       error past 4 MiB, changes nothing, and takes a delete and then the write again.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Worker, http } from "./worker.mjs";

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

const TTL = "1000h";
/** Versions written before the rollback: past the checkpoints at 256 and 512. */
const PAST = 520;

/**
 * What the test wrote, version by version: `changes[v]` is the list of `[id, data]` made by
 * version `v` (`data` undefined for a delete) in changeset order.
 */
class Model {
  constructor() {
    this.changes = [null];
    this.actors = [null];
  }
  get head() {
    return this.changes.length - 1;
  }
  push(actor, changes) {
    this.changes.push(changes);
    this.actors.push(actor);
    return this.head;
  }
  /** The state at `v`: id → data. */
  stateAt(v) {
    const state = new Map();
    for (let i = 1; i <= v; i++) {
      for (const [id, data] of this.changes[i]) {
        if (data === undefined) state.delete(id);
        else state.set(id, data);
      }
    }
    return state;
  }
}

/** `PUT /provider` with these registers; one new version. */
async function provide(base, model, registers) {
  const body = { registers: {} };
  for (const [id, value] of registers) body.registers[id] = { value, ttl: TTL };
  const r = await http("PUT", `${base}/provider`, body);
  assert.equal(r.status, 204, `version ${model.head + 1}: ${r.status} ${r.text.slice(0, 300)}`);
  const v = model.push("provider", registers);
  assert.equal(r.version, v, "one version per write");
}

/** Reads the whole state at `v` through `/v1/state` pages of 1,000: id → data. */
async function stateOver(base, v) {
  const state = new Map();
  let cursor = null;
  do {
    const q = `at=${v}&limit=1000${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const r = await http("GET", `${base}/v1/state?${q}`);
    assert.equal(r.status, 200, `state at ${v}: ${r.text.slice(0, 300)}`);
    for (const e of r.json.entries) state.set(e.id, e.data);
    cursor = r.json.next_cursor;
  } while (cursor !== null);
  return state;
}

function assertSameState(got, want, v) {
  assert.equal(got.size, want.size, `entries at ${v}`);
  for (const [id, data] of want) {
    // Compared one by one: a deepEqual of 100,000 entries reports nothing useful on failure.
    if (got.get(id) !== data) assert.fail(`state at ${v}: ${id} differs`);
  }
}

/** Every version listed (paging `/v1/versions`) and read (`/v1/versions/{v}`) as written. */
async function checkEveryVersion(base, model) {
  const listed = [];
  let before = null;
  do {
    const r = await http("GET", `${base}/v1/versions?limit=1000${before === null ? "" : `&before=${before}`}`);
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(r.json.head, model.head);
    listed.push(...r.json.versions);
    before = r.json.next_before;
  } while (before !== null);
  assert.deepEqual(listed.map((s) => s.version), [...Array(model.head).keys()].map((i) => model.head - i));
  for (const s of listed) {
    assert.equal(s.actor, model.actors[s.version], `actor of ${s.version}`);
    assert.equal(s.ops, model.changes[s.version].length, `ops of ${s.version}`);
  }
  const state = new Map();
  for (let v = 1; v <= model.head; v++) {
    const r = await http("GET", `${base}/v1/versions/${v}`);
    assert.equal(r.status, 200, `version ${v}: ${r.text.slice(0, 300)}`);
    const cs = r.json.changeset;
    assert.equal(cs.length, model.changes[v].length, `ops of ${v}`);
    // The changeset is in id order; compare by id.
    const byId = new Map(cs.map((op) => [op.id, op]));
    for (const [id, data] of model.changes[v]) {
      const op = byId.get(id);
      assert.ok(op, `version ${v} changes ${id}`);
      const had = state.get(id);
      assert.equal(op.op, data === undefined ? "delete" : had === undefined ? "create" : "update", `${v} ${id}`);
      if (data !== undefined && op.entry.data !== data) assert.fail(`version ${v}: ${id} data differs`);
      if (had !== undefined && op.before.data !== had) assert.fail(`version ${v}: ${id} before differs`);
      if (data === undefined) state.delete(id);
      else state.set(id, data);
    }
  }
}

/** The platform's bound on one string, BLOB or row of Durable Object SQLite. */
const ROW_BOUND = 2_000_000;

/**
 * The largest value (in bytes) of any column of any row in the SQLite files the worker keeps
 * under its persist folder. Local workerd accepts larger rows than production does, so a
 * value over the production bound is found here rather than by a local SQLITE_TOOBIG.
 */
function largestStoredValue(dir) {
  let largest = { bytes: 0, where: "nothing" };
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".sqlite")) continue;
    const db = new DatabaseSync(join(entry.parentPath, entry.name), { readOnly: true });
    try {
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      for (const { name } of tables) {
        for (const { name: col } of db.prepare(`PRAGMA table_info("${name}")`).all()) {
          const row = db.prepare(`SELECT max(length(CAST("${col}" AS BLOB))) AS n FROM "${name}"`).get();
          if ((row.n ?? 0) > largest.bytes) largest = { bytes: row.n, where: `${name}.${col}` };
        }
      }
    } finally {
      db.close();
    }
  }
  return largest;
}

/**
 * Fills a registry with `names` (batches of `perWrite`), updates them one at a time up to
 * version PAST, rolls back to 0, writes once more, restarts the worker and reads every version
 * and the whole state at versions around each checkpoint (`few`: only at the checkpoints, the
 * version before the rollback and after it, as each full read of a large state takes seconds).
 */
async function fillRollBackRestartRead(base, names, valueOf, perWrite, few = false) {
  const model = new Model();
  for (let i = 0; i < names.length; i += perWrite) {
    await provide(base, model, names.slice(i, i + perWrite).map((n) => [n, valueOf(n, 0)]));
  }
  const filled = model.head;
  for (let i = 0; model.head < PAST; i++) {
    const n = names[i % names.length];
    await provide(base, model, [[n, valueOf(n, 1 + Math.floor(i / names.length))]]);
  }
  for (const to of [filled, 0]) {
    const r = await http("POST", `${base}/v1/rollback`, { to });
    assert.equal(r.status, 200, `rollback to ${to}: ${r.status} ${r.text.slice(0, 300)}`);
    const [now, target] = [model.stateAt(model.head), model.stateAt(to)];
    const changes = [...now.keys()].filter((id) => target.get(id) !== now.get(id)).map((id) => [id, target.get(id)]);
    assert.equal(r.json.version, model.push("rollback", changes));
    assert.equal(r.json.changeset.length, changes.length);
  }
  // Still writable after it.
  await provide(base, model, [[names[0], valueOf(names[0], 99)]]);
  // Every stored value fits a production row (checkpoints and the rollback's changeset are
  // written in pieces).
  const largest = largestStoredValue(worker.persist);
  assert.ok(largest.bytes < ROW_BOUND, `${largest.where} holds ${largest.bytes} bytes`);

  await worker.restart();

  await checkEveryVersion(base, model);
  const rolled = model.head - 1;
  const all = [1, filled, 255, 256, 257, 384, 511, 512, 513, rolled - 2, rolled - 1, rolled, model.head];
  for (const v of new Set(few ? [256, 512, rolled - 2, rolled - 1, rolled, model.head] : all)) {
    assertSameState(await stateOver(base, v), model.stateAt(v), v);
  }
}

const STATE_BOUND = 4 * 2 ** 20;
const ENTRY_BOUND = 10_000;

test("(a) 65 registers of ~60 KB: checkpoints, a rollback to 0 and every version after a restart", async () => {
  const names = [...Array(65).keys()].map((i) => `big:${String(i).padStart(3, "0")}`);
  // ~60 KB of JSON each (under the 64 KiB entry limit), different for every name and write.
  const valueOf = (n, gen) => `${n}#${gen}:`.padEnd(60_000, `${gen % 10}`);
  // 16 per write: ~960 KB, under the 1 MiB body limit.
  await fillRollBackRestartRead(`${worker.url}/r/big`, names, valueOf, 16);
});

test("(b) 10,000 small registers: checkpoints, a rollback to 0 and every version after a restart", async () => {
  const names = [...Array(ENTRY_BOUND).keys()].map((i) => `r:${String(i).padStart(6, "0")}`);
  const valueOf = (n, gen) => `${n.slice(2)}.${gen}`;
  const base = `${worker.url}/r/many`;
  await fillRollBackRestartRead(base, names, valueOf, 1000, true);
  // The rollback to 0 emptied it: fill it again, then one more is past the entry bound.
  for (let i = 0; i < names.length; i += 1000) {
    const body = { registers: Object.fromEntries(names.slice(i, i + 1000).map((n) => [n, { value: 1, ttl: TTL }])) };
    assert.equal((await http("PUT", `${base}/provider`, body)).status, 204);
  }
  const r = await http("PUT", `${base}/provider`, { registers: { "r:extra": { value: 1, ttl: TTL } } });
  assert.equal(r.status, 429, r.text.slice(0, 300));
  assert.equal(r.json.error.code, "capacity_exceeded");
  assert.match(r.json.error.message, /10000 entries/);
});

test("(c) past the state bound a write is 429 with a JSON error, changes nothing, and a delete makes room", async () => {
  const base = `${worker.url}/r/full`;
  const value = (i) => `${i}:`.padEnd(60_000, "v");
  let accepted = 0;
  let refused;
  for (;;) {
    const name = `v:${String(accepted).padStart(3, "0")}`;
    const r = await http("PUT", `${base}/provider`, { registers: { [name]: { value: value(accepted), ttl: TTL } } });
    if (r.status !== 204) {
      refused = r;
      break;
    }
    accepted++;
    assert.ok(accepted <= 100, "the state bound never refused");
  }
  // ~60,010 bytes each (id, value and metadata as JSON): 69 fit in 4 MiB, the 70th does not.
  assert.equal(accepted, Math.floor(STATE_BOUND / (5 + 60_002 + 2)));
  assert.equal(refused.status, 429, refused.text.slice(0, 300));
  assert.match(refused.headers.get("content-type"), /^application\/json/);
  assert.equal(refused.json.error.code, "capacity_exceeded");
  assert.match(refused.json.error.message, /limit is 4194304 bytes/);
  assert.ok(refused.headers.get("retry-after"), "Retry-After");
  const before = await http("GET", `${base}/v1/health`);
  // The same through /v1: refused, nothing written.
  const put = await http("PUT", `${base}/v1/entries/v:new`, { kind: "k", data: value(0) });
  assert.equal(put.status, 429, put.text.slice(0, 300));
  const after = await http("GET", `${base}/v1/health`);
  assert.equal(after.json.version, before.json.version, "nothing written");
  assert.equal(after.json.entries, accepted);
  // A delete is always accepted, and makes room for the write.
  const del = await http("DELETE", `${base}/v1/entries/v:000`);
  assert.equal(del.status, 200, del.text.slice(0, 300));
  const again = await http("PUT", `${base}/v1/entries/v:new`, { kind: "k", data: value(0) });
  assert.equal(again.status, 201, again.text.slice(0, 300));
});
