// What one registry can hold on local workerd: fills a registry with COUNT registers of about
// BYTES of JSON each (batches under the 1 MiB body limit), writes one register at a time up to
// version 257 (the checkpoint at 256 holds the whole state), rolls back to 0 and back, restarts
// the worker and reads the state at 256. Reports, per step, its time and the resident memory
// of the workerd process (VmRSS, and its peak VmHWM since start): the Durable Object's
// isolate (JS heap and wasm memory) is the part of it that grows with the state.
// Usage: node bench/storage-limits.mjs --count N --bytes B   (after scripts/build.sh)
// The registry's bounds (max_entries, max_state_bytes) are lifted for the run (wrangler vars).
import { readFileSync, readdirSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { Worker, http } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const COUNT = arg("count", 160);
const BYTES = arg("bytes", 60_000);
const TTL = "1000h";

/** VmRSS and VmHWM (MB) of the workerd processes in the worker's process group. */
function memory(worker) {
  let rss = 0;
  let hwm = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== worker.proc.pid || !stat.includes("(workerd)")) continue;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    rss += Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
    hwm += Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
  }
  return { rss_mb: Math.round(rss), peak_mb: Math.round(hwm) };
}

async function timed(worker, what, f) {
  const t = performance.now();
  const r = await f();
  const ms = Math.round(performance.now() - t);
  console.log(JSON.stringify({ step: what, ms, ...memory(worker) }));
  return r;
}

function ok(r, what) {
  if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}

// The registry's bounds are lifted so the bench can measure past them.
const worker = await new Worker({ vars: { MAX_ENTRIES: String(COUNT), MAX_STATE_BYTES: String(2 ** 40) } }).start();
const base = `${worker.url}/r/bench-storage`;
try {
  const names = [...Array(COUNT).keys()].map((i) => `r:${String(i).padStart(6, "0")}`);
  const value = (n, gen) => `${n}#${gen}:`.padEnd(Math.max(1, BYTES - 2), "x");
  const perWrite = Math.max(1, Math.min(1000, Math.floor(900_000 / (BYTES + 40))));
  const stateBytes = names.reduce((s, n) => s + n.length + JSON.stringify(value(n, 0)).length + 2, 0);
  console.log(JSON.stringify({ count: COUNT, bytes: BYTES, state_mb: +(stateBytes / 2 ** 20).toFixed(1), per_write: perWrite, ...memory(worker) }));
  let version = 0;
  const provide = async (regs) => {
    const body = { registers: Object.fromEntries(regs.map(([n, v]) => [n, { value: v, ttl: TTL }])) };
    ok(await http("PUT", `${base}/provider`, body), `version ${version + 1}`);
    version++;
  };
  await timed(worker, "fill", async () => {
    for (let i = 0; i < COUNT; i += perWrite) {
      await provide(names.slice(i, i + perWrite).map((n) => [n, value(n, 0)]));
    }
  });
  const small = [];
  for (let i = 0; version < 255; i++) {
    const t = performance.now();
    const n = names[i % COUNT];
    await provide([[n, value(n, 1 + Math.floor(i / COUNT))]]);
    small.push(performance.now() - t);
  }
  small.sort((a, b) => a - b);
  console.log(JSON.stringify({ step: "one write (median)", ms: +small[small.length >> 1].toFixed(1), ...memory(worker) }));
  await timed(worker, "write of version 256 (checkpoint)", () => provide([[names[0], value(names[0], 2)]]));
  await timed(worker, "write of version 257", () => provide([[names[1], value(names[1], 2)]]));
  await timed(worker, "rollback to 0", async () => ok(await http("POST", `${base}/v1/rollback`, { to: 0 }), "rollback"));
  await timed(worker, "rollback to 256", async () => ok(await http("POST", `${base}/v1/rollback`, { to: 256 }), "rollback"));
  await worker.restart();
  await timed(worker, "cold start (first request after a restart)", async () => ok(await http("GET", `${base}/v1/health`), "health"));
  await timed(worker, "state at 200 (first page)", async () => ok(await http("GET", `${base}/v1/state?at=200&limit=10`), "state"));
  await timed(worker, "one write after the restart", () => provide([[names[2], value(names[2], 3)]]));
} finally {
  await worker.dispose();
}
