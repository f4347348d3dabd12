// End-to-end: entries are stored one JSON text per row (`entries.doc`, issue 14's cold start).
// A registry written by an older version, whose `entries` table had a column per field, is
// converted on open without losing or changing an entry: the test writes entries, stops the
// worker, turns the table back into the old layout with SQLite (node:sqlite), restarts and
// reads everything back, then writes and restarts once more.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Worker, http } from "./worker.mjs";

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

/** The Durable Object databases under the worker's persist folder that hold `entries`. */
function registryDatabases() {
  const out = [];
  for (const f of readdirSync(worker.persist, { recursive: true, withFileTypes: true })) {
    if (!f.isFile() || !f.name.endsWith(".sqlite")) continue;
    const path = join(f.parentPath, f.name);
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'entries'").get()) out.push(path);
    } finally {
      db.close();
    }
  }
  return out;
}

const columnsOf = (path) => {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("PRAGMA table_info(entries)").all().map((c) => c.name);
  } finally {
    db.close();
  }
};

/** Rewrites `entries` as the layout before `doc` (one column per field), from the docs. */
function toOldLayout(path) {
  const db = new DatabaseSync(path);
  try {
    db.exec(`BEGIN;
      CREATE TABLE entries_old (id TEXT PRIMARY KEY, kind TEXT NOT NULL, meta TEXT NOT NULL,
        data TEXT NOT NULL, ttl_ms INTEGER, expires_at INTEGER, version INTEGER NOT NULL);
      INSERT INTO entries_old SELECT doc ->> '$[0]', doc ->> '$[1]', doc -> '$[2]', doc -> '$[3]',
        doc ->> '$[4]', doc ->> '$[5]', doc ->> '$[6]' FROM entries;
      DROP TABLE entries;
      ALTER TABLE entries_old RENAME TO entries;
      COMMIT;`);
  } finally {
    db.close();
  }
}

/** Every entry of registry `base`, as the API lists them (all fields). */
async function everything(base) {
  const r = await http("GET", `${base}/v1/entries?limit=1000`);
  assert.equal(r.status, 200, r.text);
  return r.json;
}

test("entries written in the old column layout are converted on open, unchanged", async () => {
  const base = `${worker.url}/r/layout`;
  const regs = {
    "dev:temp": { value: 21.5, metadata: { unit: "°C", tags: ["a", "b"] }, ttl: "1000h" },
    "dev:name": { value: "quote \" and\nnewline", ttl: "1000h" },
    "dev:obj": { value: { deep: { list: [1, null, true] } } },
    "dev:null": { value: null },
  };
  assert.ok((await http("PUT", `${base}/provider`, { registers: regs })).status < 300);
  const put = await http("PUT", `${base}/v1/entries/cfg:x`, { kind: "config.net", data: { port: 8080 } });
  assert.ok(put.status < 300, put.text);
  const before = await everything(base);
  assert.equal(before.entries.length, 5, JSON.stringify(before));

  await worker.stop();
  const dbs = registryDatabases();
  assert.ok(dbs.length >= 1, "the registry's database is found");
  for (const path of dbs) {
    assert.ok(columnsOf(path).includes("doc"), "written in the doc layout");
    toOldLayout(path);
    // The positive control: the old layout is what the worker finds on open.
    assert.deepEqual(columnsOf(path), ["id", "kind", "meta", "data", "ttl_ms", "expires_at", "version"]);
  }
  await worker.start();
  assert.deepEqual(await everything(base), before);
  const consumer = await http("GET", `${base}/consumer?name=dev:temp`);
  assert.deepEqual(consumer.json.registers["dev:temp"], { value: 21.5, metadata: { unit: "°C", tags: ["a", "b"] } });

  // Writes after the conversion, and another restart.
  assert.ok((await http("PUT", `${base}/provider`, { registers: { "dev:temp": { value: 22, ttl: "1000h" } } })).status < 300);
  const deleted = await http("DELETE", `${base}/v1/entries/dev:null`);
  assert.ok(deleted.status < 300, deleted.text);
  const later = await everything(base);
  await worker.stop();
  for (const path of registryDatabases()) assert.deepEqual(columnsOf(path), ["id", "doc"]);
  await worker.start();
  assert.deepEqual(await everything(base), later);
  assert.equal(later.entries.length, 4);
  assert.equal(later.entries.find((e) => e.id === "dev:temp").data, 22);
});
