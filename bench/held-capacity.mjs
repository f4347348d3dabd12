// How many held connections the local runtime (workerd under `wrangler dev`) survives.
// Opens KIND connections in steps of STEP, each on its own TCP socket, spread over registries
// (PER_REGISTRY each, so that no per-registry bound is reached first), and keeps them held:
//   poll — `GET /r/cap-K/consumer?name=x&wait=60s` (re-sent when one returns),
//   sse  — `GET /r/cap-K/v1/watch?name=x` (held once its 200 headers arrived),
//   ws   — `GET /r/cap-K/v1/ws` upgraded to a WebSocket (held once upgraded).
// After each step: a probe `GET /r/probe/v1/health` on a fresh socket (timeout 5 s), the
// number of open file descriptors of each workerd process, and the connections held. It stops
// at TARGET, or at the first failed probe or failed connection; then it closes every client
// socket and probes again for up to 30 s (does the runtime recover by itself?).
// Also reported: `Max open files` of each workerd (/proc/PID/limits) and of this process.
// With --direct, connections go straight to a port of the runtime workerd (see
// tests/e2e/runtime.mjs) instead of wrangler dev's proxy on the public port.
// Usage: ulimit -n 20000; node bench/held-capacity.mjs --kind poll|sse|ws [--direct]
//        [--target N] [--step N] [--per-registry N]    (after scripts/build.sh)
// Output: one line per step, then the results as JSON on the last line of stdout.
import http from "node:http";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "../tests/e2e/worker.mjs";
import { fdCount, maxOpenFiles, runtimeOrigin, workerds } from "../tests/e2e/runtime.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const KIND = arg("kind", "poll");
const TARGET = Number(arg("target", 20000));
const STEP = Number(arg("step", 250));
const PER_REGISTRY = Number(arg("per-registry", 1000));
const DIRECT = process.argv.includes("--direct");
const PROBE_TIMEOUT_MS = 5_000;
if (!["poll", "sse", "ws"].includes(KIND)) throw new Error(`--kind poll|sse|ws, not ${KIND}`);

/** One GET on a socket of its own; resolves with { status } or { error }, never rejects. */
function probe(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode }));
    });
    req.on("timeout", () => { req.destroy(); resolve({ error: "timeout" }); });
    req.on("error", (e) => resolve({ error: e.code ?? e.message }));
  });
}

const worker = await new Worker().start();
// --direct: straight to the runtime workerd, past wrangler's proxy (production has none).
const base = DIRECT ? await runtimeOrigin(worker) : worker.url;
const open = new Set(); // client sockets / requests to destroy at the end
let held = 0;
let failures = [];
const fail = (what) => { if (failures.length < 20) failures.push(what); };

/** Opens connection number `i` and resolves once it is held (or failed). */
function connect(i) {
  const reg = `cap-${Math.floor(i / PER_REGISTRY)}`;
  return new Promise((resolve) => {
    const headers = {};
    let path;
    if (KIND === "poll") path = `/r/${reg}/consumer?name=x&wait=60s`;
    if (KIND === "sse") path = `/r/${reg}/v1/watch?name=x`;
    if (KIND === "ws") {
      path = `/r/${reg}/v1/ws`;
      Object.assign(headers, {
        connection: "Upgrade", upgrade: "websocket",
        "sec-websocket-version": "13", "sec-websocket-key": randomBytes(16).toString("base64"),
      });
    }
    const req = http.get(`${base}${path}`, { agent: false, headers });
    open.add(req);
    let done = false;
    const settle = (ok, why) => {
      if (done) return;
      done = true;
      if (ok) held++; else fail(why);
      resolve(ok);
    };
    req.on("error", (e) => {
      if (!done) settle(false, `#${i}: ${e.code ?? e.message}`);
      else if (KIND !== "poll") { held--; fail(`#${i} dropped: ${e.code ?? e.message}`); }
    });
    req.on("upgrade", (res, socket) => {
      open.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => { if (done) { held--; fail(`#${i} ws closed`); } });
      settle(res.statusCode === 101, `#${i}: upgrade ${res.statusCode}`);
    });
    req.on("response", (res) => {
      if (KIND === "poll") {
        // A poll answered (timed out after 60 s): hold it again on a new socket.
        res.resume();
        res.on("end", () => {
          open.delete(req);
          if (res.statusCode === 200 && done) { held--; connect(i); }
        });
        if (res.statusCode !== 200) settle(false, `#${i}: ${res.statusCode}`);
        return;
      }
      if (res.statusCode !== 200) { res.resume(); return settle(false, `#${i}: ${res.statusCode}`); }
      res.on("data", () => {});
      res.on("end", () => { held--; fail(`#${i} stream ended`); });
      settle(true);
    });
    if (KIND === "poll") {
      // A poll is held as soon as its request went out; its answer comes ≤ 60 s later.
      req.on("socket", (s) => s.on("connect", () => setTimeout(() => settle(true), 0)));
    }
  });
}

/** Long polls held by the runtime, over the registries used. */
async function heldByRuntime(n) {
  let total = 0;
  for (let k = 0; k * PER_REGISTRY < n; k++) {
    const r = await fetch(`${base}/r/cap-${k}/v1/health`).then((r) => r.json()).catch(() => null);
    total += r?.waiters ?? 0;
  }
  return total;
}

const procs = workerds(worker).map((w) => ({ ...w, max_open_files: maxOpenFiles(w.pid) }));
const steps = [];
let survived = 0;
let broke = null;
try {
  for (let n = 0; n < TARGET && !broke; ) {
    const batch = [];
    for (let j = 0; j < STEP && n < TARGET; j++, n++) batch.push(connect(n));
    const oks = await Promise.all(batch);
    if (KIND === "poll") await sleep(500); // let the runtime take them
    const p = await probe(`${base}/r/probe/v1/health`);
    const fds = Object.fromEntries(procs.map((w) => [w.role, fdCount(w.pid)]));
    const waiters = KIND === "poll" ? await heldByRuntime(n) : undefined;
    const step = { opened: n, held, waiters, probe: p.status ?? p.error, fds };
    steps.push(step);
    console.log(JSON.stringify(step));
    if (p.status === 200 && oks.every(Boolean) && (KIND !== "poll" || waiters === n)) survived = n;
    else broke = { at: n, probe: p, failures: failures.slice(0, 5), waiters };
  }
} finally {
  for (const o of open) o.destroy();
}
// Does it recover once every client left?
let recovered = null;
const t0 = Date.now();
while (Date.now() - t0 < 30_000) {
  const p = await probe(`${base}/r/probe/v1/health`);
  if (p.status === 200) { recovered = Date.now() - t0; break; }
  await sleep(1000);
}
const result = {
  kind: KIND,
  direct: DIRECT,
  survived,
  broke,
  recovered_after_ms: recovered,
  workerd: procs.map((w) => ({ ...w, fds_after_close: fdCount(w.pid) })),
  client_max_open_files: maxOpenFiles(process.pid),
};
await worker.dispose();
console.log(JSON.stringify(result));
