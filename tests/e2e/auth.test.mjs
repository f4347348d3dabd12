// End-to-end: access control at the Worker entry with REGISTRY_TOKENS set (issue 11): tokens
// by header, Basic and (streams) subprotocol / access_token; 401 and 403 bodies; role ×
// registry decisions; a forged principal header; a malformed configuration.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, http } from "./worker.mjs";

const TOKENS = [
  { name: "ops", token: "s3cr3t-ops", role: "admin" },
  { name: "kitchen-pi", token: "s3cr3t-pi", role: "provider", registries: ["home"], prefixes: ["kitchen."] },
  { name: "panel", token: "s3cr3t-panel", role: "consumer", registries: ["home", "lab-*"] },
];
const bearer = (t) => ({ authorization: `Bearer ${t}` });
const worker = new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify(TOKENS) }, readyStatuses: [401] });
before(() => worker.start());
after(() => worker.dispose());

test("no token, a wrong one of equal length and a malformed header: one 401", async () => {
  const url = `${worker.url}/r/home/consumer`;
  const answers = [
    await http("GET", url),
    await http("GET", url, undefined, bearer("s3cr3t-opz")),
    await http("GET", url, undefined, { authorization: "Token s3cr3t-ops" }),
    await http("GET", `${worker.url}/v1/health`),
    await http("GET", `${worker.url}/no/such/path`),
  ];
  for (const r of answers) {
    assert.equal(r.status, 401, r.text);
    assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="registry"');
    assert.equal(r.text, answers[0].text);
  }
  assert.equal(answers[0].json.error.code, "unauthorized");
  // Positive control: the right token reads.
  assert.equal((await http("GET", url, undefined, bearer("s3cr3t-ops"))).status, 200);
});

test("roles and registries: in scope answers, out of scope is one 403 that changes nothing", async () => {
  const home = `${worker.url}/r/home`;
  const put = (token, name) =>
    http("PUT", `${home}/provider`, { registers: { [name]: { value: 1, ttl: "1h" } } }, bearer(token));
  assert.equal((await put("s3cr3t-pi", "kitchen.lamp")).status, 204);
  const refused = [
    await put("s3cr3t-panel", "kitchen.x"), // consumer may not publish
    await http("POST", `${home}/v1/rollback`, { to: 0 }, bearer("s3cr3t-pi")), // provider may not roll back
    await http("GET", `${worker.url}/r/lab-1/consumer`, undefined, bearer("s3cr3t-pi")), // registry
    await http("GET", `${worker.url}/consumer`, undefined, bearer("s3cr3t-panel")), // `default`
  ];
  for (const r of refused) {
    assert.equal(r.status, 403, r.text);
    assert.equal(r.headers.get("www-authenticate"), null);
    assert.equal(r.text, refused[0].text);
  }
  assert.equal(refused[0].json.error.code, "forbidden");
  const state = await http("GET", `${home}/consumer`, undefined, bearer("s3cr3t-ops"));
  assert.deepEqual(Object.keys(state.json.registers), ["kitchen.lamp"]);
  assert.equal(state.version, 1, "the refused writes made no version");
  // The consumer's wildcard registry.
  assert.equal((await http("GET", `${worker.url}/r/lab-7/consumer`, undefined, bearer("s3cr3t-panel"))).status, 200);
  assert.equal((await http("GET", `${worker.url}/r/lab/consumer`, undefined, bearer("s3cr3t-panel"))).status, 403);
});

test("a client cannot forge the principal header the entry hands to the object", async () => {
  const forged = { "x-registry-principal": JSON.stringify({ role: "admin" }) };
  const url = `${worker.url}/r/home/v1/rollback`;
  assert.equal((await http("POST", url, { to: 0 }, forged)).status, 401);
  assert.equal((await http("POST", url, { to: 0 }, { ...forged, ...bearer("s3cr3t-panel") })).status, 403);
  // Positive control: an admin's rollback goes through.
  assert.equal((await http("POST", url, { to: 0 }, bearer("s3cr3t-ops"))).status, 200);
});

test("a reg client's URL with the token as Basic password (curl)", async () => {
  const base = worker.url.replace("http://", "http://x:s3cr3t-panel@");
  const out = execFileSync("curl", ["-s", "-w", "\n%{http_code}", `${base}/r/home/consumer`], { encoding: "utf8" });
  assert.match(out, /\n200$/);
  const wrong = worker.url.replace("http://", "http://x:s3cr3t-panez@");
  assert.match(execFileSync("curl", ["-s", "-w", "\n%{http_code}", `${wrong}/r/home/consumer`], { encoding: "utf8" }), /\n401$/);
});

test("EventSource: access_token on /v1/watch only", async () => {
  const watch = async (query) => {
    const ctl = new AbortController();
    const r = await fetch(`${worker.url}/r/home/v1/watch?name=kitchen.lamp&${query}`, { signal: ctl.signal });
    const type = r.headers.get("content-type");
    ctl.abort();
    return { status: r.status, type };
  };
  const ok = await watch("access_token=s3cr3t-panel");
  assert.equal(ok.status, 200);
  assert.match(ok.type, /text\/event-stream/);
  assert.equal((await watch("access_token=s3cr3t-panez")).status, 401);
  assert.equal((await watch("")).status, 401);
  const elsewhere = await http("GET", `${worker.url}/r/home/v1/entries?access_token=s3cr3t-panel`);
  assert.equal(elsewhere.status, 401);
});

test("WebSocket: the token as a subprotocol, and the server selects `registry`", async () => {
  const url = `${worker.url.replace(/^http/, "ws")}/r/home/v1/ws`;
  const open = (protocols) =>
    new Promise((resolve) => {
      const ws = new WebSocket(url, protocols);
      ws.onopen = () => { resolve({ open: true, protocol: ws.protocol }); ws.close(); };
      ws.onerror = () => resolve({ open: false });
    });
  assert.deepEqual(await open(["registry", "bearer.s3cr3t-panel"]), { open: true, protocol: "registry" });
  assert.deepEqual(await open(["registry", "bearer.s3cr3t-panez"]), { open: false });
  assert.deepEqual(await open(["registry"]), { open: false });
});

test("a malformed REGISTRY_TOKENS serves no API (never open)", async () => {
  const bad = new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify([{ name: "a", token: "", role: "admin" }]) }, readyStatuses: [500] });
  try {
    await bad.start();
    const r = await http("GET", `${bad.url}/consumer`);
    assert.equal(r.status, 500);
    assert.equal(r.json.error.code, "auth_misconfigured");
    assert.equal((await http("PUT", `${bad.url}/provider`, { registers: { a: { value: 1 } } })).status, 500);
    // The detail is in the Worker's log (printed asynchronously), not in the answer.
    const detail = /REGISTRY_TOKENS is invalid: entry #1 \("a"\): token is empty/;
    for (let i = 0; i < 50 && !detail.test(bad.log); i++) await sleep(100);
    assert.match(bad.log, detail);
    assert.doesNotMatch(r.text, /entry #1/);
  } finally {
    await bad.dispose();
  }
});
