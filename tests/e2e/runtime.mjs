// The workerd processes behind a `Worker` (tests/e2e/worker.mjs), read from Linux /proc:
// wrangler dev runs two — a proxy listening on the public port, which relays every request, and
// the runtime that runs the worker and its Durable Objects on ports of its own.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** Every descendant pid of `root`. */
export function descendants(root) {
  const children = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {} // gone meanwhile
  }
  const out = [];
  const todo = [root];
  while (todo.length) {
    for (const c of children.get(todo.pop()) ?? []) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

/** `Max open files` (soft limit) of a process. */
export const maxOpenFiles = (pid) =>
  Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1]);

/** Open file descriptors of a process (null once it is gone). */
export function fdCount(pid) {
  try { return readdirSync(`/proc/${pid}/fd`).length; } catch { return null; }
}

/** Resident memory (KiB) of a process. */
export const rssKib = (pid) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]);

/** CPU time (ms, user + system) of a process. */
export function cpuMs(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
  } catch { return 0; }
}

/** The workerd processes of `worker`: `{ pid, role: "proxy" | "runtime" }`. */
export function workerds(worker) {
  const out = [];
  for (const pid of descendants(worker.proc.pid)) {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, "utf8").includes("workerd")) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      out.push({ pid, role: cmd.includes(`entry=127.0.0.1:${worker.port}`) ? "proxy" : "runtime" });
    } catch {}
  }
  return out;
}

/** TCP ports `pid` listens on (its socket fds matched against /proc/net/tcp{,6}). */
export function listeningPorts(pid) {
  const byInode = new Map();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text;
    try { text = readFileSync(file, "utf8"); } catch { continue; }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[3] === "0A") byInode.set(f[9], parseInt(f[1].split(":")[1], 16)); // LISTEN
    }
  }
  const ports = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m && byInode.has(m[1])) ports.add(byInode.get(m[1]));
    } catch {} // closed meanwhile
  }
  return [...ports].sort((a, b) => a - b);
}

/** The origin of a runtime port that serves the worker itself (`GET /v1/health` answers
 *  `"status":"ok"`), bypassing wrangler's proxy as production has none. */
export async function runtimeOrigin(worker) {
  const tried = [];
  for (const { pid, role } of workerds(worker)) {
    if (role !== "runtime") continue;
    for (const port of listeningPorts(pid)) {
      const origin = `http://127.0.0.1:${port}`;
      try {
        const r = await fetch(`${origin}/v1/health`, { signal: AbortSignal.timeout(3_000) });
        if (r.status === 200 && (await r.json()).status === "ok") return origin;
        tried.push(`${port}: ${r.status}`);
      } catch (e) {
        tried.push(`${port}: ${e.cause?.code ?? e.name}`);
      }
    }
  }
  throw new Error(`no runtime workerd port serves the worker (${tried.join(", ")})`);
}
