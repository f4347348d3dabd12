// Stream watchers for the benchmarks (bench/streams.mjs, bench/floor.mjs): WebSocket and
// Server-Sent-Events clients that watch one name and record when each `change` arrives.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { readEventStream } from "../tests/e2e/stream_client.mjs";

/** Per socket, from connect to `synced`. */
const OPEN_TIMEOUT_MS = 20_000;

/** Arrivals of `change` messages: version -> [arrival times]; one waiter for one version. */
export class Arrivals {
  constructor(expected) {
    this.expected = expected;
    this.byVersion = new Map();
    this.waiter = null;
  }
  record(w, version, t) {
    const n = (w.seen.get(version) ?? 0) + 1;
    w.seen.set(version, n);
    let a = this.byVersion.get(version);
    if (!a) this.byVersion.set(version, (a = []));
    a.push(t);
    if (this.waiter && this.waiter.version === version && a.length >= this.expected) this.waiter.done();
  }
  /** Resolves when `expected` arrivals of `version` are in, or after `ms` (then incomplete). */
  wait(version, ms) {
    if ((this.byVersion.get(version)?.length ?? 0) >= this.expected) return Promise.resolve();
    return new Promise((ok) => {
      const timer = setTimeout(() => { this.waiter = null; ok(); }, ms);
      this.waiter = { version, done: () => { clearTimeout(timer); this.waiter = null; ok(); } };
    });
  }
}

/** What a watcher `w` does with one message `m` that arrived at `t`: a `change` is recorded, a
 *  `synced` ends the opening (`opened()`), anything but a snapshot is kept for the report. */
function onWatchMessage(w, m, t, arrivals, opened) {
  if (m.type === "change") arrivals.record(w, m.version, t);
  else if (m.type === "synced") {
    w.synced = true;
    opened();
  } else if (m.type !== "snapshot") w.other.push(m);
}

/** Opens one WebSocket, watches `name`, resolves once `synced` arrived. */
export function openWs(base, name, arrivals) {
  return new Promise((ok, fail) => {
    const w = { seen: new Map(), other: [], closed: null, error: false, synced: false };
    const ws = new WebSocket(base.replace(/^http/, "ws") + "/v1/ws");
    w.close = () => ws.close();
    w.closedP = new Promise((r) => (w.onClosed = r));
    const timer = setTimeout(() => {
      ws.close();
      fail(new Error(`no synced within ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    ws.onopen = () => ws.send(JSON.stringify({ type: "watch", watch: "w", names: [name] }));
    const opened = () => {
      clearTimeout(timer);
      ok(w);
    };
    ws.onmessage = (e) => onWatchMessage(w, JSON.parse(e.data), performance.now(), arrivals, opened);
    ws.onerror = () => (w.error = true);
    ws.onclose = (e) => {
      w.closed = { code: e.code, reason: e.reason };
      w.onClosed();
      if (!w.synced) {
        clearTimeout(timer);
        fail(new Error(`closed before synced: code ${e.code} ${e.reason}`));
      }
    };
  });
}

/** Opens one SSE watch of `name`, parses the stream incrementally, resolves on `synced`. */
export function openSse(base, name, arrivals) {
  return new Promise((ok, fail) => {
    const w = { seen: new Map(), other: [], closed: null, error: false, synced: false };
    const controller = new AbortController();
    w.close = () => controller.abort();
    let closedOk;
    w.closedP = new Promise((r) => (closedOk = r));
    const timer = setTimeout(() => {
      controller.abort();
      fail(new Error(`no synced within ${OPEN_TIMEOUT_MS} ms`));
    }, OPEN_TIMEOUT_MS);
    (async () => {
      try {
        const r = await fetch(`${base}/v1/watch?name=${encodeURIComponent(name)}`, { signal: controller.signal });
        if (r.status !== 200) throw new Error(`status ${r.status}: ${await r.text()}`);
        const opened = () => {
          clearTimeout(timer);
          ok(w);
        };
        await readEventStream(r.body, (m, t) => onWatchMessage(w, m, t, arrivals, opened));
        w.closed = { reason: "stream ended by the server" };
      } catch (e) {
        w.closed = { reason: controller.signal.aborted ? "aborted by the client" : String(e) };
        if (!controller.signal.aborted) w.error = true;
      }
      closedOk();
      if (!w.synced) {
        clearTimeout(timer);
        fail(new Error(`closed before synced: ${w.closed.reason}`));
      }
    })();
  });
}

/** Opens `count` watchers, `BATCH` at a time; failures are reported, not retried. */
export async function openMany(kind, count, open, { batch = 50, problem = console.error } = {}) {
  const t = performance.now();
  const watchers = [];
  const failures = new Map(); // message -> count
  for (let i = 0; i < count; i += batch) {
    const settled = await Promise.allSettled(Array.from({ length: Math.min(batch, count - i) }, open));
    for (const r of settled) {
      if (r.status === "fulfilled") watchers.push(r.value);
      else failures.set(r.reason.message, (failures.get(r.reason.message) ?? 0) + 1);
    }
  }
  const seconds = (performance.now() - t) / 1000;
  for (const [msg, n] of failures) problem(`${kind}: ${n} of ${count} watchers failed to open: ${msg}`);
  return { watchers, open_s: Number(seconds.toFixed(2)), opened: watchers.length, failed: count - watchers.length };
}

/** Closes every watcher and waits (bounded) for the closes to complete. */
export async function closeAll(watchers) {
  for (const w of watchers) w.close();
  await Promise.race([Promise.all(watchers.map((w) => w.closedP)), sleep(10_000)]);
}
