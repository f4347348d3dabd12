// Minimal clients of the stream protocol (docs/protocol.md, "Streams") for the end-to-end
// suites: a WebSocket session that reconnects and resumes every watch from the last version it
// processed, and an SSE watch that resumes with Last-Event-ID. They record what they received
// so that tests can check it against the registry's history.

import { setTimeout as sleep } from "node:timers/promises";

/** Reads an event-stream body to its end: `onMessage(message, t)` for each `data:` frame (its
 *  JSON parsed), `t` the `performance.now()` at which its chunk arrived; keep-alive comments are
 *  skipped. Shared by these clients and the benchmarks' watchers (bench/watchers.mjs). */
export async function readEventStream(body, onMessage) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const t = performance.now();
    buf += decoder.decode(value, { stream: true });
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const frame = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const data = frame.split("\n").find((l) => l.startsWith("data: "));
      if (data) onMessage(JSON.parse(data.slice(6)), t);
    }
  }
}

/** One WebSocket session; `url()` is re-read on every reconnect (the port may change).
 *  `protocols`: subprotocols to offer, e.g. `["registry", "bearer.<token>"]`. */
export class WsSession {
  constructor(url, protocols = undefined) {
    this.url = url;
    this.protocols = protocols;
    this.watches = new Map(); // id -> { spec, last, changes: [{version, ops}] }
    this.inbox = [];
    this.waiters = [];
    this.closed = false;
    this.opens = 0;
    this.onMessage = null;
  }

  async open() {
    for (let attempt = 0; !this.closed; attempt++) {
      try {
        await this.#connect();
        return this;
      } catch {
        await sleep(Math.min(100 * 2 ** attempt, 1000));
      }
    }
  }

  #connect() {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(this.url().replace(/^http/, "ws") + "/v1/ws", this.protocols);
      let opened = false;
      ws.onopen = () => {
        opened = true;
        this.ws = ws;
        this.opens++;
        for (const [id, w] of this.watches) this.#sendWatch(id, w);
        ok();
      };
      ws.onerror = () => { if (!opened) fail(new Error("connect failed")); };
      ws.onclose = () => {
        if (!opened) return fail(new Error("closed before open"));
        if (!this.closed) this.open();
      };
      ws.onmessage = (e) => this.#receive(JSON.parse(e.data));
    });
  }

  #sendWatch(id, w) {
    const msg = { type: "watch", watch: id, ...w.spec };
    if (w.last !== null) msg.since = w.last;
    this.ws.send(JSON.stringify(msg));
  }

  #receive(m) {
    const w = m.watch !== undefined ? this.watches.get(m.watch) : undefined;
    if (w && m.type === "change") {
      if (m.version <= w.last) throw new Error(`duplicate change ${m.version} after ${w.last}`);
      w.changes.push({ version: m.version, ops: m.ops });
      w.last = m.version;
    } else if (w && (m.type === "synced" || m.type === "snapshot")) {
      w.last = Math.max(w.last ?? 0, m.version);
      if (m.type === "snapshot") w.snapshots.push(m);
    }
    this.inbox.push(m);
    if (this.onMessage) this.onMessage(m, this);
    const waiting = this.waiters;
    this.waiters = [];
    for (const f of waiting) f();
  }

  /** Starts a watch (`spec`: `{names}` or `{where}`), optionally from `since`. */
  watch(id, spec, since = null) {
    const w = { spec, last: since, changes: [], snapshots: [] };
    this.watches.set(id, w);
    this.#sendWatch(id, w);
    return w;
  }

  send(msg) {
    this.ws.send(JSON.stringify(msg));
  }

  /** Waits until a received message satisfies `pred` (searching from the start). */
  async next(pred, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`no such message in ${timeoutMs} ms; got ${JSON.stringify(this.inbox)}`);
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }

  /** Sends a message with a ref and returns its reply (`ok` or `error`). */
  async call(msg) {
    const ref = `r${Math.random()}`;
    this.send({ ...msg, ref });
    return this.next((m) => m.ref === ref);
  }

  close() {
    this.closed = true;
    this.ws?.close();
  }
}

/** One SSE watch that reconnects with Last-Event-ID. */
export class SseWatch {
  constructor(url, query) {
    this.url = url;
    this.query = query;
    this.last = null;
    this.changes = [];
    this.messages = []; // every message, in order (snapshots and synced too)
    this.closed = false;
    this.opens = 0;
  }

  start() {
    this.loop = this.#run();
    return this;
  }

  async #run() {
    while (!this.closed) {
      try {
        const headers = this.last === null ? {} : { "last-event-id": String(this.last) };
        this.controller = new AbortController();
        const r = await fetch(`${this.url()}/v1/watch?${this.query}`, { headers, signal: this.controller.signal });
        if (r.status !== 200) throw new Error(`SSE ${r.status}`);
        this.opens++;
        await readEventStream(r.body, (m) => {
          this.messages.push(m);
          if (m.type === "change") {
            if (this.last !== null && m.version <= this.last) throw new Error(`duplicate ${m.version}`);
            this.changes.push({ version: m.version, ops: m.ops });
          }
          if (m.version !== undefined) this.last = Math.max(this.last ?? 0, m.version);
        });
      } catch (e) {
        if (String(e).includes("duplicate")) throw e;
      }
      if (!this.closed) await sleep(100);
    }
  }

  close() {
    this.closed = true;
    this.controller?.abort();
  }
}
