// End-to-end: the access-control matrix over HTTP (issue 11). Every endpoint family × every
// role (consumer, provider, admin scoped to `kitchen.`, unrestricted admin; the scoped ones
// limited to registry `home`) × in scope (`kitchen.*`) / out of scope (`garage.*`), plus no token
// and a wrong token for each; every refused request leaves the head version unchanged.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { As, ROLES, TOKENS, WRONG, tokenWorker } from "./auth_fixture.mjs";

const worker = tokenWorker();
const home = new As(worker);
before(async () => {
  await worker.start();
  await home.seed();
});
after(() => worker.dispose());

let serial = 0;
const fresh = (prefix) => `${prefix}${++serial}`;
/** A change request made by the admin (for verdicts and outcomes); its id. */
async function request(name) {
  const r = await home.req("admin", "POST", "/v1/requests", { name, value: serial });
  assert.equal(r.status, 202, r.text);
  return r.json.request;
}
/** An entry created by the admin, to be deleted. */
async function entry(id) {
  assert.equal((await home.req("admin", "PUT", `/v1/entries/${id}`, { kind: "cfg", data: 1 })).status, 201);
  return id;
}

// Each case: [method, path or prepare → {path, body}, body, statuses by role]. `prepare` runs
// before every call (so each call finds the state it needs). Scope: `in` touches kitchen.*,
// `out` touches garage.*; `-` marks a family with no ids (the whole registry).
const C = (consumer, provider, kadmin, admin) => ({ consumer, provider, kadmin, admin });
const CASES = {
  "GET /consumer": {
    in: ["GET", "/consumer?name=kitchen.lamp", undefined, C(200, 200, 200, 200)],
    out: ["GET", "/consumer?name=garage.door", undefined, C(200, 200, 200, 200)], // filtered (leak suite)
  },
  "PUT /consumer": {
    in: ["PUT", "/consumer", { registers: { "kitchen.lamp": { value: false } } }, C(202, 202, 202, 202)],
    out: ["PUT", "/consumer", { registers: { "garage.door": { value: "open" } } }, C(403, 403, 403, 202)],
  },
  "GET /provider": {
    in: ["GET", "/provider?name=kitchen.lamp", undefined, C(403, 200, 200, 200)],
    // Filtered like GET /consumer: an empty answer that takes nothing (leak suite).
    out: ["GET", "/provider?name=garage.door", undefined, C(403, 200, 200, 200)],
  },
  "PUT /provider": {
    in: ["PUT", "/provider", { registers: { "kitchen.lamp": { value: true, ttl: "1h" } } }, C(403, 204, 204, 204)],
    out: ["PUT", "/provider", { registers: { "garage.door": { value: "shut", ttl: "1h" } } }, C(403, 403, 403, 204)],
  },
  "GET /v1/entries": {
    "-": ["GET", "/v1/entries", undefined, C(200, 200, 200, 200)],
  },
  "GET /v1/entries/{id}": {
    in: ["GET", "/v1/entries/kitchen.cfg", undefined, C(200, 200, 200, 200)],
    out: ["GET", "/v1/entries/garage.cfg", undefined, C(403, 403, 403, 200)],
  },
  "GET /v1/entries/{id}/dependencies": {
    in: ["GET", "/v1/entries/kitchen.cfg/dependencies", undefined, C(200, 200, 200, 200)],
    out: ["GET", "/v1/entries/garage.cfg/dependencies", undefined, C(403, 403, 403, 200)],
  },
  "PUT /v1/entries/{id}": {
    in: ["PUT", () => ({ path: `/v1/entries/${fresh("kitchen.e")}` }), { kind: "cfg", data: 1 }, C(403, 403, 201, 201)],
    out: ["PUT", () => ({ path: `/v1/entries/${fresh("garage.e")}` }), { kind: "cfg", data: 1 }, C(403, 403, 403, 201)],
  },
  "DELETE /v1/entries/{id}": {
    in: ["DELETE", async () => ({ path: `/v1/entries/${await entry(fresh("kitchen.d"))}` }), undefined, C(403, 403, 200, 200)],
    out: ["DELETE", async () => ({ path: `/v1/entries/${await entry(fresh("garage.d"))}` }), undefined, C(403, 403, 403, 200)],
  },
  "POST /v1/tx": {
    in: ["POST", () => ({ path: "/v1/tx", body: { ops: [{ op: "upsert", id: fresh("kitchen.t"), kind: "cfg", data: 1 }] } }), undefined, C(403, 403, 200, 200)],
    // One operation out of scope refuses the whole transaction.
    out: ["POST", () => ({ path: "/v1/tx", body: { ops: [
      { op: "upsert", id: fresh("kitchen.t"), kind: "cfg", data: 1 },
      { op: "upsert", id: fresh("garage.t"), kind: "cfg", data: 1 },
    ] } }), undefined, C(403, 403, 403, 200)],
  },
  "GET /v1/versions": { "-": ["GET", "/v1/versions", undefined, C(200, 200, 200, 200)] },
  "GET /v1/versions/{v}": { "-": ["GET", "/v1/versions/1", undefined, C(200, 200, 200, 200)] },
  "GET /v1/diff": { "-": ["GET", "/v1/diff?from=0&to=2", undefined, C(200, 200, 200, 200)] },
  "GET /v1/state": { "-": ["GET", "/v1/state?at=2", undefined, C(200, 200, 200, 200)] },
  "POST /v1/rollback": {
    "-": ["POST", async () => ({ path: "/v1/rollback", body: { to: await home.head() } }), undefined, C(403, 403, 403, 200)],
  },
  "GET /v1/config": { "-": ["GET", "/v1/config", undefined, C(403, 403, 403, 200)] },
  "PUT /v1/config": { "-": ["PUT", "/v1/config", { config: { max_ops: 500 } }, C(403, 403, 403, 200)] },
  "POST /v1/requests": {
    in: ["POST", "/v1/requests", { name: "kitchen.lamp", value: 1 }, C(202, 202, 202, 202)],
    out: ["POST", "/v1/requests", { name: "garage.door", value: 1 }, C(403, 403, 403, 202)],
  },
  "GET /v1/requests/{id}": {
    in: ["GET", async () => ({ path: `/v1/requests/${await request("kitchen.lamp")}` }), undefined, C(200, 200, 200, 200)],
    out: ["GET", async () => ({ path: `/v1/requests/${await request("garage.door")}` }), undefined, C(403, 403, 403, 200)],
  },
  "POST /v1/requests/{id}/verdict": {
    in: ["POST", async () => ({ path: `/v1/requests/${await request("kitchen.lamp")}/verdict` }), { accept: false, reason: "no" }, C(403, 200, 200, 200)],
    out: ["POST", async () => ({ path: `/v1/requests/${await request("garage.door")}/verdict` }), { accept: false, reason: "no" }, C(403, 403, 403, 200)],
  },
};

/** Runs one call; on a refusal, checks the body's code and that the head did not move. */
async function call(who, [method, target, body]) {
  const prepared = typeof target === "function" ? await target() : { path: target, body };
  const before = await home.head();
  const r = await home.req(who, method, prepared.path, prepared.body ?? body);
  if (r.status === 401 || r.status === 403) {
    assert.equal(r.json?.error?.code, r.status === 401 ? "unauthorized" : "forbidden", r.text);
    assert.equal(await home.head(), before, `${method} ${prepared.path} as ${who}: refused yet the head moved`);
  }
  return r;
}

for (const [family, scopes] of Object.entries(CASES)) {
  test(`${family}: every role × scope, no token, wrong token`, async () => {
    const failures = [];
    for (const [scope, c] of Object.entries(scopes)) {
      for (const role of ROLES) {
        const r = await call(role, c);
        if (r.status !== c[3][role]) failures.push(`${scope} as ${role}: ${r.status} (want ${c[3][role]}) ${r.text}`);
      }
      for (const who of [null, WRONG]) {
        const r = await call(who, c);
        if (r.status !== 401) failures.push(`${scope} with ${who ?? "no"} token: ${r.status} ${r.text}`);
        else assert.equal(r.headers.get("www-authenticate"), 'Bearer realm="registry"');
      }
    }
    assert.deepEqual(failures, []);
  });
}

test("another registry: the scoped tokens are refused (403), the unrestricted admin is not", async () => {
  const lab = new As(worker, "lab");
  for (const role of ROLES) {
    const want = role === "admin" ? 200 : 403;
    assert.equal((await lab.req(role, "GET", "/consumer")).status, want, role);
    assert.equal((await lab.req(role, "GET", "/v1/entries")).status, want, role);
  }
});

test("version actors are token names", async () => {
  const before = await home.head();
  assert.equal((await home.req("provider", "PUT", "/provider", { registers: { "kitchen.actor": { value: 1, ttl: "1h" } } })).status, 204);
  assert.equal((await home.req("kadmin", "PUT", "/v1/entries/kitchen.actor2", { kind: "cfg", data: 1 })).status, 201);
  const list = await home.req("admin", "GET", `/v1/versions?since=${before}`);
  assert.equal(list.status, 200, list.text);
  const actors = list.json.versions.map((v) => v.actor).reverse(); // newest first
  // Positive control: the admin's own versions carry its name.
  assert.equal((await home.req("admin", "PUT", "/v1/entries/kitchen.actor3", { kind: "cfg", data: 1 })).status, 201);
  assert.equal((await home.req("admin", "GET", "/v1/versions?limit=1")).json.versions[0].actor, "ops");
  assert.deepEqual(actors, ["kitchen-pi", "kitchen-admin"]);
});

test("streams: every role opens SSE (header or access_token) and the WebSocket; no/wrong token 401", async () => {
  const sse = async (query, headers = {}) => {
    const ctl = new AbortController();
    const r = await fetch(`${home.base}/v1/watch?name=kitchen.lamp${query}`, { headers, signal: ctl.signal });
    const first = r.status === 200 ? new TextDecoder().decode((await r.body.getReader().read()).value) : "";
    ctl.abort();
    return { status: r.status, first };
  };
  const ws = (protocols) =>
    new Promise((resolve) => {
      const s = new WebSocket(`${home.base.replace(/^http/, "ws")}/v1/ws`, protocols);
      s.onopen = () => { resolve(s.protocol); s.close(); };
      s.onerror = () => resolve(null);
    });
  for (const role of ROLES) {
    const { token } = TOKENS[role];
    for (const r of [await sse("", { authorization: `Bearer ${token}` }), await sse(`&access_token=${token}`)]) {
      assert.equal(r.status, 200, role);
      assert.match(r.first, /^event: snapshot\n/, role);
    }
    assert.equal(await ws(["registry", `bearer.${token}`]), "registry", role);
  }
  for (const token of [null, WRONG]) {
    assert.equal((await sse(token ? `&access_token=${token}` : "")).status, 401);
    if (token) assert.equal((await sse("", { authorization: `Bearer ${token}` })).status, 401);
    assert.equal(await ws(token ? ["registry", `bearer.${token}`] : ["registry"]), null);
  }
});
