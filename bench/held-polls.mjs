// Held long polls benchmark of the worker in local workerd (wrangler dev), one registry, one
// run (issue 16):
//   1. no polls: WRITES sequential `PUT /provider` of register `hot` — writes per second and
//      the PUT's round trip (median, p99);
//   2. POLLS (default 1,000) long polls `GET /consumer?name=hot&wait=60s` held on `hot`, each on
//      a socket of its own, re-sent as soon as answered; the same WRITES sequential writes —
//      writes per second and round trip while every write wakes every poll;
//   3. wake delay: ROUNDS times, once all POLLS polls are held again (`GET /v1/health`
//      `waiters`), one write; for each poll, the delay from sending the write (t0) and from its
//      acknowledgement (the PUT's response) to the poll's answer (median, p99 over all polls of
//      all rounds), and to the last poll of each round;
//   4. the no-poll writes of 1 again, once no poll is held any more (a drift check).
// CPU time (user + system) of this client, wrangler's proxy workerd and the runtime workerd is
// reported per phase, to show what bounds the figures (the machine's cores are shared by all).
// Usage: node bench/held-polls.mjs [--polls N] [--writes N] [--rounds N]   (after scripts/build.sh;
//        raise `ulimit -n` above POLLS + 100 first)
// Output: the results as JSON on the last line of stdout.
import http from "node:http";
import { readdirSync, readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const POLLS = arg("polls", 1000);
const WRITES = arg("writes", 500);
const ROUNDS = arg("rounds", 20);
const HELD_TIMEOUT_MS = 30_000;

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const f2 = (x) => Number(x.toFixed(2));
const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: f2(pct(s, 50)), p99: f2(pct(s, 99)), max: f2(s[s.length - 1]) };
};

/** CPU ms (user + system) of wrangler's workerd processes by role, and of this process. */
function cpu(worker) {
  const out = { client: 0, proxy: 0, runtime: 0 };
  const kids = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(st.slice(st.lastIndexOf(")") + 2).split(" ")[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {}
  }
  const todo = [worker.proc.pid];
  while (todo.length) {
    for (const pid of kids.get(todo.pop()) ?? []) {
      todo.push(pid);
      try {
        if (!readFileSync(`/proc/${pid}/comm`, "utf8").includes("workerd")) continue;
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
        const role = cmd.includes(`entry=127.0.0.1:${worker.port}`) ? "proxy" : "runtime";
        const st = readFileSync(`/proc/${pid}/stat`, "utf8");
        const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
        out[role] += (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
      } catch {}
    }
  }
  const c = process.cpuUsage();
  out.client = (c.user + c.system) / 1000;
  return out;
}
const cpuSince = (a, b) => Object.fromEntries(Object.keys(a).map((k) => [k, Math.round(b[k] - a[k])]));

const worker = await new Worker().start();
const base = `${worker.url}/r/bench`;
const writer = new http.Agent({ keepAlive: true, maxSockets: 1 });
const pollAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

/** One request; resolves with { status, body, at } (at = performance.now() at its end). */
function request(method, url, body, agent) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString(), at: performance.now() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

let written = 0;
async function write() {
  const i = written++;
  const t0 = performance.now();
  const r = await request("PUT", `${base}/provider`, `{"registers":{"hot":{"value":${i},"ttl":"1h"}}}`, writer);
  if (r.status !== 204) throw new Error(`PUT ${r.status} ${r.body}`);
  return { t0, ack: r.at };
}

async function writes(n) {
  const rtt = [];
  const c0 = cpu(worker);
  const t = performance.now();
  for (let i = 0; i < n; i++) {
    const w = await write();
    rtt.push(w.ack - w.t0);
  }
  const secs = (performance.now() - t) / 1000;
  return { writes_per_s: f2(n / secs), put_round_trip_ms: stats(rtt), cpu_ms: cpuSince(c0, cpu(worker)) };
}

// Pollers: each re-polls as soon as answered while `running`; answers are timestamped.
let running = true;
const answers = []; // performance.now() of each 200 answer, since the last reset
let failed = null;
function poller() {
  const loop = () => {
    if (!running) return;
    request("GET", `${base}/consumer?name=hot&wait=60s`, undefined, pollAgent).then((r) => {
      if (r.status !== 200) failed = `poll ${r.status} ${r.body}`;
      answers.push(r.at);
      loop();
    }, (e) => { failed = `poll: ${e.message}`; });
  };
  loop();
}
async function waitersAtMost(n) {
  const deadline = Date.now() + HELD_TIMEOUT_MS;
  while (JSON.parse((await request("GET", `${base}/v1/health`, undefined, writer)).body).waiters > n) {
    if (Date.now() > deadline) throw new Error(`polls still held after ${HELD_TIMEOUT_MS} ms`);
    await sleep(5);
  }
}
async function waitersHeld(n) {
  const deadline = Date.now() + HELD_TIMEOUT_MS;
  for (;;) {
    const h = JSON.parse((await request("GET", `${base}/v1/health`, undefined, writer)).body);
    if (h.waiters >= n) return;
    if (failed) throw new Error(failed);
    if (Date.now() > deadline) throw new Error(`only ${h.waiters} of ${n} polls held after ${HELD_TIMEOUT_MS} ms`);
    await sleep(5);
  }
}

try {
  for (let i = 0; i < 50; i++) await write(); // warm-up
  const before = await writes(WRITES);
  console.error(`no polls: ${JSON.stringify(before)}`);

  for (let i = 0; i < POLLS; i++) poller();
  await waitersHeld(POLLS);
  console.error(`${POLLS} polls held`);
  const withPolls = await writes(WRITES);
  console.error(`with polls: ${JSON.stringify(withPolls)}`);
  await waitersHeld(POLLS);

  const fromSend = [];
  const fromAck = [];
  const lastFromSend = [];
  const c0 = cpu(worker);
  for (let r = 0; r < ROUNDS; r++) {
    await waitersHeld(POLLS);
    answers.length = 0;
    const w = await write();
    const deadline = Date.now() + HELD_TIMEOUT_MS;
    while (answers.length < POLLS) {
      if (failed) throw new Error(failed);
      if (Date.now() > deadline) throw new Error(`round ${r}: ${answers.length} of ${POLLS} polls answered`);
      await sleep(1);
    }
    const got = answers.slice(0, POLLS);
    for (const a of got) {
      fromSend.push(a - w.t0);
      fromAck.push(a - w.ack);
    }
    lastFromSend.push(Math.max(...got) - w.t0);
  }
  const wakeCpu = cpuSince(c0, cpu(worker));
  running = false;
  // One write answers the polls still held (they are not re-sent now): no poll is held after it.
  await write();
  await waitersAtMost(0);

  const after = await writes(WRITES);
  console.log(JSON.stringify({
    polls: POLLS,
    writes: WRITES,
    rounds: ROUNDS,
    no_polls: before,
    with_polls: withPolls,
    wake: {
      from_send_ms: stats(fromSend),
      from_ack_ms: stats(fromAck),
      last_poll_from_send_ms: stats(lastFromSend),
      cpu_ms: wakeCpu,
    },
    no_polls_again: after,
  }));
} finally {
  running = false;
  pollAgent.destroy();
  writer.destroy();
  await worker.dispose();
}
