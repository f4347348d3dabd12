// End-to-end: the register API over real HTTP against the worker running in workerd.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, http } from "./worker.mjs";
import { RegWireClient } from "./reg_client.mjs";

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

let n = 0;
/** A registry of its own for each test. */
const fresh = () => `${worker.url}/r/t${process.pid}-${++n}`;

describe("wire rules", () => {
  test("PUT /provider is 204 and GET /consumer returns it with a trailing newline", async () => {
    const base = fresh();
    const put = await http("PUT", `${base}/provider`, { registers: { temp: { value: 25.5, metadata: { unit: "celsius" } } } });
    assert.equal(put.status, 204);
    assert.equal(put.text, "");
    const get = await http("GET", `${base}/consumer?name=temp`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get("content-type"), "application/json");
    assert.equal(get.text, '{"registers":{"temp":{"metadata":{"unit":"celsius"},"value":25.5}}}\n');
    assert.equal(get.version, 1);
  });

  test("bare paths address the registry named default", async () => {
    await http("PUT", `${worker.url}/provider`, { registers: { "bare-path": { value: 1 } } });
    const viaR = await http("GET", `${worker.url}/r/default/consumer?name=bare-path`);
    assert.deepEqual(viaR.json, { registers: { "bare-path": { value: 1 } } });
  });

  test("unknown paths are 404 and other methods 405, as JSON errors", async () => {
    for (const path of ["/consumer/", "/consumers", "/r/x/nope"]) {
      const r = await http("GET", `${worker.url}${path}`);
      assert.equal(r.status, 404, path);
      assert.equal(r.json.error.code, "not_found");
    }
    for (const method of ["POST", "DELETE", "PATCH"]) {
      const r = await http(method, `${worker.url}/consumer`);
      assert.equal(r.status, 405, method);
      assert.equal(r.json.error.code, "method_not_allowed");
    }
    assert.equal((await fetch(`${worker.url}/provider`, { method: "HEAD" })).status, 405);
    assert.equal((await fetch(`${worker.url}/provider`, { method: "OPTIONS" })).status, 405);
  });

  test("a CORS preflight is answered", async () => {
    const r = await fetch(`${worker.url}/provider`, { method: "OPTIONS", headers: { Origin: "http://example.test", "Access-Control-Request-Method": "PUT" } });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
  });
});

describe("bad input changes nothing", () => {
  const cases = [
    ["PUT", "/provider", "invalid json", 400, "invalid_request"],
    ["PUT", "/provider", "", 400, "invalid_request"],
    ["PUT", "/provider", "{}", 400, "registers_required"],
    ["PUT", "/provider", '{"registers":null}', 400, "registers_required"],
    ["PUT", "/provider", '{"registers":{"t":{}}}', 400, "value_required"],
    ["PUT", "/provider", '{"registers":{"ok":{"value":1},"t":{}}}', 400, "value_required"],
    ["PUT", "/provider", '{"registers":{"t":{"value":1,"ttl":"abc"}}}', 400, "invalid_request"],
    ["PUT", "/provider", '{"registers":{"t":{"value":1,"ttl":10}}}', 400, "invalid_request"],
    ["PUT", "/provider", '{"registers":{"t":{"value":1,"metadata":[]}}}', 400, "invalid_request"],
    ["PUT", "/consumer", '{"registers":{"t":5}}', 400, "invalid_request"],
    ["PUT", "/consumer", '{"registers":{"t":{}}}', 400, "value_required"],
    ["GET", "/consumer?wait=5", undefined, 400, "invalid_wait"],
    ["GET", "/provider?wait=1d", undefined, 400, "invalid_wait"],
    ["GET", "/consumer?since=abc", undefined, 400, "invalid_since"],
    ["GET", "/consumer?name=%zz", undefined, 400, "invalid_query"],
    ["PUT", "/provider", JSON.stringify({ registers: { big: { value: "x".repeat(70_000) } } }), 413, "too_large"],
    ["PUT", "/provider", JSON.stringify({ registers: { huge: { value: "x".repeat(1_100_000) } } }), 413, "too_large"],
  ];
  for (const [method, path, body, status, code] of cases) {
    test(`${method} ${path} ${String(body).slice(0, 40)} → ${status} ${code}`, async () => {
      const base = fresh();
      await http("PUT", `${base}/provider`, { registers: { keep: { value: 1, ttl: "1h" } } });
      await http("PUT", `${base}/consumer`, { registers: { keep: { value: 2 } } });
      const before = await http("GET", `${base}/consumer`);
      const r = await http(method, `${base}${path}`, body);
      assert.equal(r.status, status, r.text);
      assert.equal(r.json.error.code, code);
      assert.equal(typeof r.json.error.message, "string");
      const afterState = await http("GET", `${base}/consumer`);
      assert.equal(afterState.text, before.text);
      assert.ok(before.version > 0, `a version header (${before.headers.get("x-registry-version")})`);
      assert.equal(afterState.version, before.version);
      assert.deepEqual((await http("GET", `${base}/provider`)).json, { registers: { keep: { value: 2 } } });
    });
  }

  test("an invalid registry name is a 400", async () => {
    const r = await http("GET", `${worker.url}/r/bad%20name/consumer`);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, "invalid_registry");
  });
});

describe("long polls", () => {
  test("a waiting GET /consumer wakes at once on a change", async () => {
    const base = fresh();
    const started = Date.now();
    const poll = http("GET", `${base}/consumer?name=a&wait=20s`);
    await sleep(300);
    await http("PUT", `${base}/provider`, { registers: { a: { value: 42 } } });
    const r = await poll;
    const took = Date.now() - started;
    assert.deepEqual(r.json, { registers: { a: { value: 42 } } });
    assert.ok(took < 3_000, `woken after ${took} ms`);
  });

  test("a waiting GET /provider receives a change request", async () => {
    const base = fresh();
    const poll = http("GET", `${base}/provider?name=lamp&wait=20s`);
    await sleep(300);
    assert.equal((await http("PUT", `${base}/consumer`, { registers: { lamp: { value: true } } })).status, 202);
    assert.deepEqual((await poll).json, { registers: { lamp: { value: true } } });
    assert.deepEqual((await http("GET", `${base}/provider`)).json, { registers: {} }, "consumed");
  });

  test("since= answers at once when something changed after that version", async () => {
    const base = fresh();
    await http("PUT", `${base}/provider`, { registers: { a: { value: 1, ttl: "1h" } } });
    const seen = (await http("GET", `${base}/consumer?name=a`)).version;
    await http("PUT", `${base}/provider`, { registers: { a: { value: 2, ttl: "1h" } } });
    const started = Date.now();
    const r = await http("GET", `${base}/consumer?name=a&wait=20s&since=${seen}`);
    assert.equal(r.json.registers.a.value, 2);
    assert.ok(Date.now() - started < 2_000);
  });
});

describe("TTL", () => {
  test("a register expires with no traffic: only the alarm can wake this poll", async () => {
    const base = fresh();
    await http("PUT", `${base}/provider`, { registers: { t: { value: 1, ttl: "1500ms" } } });
    const started = Date.now();
    const r = await http("GET", `${base}/consumer?name=t&wait=20s`);
    const took = Date.now() - started;
    assert.deepEqual(r.json, { registers: {} });
    assert.ok(took >= 1_200 && took < 5_000, `expired after ${took} ms`);
  });

  test("expiries one after another with no traffic: the alarm re-arms itself", async () => {
    const base = fresh();
    await http("PUT", `${base}/provider`, { registers: { t1: { value: 1, ttl: "1500ms" }, t2: { value: 2, ttl: "3s" } } });
    const started = Date.now();
    // Only the alarm that expires t1 can arm the one that expires t2.
    const r = await http("GET", `${base}/consumer?name=t2&wait=20s`);
    const took = Date.now() - started;
    assert.deepEqual(r.json, { registers: {} });
    assert.ok(took >= 2_500 && took < 8_000, `t2 expired after ${took} ms`);
    assert.deepEqual((await http("GET", `${base}/consumer?name=t1`)).json, { registers: {} });
  });

  test("a TTL refresh keeps a register alive and wakes nobody", async () => {
    const base = fresh();
    const reg = { registers: { t: { value: 1, ttl: "1500ms" } } };
    await http("PUT", `${base}/provider`, reg);
    const v = (await http("GET", `${base}/consumer`)).version;
    assert.ok(v > 0, "a version header");
    for (let i = 0; i < 4; i++) {
      await sleep(700);
      await http("PUT", `${base}/provider`, reg);
    }
    const r = await http("GET", `${base}/consumer`);
    assert.deepEqual(r.json, { registers: { t: { value: 1 } } });
    assert.equal(r.version, v, "refreshes made no version");
  });
});

describe("registries", () => {
  test("registries are isolated from each other", async () => {
    const a = fresh(), b = fresh();
    await http("PUT", `${a}/provider`, { registers: { x: { value: "a" } } });
    await http("PUT", `${b}/provider`, { registers: { x: { value: "b" } } });
    await http("PUT", `${a}/consumer`, { registers: { x: { value: "for a" } } });
    assert.deepEqual((await http("GET", `${a}/consumer`)).json, { registers: { x: { value: "a" } } });
    assert.deepEqual((await http("GET", `${b}/consumer`)).json, { registers: { x: { value: "b" } } });
    assert.deepEqual((await http("GET", `${b}/provider`)).json, { registers: {} });
    assert.deepEqual((await http("GET", `${a}/provider`)).json, { registers: { x: { value: "for a" } } });
  });
});

describe("a reg client works unchanged", () => {
  test("consume, provide and request through reg's wire protocol", async () => {
    const reg = new RegWireClient(fresh());
    await reg.setRegisters({ temperature: { value: 22.5, metadata: { unit: "celsius" }, ttl: "10s" }, mode: { value: null } });
    assert.deepEqual(await reg.getRegisters(["temperature", "missing"], 0), { temperature: { value: 22.5, metadata: { unit: "celsius" } } });
    assert.deepEqual(await reg.getRegisters(null, 0), { mode: { value: null }, temperature: { value: 22.5, metadata: { unit: "celsius" } } });
    const provider = reg.getChangeRequests(["temperature"], 5);
    await sleep(200);
    await reg.requestChanges({ temperature: 25, mode: "cooling" });
    assert.deepEqual(await provider, { temperature: 25 });
    assert.deepEqual(await reg.getChangeRequests(null, 0), { mode: "cooling" });
    const consumer = reg.getRegisters(["temperature"], 5);
    await sleep(200);
    await reg.setRegisters({ temperature: { value: 25, metadata: { unit: "celsius" }, ttl: "10s" } });
    assert.deepEqual(await consumer, { temperature: { value: 25, metadata: { unit: "celsius" } } });
  });
});
