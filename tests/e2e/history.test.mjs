// End-to-end: versioned history over HTTP against the worker in workerd.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Worker, http } from "./worker.mjs";

// Small checkpoint interval and retention so that folding happens within the test.
const worker = new Worker({ vars: { CHECKPOINT_INTERVAL: "4", RETENTION_VERSIONS: "10" } });
before(() => worker.start());
after(() => worker.dispose());

const put = (base, id, body) => http("PUT", `${base}/v1/entries/${encodeURIComponent(id)}`, body);

test("history and versions survive a restart; numbering continues", async () => {
  const base = `${worker.url}/r/hist`;
  await put(base, "cfg:a", { kind: "config", data: 1 });
  await put(base, "cfg:a", { kind: "config", data: 2, meta: { note: "second" } });
  await http("PUT", `${base}/provider`, { registers: { temp: { value: 21.5, ttl: "1h" } } });
  const versions = (await http("GET", `${base}/v1/versions`)).json;
  const v2 = (await http("GET", `${base}/v1/versions/2`)).json;
  const state1 = (await http("GET", `${base}/v1/state?at=1`)).json;
  await worker.restart();
  assert.deepEqual((await http("GET", `${base}/v1/versions`)).json, versions);
  assert.deepEqual((await http("GET", `${base}/v1/versions/2`)).json, v2);
  assert.deepEqual((await http("GET", `${base}/v1/state?at=1`)).json, state1);
  const r = await put(base, "cfg:b", { kind: "config", data: 0 });
  assert.equal(r.json.version, 4, "version numbers never repeat after a restart");
  assert.equal(v2.changeset[0].before.data, 1);
  assert.equal(v2.changeset[0].entry.data, 2);
});

test("rollback over HTTP restores the state at a version as a new version", async () => {
  const base = `${worker.url}/r/rollback`;
  await put(base, "svc:web", { kind: "svc.http", meta: { port: 80 }, data: {} });
  await put(base, "svc:db", { kind: "svc.db", data: { size: 1 } });
  await put(base, "svc:web", { kind: "svc.http", meta: { port: 8080 }, data: {} });
  await http("DELETE", `${base}/v1/entries/svc%3Adb`);
  const r = await http("POST", `${base}/v1/rollback`, { to: 2 });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, 5);
  assert.deepEqual(r.json.changeset.map((o) => [o.op, o.id]), [["create", "svc:db"], ["update", "svc:web"]]);
  assert.equal(r.headers.get("x-registry-version"), "5");
  assert.equal((await http("GET", `${base}/v1/entries/svc:web`)).json.meta.port, 80);
  assert.equal((await http("GET", `${base}/v1/entries/svc:db`)).json.data.size, 1);
  const last = (await http("GET", `${base}/v1/versions/5`)).json;
  assert.equal(last.actor, "rollback");
  const diff = (await http("GET", `${base}/v1/diff?from=2&to=5`)).json;
  assert.deepEqual(diff.changeset, [], "back to the same content");
});

test("a stale if_version gets 409 and writes nothing", async () => {
  const base = `${worker.url}/r/occ`;
  await put(base, "x", { kind: "k", data: 1 });
  await put(base, "x", { kind: "k", data: 2 });
  const before = (await http("GET", `${base}/v1/versions`)).json;
  const r = await put(base, "x", { kind: "k", data: 3, if_version: 1 });
  assert.equal(r.status, 409);
  assert.equal(r.json.error.code, "version_conflict");
  assert.equal((await http("DELETE", `${base}/v1/entries/x?if_version=1`)).status, 409);
  assert.equal((await http("POST", `${base}/v1/rollback`, { to: 1, if_version: 1 })).status, 409);
  assert.deepEqual((await http("GET", `${base}/v1/versions`)).json, before);
  assert.equal((await http("GET", `${base}/v1/entries/x`)).json.data, 2);
});

test("concurrent writers with the same if_version: exactly one wins", async () => {
  const base = `${worker.url}/r/race`;
  await put(base, "x", { kind: "k", data: 0 });
  const results = await Promise.all([1, 2, 3, 4, 5].map((d) => put(base, "x", { kind: "k", data: d, if_version: 1 })));
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  assert.equal(results.filter((r) => r.status === 409).length, 4);
});

test("a folded version gets its distinct error (410)", async () => {
  const base = `${worker.url}/r/retention`;
  for (let i = 0; i < 40; i++) await put(base, `e${i % 4}`, { kind: "k", data: i });
  const list = (await http("GET", `${base}/v1/versions?limit=1000`)).json;
  assert.ok(list.oldest > 1, `oldest kept is ${list.oldest}`);
  assert.ok(list.versions.length >= 10, `kept ${list.versions.length}`);
  for (const path of ["/v1/versions/1", "/v1/state?at=1", `/v1/diff?from=1&to=40`]) {
    const r = await http("GET", `${base}${path}`);
    assert.equal(r.status, 410, path);
    assert.equal(r.json.error.code, "version_folded");
  }
  assert.equal((await http("POST", `${base}/v1/rollback`, { to: 1 })).status, 410);
  assert.equal((await http("GET", `${base}/v1/versions/${list.oldest}`)).status, 200);
  assert.equal((await http("GET", `${base}/v1/state?at=${list.oldest - 1}`)).status, 200, "the base itself is readable");
});
