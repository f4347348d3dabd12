// End-to-end: streams against the real worker in workerd — WebSocket and SSE watches that
// survive a crash of the worker process with no missed or duplicated change, change requests
// with outcomes, remote validators that reject or time out.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, http, putUntilAccepted } from "./worker.mjs";
import { SseWatch, WsSession } from "./stream_client.mjs";

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

/** Every version (ascending) whose changeset touches `id`, from the registry's history. */
async function versionsTouching(base, id) {
  const head = (await http("GET", `${base}/v1/health`)).json.version;
  const out = [];
  for (let v = 1; v <= head; v++) {
    const r = await http("GET", `${base}/v1/versions/${v}`);
    assert.equal(r.status, 200, r.text);
    if (r.json.changeset.some((op) => op.id === id)) out.push(v);
  }
  return out;
}

test("watchers resume after the worker is killed mid-stream: nothing missed, nothing twice", async () => {
  const base = () => `${worker.url}/r/resume`;
  const ws = await new WsSession(base).open();
  const byName = ws.watch("n", { names: ["k:a"] });
  const byQuery = ws.watch("q", { where: [".id=k:*"] });
  const sse = new SseWatch(base, "name=k:a").start();
  await ws.next((m) => m.type === "synced" && m.watch === "q");
  await sleep(300);
  const write = (i) => putUntilAccepted(`${base()}/provider`, { registers: { "k:a": { value: i, ttl: "1h" } } });
  for (let i = 1; i <= 30; i++) await write(i);
  await worker.restart(true); // SIGKILL: every socket and stream drops
  for (let i = 31; i <= 60; i++) await write(i);
  // A transaction and a rollback are changes like any other.
  const tx = await http("POST", `${base()}/v1/tx`, { ops: [{ op: "upsert", id: "k:a", kind: "register", data: "tx" }] });
  assert.equal(tx.status, 200, tx.text);
  const rb = await http("POST", `${base()}/v1/rollback`, { to: tx.json.version - 1 });
  assert.equal(rb.status, 200, rb.text);
  const expected = await versionsTouching(base(), "k:a");
  assert.equal(expected.length, 62);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const done = [byName, byQuery].every((w) => w.changes.length >= expected.length) && sse.changes.length >= expected.length;
    if (done) break;
    await sleep(100);
  }
  ws.close();
  sse.close();
  assert.ok(ws.opens >= 2 && sse.opens >= 2, "both reconnected");
  for (const [what, changes] of [["ws names", byName.changes], ["ws query", byQuery.changes], ["sse", sse.changes]]) {
    assert.deepEqual(changes.map((c) => c.version), expected, what);
  }
  // The values arrive in order: 1..60, "tx", then the rollback back to 60.
  const values = byName.changes.map((c) => c.ops[0].entry?.data);
  assert.deepEqual(values, [...Array.from({ length: 60 }, (_, i) => i + 1), "tx", 60]);
});

test("a provider on a socket answers requests; consumers await the outcome", async () => {
  const base = () => `${worker.url}/r/requests`;
  const provider = await new WsSession(base).open();
  const ok = await provider.call({ type: "provide", registers: { "hall:lamp": { value: false, ttl: "1h" } } });
  assert.equal(ok.type, "ok");
  provider.onMessage = (m, s) => {
    if (m.type !== "request") return;
    if (m.value === "broken") s.send({ type: "verdict", request: m.request, accept: false, reason: "not a lamp state" });
    else s.send({ type: "verdict", request: m.request, accept: true, apply: true });
  };
  // Over HTTP: make the request, then long-poll its outcome.
  const made = await http("POST", `${base()}/v1/requests`, { name: "hall:lamp", value: true });
  assert.equal(made.status, 202, made.text);
  const outcome = await http("GET", `${base()}/v1/requests/${made.json.request}?wait=10s`);
  assert.equal(outcome.json.status, "accepted");
  assert.equal((await http("GET", `${base()}/consumer?name=hall:lamp`)).json.registers["hall:lamp"].value, true);
  // Over a socket: the outcome arrives as a message.
  const consumer = await new WsSession(base).open();
  const reply = await consumer.call({ type: "request", name: "hall:lamp", value: "broken" });
  assert.equal(reply.type, "ok");
  const out = await consumer.next((m) => m.type === "outcome");
  assert.deepEqual([out.request, out.status, out.reason], [reply.request, "rejected", "not a lamp state"]);
  // reg's register API still works as before.
  assert.equal((await http("PUT", `${base()}/consumer`, { registers: { x: { value: 1 } } })).status, 202);
  const taken = await http("GET", `${base()}/provider?name=x`);
  assert.deepEqual(taken.json, { registers: { x: { value: 1 } } });
  assert.match(taken.headers.get("x-request-ids"), /^\{"x":\d+\}$/);
  provider.close();
  consumer.close();
});

test("a validator that rejects or stays silent makes the transaction fail with its reason", async () => {
  const base = () => `${worker.url}/r/validate`;
  const cfg = await http("PUT", `${base()}/v1/config`, { config: { validator_timeout_ms: 1500 } });
  assert.equal(cfg.status, 200, cfg.text);
  const v = await new WsSession(base).open();
  assert.equal((await v.call({ type: "validate", validator: "guard", where: [".kind=door"] })).type, "ok");
  v.onMessage = (m, s) => {
    if (m.type !== "validate") return;
    const open = m.ops.some((op) => op.entry?.data === "open");
    if (m.ops.some((op) => op.entry?.data === "ajar")) return; // silence
    s.send({ type: "decide", tx: m.tx, validator: m.validator, accept: !open, reason: open ? "doors stay shut at night" : undefined });
  };
  const shut = await http("POST", `${base()}/v1/tx`, { ops: [{ op: "upsert", id: "d:1", kind: "door", data: "shut" }] });
  assert.equal(shut.status, 200, shut.text);
  const opened = await http("POST", `${base()}/v1/tx`, { ops: [{ op: "update", id: "d:1", kind: "door", data: "open" }] });
  assert.equal(opened.status, 422);
  assert.equal(opened.json.error.reasons[0].listener, "validator:guard");
  assert.equal(opened.json.error.reasons[0].reason, "doors stay shut at night");
  const t0 = Date.now();
  const ajar = await http("PUT", `${base()}/v1/entries/d:1`, { kind: "door", data: "ajar" });
  assert.equal(ajar.status, 422);
  assert.match(ajar.json.error.message, /no verdict within 1500 ms/);
  assert.ok(Date.now() - t0 >= 1400, "waited for the timeout");
  // Other kinds are not held.
  assert.equal((await http("PUT", `${base()}/v1/entries/w:1`, { kind: "window", data: 1 })).status, 201);
  assert.equal((await http("GET", `${base()}/v1/entries/d:1`)).json.data, "shut");
  v.close();
});

test("stream endpoints refuse what they cannot serve", async () => {
  const base = `${worker.url}/r/bad`;
  assert.equal((await http("GET", `${base}/v1/ws`)).status, 426);
  const both = await http("GET", `${base}/v1/watch?name=a&where=.id=a`);
  assert.equal(both.status, 400);
  const ahead = await http("GET", `${base}/v1/watch?name=a&since=99`);
  assert.equal(ahead.json.error.code, "invalid_since");
  const s = await new WsSession(() => base).open();
  const bad = await s.call({ type: "watch", watch: "w", where: ["~data=("] });
  assert.equal(bad.error.code, "invalid_criterion");
  s.close();
});
