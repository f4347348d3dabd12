// What access control costs over HTTP in local workerd: sequential PUT /provider and
// GET /consumer per second on a worker in open mode and on one with REGISTRY_TOKENS set
// (50 tokens, the one used last: every request is compared against all of them), in the same
// run, in alternating rounds (and alternating order) so that drift of the machine hits both
// alike; the medians of the rounds are reported.
// Usage: node bench/auth-http.mjs [--requests N] [--rounds R]   (after scripts/build.sh)
import { performance } from "node:perf_hooks";
import { Worker } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REQUESTS = arg("requests", 1000);
const ROUNDS = arg("rounds", 3);

const tokens = Array.from({ length: 50 }, (_, i) => ({
  name: `t${i}`,
  token: `${"x".repeat(40)}-${i}`,
  role: "provider",
  registries: ["bench-*"],
  prefixes: ["r"],
}));
const used = tokens[tokens.length - 1].token;

async function rate(n, one) {
  const t = performance.now();
  for (let i = 0; i < n; i++) await one(i);
  return n / ((performance.now() - t) / 1000);
}

async function round(worker, headers) {
  const base = `${worker.url}/r/bench-auth`;
  const put = await rate(REQUESTS, async (i) => {
    const r = await fetch(`${base}/provider`, {
      method: "PUT",
      headers,
      body: JSON.stringify({ registers: { [`r${i % 100}`]: { value: i, ttl: "1h" } } }),
    });
    if (r.status !== 204) throw new Error(`PUT ${r.status}: ${await r.text()}`);
    await r.arrayBuffer();
  });
  const get = await rate(REQUESTS, async (i) => {
    const r = await fetch(`${base}/consumer?name=r${i % 100}`, { headers });
    if (r.status !== 200) throw new Error(`GET ${r.status}: ${await r.text()}`);
    await r.arrayBuffer();
  });
  return { put, get };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const open = new Worker();
const closed = new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify(tokens) }, readyStatuses: [401] });
try {
  await Promise.all([open.start(), closed.start()]);
  // Warm-up (object construction, JIT) of both.
  await round(open, {});
  await round(closed, { authorization: `Bearer ${used}` });
  const results = { open: [], tokens: [] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first, so that neither always runs on a warmer (or busier) machine.
    const runs = [
      async () => results.open.push(await round(open, {})),
      async () => results.tokens.push(await round(closed, { authorization: `Bearer ${used}` })),
    ];
    if (r % 2) runs.reverse();
    for (const run of runs) await run();
  }
  const summary = {};
  for (const [mode, rows] of Object.entries(results)) {
    summary[`${mode}_put_provider_per_s`] = Math.round(median(rows.map((x) => x.put)));
    summary[`${mode}_get_consumer_per_s`] = Math.round(median(rows.map((x) => x.get)));
  }
  summary.put_ratio_tokens_to_open = +(summary.tokens_put_provider_per_s / summary.open_put_provider_per_s).toFixed(3);
  summary.get_ratio_tokens_to_open = +(summary.tokens_get_consumer_per_s / summary.open_get_consumer_per_s).toFixed(3);
  console.log(JSON.stringify({ requests: REQUESTS, rounds: ROUNDS, ...summary, raw: results }, null, 1));
} finally {
  await Promise.all([open.dispose(), closed.dispose()]);
}
