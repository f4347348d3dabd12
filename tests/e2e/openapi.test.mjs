// The implementation stays true to docs/openapi.yaml: every documented operation exists on the
// real worker, answers with a status the document lists for it, and JSON bodies of documented
// success responses have the documented top-level properties (required ones, through allOf).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "yaml";
import { Worker, http } from "./worker.mjs";

const spec = parse(readFileSync(resolve(import.meta.dirname, "../../docs/openapi.yaml"), "utf8"));
const worker = new Worker();
before(async () => {
  await worker.start();
  // Some history to read: versions 1..3.
  const base = `${worker.url}/r/openapi`;
  await http("PUT", `${base}/v1/entries/a`, { kind: "k", data: 1 });
  await http("PUT", `${base}/v1/entries/a`, { kind: "k", data: 2 });
  await http("PUT", `${base}/provider`, { registers: { r: { value: 1, ttl: "1h" } } });
});
after(() => worker.dispose());

const deref = (obj) => (obj && obj.$ref ? obj.$ref.split("/").slice(1).reduce((o, k) => o[k], spec) : obj);

/** The top-level keys a schema requires, its own and those of every `allOf` part (dereferenced,
 *  recursively). */
const requiredKeys = (schema) => {
  const s = deref(schema);
  if (!s) return [];
  return [...new Set([...(s.required ?? []), ...(s.allOf ?? []).flatMap(requiredKeys)])];
};

// A valid request for each documented operation.
const samples = {
  "GET /consumer": ["/consumer?name=r"],
  "PUT /consumer": ["/consumer", { registers: { r: { value: 2 } } }],
  "GET /provider": ["/provider?name=r"],
  "PUT /provider": ["/provider", { registers: { r: { value: 3, ttl: "1h" } } }],
  "GET /v1/health": ["/v1/health"],
  "GET /v1/entries": ["/v1/entries?limit=10&where=.kind%3Dk"],
  "GET /v1/entries/{id}": ["/v1/entries/a"],
  "PUT /v1/entries/{id}": ["/v1/entries/b", { kind: "k", data: { x: 1 } }],
  "DELETE /v1/entries/{id}": ["/v1/entries/b"],
  "GET /v1/versions": ["/v1/versions?limit=2"],
  "GET /v1/versions/{version}": ["/v1/versions/1"],
  "GET /v1/diff": ["/v1/diff?from=1&to=2"],
  "GET /v1/state": ["/v1/state?at=1"],
  "POST /v1/rollback": ["/v1/rollback", { to: 2 }],
  "POST /v1/tx": ["/v1/tx", { ops: [{ op: "upsert", id: "t1", kind: "k", data: 1 }] }],
  "GET /v1/config": ["/v1/config"],
  "PUT /v1/config": ["/v1/config", { config: { max_ops: 500 } }],
  "GET /v1/entries/{id}/dependencies": ["/v1/entries/a/dependencies"],
  "POST /v1/requests": ["/v1/requests", { name: "r", value: 5 }],
  "GET /v1/requests/{request}": ["/v1/requests/1"],
  "POST /v1/requests/{request}/verdict": ["/v1/requests/1/verdict", { accept: false, reason: "no" }],
  "GET /v1/watch": ["/v1/watch?name=r"],
  "GET /v1/ws": ["/v1/ws"],
  "GET /metrics": ["/metrics"],
  "POST /mcp": ["/mcp", { jsonrpc: "2.0", id: 1, method: "tools/list" }],
};

const operations = Object.entries(spec.paths).flatMap(([path, item]) =>
  Object.keys(item).filter((m) => ["get", "put", "post", "delete"].includes(m)).map((m) => [m.toUpperCase(), path, item[m]]));

test("every documented operation has a sample here", () => {
  const documented = operations.map(([m, p]) => `${m} ${p}`).sort();
  assert.deepEqual(documented, Object.keys(samples).sort());
});

// Streams cannot be read to their end: the event stream is opened and its first event read;
// the WebSocket is opened (101), and a plain GET of it is the documented 426.
const streams = {
  "GET /v1/watch": async (target) => {
    const controller = new AbortController();
    const r = await fetch(`${worker.url}/r/openapi${target}`, { signal: controller.signal });
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type"), /^text\/event-stream/);
    assert.ok(r.headers.get("x-registry-version") !== null, "X-Registry-Version header");
    const { value } = await r.body.getReader().read();
    assert.match(new TextDecoder().decode(value), /^event: (snapshot|change|synced)\n/);
    controller.abort();
  },
  "GET /v1/ws": async (target) => {
    const url = `${worker.url}/r/openapi${target}`;
    const ws = new WebSocket(url.replace(/^http/, "ws"));
    await new Promise((ok, fail) => { ws.onopen = ok; ws.onerror = () => fail(new Error("no upgrade")); });
    ws.close();
    const plain = await http("GET", url);
    assert.equal(plain.status, 426);
    assert.equal(plain.json.error.code, "upgrade_required");
  },
};

for (const [method, path, op] of operations) {
  test(`${method} ${path} answers as documented`, async () => {
    const [target, body] = samples[`${method} ${path}`];
    if (streams[`${method} ${path}`]) return streams[`${method} ${path}`](target);
    const r = await http(method, `${worker.url}/r/openapi${target}`, body);
    const documented = Object.keys(op.responses);
    assert.ok(documented.includes(String(r.status)), `${r.status} not in ${documented}: ${r.text}`);
    assert.ok(r.status < 400, `a valid request failed: ${r.status} ${r.text}`);
    assert.ok(r.headers.get("x-registry-version") !== null, "X-Registry-Version header");
    const content = deref(op.responses[String(r.status)])?.content?.["application/json"];
    if (content) {
      for (const key of requiredKeys(content.schema)) assert.ok(key in r.json, `missing ${key} in ${r.text}`);
    }
  });
}

test("required keys are collected through allOf", () => {
  // GET /v1/entries answers an EntriesPage that also requires `version` (an allOf of the two).
  const schema = spec.paths["/v1/entries"].get.responses["200"].content["application/json"].schema;
  assert.ok(Array.isArray(schema.allOf), "the sample schema is an allOf");
  const page = deref(spec.components.schemas.EntriesPage);
  assert.ok(page.required.length > 0);
  assert.deepEqual(requiredKeys(schema).sort(), [...page.required, "version"].sort());
});

test("documented error responses carry the Error shape", async () => {
  for (const target of ["/v1/versions/999", "/v1/state", "/consumer?wait=bad"]) {
    const r = await http("GET", `${worker.url}/r/openapi${target}`);
    assert.ok(r.status >= 400);
    assert.equal(typeof r.json.error.code, "string");
    assert.equal(typeof r.json.error.message, "string");
  }
});
