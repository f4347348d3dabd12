// End-to-end: reads never leak (issue 11). Tokens scoped to `kitchen.` never see `garage.*` in
// registers, lists, queries, versions, diffs, states, taken change requests, nor in a `*` query
// watch's snapshot, backlog or live changes over WebSocket and SSE; each check has a positive
// control (the unrestricted admin does see `garage.*`). Also: stream messages checked one by one,
// and a reg client that only knows a URL with the token as Basic password.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { As, ROLES, TOKENS, mentionsGarage, tokenWorker } from "./auth_fixture.mjs";
import { RegWireClient } from "./reg_client.mjs";
import { SseWatch, WsSession } from "./stream_client.mjs";

const worker = tokenWorker();
const home = new As(worker);
const SCOPED = ["consumer", "provider", "kadmin"];
let seeded; // the head after seeding: versions 1 (registers) and 2, 3 (entries)
before(async () => {
  await worker.start();
  await home.seed();
  seeded = await home.head();
});
after(() => worker.dispose());

const socket = (role) => new WsSession(() => home.base, ["registry", `bearer.${TOKENS[role].token}`]).open();
const sse = (role, query) => new SseWatch(() => home.base, `${query}&access_token=${TOKENS[role].token}`).start();
const until = async (pred, what, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test("registers, lists, queries, versions, diff and state show no garage.* to scoped tokens", async () => {
  const reads = ["/consumer", "/v1/entries", "/v1/entries?where=.id%3D*", `/v1/diff?from=0&to=${seeded}`,
    `/v1/state?at=${seeded}`, "/v1/versions/1", `/v1/state?at=${seeded}&where=.kind%3D*`];
  for (const path of reads) {
    const admin = await home.req("admin", "GET", path);
    assert.equal(admin.status, 200, `${path}: ${admin.text}`);
    assert.ok(mentionsGarage(admin.json), `positive control: the admin sees garage.* in ${path}`);
    for (const role of SCOPED) {
      const r = await home.req(role, "GET", path);
      assert.equal(r.status, 200, `${path} as ${role}: ${r.text}`);
      assert.ok(!mentionsGarage(r.json), `${path} as ${role} leaks: ${r.text}`);
      assert.ok(r.text.includes("kitchen."), `${path} as ${role} still shows kitchen.*: ${r.text}`);
    }
  }
  // Versions count only the operations in scope: version 3 wrote garage.cfg alone.
  const counts = async (role) => Object.fromEntries((await home.req(role, "GET", "/v1/versions")).json.versions.map((v) => [v.version, v.ops]));
  assert.deepEqual([(await counts("admin"))[1], (await counts("admin"))[3]], [2, 1]);
  for (const role of SCOPED) assert.deepEqual([(await counts(role))[1], (await counts(role))[3]], [1, 0], role);
  const v3 = await home.req("consumer", "GET", "/v1/versions/3");
  assert.deepEqual(v3.json.changeset, []);
});

test("GET /provider without names takes only the scoped provider's requests", async () => {
  for (const name of ["kitchen.lamp", "garage.door"]) {
    assert.equal((await home.req("admin", "PUT", "/consumer", { registers: { [name]: { value: "x" } } })).status, 202);
  }
  const before = await home.head();
  // Naming an id outside the scope takes nothing (an empty answer, as GET /consumer filters).
  const named = await home.req("provider", "GET", "/provider?name=garage.door");
  assert.equal(named.status, 200, named.text);
  assert.deepEqual(named.json.registers, {});
  const mine = await home.req("provider", "GET", "/provider");
  assert.equal(mine.status, 200, mine.text);
  assert.deepEqual(Object.keys(mine.json.registers), ["kitchen.lamp"]);
  // Positive control: the garage request is still there, and the admin takes it.
  const rest = await home.req("admin", "GET", "/provider");
  assert.ok("garage.door" in rest.json.registers, rest.text);
  assert.equal(await home.head(), before);
});

test("a held GET /consumer without names wakes only for changes in scope", async () => {
  const head = await home.head();
  const started = Date.now();
  const poll = home.req("consumer", "GET", `/consumer?since=${head}&wait=20s`);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await home.req("admin", "PUT", "/provider", { registers: { "garage.door": { value: "held", ttl: "1h" } } })).status, 204);
  await new Promise((r) => setTimeout(r, 700));
  assert.equal((await home.req("admin", "PUT", "/provider", { registers: { "kitchen.lamp": { value: "held", ttl: "1h" } } })).status, 204);
  const r = await poll;
  assert.equal(r.status, 200, r.text);
  assert.ok(!mentionsGarage(r.json), r.text);
  assert.equal(r.json.registers["kitchen.lamp"].value, "held");
  // It was answered by the kitchen write (after ≥ 1 s), not by the garage one.
  assert.ok(Date.now() - started >= 1000, `answered after ${Date.now() - started} ms`);
});

test("a held poll naming only ids outside the scope is not woken by their changes", async () => {
  const head = await home.head();
  const started = Date.now();
  const poll = home.req("consumer", "GET", `/consumer?name=garage.door&since=${head}&wait=3s`);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await home.req("admin", "PUT", "/provider", { registers: { "garage.door": { value: "woken?", ttl: "1h" } } })).status, 204);
  const r = await poll;
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.registers, {});
  // Held to its deadline: the garage write, outside the scope, did not answer it.
  assert.ok(Date.now() - started >= 2900, `answered after ${Date.now() - started} ms`);
});

test("a `*` query watch over WebSocket: snapshot, backlog and live without garage.*", async () => {
  const kitchen = await socket("consumer");
  const admin = await socket("admin");
  try {
    for (const s of [kitchen, admin]) {
      s.watch("all", { where: [] }); // snapshot
      s.watch("star", { where: [".id=*"] }, 0); // backlog from the beginning
      s.watch("named", { names: ["garage.door"] }); // a name outside the scope
    }
    for (const s of [kitchen, admin]) {
      for (const w of ["all", "star", "named"]) await s.next((m) => m.type === "synced" && m.watch === w);
    }
    // Live: garage first, then kitchen; the kitchen change arriving means the garage one has
    // been processed (versions are sent in order).
    assert.equal((await home.req("admin", "PUT", "/provider", { registers: { "garage.door": { value: "open", ttl: "1h" } } })).status, 204);
    assert.equal((await home.req("admin", "PUT", "/provider", { registers: { "kitchen.lamp": { value: false, ttl: "1h" } } })).status, 204);
    const live = await home.head();
    for (const s of [kitchen, admin]) {
      await until(() => ["all", "star"].every((w) => s.watches.get(w).last === live), "live changes");
    }
    const seen = (s) => s.inbox.concat(...[...s.watches.values()].flatMap((w) => [w.snapshots, w.changes]));
    assert.ok(mentionsGarage(seen(admin)), "positive control: the admin's watch sees garage.*");
    assert.ok(!mentionsGarage(seen(kitchen)), `leak: ${JSON.stringify(seen(kitchen))}`);
    assert.ok(JSON.stringify(kitchen.watches.get("star").changes).includes("kitchen.lamp"));
    assert.ok(kitchen.watches.get("all").snapshots[0].entries.some((e) => e.id === "kitchen.lamp"));
  } finally {
    kitchen.close();
    admin.close();
  }
});

test("a `*` query watch over SSE (access_token): snapshot, backlog and live without garage.*", async () => {
  const streams = {
    kitchenSnap: sse("consumer", "where=.id%3D*"),
    kitchenLog: sse("consumer", "where=.id%3D*&since=0"),
    adminSnap: sse("admin", "where=.id%3D*"),
    adminLog: sse("admin", "where=.id%3D*&since=0"),
  };
  try {
    for (const s of Object.values(streams)) await until(() => s.messages.some((m) => m.type === "synced"), "synced");
    assert.equal((await home.req("admin", "PUT", "/provider", { registers: { "garage.door": { value: "ajar", ttl: "1h" } } })).status, 204);
    assert.equal((await home.req("admin", "PUT", "/provider", { registers: { "kitchen.lamp": { value: 7, ttl: "1h" } } })).status, 204);
    const live = await home.head();
    for (const s of Object.values(streams)) await until(() => s.last === live, "live changes");
    assert.ok(mentionsGarage(streams.adminSnap.messages) && mentionsGarage(streams.adminLog.messages), "positive control");
    for (const k of ["kitchenSnap", "kitchenLog"]) {
      assert.ok(!mentionsGarage(streams[k].messages), `${k} leaks: ${JSON.stringify(streams[k].messages)}`);
      const liveChange = streams[k].messages.find((m) => m.type === "change" && m.version === live);
      assert.ok(JSON.stringify(liveChange).includes('"data":7'), `${k} saw the live kitchen change`);
    }
    assert.equal(streams.kitchenSnap.messages[0].type, "snapshot");
    assert.equal(streams.kitchenLog.messages[0].type, "change");
  } finally {
    for (const s of Object.values(streams)) s.close();
  }
});

test("WebSocket messages are checked one by one (role and scope); refusals change nothing", async () => {
  const request = async (name) => (await home.req("admin", "POST", "/v1/requests", { name, value: 1 })).json.request;
  // [label, message or async () => message, outcome by role: "ok" | "forbidden"]
  const ok = "ok", no = "forbidden";
  const cases = [
    ["watch in", { type: "watch", watch: "w", names: ["kitchen.lamp"] }, [ok, ok, ok, ok]],
    ["provide in", { type: "provide", registers: { "kitchen.ws": { value: 1, ttl: "1h" } } }, [no, ok, ok, ok]],
    ["provide out", { type: "provide", registers: { "garage.ws": { value: 1, ttl: "1h" } } }, [no, no, no, ok]],
    ["request in", { type: "request", name: "kitchen.lamp", value: 2 }, [ok, ok, ok, ok]],
    ["request out", { type: "request", name: "garage.door", value: 2 }, [no, no, no, ok]],
    ["verdict in", async () => ({ type: "verdict", request: await request("kitchen.lamp"), accept: false }), [no, ok, ok, ok]],
    ["verdict out", async () => ({ type: "verdict", request: await request("garage.door"), accept: false }), [no, no, no, ok]],
    ["validate", { type: "validate", validator: "v", where: [".kind=none"] }, [no, no, no, ok]],
  ];
  const failures = [];
  for (const [i, role] of ROLES.entries()) {
    const s = await socket(role);
    try {
      for (const [label, msg, want] of cases) {
        const m = typeof msg === "function" ? await msg() : msg;
        const before = await home.head();
        // A watch answers with its snapshot and `synced` (no `ok`); a refusal is an `error`.
        const ref = `${label}-${role}`;
        s.send({ ...m, ref });
        const reply = await s.next((x) => x.ref === ref || (x.type === "synced" && x.watch === m.watch));
        if (reply.type === "synced") reply.type = "ok";
        const got = reply.type === "ok" ? ok : reply.error?.code;
        if (got !== want[i]) failures.push(`${label} as ${role}: ${JSON.stringify(reply)}`);
        if (got !== ok) assert.equal(await home.head(), before, `${label} as ${role} refused yet the head moved`);
      }
    } finally {
      s.close();
    }
  }
  assert.deepEqual(failures, []);
});

test("a reg client given http://x:TOKEN@host/ sends Basic (as Go's net/http does); curl -u too", async () => {
  const url = (token) => home.base.replace("http://", `http://x:${token}@`);
  const panel = new RegWireClient(url(TOKENS.consumer.token));
  const regs = await panel.getRegisters();
  assert.ok("kitchen.lamp" in regs && !("garage.door" in regs), JSON.stringify(regs));
  await panel.requestChanges({ "kitchen.lamp": 1 });
  await assert.rejects(panel.requestChanges({ "garage.door": 1 }), /HTTP 403/);
  await assert.rejects(panel.setRegisters({ "kitchen.lamp": { value: 1 } }), /HTTP 403/);
  const pi = new RegWireClient(url(TOKENS.provider.token));
  await pi.setRegisters({ "kitchen.basic": { value: 1, ttl: "1h" } });
  assert.ok("kitchen.lamp" in (await pi.getChangeRequests()));
  await assert.rejects(new RegWireClient(url("wrong-token")).getRegisters(), /HTTP 401/);
  await assert.rejects(new RegWireClient(home.base).getRegisters(), /HTTP 401/);
  const curl = (...args) => execFileSync("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", ...args], { encoding: "utf8" });
  assert.equal(curl("-u", `x:${TOKENS.consumer.token}`, `${home.base}/consumer`), "200");
  assert.equal(curl("-u", "x:wrong-token", `${home.base}/consumer`), "401");
  assert.equal(curl("-u", `x:${TOKENS.consumer.token}`, "-X", "PUT", "-d", '{"registers":{"kitchen.c":{"value":1}}}', `${home.base}/provider`), "403");
});
