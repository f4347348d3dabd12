// End-to-end: transactions against the worker in workerd.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Worker, http } from "./worker.mjs";

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

const svc = (op, id, deps = []) => ({ op, id, kind: "svc", meta: { depends_on: deps }, data: { id } });

test("a transaction of many entries is one version", async () => {
  const base = `${worker.url}/r/tx-many`;
  const ops = Array.from({ length: 200 }, (_, i) => svc("create", `e${String(i).padStart(3, "0")}`, i ? [`e${String(i - 1).padStart(3, "0")}`] : []));
  const r = await http("POST", `${base}/v1/tx`, { ops: ops.reverse() });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.version, 1);
  assert.equal(r.json.changeset.length, 200);
  assert.equal(r.json.changeset[0].id, "e000", "dependencies first");
  const versions = (await http("GET", `${base}/v1/versions`)).json;
  assert.equal(versions.versions.length, 1);
  assert.equal(versions.versions[0].ops, 200);
});

test("a rejected transaction writes nothing and returns every reason", async () => {
  const base = `${worker.url}/r/tx-rejected`;
  await http("POST", `${base}/v1/tx`, { ops: [svc("create", "db"), svc("create", "app", ["db"])] });
  const before = (await http("GET", `${base}/v1/entries`)).json;
  const r = await http("POST", `${base}/v1/tx`, { ops: [svc("create", "web", ["ghost"]), { op: "delete", id: "db" }, svc("create", "ok")] });
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, "rejected");
  assert.deepEqual(r.json.error.reasons.map((x) => x.id), ["web", "db"]);
  const c = await http("POST", `${base}/v1/tx`, { if_version: 99, ops: [svc("create", "db"), svc("update", "nope")] });
  assert.equal(c.status, 409);
  assert.equal(c.json.error.reasons.length, 3);
  assert.deepEqual((await http("GET", `${base}/v1/entries`)).json, before);
});

test("concurrent conflicting transactions: exactly one wins", async () => {
  const base = `${worker.url}/r/tx-race`;
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    http("POST", `${base}/v1/tx`, { if_version: 0, ops: [svc("upsert", "shared"), svc("create", `own${i}`)] })));
  assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(","));
  assert.equal(results.filter((r) => r.status === 409).length, 7);
  assert.equal((await http("GET", `${base}/v1/health`)).json.version, 1);
});
