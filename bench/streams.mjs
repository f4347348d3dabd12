// Stream fan-out benchmark of the worker in local workerd (wrangler dev), one registry, one run:
//   1. WATCHERS (default 1,000) WebSocket watchers of one register, one socket each (`watch` by
//      name, then its `synced`); then WRITES (default 50) `PUT /provider` of that register, one
//      at a time. t0 is taken just before each PUT is sent; every socket records when the
//      `change` of the PUT's version (header x-registry-version) reached its message handler.
//      Per write: delay to the LAST watcher and to the median watcher. Reported: median and p99
//      over the writes of the last-watcher delay, median of the median-watcher delay.
//   2. The same with WATCHERS Server-Sent-Events watchers (`GET /v1/watch?name=…`).
//   3. Idle memory: RSS of the workerd processes (descendants of the wrangler process) before
//      the sockets are opened and with them open and idle (after a 5 s settle), per socket.
//   4. References in the same run: the same writes with 1 WebSocket watcher and with 1 SSE
//      watcher, so that the fan-out figures can be read as ratios.
// Every watcher must receive every write exactly once (and nothing else): otherwise the script
// says so on stderr, records it in `problems` and exits with status 1 (figures still printed).
// Arrival times are taken in this one Node process, in each socket's message handler, so they
// include this client's own work of receiving 1,000 frames per write (see
// `client_event_loop_utilization`).
// With --direct, every phase (warm-up, references, watchers, writes) goes not to the public
// port (wrangler dev's proxy workerd, which relays every frame and does not exist in production)
// but straight to a port of the runtime workerd that serves the worker itself: among the TCP
// ports that process listens on (from /proc/net/tcp{,6} and its socket fds, as `ss -ltnp`
// shows them), the first that answers `GET /r/bench/v1/health` with 200 and `"status":"ok"` AND
// accepts a WebSocket on `/r/bench/v1/ws` that answers a `watch` with `synced`. The port, pid and
// every candidate's outcome are reported (`target` in the JSON); if none qualifies, the run stops.
// Usage: node bench/streams.mjs [--direct] [--writes N] [--watchers N] [--batch N]   (after scripts/build.sh)
// Output: a table, then the results as JSON on the last line of stdout.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker, http } from "../tests/e2e/worker.mjs";
import { descendants, listeningPorts } from "../tests/e2e/runtime.mjs";
import { Arrivals, closeAll, openMany as openManyWith, openSse, openWs } from "./watchers.mjs";

const openMany = (kind, count, open) => openManyWith(kind, count, open, { batch: BATCH, problem });

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const WRITES = arg("writes", 50);
const WATCHERS = arg("watchers", 1000);
const BATCH = arg("batch", 50); // sockets opened concurrently
const DIRECT = process.argv.includes("--direct");
const PROBE_TIMEOUT_MS = 3_000; // per candidate port and check (--direct)
const WRITE_TIMEOUT_MS = 10_000; // per write, for every watcher to receive it
const SETTLE_MS = 5_000;
const DEADLINE_MS = 285_000; // the whole run

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (xs) => pct([...xs].sort((a, b) => a - b), 50);
const f2 = (x) => (x === undefined || Number.isNaN(x) ? null : Number(x.toFixed(2)));
const problems = [];
const problem = (msg) => {
  problems.push(msg);
  console.error(`PROBLEM: ${msg}`);
};

// ---- process memory (Linux /proc) ----

/** RSS (KiB) of the workerd processes under the wrangler process. */
function workerdRss(worker) {
  const procs = [];
  for (const pid of descendants(worker.proc.pid)) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (!comm.includes("workerd")) continue;
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN);
      // wrangler dev runs two workerd: one listening on our port (its proxy in front), and the
      // runtime of the worker and its Durable Object (on a port of its own).
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      const role = cmd.includes(`entry=127.0.0.1:${worker.port}`) ? "proxy" : "runtime";
      procs.push({ pid, role, rss_kib: rss });
    } catch {}
  }
  return { total_kib: procs.reduce((s, p) => s + p.rss_kib, 0), procs };
}

/** CPU time (ms, user + system) of the workerd processes by role, and of this process. */
function cpuTimes(worker) {
  const out = { proxy: 0, runtime: 0 };
  for (const p of workerdRss(worker).procs) {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[p.role] += ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks of 10 ms
    } catch {}
  }
  const c = process.cpuUsage();
  out.client = (c.user + c.system) / 1000;
  return out;
}

// ---- --direct: a runtime port serving the worker itself ----

/** `GET <origin>/r/<reg>/v1/health`: 200 and `"status":"ok"`? */
async function probeHealth(origin, reg) {
  try {
    const r = await fetch(`${origin}/r/${reg}/v1/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    const text = await r.text();
    let status;
    try { status = JSON.parse(text).status; } catch {}
    return { ok: r.status === 200 && status === "ok", status: r.status, body: text.slice(0, 120) };
  } catch (e) {
    return { ok: false, error: String(e.cause?.code ?? e.name ?? e) };
  }
}

/** WebSocket on `<origin>/r/<reg>/v1/ws`: opens, and answers a `watch` with `synced`? */
function probeWs(origin, reg) {
  return new Promise((ok) => {
    let ws;
    const done = (r) => {
      clearTimeout(timer);
      try { ws.close(); } catch {}
      ok(r);
    };
    const timer = setTimeout(() => done({ ok: false, error: `no synced within ${PROBE_TIMEOUT_MS} ms` }), PROBE_TIMEOUT_MS);
    try { ws = new WebSocket(`${origin.replace(/^http/, "ws")}/r/${reg}/v1/ws`); } catch (e) { return done({ ok: false, error: String(e) }); }
    ws.onopen = () => ws.send(JSON.stringify({ type: "watch", watch: "probe", names: ["bench:probe"] }));
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch { return done({ ok: false, error: "non-JSON message" }); }
      if (m.type === "synced") done({ ok: true });
    };
    ws.onerror = () => done({ ok: false, error: "WebSocket error" });
    ws.onclose = (e) => done({ ok: false, error: `closed before synced: code ${e.code}` });
  });
}

/** The lowest runtime-workerd port that passes both probes; every port is probed and reported. */
async function findDirect(worker, reg) {
  const runtimes = workerdRss(worker).procs.filter((p) => p.role === "runtime");
  const candidates = [];
  for (const { pid } of runtimes) {
    for (const port of listeningPorts(pid)) {
      const origin = `http://127.0.0.1:${port}`;
      const c = { pid, port, health: await probeHealth(origin, reg) };
      if (c.health.ok) c.ws = await probeWs(origin, reg);
      candidates.push(c);
    }
  }
  const chosen = candidates.find((c) => c.health.ok && c.ws?.ok);
  if (chosen) return { mode: "direct", pid: chosen.pid, port: chosen.port, origin: `http://127.0.0.1:${chosen.port}`, candidates };
  throw new Error(`--direct: no port of the runtime workerd (pids ${runtimes.map((p) => p.pid).join(", ") || "none found"}) answers /r/${reg}/v1/health with 200 and /r/${reg}/v1/ws with synced: ${JSON.stringify(candidates)}`);
}

/** WRITES sequential writes of `name`, each awaited until every watcher has it. */
async function writes(kind, base, name, watchers, arrivals) {
  const perWrite = [];
  const versions = [];
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = cpuTimes(worker);
  for (let i = 1; i <= WRITES; i++) {
    const body = `{"registers":{"${name}":{"value":${i},"ttl":"1h"}}}`;
    const t0 = performance.now();
    const r = await fetch(`${base}/provider`, { method: "PUT", body });
    await r.arrayBuffer();
    const tPut = performance.now();
    if (r.status !== 204) {
      problem(`${kind}: write ${i}: PUT status ${r.status}`);
      continue;
    }
    const version = Number(r.headers.get("x-registry-version"));
    versions.push(version);
    await arrivals.wait(version, WRITE_TIMEOUT_MS);
    const got = (arrivals.byVersion.get(version) ?? []).map((t) => t - t0).sort((a, b) => a - b);
    if (got.length < watchers.length) {
      problem(`${kind}: write ${i} (version ${version}): ${got.length} of ${watchers.length} watchers had it after ${WRITE_TIMEOUT_MS} ms`);
    }
    perWrite.push({
      version,
      put_ms: tPut - t0,
      received: got.length,
      first_ms: got[0],
      median_ms: pct(got, 50),
      last_ms: got.length >= watchers.length ? got[got.length - 1] : undefined,
    });
  }
  const elu = performance.eventLoopUtilization(elu0);
  const cpu1 = cpuTimes(worker);
  const cpuPerWrite = Object.fromEntries(Object.keys(cpu1).map((k) => [k, f2((cpu1[k] - cpu0[k]) / WRITES)]));
  await sleep(1000); // late or duplicate deliveries
  // Every watcher: every written version exactly once, and no other change.
  const written = new Set(versions);
  let missing = 0, duplicated = 0, unexpected = 0, other = 0, closed = 0;
  for (const w of watchers) {
    for (const v of versions) {
      const n = w.seen.get(v) ?? 0;
      if (n === 0) missing++;
      if (n > 1) duplicated++;
    }
    for (const v of w.seen.keys()) if (!written.has(v)) unexpected++;
    other += w.other.length;
    if (w.closed) closed++;
  }
  if (missing) problem(`${kind}: ${missing} (watcher, write) deliveries missing`);
  if (duplicated) problem(`${kind}: ${duplicated} (watcher, write) deliveries duplicated`);
  if (unexpected) problem(`${kind}: ${unexpected} changes of versions not written by this phase`);
  if (other) problem(`${kind}: ${other} unexpected messages, e.g. ${JSON.stringify(watchers.find((w) => w.other.length).other[0])}`);
  if (closed) problem(`${kind}: ${closed} watchers closed during the writes, e.g. ${JSON.stringify(watchers.find((w) => w.closed).closed)}`);

  const lasts = perWrite.map((p) => p.last_ms).filter((x) => x !== undefined).sort((a, b) => a - b);
  return {
    watchers: watchers.length,
    writes: perWrite.length,
    last_watcher_ms: { median: f2(pct(lasts, 50)), p90: f2(pct(lasts, 90)), p99: f2(pct(lasts, 99)), max: f2(lasts[lasts.length - 1]) },
    median_watcher_ms: { median: f2(median(perWrite.map((p) => p.median_ms))) },
    first_watcher_ms: { median: f2(median(perWrite.map((p) => p.first_ms))) },
    put_round_trip_ms: { median: f2(median(perWrite.map((p) => p.put_ms))) },
    deliveries: { expected: watchers.length * versions.length, missing, duplicated, unexpected },
    client_event_loop_utilization: f2(elu.utilization),
    cpu_ms_per_write: cpuPerWrite,
  };
}

// ---- the run ----

const worker = new Worker();
const watchdog = setTimeout(async () => {
  console.error(`streams bench: not finished after ${DEADLINE_MS / 1000} s, stopping the worker`);
  await worker.dispose();
  process.exit(2);
}, DEADLINE_MS);
watchdog.unref();

const results = { watchers: WATCHERS, writes: WRITES, batch: BATCH };
try {
  await worker.start();
  const proxyPid = workerdRss(worker).procs.find((p) => p.role === "proxy")?.pid;
  results.target = DIRECT
    ? { ...(await findDirect(worker, "bench")), proxy_pid: proxyPid, proxy_port: worker.port }
    : { mode: "proxy", pid: proxyPid, port: worker.port, origin: worker.url };
  const t = results.target;
  console.error(`streams bench: target ${t.origin} (${t.mode === "direct" ? "the runtime workerd" : "wrangler dev's proxy workerd"}, pid ${t.pid})`);
  for (const c of t.candidates ?? []) {
    console.error(`  runtime port ${c.port}: health ${c.health.ok ? "200 ok" : (c.health.status ?? c.health.error)}${c.ws ? `, ws ${c.ws.ok ? "synced" : c.ws.error}` : ""}`);
  }
  const base = `${t.origin}/r/bench`;
  // Warm-up: the object, the connection pool, the registers watched below.
  for (let i = 0; i < 50; i++) await http("PUT", `${base}/provider`, { registers: { warm: { value: i } } });
  const names = { ref_ws: "bench:ref-ws", ref_sse: "bench:ref-sse", ws: "bench:x", sse: "bench:y" };
  const init = Object.fromEntries(Object.values(names).map((n) => [n, { value: 0, ttl: "1h" }]));
  if ((await http("PUT", `${base}/provider`, { registers: init })).status !== 204) throw new Error("initial PUT failed");
  results.rss_after_warmup_kib = workerdRss(worker).total_kib;

  // 4. References: one watcher.
  for (const [kind, open] of [["ref_ws", openWs], ["ref_sse", openSse]]) {
    const arrivals = new Arrivals(1);
    const w = await open(base, names[kind], arrivals);
    results[kind] = await writes(kind, base, names[kind], [w], arrivals);
    await closeAll([w]);
  }
  await sleep(2000);

  // One fan-out phase: WATCHERS watchers opened with `open`, idle memory after a settle
  // (`results.memory_<kind>`, shaped by `memory(before, open, opened)`), then the writes
  // (`results.<kind>`), then the watchers closed.
  const phase = async (kind, open, memory) => {
    const before = workerdRss(worker);
    const arrivals = new Arrivals(WATCHERS);
    const opened = await openMany(kind, WATCHERS, () => open(base, names[kind], arrivals));
    arrivals.expected = opened.opened;
    await sleep(SETTLE_MS);
    const idle = workerdRss(worker);
    results[kind] = { open_s: opened.open_s, opened: opened.opened, failed: opened.failed };
    results[`memory_${kind}`] = memory(before, idle, opened.opened);
    Object.assign(results[kind], await writes(kind, base, names[kind], opened.watchers, arrivals));
    await closeAll(opened.watchers);
  };

  // 1 + 3. WebSockets.
  await phase("ws", openWs, (before, open, opened) => ({
    sockets: opened,
    before_kib: before.total_kib,
    open_idle_kib: open.total_kib,
    per_socket_kib: f2((open.total_kib - before.total_kib) / opened),
    workerd_processes_before: before.procs,
    workerd_processes_open: open.procs,
  }));
  results.memory_ws.after_writes_and_close_kib = workerdRss(worker).total_kib;
  await sleep(2000);

  // 2. Server-Sent Events (memory measured the same way, for information).
  await phase("sse", openSse, (before, open, opened) => ({
    streams: opened,
    before_kib: before.total_kib,
    open_idle_kib: open.total_kib,
    per_stream_kib: f2((open.total_kib - before.total_kib) / opened),
    note: "measured after the WebSocket phase; workerd keeps and reuses the memory freed by it",
  }));

  const health = await http("GET", `${base}/v1/health`);
  results.health_after = health.json;
} catch (e) {
  problem(`run aborted: ${e.stack ?? e}`);
} finally {
  clearTimeout(watchdog);
  await worker.dispose();
}

// ---- report ----
results.problems = problems;
const row = (label, r) => {
  if (!r?.last_watcher_ms) return `| ${label} | (not measured) | | | | | |`;
  const c = r.cpu_ms_per_write;
  return `| ${label} | ${r.last_watcher_ms.median} / ${r.last_watcher_ms.p99} / ${r.last_watcher_ms.max} | ${r.median_watcher_ms.median} | ${r.first_watcher_ms.median} | ${r.put_round_trip_ms.median} | ${r.deliveries.expected - r.deliveries.missing}/${r.deliveries.expected} (dup ${r.deliveries.duplicated}) | ${c.runtime} / ${c.proxy} / ${c.client} (ELU ${r.client_event_loop_utilization}) |`;
};
console.log(`\nStreams: ${WATCHERS} watchers, ${WRITES} writes one at a time (delays in ms from just before the PUT is sent)`);
const tg = results.target;
console.log(tg
  ? `Target: ${tg.origin} — ${tg.mode === "direct" ? `--direct: a port of the runtime workerd (pid ${tg.pid}) serving the worker itself, bypassing wrangler dev's proxy (pid ${tg.proxy_pid}, port ${tg.proxy_port})` : `wrangler dev's public port, through its proxy workerd (pid ${tg.pid})`}\n`
  : "Target: (not chosen)\n");
console.log("| watchers | last watcher median / p99 / max | median watcher (median) | first watcher (median) | PUT round trip (median) | deliveries | CPU ms per write: runtime / proxy / client |");
console.log("|---|---|---|---|---|---|---|");
console.log(row("1 WebSocket (reference)", results.ref_ws));
console.log(row(`${results.ws?.opened ?? 0} WebSockets`, results.ws));
console.log(row("1 SSE (reference)", results.ref_sse));
console.log(row(`${results.sse?.opened ?? 0} SSE`, results.sse));
if (results.ref_ws?.last_watcher_ms && results.ws?.last_watcher_ms) {
  console.log(`\nratio ${results.ws.opened} WS / 1 WS (last watcher, median): ${(results.ws.last_watcher_ms.median / results.ref_ws.last_watcher_ms.median).toFixed(2)}`);
}
if (results.ws) console.log(`WebSockets opened in ${results.ws.open_s} s; SSE streams in ${results.sse?.open_s} s`);
const mem = results.memory_ws;
if (mem) {
  console.log(`workerd RSS: before ${(mem.before_kib / 1024).toFixed(1)} MiB, with ${mem.sockets} idle WebSockets ${(mem.open_idle_kib / 1024).toFixed(1)} MiB → ${mem.per_socket_kib} KiB per socket (${mem.workerd_processes_open.map((p) => { const b = mem.workerd_processes_before.find((q) => q.pid === p.pid); return `${p.role} ${(b.rss_kib / 1024).toFixed(1)} → ${(p.rss_kib / 1024).toFixed(1)} MiB`; }).join(", ")})`);
}
if (results.memory_sse) {
  const m = results.memory_sse;
  console.log(`workerd RSS: before SSE ${(m.before_kib / 1024).toFixed(1)} MiB, with ${m.streams} idle SSE streams ${(m.open_idle_kib / 1024).toFixed(1)} MiB → ${m.per_stream_kib} KiB per stream (after the WebSocket phase, whose freed memory workerd keeps and reuses: not comparable)`);
}
console.log(problems.length ? `\n${problems.length} PROBLEM(S):\n- ${problems.join("\n- ")}` : "\nevery watcher received every write exactly once");
console.log(JSON.stringify(results));
if (problems.length) process.exitCode = 1;
