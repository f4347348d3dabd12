// End-to-end: state survives a restart (and a crash) of the worker process.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
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
  assert.ok(before.version > 0, `a version header before the restart (${before.headers.get("x-registry-version")})`);
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
  const put = await http("PUT", `${base()}/provider`, { registers: { t: { value: 1, ttl: "4s" } } });
  assert.equal(put.status, 204, put.text);
  const written = Date.now();
  await worker.restart();
  // Not one request to this registry until well after the expiry was due (the restart's own
  // readiness check goes to /v1/health of another registry): only the durable alarm can
  // expire the register in that time.
  const quietUntil = written + 4_000 + 2_000;
  if (Date.now() < quietUntil) await sleep(quietUntil - Date.now());
  const firstRequestAt = Date.now();
  const versions = await http("GET", `${base()}/v1/versions?limit=1`);
  assert.equal(versions.status, 200, versions.text);
  const [newest] = versions.json.versions;
  assert.equal(newest.version, versions.json.head, "the newest version is the head");
  assert.equal(newest.actor, "ttl", `the newest version: ${versions.text}`);
  assert.ok(newest.timestamp < firstRequestAt,
    `expired at ${newest.timestamp}, not before the first request after the restart (${firstRequestAt})`);
  const head = await http("GET", `${base()}/v1/versions/${newest.version}`);
  assert.equal(head.status, 200, head.text);
  assert.deepEqual(head.json.changeset.map((op) => `${op.op} ${op.id}`), ["delete t"]);
  assert.equal(head.json.timestamp, newest.timestamp);
  const r = await http("GET", `${base()}/consumer?name=t`);
  assert.deepEqual(r.json, { registers: {} });
});
