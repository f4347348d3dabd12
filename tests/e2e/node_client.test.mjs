// End-to-end: the web client package used from Node (the packed npm package, installed)
// against the worker in workerd, open and with REGISTRY_TOKENS set (`{ token }`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "./package.mjs";
import { Worker, http } from "./worker.mjs";

// The packed npm package (bash scripts/pack.sh), installed into a fresh project: its node entry.
const { RegistryClient } = await importPackage();

const worker = new Worker();
const TOKENS = [
  { name: "kitchen-pi", token: "node-pi-0123456789", role: "provider", registries: ["node"], prefixes: ["kitchen:"] },
  { name: "ops", token: "node-ops-0123456789", role: "admin" },
];
const locked = new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify(TOKENS) }, readyStatuses: [401] });
before(() => Promise.all([worker.start(), locked.start()]));
after(() => Promise.all([worker.dispose(), locked.dispose()]));

test("provide, consume with for-await, request and close from Node", async () => {
  const base = `${worker.url}/r/node`;
  const device = new RegistryClient(base);
  const ui = new RegistryClient(base);
  const lamp = device.provide("kitchen:lamp", false, { metadata: { room: "kitchen" }, ttl: "2s" });
  const seen = [];
  const requests = (async () => {
    for await (const req of lamp.requests) {
      await lamp.set(req.value);
      break;
    }
  })();
  for await (const update of ui.consume("kitchen:lamp")) {
    seen.push(update.value);
    if (update.value === false) await ui.consume("kitchen:lamp").request(true);
    if (update.value === true) break;
  }
  await requests;
  assert.deepEqual(seen, [false, true]);
  const all = ui.consumeAll();
  const { value: snapshot } = await all.next();
  assert.deepEqual(snapshot.registers["kitchen:lamp"], { metadata: { room: "kitchen" }, value: true });
  ui.close();
  device.close();
  assert.deepEqual(await all.next(), { value: undefined, done: true });
});

test("{ token }: HTTP and WebSocket carry it; without it the error says 401, out of scope 403", async () => {
  const base = `${locked.url}/r/node`;
  for (const transport of ["websocket", "long-poll"]) {
    const client = new RegistryClient(base, { token: TOKENS[0].token, transport });
    const lamp = client.provide("kitchen:lamp", transport, { ttl: "1h" });
    // The stream starts with the current value (the previous round's) until the publish lands.
    for await (const update of client.consume("kitchen:lamp")) if (update.value === transport) break;
    assert.deepEqual(await client.read(["kitchen:lamp"]), { "kitchen:lamp": { value: transport } });
    await assert.rejects(client.getEntry("garage:door"), (e) => e.status === 403 && e.code === "forbidden");
    lamp.close();
    client.close();
  }
  // The version actor is the token's name: the writes went with the token.
  const versions = await http("GET", `${base}/v1/versions?limit=1`, undefined, { authorization: `Bearer ${TOKENS[1].token}` });
  assert.equal(versions.json.versions[0].actor, "kitchen-pi");
  const anonymous = new RegistryClient(base);
  await assert.rejects(anonymous.read(["kitchen:lamp"]), (e) => e.status === 401 && /HTTP 401/.test(e.message) && e.code === "unauthorized");
  const wrong = new RegistryClient(base, { token: "node-pi-0123456780" });
  await assert.rejects(wrong.find([".id=*"]), (e) => e.status === 401);
  assert.throws(() => new RegistryClient(base, { token: "no spaces allowed" }), /token must be/);
  anonymous.close();
  wrong.close();
});
