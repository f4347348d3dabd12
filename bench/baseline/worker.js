// The platform's floor for bench/floor.mjs: what a Durable Object costs when it does the least
// each measured operation needs. Never deployed. Paths mirror the registry's, so the bench
// drives both with the same client code:
//   GET  /r/{name}/consumer     (a) a trivial answer from the object
//   PUT  /r/{name}/provider     (b) one SQLite row in a storage transaction, then (c) one text
//                               encoded once and sent to every WebSocket and SSE stream; the
//                               row id is the version (x-registry-version)
//   GET  /r/{name}/v1/ws        a hibernatable WebSocket; any message is answered `synced`
//   GET  /r/{name}/v1/watch     an SSE stream: `synced`, then every broadcast
//   POST /r/{name}/seed?entries=E&versions=V&bytes=B&from=F&count=C
//                               (d) rows like a registry's: E entries and V versions of about B
//                               bytes, rows F..F+C of them, in one transaction
//   GET  /r/{name}/load         reads every `entries` row (what loading a registry must read)
//   GET  /r/{name}/v1/health    {"status":"ok", ...counts}
// Anything outside /r/{name}/ goes to the object named "default".
// With the var LOG_LINES=1 (bench/floor.mjs --baseline-logs) the object prints the log lines the
// registry prints: one JSON line per request, and one more per version written.

const SYNCED = JSON.stringify({ type: "synced", watch: "w" });
const encoder = new TextEncoder();

export class Floor {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.logLines = env.LOG_LINES === "1";
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS entries (id TEXT PRIMARY KEY, body TEXT NOT NULL)");
    this.sql.exec("CREATE TABLE IF NOT EXISTS versions (version INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    /** Writers of the open SSE streams. */
    this.streams = new Set();
  }

  fetch(request) {
    return this.logLines ? this.logged(request) : this.route(request);
  }

  /** `route`, then the request's log line. */
  async logged(request) {
    const started = Date.now();
    const response = await this.route(request);
    const path = new URL(request.url).pathname.replace(/^\/r\/[^/]+/, "");
    console.log(JSON.stringify({ event: "request", registry: "bench", method: request.method, path, status: response.status, actor: null, version: Number(response.headers.get("x-registry-version") ?? 0), ops: request.method === "PUT" ? 1 : 0, duration_ms: Date.now() - started }));
    return response;
  }

  async route(request) {
    const url = new URL(request.url);
    const path = url.pathname.replace(/^\/r\/[^/]+/, "");
    if (path === "/consumer") return new Response('{"value":1}', { headers: { "content-type": "application/json" } });
    if (path === "/provider" && request.method === "PUT") return this.write(await request.text());
    if (path === "/v1/ws") return this.accept();
    if (path === "/v1/watch") return this.watch();
    if (path === "/seed" && request.method === "POST") return this.seed(url.searchParams);
    if (path === "/load") {
      const rows = this.sql.exec("SELECT id, body FROM entries").toArray();
      return Response.json({ rows: rows.length });
    }
    if (path === "/v1/health") {
      const count = (t) => this.sql.exec(`SELECT count(*) AS n FROM ${t}`).one().n;
      return Response.json({ status: "ok", entries: count("entries"), versions: count("versions"), sockets: this.ctx.getWebSockets().length, streams: this.streams.size });
    }
    return new Response("not found", { status: 404 });
  }

  /** (b) one row in a transaction, then (c) the broadcast of one pre-encoded text. */
  write(body) {
    const version = this.ctx.storage.transactionSync(() => {
      this.sql.exec("INSERT INTO versions (body) VALUES (?)", body);
      return this.sql.exec("SELECT last_insert_rowid() AS v").one().v;
    });
    if (this.logLines) console.log(JSON.stringify({ event: "version", registry: "bench", version, actor: null, ops: 1, timestamp: Date.now() }));
    this.broadcast(`{"type":"change","watch":"w","version":${version},"actor":"provider","ops":[{"op":"update","body":${JSON.stringify(body)}}]}`, version);
    return new Response(null, { status: 204, headers: { "x-registry-version": String(version) } });
  }

  /** One text to every socket; its SSE frame encoded once for every stream. */
  broadcast(text, version) {
    for (const ws of this.ctx.getWebSockets()) {
      try { ws.send(text); } catch {}
    }
    if (this.streams.size === 0) return;
    const frame = encoder.encode(`event: change\nid: ${version}\ndata: ${text}\n\n`);
    for (const w of this.streams) w.write(frame).catch(() => this.streams.delete(w));
  }

  accept() {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  webSocketMessage(ws) {
    ws.send(SYNCED);
  }

  webSocketClose(ws, code) {
    try { ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed"); } catch {}
  }

  watch() {
    const { readable, writable } = new TransformStream();
    const w = writable.getWriter();
    this.streams.add(w);
    w.write(encoder.encode(`event: synced\ndata: ${SYNCED}\n\n`)).catch(() => this.streams.delete(w));
    return new Response(readable, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" } });
  }

  /** Rows `from`..`from+count` of E entries then V versions, in one transaction. */
  seed(p) {
    const n = (k, d) => Number(p.get(k) ?? d);
    const entries = n("entries", 0), bytes = n("bytes", 100), from = n("from", 0), count = n("count", 10_000);
    const pad = "x".repeat(Math.max(0, bytes - 40));
    this.ctx.storage.transactionSync(() => {
      for (let i = from; i < from + count; i++) {
        if (i < entries) this.sql.exec("INSERT OR REPLACE INTO entries (id, body) VALUES (?, ?)", `r:${i}`, `{"value":${i},"pad":"${pad}"}`);
        else this.sql.exec("INSERT OR REPLACE INTO versions (version, body) VALUES (?, ?)", i - entries + 1, `{"parent":${i - entries},"pad":"${pad}"}`);
      }
    });
    return new Response(null, { status: 204 });
  }
}

export default {
  fetch(request, env) {
    const m = /^\/r\/([^/]+)\//.exec(new URL(request.url).pathname);
    return env.FLOOR.get(env.FLOOR.idFromName(m ? m[1] : "default")).fetch(request);
  },
};
