// Starts the real worker in workerd through `wrangler dev`, bound to 127.0.0.1, with state
// persisted in a folder of its own. The worker must already be built (scripts/build.sh).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const ROOT = resolve(import.meta.dirname, "../..");

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** One wrangler dev process; `restart()` keeps the persisted state. */
export class Worker {
  /** `vars`: wrangler vars for this worker, e.g. `{ RETENTION_VERSIONS: "5" }`; `cwd`: the
   *  folder of the wrangler.toml to run (default: the registry's, already built); `health`: the
   *  path polled until the worker is up; `readyStatuses`: its statuses that mean it runs (401
   *  when REGISTRY_TOKENS is set, 500 when it is malformed); `config`: another wrangler.toml
   *  (relative to the repository root), e.g. the benchmarks' baseline worker; `logLevel`:
   *  wrangler's `--log-level` (`log` shows the worker's structured logs in `this.log`). */
  constructor({
    vars = {}, cwd = ROOT, health = "/v1/health", readyStatuses = [200], config = null,
    logLevel = "warn",
  } = {}) {
    this.vars = vars;
    this.cwd = cwd;
    this.health = health;
    this.logLevel = logLevel;
    this.readyStatuses = readyStatuses;
    this.config = config;
    /** The port of the runtime's inspector (Chrome DevTools protocol), once started. */
    this.inspectorPort = null;
    this.persist = mkdtempSync(join(tmpdir(), "edge-registry-e2e-"));
    this.proc = null;
    this.port = null;
    this.log = "";
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts wrangler; a port taken between `freePort()` and wrangler's bind (other processes
   *  on the machine) is retried: with new ports on a first start, with the same port (which
   *  clients reconnect to) after a short wait on a restart. */
  async start() {
    const fixed = this.port !== null;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.startOnce();
      } catch (e) {
        if (attempt >= 4 || !/Address already in use/.test(e.message)) throw e;
        if (!fixed) this.port = null;
        this.log = "";
        await sleep(500 * attempt);
      }
    }
  }

  async startOnce() {
    this.port = this.port ?? (await freePort());
    this.inspectorPort = await freePort();
    const env = {
      ...process.env,
      SKIP_BUILD: "1",
      WRANGLER_SEND_METRICS: "false",
      X_LOCAL_OBSERVABILITY: "false",
      X_LOCAL_EXPLORER: "false",
      PATH: `${ROOT}/node_modules/.bin:${process.env.PATH}`,
    };
    const args = [
      `${ROOT}/node_modules/wrangler/bin/wrangler.js`, "dev",
      "--ip", "127.0.0.1", "--port", String(this.port),
      "--inspector-port", String(this.inspectorPort),
      "--persist-to", this.persist, "--log-level", this.logLevel,
      ...(this.config ? ["--config", this.config] : []),
      ...Object.entries(this.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ];
    // Its own process group, so that a stop also ends the workerd children.
    this.proc = spawn(`${ROOT}/node_modules/.bin/node`, args, { cwd: this.cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.proc.stdout.on("data", (d) => (this.log += d));
    this.proc.stderr.on("data", (d) => (this.log += d));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`wrangler exited:\n${this.log}`);
      try {
        const r = await fetch(`${this.url}${this.health}`);
        if (this.readyStatuses.includes(r.status)) return this;
      } catch {}
      await sleep(150);
    }
    throw new Error(`wrangler did not start in 60 s:\n${this.log}`);
  }

  /** Stops the process group; `hard` = SIGKILL (a crash), otherwise SIGTERM. */
  async stop(hard = false) {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    try { process.kill(-this.proc.pid, hard ? "SIGKILL" : "SIGTERM"); } catch {}
    await Promise.race([exited, sleep(10_000)]);
    try { process.kill(-this.proc.pid, "SIGKILL"); } catch {}
    this.proc = null;
    await sleep(200);
  }

  async restart(hard = false) {
    await this.stop(hard);
    return this.start();
  }

  async dispose() {
    await this.stop();
    rmSync(this.persist, { recursive: true, force: true });
  }
}

/** fetch + body text + parsed JSON (when JSON). */
export async function http(method, url, body, headers = {}) {
  const init = { method, headers };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  const r = await fetch(url, init);
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, headers: r.headers, text, json, version: Number(r.headers.get("x-registry-version")) };
}

/** `PUT url` with `body` until it is answered 204, retrying every 50 ms through refused
 *  connections and other answers (a write while the worker restarts); fails after `ms`. */
export async function putUntilAccepted(url, body, ms = 60_000) {
  const deadline = Date.now() + ms;
  let last = "no answer";
  for (;;) {
    try {
      const r = await http("PUT", url, body);
      if (r.status === 204) return r;
      last = `${r.status} ${r.text}`;
    } catch (e) {
      last = String(e);
    }
    if (Date.now() > deadline) throw new Error(`PUT ${url} not accepted within ${ms} ms: ${last}`);
    await sleep(50);
  }
}
