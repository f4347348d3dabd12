// End-to-end: the web client package used from Node (the packed npm package, installed)
// against the worker in workerd.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { importPackage } from "./package.mjs";
import { Worker } from "./worker.mjs";

// The packed npm package (bash scripts/pack.sh), installed into a fresh project: its node entry.
const { RegistryClient } = await importPackage();

const worker = new Worker();
before(() => worker.start());
after(() => worker.dispose());

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
