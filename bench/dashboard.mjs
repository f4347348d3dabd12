// The dashboard at scale: 10,000 registers in one registry, the entries view open in Debian's
// Chromium (Playwright), then, in the same run and the same page:
//   idle     — no writes for --seconds (the baseline),
//   updates  — --rate register changes per second (values of random registers, --batch per
//              PUT /provider, so rate/batch versions per second) for --seconds,
//   +consumeAll — the same writes with a second client in the page subscribed to
//              `consumeAll()` (what whole-registry snapshots cost on the same main thread, on
//              top of the view's `watch`).
// Measured in the page: the time to apply one batch of watch items (entries.js,
// `window.__dashboardStats`), and frame times (requestAnimationFrame deltas: median, p95, max,
// frames over 50 ms), and the main thread's long tasks (ms per second). Prints a table and the ratios to the idle phase.
// Usage: node bench/dashboard.mjs [--seconds 20] [--rate 100] [--batch 10] [--registers 10000]
//        (after scripts/build.sh; CHROMIUM= to use another Chromium)
import { setTimeout as sleep } from "node:timers/promises";
import { launchBrowser, openDashboard } from "../tests/e2e/dashboard_fixture.mjs";
import { Worker, http } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SECONDS = arg("seconds", 20);
const RATE = arg("rate", 100);
const REGISTERS = arg("registers", 10_000);
/** Register changes per PUT (the writes go out at RATE / BATCH PUTs per second). */
const BATCH = arg("batch", 10);

const name = (i) => `zone-${Math.floor(i / 1000)}.room-${Math.floor((i % 1000) / 100)}:reg-${i}`;

function summary(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : NaN);
  return { n: s.length, median: q(0.5), p95: q(0.95), max: s.length ? s[s.length - 1] : NaN };
}

/** Starts sampling frames in the page (rAF deltas) and resets the view's batch stats. */
const startSampling = (page) => page.evaluate(() => {
  window.__dashboardStats.reset();
  window.__frames = [];
  window.__longTasks = 0;
  window.__longObserver?.disconnect();
  window.__longObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks += e.duration;
  });
  window.__longObserver.observe({ type: "longtask" });
  window.__t0 = performance.now();
  let last = performance.now();
  window.__sampling = true;
  const tick = (t) => {
    window.__frames.push(t - last);
    last = t;
    if (window.__sampling) requestAnimationFrame(tick);
  };
  requestAnimationFrame((t) => {
    last = t;
    requestAnimationFrame(tick);
  });
});

const stopSampling = (page) => page.evaluate(() => {
  window.__sampling = false;
  const s = window.__dashboardStats;
  const secs = (performance.now() - window.__t0) / 1000;
  return { frames: window.__frames, applyMs: s.applyMs, batches: s.batches, items: s.items, ops: s.ops, longPerSec: window.__longTasks / secs };
});

/** Writes `RATE` register changes per second (`BATCH` per PUT) for `SECONDS`; returns how many
 *  changes were answered 204 and the achieved rate of changes. */
async function drive(base) {
  const total = (RATE / BATCH) * SECONDS;
  const t0 = performance.now();
  let ok = 0;
  let inFlight = 0;
  const pending = [];
  for (let k = 0; k < total; k++) {
    const due = t0 + (k * 1000 * BATCH) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight >= 16) await sleep(1);
    inFlight++;
    const registers = {};
    for (let j = 0; j < BATCH; j++) {
      const i = Math.floor(Math.random() * REGISTERS);
      registers[name(i)] = { value: { n: k, j, t: Date.now() }, metadata: { zone: Math.floor(i / 1000) }, ttl: "1h" };
    }
    pending.push(http("PUT", `${base}/provider`, { registers })
      .then((r) => { if (r.status === 204) ok += Object.keys(registers).length; })
      .finally(() => inFlight--));
  }
  await Promise.all(pending);
  return { ok, rate: ok / ((performance.now() - t0) / 1000) };
}

const worker = new Worker({ vars: { MAX_ENTRIES: String(REGISTERS * 2), MAX_STATE_BYTES: String(64 << 20) } });
await worker.start();
const browser = await launchBrowser();
try {
  const base = `${worker.url}/r/bench`;
  for (let start = 0; start < REGISTERS; start += 1000) {
    const registers = {};
    for (let i = start; i < Math.min(REGISTERS, start + 1000); i++) registers[name(i)] = { value: i, metadata: { zone: Math.floor(i / 1000) }, ttl: "1h" };
    const r = await http("PUT", `${base}/provider`, { registers });
    if (r.status !== 204) throw new Error(`fill: ${r.status} ${r.text}`);
  }
  const page = await openDashboard(browser, worker.url, "bench", { width: 1280, height: 800 });
  const tLoad = Date.now();
  await page.waitForFunction((n) => document.querySelector(".count-total")?.textContent === String(n), REGISTERS, { timeout: 120_000, polling: 100 });
  console.log(`page showing ${REGISTERS} registers ${Date.now() - tLoad} ms after load started`);
  await sleep(2000);

  const phases = [];
  const run = async (label, withWrites) => {
    await startSampling(page);
    const driven = withWrites ? await drive(base) : (await sleep(SECONDS * 1000), null);
    await sleep(300);
    const got = await stopSampling(page);
    phases.push({ label, driven, ...got });
  };
  await run("idle", false);
  await run("updates", true);
  // A second client in the same page (same main thread) consuming whole-registry snapshots.
  await page.evaluate(async () => {
    const { RegistryClient } = await import("/pkg/web.js");
    // Held by the window: a client only referenced locally would be collected (and closed).
    window.__benchClient = new RegistryClient(`${location.origin}/r/bench`);
    window.__benchAll = window.__benchClient.consumeAll();
    window.__snapshots = 0;
    window.__benchAll.subscribe(() => window.__snapshots++);
  });
  await page.waitForFunction(() => window.__snapshots > 0, null, { timeout: 60_000 });
  await run("updates +consumeAll", true);
  const snapshots = await page.evaluate(() => window.__snapshots);

  const idle = summary(phases[0].frames);
  console.log(`\n${REGISTERS} registers, ${RATE} changes/s target (${BATCH} per PUT), ${SECONDS} s per phase\n`);
  console.log("| phase | changes written | achieved/s | batches | ops applied | apply ms median / p95 / max | frame ms median / p95 / max | frames > 50 ms | long tasks ms/s | p95 frame ÷ idle |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const p of phases) {
    const a = summary(p.applyMs);
    const f = summary(p.frames);
    const long = p.frames.filter((d) => d > 50).length;
    const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
    console.log(`| ${p.label} | ${p.driven?.ok ?? 0} | ${p.driven ? p.driven.rate.toFixed(1) : 0} | ${p.batches} | ${p.ops} | ${fmt(a.median)} / ${fmt(a.p95)} / ${fmt(a.max)} | ${fmt(f.median)} / ${fmt(f.p95)} / ${fmt(f.max)} | ${long} of ${f.n} | ${p.longPerSec.toFixed(0)} | ${(f.p95 / idle.p95).toFixed(2)} |`);
  }
  console.log(`\nconsumeAll snapshots delivered in its phase: ${snapshots}`);
  if (page.errors.length) console.log("page errors:", page.errors);
  await page.close();
} finally {
  await browser.close();
  await worker.dispose();
}
