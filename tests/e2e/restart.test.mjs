// End-to-end: state survives a restart (and a crash) of the worker process.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Worker, http } from "./worker.mjs";

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

test("registers, change requests and versions survive a restart", async () => {
  const base = () => `${worker.url}/r/persist`;
  await http("PUT", `${base()}/provider`, { registers: { a: { value: 1.50, metadata: { u: "C" }, ttl: "1h" } } });
  await http("PUT", `${base()}/consumer`, { registers: { a: { value: 2 } } });
  const before = await http("GET", `${base()}/consumer`);
  await worker.restart();
  const afterRestart = await http("GET", `${base()}/consumer`);
  assert.equal(afterRestart.text, before.text);
  assert.equal(afterRestart.version, before.version);
  assert.deepEqual((await http("GET", `${base()}/provider`)).json, { registers: { a: { value: 2 } } });
});

test("a crash (SIGKILL) right after a write loses nothing that was acknowledged", async () => {
  const base = () => `${worker.url}/r/crash`;
  for (let i = 0; i < 20; i++) {
    assert.equal((await http("PUT", `${base()}/provider`, { registers: { [`r${i}`]: { value: i, ttl: "1h" } } })).status, 204);
  }
  await worker.restart(true);
  const r = await http("GET", `${base()}/consumer`);
  assert.equal(Object.keys(r.json.registers).length, 20);
  assert.equal(r.version, 20);
});

test("an expiry scheduled before a restart still happens after it, with no traffic", async () => {
  const base = () => `${worker.url}/r/alarm`;
  await http("PUT", `${base()}/provider`, { registers: { t: { value: 1, ttl: "4s" } } });
  await worker.restart();
  const r = await http("GET", `${base()}/consumer?name=t&wait=30s`);
  assert.deepEqual(r.json, { registers: {} });
});
