// End-to-end: the web client package from Node (the packed npm package, installed) over its
// WebSocket transport against the worker in workerd — watches, query streams, providers with
// change requests and verdicts, validators, a worker restart resumed with no missed or repeated
// change, and the fallback to long polls when WebSocket upgrades are refused.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { importPackage } from "./package.mjs";
import { Worker, freePort, http, putUntilAccepted } from "./worker.mjs";

// The packed npm package (bash scripts/pack.sh), installed into a fresh project: its node entry.
const { RegistryClient } = await importPackage();

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

/** The next item of a stream, failing after `ms`. */
async function next(stream, ms = 10_000) {
  const r = await Promise.race([
    stream.next(),
    sleep(ms).then(() => { throw new Error(`no item within ${ms} ms`); }),
  ]);
  assert.equal(r.done, false, "the stream ended");
  return r.value;
}

/** Waits until `f()` holds (10 s at most). */
async function until(what, f, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

/** Clients closed at the end of the test, whatever happens (a failed test must not leave a
 * client reconnecting forever). */
function clients(t, base, n, options) {
  const list = Array.from({ length: n }, () => new RegistryClient(base, options));
  t.after(() => list.forEach((c) => c.close()));
  return list;
}

test("watch, provide, request and validate over one WebSocket", async (t) => {
  const base = `${worker.url}/r/node-ws`;
  const [device, ui] = clients(t, base, 2);
  const lamp = device.provide("kitchen:lamp", false, { metadata: { room: "kitchen" }, ttl: "2s" });
  // The provider: applies booleans, rejects anything else.
  const answered = (async () => {
    for await (const req of lamp.requests) {
      if (typeof req.value === "boolean") await req.accept(true);
      else await req.reject(`${JSON.stringify(req.value)} is not on or off`);
    }
  })();

  const view = ui.consume("kitchen:lamp");
  assert.deepEqual(await next(view), { name: "kitchen:lamp", value: false, metadata: { room: "kitchen" }, version: 1, removed: false });
  assert.equal(ui.transport, "websocket");
  const kitchen = ui.watch({ "^meta.room": "kit" });
  const first = await next(kitchen);
  assert.deepEqual(first.entries.map((e) => [e.id, e.data]), [["kitchen:lamp", false]]);

  const accepted = await view.request(true);
  assert.equal(accepted.status, "accepted");
  assert.equal(accepted.name, "kitchen:lamp");
  assert.equal(typeof accepted.request, "number");
  assert.equal((await next(view)).value, true);
  const result = await next(kitchen);
  assert.deepEqual(result.entries.map((e) => [e.id, e.data]), [["kitchen:lamp", true]]);
  assert.deepEqual(result.ops.map((o) => [o.op, o.id]), [["update", "kitchen:lamp"]]);
  assert.ok(result.version > first.version);

  const rejected = await ui.request("kitchen:lamp", "purple");
  assert.deepEqual(
    { status: rejected.status, reason: rejected.reason },
    { status: "rejected", reason: '"purple" is not on or off' },
  );

  // A validator on another client: kitchen entries must carry an owner.
  const guard = device.validate(["^meta.room=kit"], async ({ ops }) => {
    await sleep(10);
    const bad = ops.find((op) => op.entry && !op.entry.meta.owner);
    return bad ? `${bad.id} has no owner` : true;
  });
  await guard.ready;
  await assert.rejects(
    ui.transaction([{ op: "create", id: "kitchen:fan", kind: "device", meta: { room: "kitchen" }, data: 1 }]),
    (e) => e.code === "rejected" && e.reasons[0].reason === "kitchen:fan has no owner"
      && e.reasons[0].listener === `validator:${guard.id}`,
  );
  const done = await ui.transaction([{ op: "create", id: "kitchen:fan", kind: "device", meta: { room: "kitchen", owner: "ann" }, data: 1 }]);
  assert.equal(typeof done.version, "number");
  const withFan = await next(kitchen);
  assert.deepEqual(withFan.entries.map((e) => e.id), ["kitchen:fan", "kitchen:lamp"]);
  guard.close();

  // Past the provider's half-life refresh the applied value stays (the provider adopted it).
  await sleep(1_500);
  assert.equal((await ui.read(["kitchen:lamp"]))["kitchen:lamp"].value, true);
  ui.close();
  device.close();
  await answered;
  assert.deepEqual(await view.next(), { value: undefined, done: true });
});

test("after a worker restart the client reconnects and resumes: nothing missed, nothing twice", async (t) => {
  const base = `${worker.url}/r/node-restart`;
  const write = (value) => putUntilAccepted(`${base}/provider`, { registers: { n: { value, ttl: "1h" } } });
  await write(0);
  const [ui, device] = clients(t, base, 2, { transport: "websocket" });
  const values = [];
  const results = [];
  ui.consume("n").subscribe((u) => values.push(u.value));
  ui.watch([".kind=register"]).subscribe((r) => results.push(r.version));
  const lamp = device.provide("lamp", "off", { ttl: "1h" });
  const statuses = [];
  const offStatus = ui.onStatus((s) => statuses.push(s));
  await until("the first value", () => values.length === 1 && results.length >= 1);
  assert.equal(ui.status, "live");
  for (let v = 1; v <= 5; v++) await write(v);
  await worker.restart(true); // SIGKILL: the sockets drop
  for (let v = 6; v <= 10; v++) await write(v); // most likely before the client is back
  await until("every value", () => values.length === 11, 20_000);
  // live → reconnecting (→ offline if the restart outlasted 6 attempts) → live.
  assert.equal(ui.status, "live");
  assert.equal(statuses[0], "live", `statuses: ${statuses}`);
  assert.equal(statuses[1], "reconnecting", `statuses: ${statuses}`);
  assert.equal(statuses.at(-1), "live", `statuses: ${statuses}`);
  assert.ok(statuses.slice(2, -1).every((s) => s === "offline"), `statuses: ${statuses}`);
  await sleep(300);
  assert.deepEqual(values, [...Array(11).keys()]);
  const history = await http("GET", `${base}/v1/versions?limit=100`);
  const expected = history.json.versions.map((v) => v.version).sort((a, b) => a - b);
  // The provider's first publication is a version of its own; the query sees it too.
  assert.deepEqual(results, expected.filter((v) => v >= results[0]), "each version once, in order");

  // The provider was re-announced on the new socket: requests still reach it.
  const asked = (async () => {
    for await (const req of lamp.requests) return req.reject("busy");
  })();
  const outcome = await ui.request("lamp", "on");
  assert.deepEqual({ status: outcome.status, reason: outcome.reason }, { status: "rejected", reason: "busy" });
  await asked;
  ui.close();
  device.close();
  assert.equal(ui.status, "closed");
  assert.equal(statuses.at(-1), "closed", "listeners hear the close");
  offStatus();
});

test("auto falls back to long polls when WebSocket upgrades are refused", async (t) => {
  // A proxy that forwards plain HTTP to the worker and refuses every upgrade.
  const proxy = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? Buffer.concat(chunks) : undefined;
    try {
      const r = await fetch(`${worker.url}${req.url}`, { method: req.method, headers: { "content-type": "application/json" }, body });
      // fetch has decoded the body: drop the headers that describe the encoded one.
      const headers = Object.fromEntries(r.headers);
      for (const h of ["content-encoding", "content-length", "transfer-encoding"]) delete headers[h];
      res.writeHead(r.status, headers);
      res.end(Buffer.from(await r.arrayBuffer()));
    } catch {
      res.writeHead(502).end();
    }
  });
  proxy.on("upgrade", (_req, socket) => socket.end("HTTP/1.1 403 Forbidden\r\n\r\n"));
  const port = await freePort();
  await new Promise((ok) => proxy.listen(port, "127.0.0.1", ok));
  const base = `http://127.0.0.1:${port}/r/node-fallback`;
  try {
    const [device, ui] = clients(t, base, 2);
    const lamp = device.provide("lamp", "off");
    const view = ui.consume("lamp");
    assert.equal((await next(view)).value, "off");
    assert.equal(ui.transport, "long-poll");
    assert.equal(device.transport, "long-poll");
    assert.equal(ui.status, "long-poll", "the status follows the fallback");
    assert.throws(() => ui.validate([".kind=x"], () => true), /needs the WebSocket/);
    const answered = (async () => {
      for await (const req of lamp.requests) return req.accept(true);
    })();
    assert.equal((await ui.request("lamp", "on")).status, "accepted");
    await answered;
    assert.equal((await next(view)).value, "on");
    ui.close();
    device.close();
  } finally {
    proxy.closeAllConnections();
    await new Promise((ok) => proxy.close(ok));
  }
});
