// End-to-end: operating a registry (issue 15) against the real worker. `GET /metrics` parsed by
// a strict reader of the Prometheus text format (a register's gauge follows its value,
// counters move); the official MCP TypeScript SDK over Streamable HTTP lists the tools and
// calls each one; the structured logs carry one JSON line per request and per version, and
// no values or tokens; with REGISTRY_TOKENS set, both endpoints need a token.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, http } from "./worker.mjs";
import { parseExposition } from "./prom_text.mjs";

const SECRET_VALUE = "v4lue-that-must-not-be-logged";
const worker = new Worker({ logLevel: "log" });
before(() => worker.start());
after(() => worker.dispose());

async function scrape(base, headers = {}) {
  const r = await fetch(`${base}/metrics`, { headers });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await r.text());
}

async function mcpClient(url, headers = {}) {
  const client = new Client({ name: "edge-registry-e2e", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

/** The JSON a tool answered (its text content), asserting success or failure. */
async function tool(client, name, args, { error = false } = {}) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(Boolean(r.isError), error, `${name}: ${JSON.stringify(r)}`);
  assert.equal(r.content[0].type, "text");
  return JSON.parse(r.content[0].text);
}

test("metrics: valid text, a gauge that follows its register, counters that move", async () => {
  const base = `${worker.url}/r/ops-metrics`;
  const put = (registers) => http("PUT", `${base}/provider`, { registers });
  assert.equal((await put({ "kitchen:temp": { value: 21.5, metadata: { unit: "C" }, ttl: "1h" },
                            "kitchen:lamp": { value: true, ttl: "1h" },
                            "kitchen:label": { value: SECRET_VALUE, ttl: "1h" } })).status, 204);
  const m1 = await scrape(base);
  assert.equal(m1.types.get("registry_register_value"), "gauge");
  const temp = { id: "kitchen:temp", segment_1: "kitchen", segment_2: "temp", meta_unit: "C" };
  assert.equal(m1.get("registry_register_value", temp), 21.5);
  assert.equal(m1.get("registry_register_value", { id: "kitchen:lamp" }), 1);
  assert.equal(m1.get("registry_register_value", { id: "kitchen:label" }), undefined);
  assert.equal(m1.get("registry_entries"), 3);
  assert.equal(m1.get("registry_head_version"), 1);

  assert.equal((await put({ "kitchen:temp": { value: -3, metadata: { unit: "C" }, ttl: "1h" } })).status, 204);
  const tx = { ops: [{ op: "create", id: "svc:a", kind: "svc", data: {} }] };
  assert.equal((await http("POST", `${base}/v1/tx`, tx)).status, 200);
  assert.equal((await http("POST", `${base}/v1/tx`, tx)).status, 409);
  assert.equal((await http("GET", `${base}/v1/diff`)).status, 400);
  const m2 = await scrape(base);
  assert.equal(m2.get("registry_register_value", temp), -3);
  const moved = (name) => m2.get(name) - m1.get(name);
  assert.equal(moved("registry_versions_written_total"), 2);
  assert.equal(moved("registry_transactions_committed_total"), 1);
  assert.equal(moved("registry_transactions_rejected_total"), 1);
  assert.equal(moved("registry_bad_requests_total"), 1);
  assert.equal(m2.types.get("registry_versions_written_total"), "counter");
  assert.equal(m2.get("registry_metrics_truncated"), 0);
  // A held long poll shows while it is held.
  const poll = http("GET", `${base}/consumer?name=kitchen:temp&wait=20s`);
  await sleep(300);
  assert.equal((await scrape(base)).get("registry_held_requests", { kind: "consumer" }), 1);
  assert.equal((await put({ "kitchen:temp": { value: 0, ttl: "1h" } })).status, 204);
  assert.equal((await poll).status, 200);
  assert.equal((await http("POST", `${base}/metrics`)).status, 405);
});

test("MCP: the official SDK lists the tools and calls each one", async () => {
  const url = `${worker.url}/r/ops-mcp/mcp`;
  const client = await mcpClient(url);
  assert.equal(client.getServerVersion().name, "edge-registry");
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), [
    "diff_versions", "find_entries", "get_history", "get_register", "list_registers",
    "request_change", "rollback", "set_register", "transaction"]);
  for (const t of tools) assert.equal(t.inputSchema.type, "object");

  assert.deepEqual(await tool(client, "set_register", { name: "kitchen:temp", value: 21.5, metadata: { unit: "C" }, ttl: "1h" }),
    { ok: true, version: 1 });
  assert.deepEqual(await tool(client, "get_register", { name: "kitchen:temp" }),
    { registers: { "kitchen:temp": { value: 21.5, metadata: { unit: "C" } } } });
  await tool(client, "set_register", { name: "kitchen:lamp", value: false, ttl: "1h" });
  assert.deepEqual(Object.keys((await tool(client, "list_registers", {})).registers).sort(), ["kitchen:lamp", "kitchen:temp"]);
  const req = await tool(client, "request_change", { name: "kitchen:lamp", value: true });
  assert.equal(req.status, "pending");
  const found = await tool(client, "find_entries", { where: ["meta.unit=C"] });
  assert.deepEqual(found.entries.map((e) => e.id), ["kitchen:temp"]);
  const tx = await tool(client, "transaction", { ops: [
    { op: "create", id: "app:web", kind: "svc", meta: { depends_on: "db" }, data: {} },
    { op: "upsert", id: "app:db", kind: "svc", data: {} }] });
  assert.equal(tx.version, 3);
  const history = await tool(client, "get_history", {});
  assert.deepEqual(history.versions.map((v) => v.version), [3, 2, 1]);
  assert.equal((await tool(client, "get_history", { version: 3 })).changeset.length, 2);
  assert.equal((await tool(client, "diff_versions", { from: 0, to: 3 })).changeset.length, 4);
  assert.equal((await tool(client, "rollback", { to: 2 })).version, 4);
  assert.deepEqual((await http("GET", `${worker.url}/r/ops-mcp/v1/entries`)).json.entries.map((e) => e.id),
    ["kitchen:lamp", "kitchen:temp"]);
  // API errors are tool errors carrying the API's code and message.
  const err = await tool(client, "transaction", { ops: [{ op: "update", id: "nope", kind: "svc", data: {} }] }, { error: true });
  assert.equal(typeof err.error.message, "string");
  assert.ok(["conflict", "changeset_conflict", "not_found"].includes(err.error.code), err.error.code);
  assert.equal((await tool(client, "rollback", { to: 99 }, { error: true })).error.code, "unknown_version");
  await client.close();
  // No event stream to open: GET is 405.
  assert.equal((await http("GET", url)).status, 405);
});

test("logs: one JSON line per request and per version, with no values", async () => {
  const base = `${worker.url}/r/ops-logs`;
  assert.equal((await http("PUT", `${base}/provider?x=${SECRET_VALUE}`, {
    registers: { "a:b": { value: SECRET_VALUE, metadata: { note: SECRET_VALUE }, ttl: "1h" } } })).status, 204);
  assert.equal((await http("GET", `${base}/consumer?name=a:b`)).status, 200);
  let lines = [];
  for (let i = 0; i < 50 && lines.length < 3; i++) {
    await sleep(100);
    lines = worker.log.split("\n").map((l) => l.slice(l.indexOf("{"))).filter((l) => l.includes('"registry":"ops-logs"'))
      .map((l) => JSON.parse(l));
  }
  const put = lines.find((l) => l.event === "request" && l.method === "PUT");
  assert.deepEqual(put && { ...put, duration_ms: 0 }, { event: "request", registry: "ops-logs", method: "PUT", path: "/provider",
    status: 204, actor: null, version: 1, ops: 1, duration_ms: 0 });
  assert.ok(Number.isInteger(put.duration_ms) && put.duration_ms >= 0);
  const version = lines.find((l) => l.event === "version");
  assert.equal(version.version, 1);
  assert.equal(version.actor, "provider");
  assert.equal(version.ops, 1);
  const get = lines.find((l) => l.event === "request" && l.method === "GET");
  assert.equal(get.path, "/consumer");
  assert.equal(get.status, 200);
  assert.ok(!worker.log.includes(SECRET_VALUE), "a value, metadata or query reached the log");
});

test("with REGISTRY_TOKENS, /metrics and /mcp need a token and keep its scope", async () => {
  const tokens = [
    { name: "prometheus", token: "s3cr3t-prom", role: "consumer" },
    { name: "agent", token: "s3cr3t-agent", role: "consumer", prefixes: ["kitchen."] },
    { name: "ops", token: "s3cr3t-ops", role: "admin" },
  ];
  const locked = new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify(tokens) }, readyStatuses: [401], logLevel: "log" });
  await locked.start();
  try {
    const base = `${locked.url}/r/home`;
    const bearer = (t) => ({ authorization: `Bearer ${t}` });
    assert.equal((await http("PUT", `${base}/provider`, { registers: { "kitchen.t": { value: 1, ttl: "1h" }, "garage.t": { value: 2, ttl: "1h" } } },
      bearer("s3cr3t-ops"))).status, 204);
    assert.equal((await http("GET", `${base}/metrics`)).status, 401);
    assert.equal((await http("POST", `${base}/mcp`, { jsonrpc: "2.0", id: 1, method: "tools/list" })).status, 401);
    const all = await scrape(base, bearer("s3cr3t-prom"));
    assert.equal(all.samples.filter((s) => s.name === "registry_register_value").length, 2);
    assert.equal(all.get("registry_entries"), 2);
    const scoped = await scrape(base, bearer("s3cr3t-agent"));
    assert.deepEqual(scoped.samples.filter((s) => s.name === "registry_register_value").map((s) => s.labels.id), ["kitchen.t"]);
    assert.equal(scoped.get("registry_entries"), undefined);
    // The SDK with a bearer token: reads in scope, writes refused as over HTTP.
    const client = await mcpClient(`${base}/mcp`, bearer("s3cr3t-agent"));
    assert.deepEqual(Object.keys((await tool(client, "list_registers", {})).registers), ["kitchen.t"]);
    const refused = await tool(client, "set_register", { name: "kitchen.t", value: 5 }, { error: true });
    assert.equal(refused.error.code, "forbidden");
    await client.close();
    await sleep(300);
    assert.ok(locked.log.includes('"actor":"agent"'), "the token's name is logged");
    assert.ok(!locked.log.includes("s3cr3t-"), "a token reached the log");
  } finally {
    await locked.dispose();
  }
});
