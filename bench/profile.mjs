// A CPU profile of the registry's runtime (or the baseline's) under one workload, taken through
// `wrangler dev --inspector-port` with the Chrome DevTools protocol (Profiler.enable / start /
// stop over the inspector WebSocket). Prints the functions with the most self time, and the
// total sampled time, so that what is ours (wasm functions, our JS glue) and what is the
// platform's can be told apart. Writes the whole profile to --out (a .cpuprofile that Chrome
// DevTools opens).
//   --workload ws    WATCHERS WebSocket watchers, then WRITES writes of the watched register
//   --workload sse   the same with SSE streams
//   --workload put   REQUESTS sequential `PUT /provider`
//   --workload get   REQUESTS sequential `GET /consumer`
//   --workload heap  no profile: the runtime's RSS and the isolate's JS heap before and after
//                    opening WATCHERS idle WebSocket watchers, per socket, to tell the
//                    isolate's share of the memory from the runtime's (the local inspector
//                    does not answer a forced collection, so the heap figure is noisy)
//   --workload cold  the first request to registry `cold` (`GET /r/cold/consumer?name=r:1`) of a
//                    worker started on a copy of --cold-from DIR (a folder kept by
//                    `bench/floor.mjs --fill-cold DIR`)
// Usage: node bench/profile.mjs [--workload ws] [--watchers N] [--writes N] [--requests N]
//          [--baseline] [--top N] [--out file]   (after scripts/build.sh)
import { randomBytes } from "node:crypto";
import { cpSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "../tests/e2e/worker.mjs";
import { rssKib, runtimeOrigin, workerds } from "../tests/e2e/runtime.mjs";
import { Arrivals, closeAll, openMany, openSse, openWs } from "./watchers.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const WORKLOAD = arg("workload", "ws");
const WATCHERS = Number(arg("watchers", 1000));
const WRITES = Number(arg("writes", 50));
const REQUESTS = Number(arg("requests", 1000));
const TOP = Number(arg("top", 30));
const BASELINE = process.argv.includes("--baseline");

/** A minimal WebSocket client over a raw TCP socket (text frames only): wrangler's inspector
 *  proxy refuses the handshake of Node's built-in WebSocket, and answers this plain one. */
function rawSocket(url) {
  const u = new URL(url);
  return new Promise((ok, fail) => {
    const sock = connect(Number(u.port), u.hostname);
    const ws = { onmessage: () => {}, send: null, close: () => sock.destroy() };
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let parts = [];
    ws.send = (text) => {
      const data = Buffer.from(text);
      const n = data.length;
      const head = n < 126 ? Buffer.from([0x81, 0x80 | n]) : n < 65536 ? Buffer.from([0x81, 0xfe, n >> 8, n & 255]) : Buffer.concat([Buffer.from([0x81, 0xff]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
      const mask = randomBytes(4);
      for (let i = 0; i < n; i++) data[i] ^= mask[i & 3];
      sock.write(Buffer.concat([head, mask, data]));
    };
    sock.on("connect", () => sock.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`));
    sock.on("error", fail);
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        if (!/^HTTP\/1\.1 101/.test(buf.subarray(0, end).toString())) return fail(new Error(`inspector handshake: ${buf.subarray(0, end)}`));
        upgraded = true;
        buf = buf.subarray(end + 4);
        ok(ws);
      }
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 127;
        let off = 2;
        if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
        else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
        if (buf.length < off + len) return;
        const fin = buf[0] & 0x80;
        const opcode = buf[0] & 15;
        const payload = buf.subarray(off, off + len);
        buf = buf.subarray(off + len);
        if (opcode === 1 || opcode === 0) {
          parts.push(payload);
          if (fin) {
            const text = Buffer.concat(parts).toString();
            parts = [];
            ws.onmessage(text);
          }
        }
      }
    });
  });
}

/** A DevTools protocol session over the inspector WebSocket of the worker's runtime. */
async function inspect(port) {
  let targets;
  for (let i = 0; i < 50 && !targets?.length; i++) {
    try { targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json(); } catch { await sleep(200); }
  }
  if (!targets?.length) throw new Error(`no inspector target on port ${port}`);
  // wrangler lists the worker first; its Durable Objects run in the same isolate.
  const ws = await rawSocket(targets[0].webSocketDebuggerUrl);
  let id = 0;
  const pending = new Map();
  ws.onmessage = (text) => {
    const m = JSON.parse(text);
    if (m.id && pending.has(m.id)) {
      pending.get(m.id)(m);
      pending.delete(m.id);
    }
  };
  const send = (method, params = {}) => new Promise((ok, fail) => {
    const n = ++id;
    pending.set(n, (m) => (m.error ? fail(new Error(`${method}: ${JSON.stringify(m.error)}`)) : ok(m.result)));
    ws.send(JSON.stringify({ id: n, method, params }));
  });
  return { send, close: () => ws.close(), targets: targets.map((t) => t.title ?? t.url) };
}

/** Self time per function (ms), from the profile's samples. */
function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const byFn = new Map();
  for (const [id, ms] of dt) {
    const cf = byId.get(id).callFrame;
    const key = `${cf.functionName || "(anonymous)"} ${cf.url ? cf.url.split("/").pop() : ""}${cf.url ? `:${cf.lineNumber + 1}` : ""}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + ms);
  }
  return [...byFn].sort((a, b) => b[1] - a[1]);
}

/** `--workload heap`: the runtime's RSS and the isolate's JS heap before and after opening
 *  WATCHERS idle WebSocket watchers, per 1,000 sockets. */
async function measureHeap(worker, base) {
  const pid = workerds(worker).find((p) => p.role === "runtime").pid;
  const devtools = await inspect(worker.inspectorPort);
  const measure = async () => {
    const heap = await devtools.send("Runtime.getHeapUsage");
    return { rss_kib: rssKib(pid), heap_used_kib: heap.usedSize / 1024, heap_total_kib: heap.totalSize / 1024 };
  };
  await (await fetch(`${base}/provider`, { method: "PUT", body: '{"registers":{"bench:x":{"value":0,"ttl":"1h"}}}' })).arrayBuffer();
  await sleep(1000);
  const before = await measure();
  const opened = await openMany("heap", WATCHERS, () => openWs(base, "bench:x", new Arrivals(WATCHERS)));
  await sleep(5000);
  const after = await measure();
  const per = (k) => (((after[k] - before[k]) / opened.watchers.length) * 1000).toFixed(0);
  console.log(`${BASELINE ? "the baseline" : "ours"}: ${opened.watchers.length} idle WebSockets; per 1,000 sockets: runtime RSS ${per("rss_kib")} KiB, JS heap used ${per("heap_used_kib")} KiB, JS heap total ${per("heap_total_kib")} KiB`);
  console.log(JSON.stringify({ before, after }));
  devtools.close();
  await closeAll(opened.watchers);
}

/** The other workloads: the workload under the CPU profiler, then the functions with the most
 *  self time. */
async function profileWorkload(worker, base) {
  let watchers = [];
  let arrivals;
  if (WORKLOAD === "ws" || WORKLOAD === "sse") {
    arrivals = new Arrivals(WATCHERS);
    const open = WORKLOAD === "ws" ? openWs : openSse;
    const opened = await openMany(WORKLOAD, WATCHERS, () => open(base, "bench:x", arrivals));
    watchers = opened.watchers;
    arrivals.expected = watchers.length;
    await sleep(2000);
  }
  const devtools = await inspect(worker.inspectorPort);
  await devtools.send("Profiler.enable");
  await devtools.send("Profiler.setSamplingInterval", { interval: 100 });
  await devtools.send("Profiler.start");
  const t0 = performance.now();
  if (WORKLOAD === "cold") {
    const r = await fetch(`${base.replace(/\/r\/bench$/, "/r/cold")}/consumer?name=r:1`);
    await r.arrayBuffer();
  } else if (arrivals) {
    for (let i = 0; i < WRITES; i++) {
      const r = await fetch(`${base}/provider`, { method: "PUT", body: `{"registers":{"bench:x":{"value":${i},"ttl":"1h"}}}` });
      await r.arrayBuffer();
      await arrivals.wait(Number(r.headers.get("x-registry-version")), 10_000);
    }
  } else {
    for (let i = 0; i < REQUESTS; i++) {
      const r = WORKLOAD === "put"
        ? await fetch(`${base}/provider`, { method: "PUT", body: `{"registers":{"r${i % 50}":{"value":${i},"ttl":"1h"}}}` })
        : await fetch(`${base}/consumer?name=r${i % 50}`);
      await r.arrayBuffer();
    }
  }
  const wall = performance.now() - t0;
  const { profile } = await devtools.send("Profiler.stop");
  devtools.close();
  await closeAll(watchers);
  if (arg("out")) writeFileSync(arg("out"), JSON.stringify(profile));
  const times = selfTimes(profile);
  const total = times.reduce((s, [, ms]) => s + ms, 0);
  const idle = times.filter(([k]) => /^\((idle|program|garbage collector)\)/.test(k)).reduce((s, [, ms]) => s + ms, 0);
  const ops = WORKLOAD === "cold" ? 1 : arrivals ? WRITES : REQUESTS;
  console.log(`profile of ${BASELINE ? "the baseline" : "ours"}, workload ${WORKLOAD} (${arrivals ? `${watchers.length} watchers, ${WRITES} writes` : `${REQUESTS} requests`}), inspector targets: ${devtools.targets.join(", ")}`);
  console.log(`wall ${wall.toFixed(0)} ms; sampled ${total.toFixed(0)} ms, of which (idle)/(program)/(gc) ${idle.toFixed(0)} ms; busy ${((total - idle) / ops).toFixed(2)} ms per ${arrivals ? "write" : "request"}\n`);
  console.log("| self ms | % of busy | per op (ms) | function |");
  console.log("|---|---|---|---|");
  for (const [k, ms] of times.slice(0, TOP)) {
    console.log(`| ${ms.toFixed(1)} | ${((100 * ms) / (total - idle)).toFixed(1)} | ${(ms / ops).toFixed(3)} | ${k.replaceAll("|", "\\|")} |`);
  }
}

const worker = new Worker(BASELINE ? { config: "bench/baseline/wrangler.toml" } : {});
if (arg("cold-from")) cpSync(arg("cold-from"), worker.persist, { recursive: true });
await worker.start();
try {
  const base = `${await runtimeOrigin(worker)}/r/bench`;
  if (WORKLOAD !== "cold") for (let i = 0; i < 50; i++) await (await fetch(`${base}/provider`, { method: "PUT", body: `{"registers":{"r${i}":{"value":0,"ttl":"1h"}}}` })).arrayBuffer();
  await (WORKLOAD === "heap" ? measureHeap(worker, base) : profileWorkload(worker, base));
} finally {
  await worker.dispose();
}
