// HTTP benchmark of the worker in local workerd (wrangler dev), one registry:
//   1. sequential PUT /provider requests per second,
//   2. sequential GET /consumer requests per second,
//   3. wake-up delay: from sending a PUT /provider to the return of a long poll waiting on that
//      register (median, p99), over SAMPLES samples; also how much later than the PUT's own
//      response the poll returned;
//   0. a reference: sequential GETs of a static file (served by wrangler dev without our code),
//      measured in the same run, so that the figures above can be read as ratios to it.
// Usage: node bench/http.mjs [--requests N] [--samples N]   (after scripts/build.sh)
import { performance } from "node:perf_hooks";
import { Worker, http } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REQUESTS = arg("requests", 2000);
const SAMPLES = arg("samples", 1000);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const worker = await new Worker().start();
const base = `${worker.url}/r/bench`;
try {
  // Warm up the object and the connection pool.
  for (let i = 0; i < 50; i++) await http("PUT", `${base}/provider`, { registers: { warm: { value: i } } });

  let t = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const r = await fetch(`${worker.url}/style.css`);
    if (r.status !== 200) throw new Error(`static ${r.status}`);
    await r.arrayBuffer();
  }
  const staticRate = REQUESTS / ((performance.now() - t) / 1000);

  t = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const r = await fetch(`${base}/provider`, { method: "PUT", body: `{"registers":{"r${i % 100}":{"value":${i},"ttl":"1h"}}}` });
    if (r.status !== 204) throw new Error(`PUT ${r.status}`);
    await r.arrayBuffer();
  }
  const putRate = REQUESTS / ((performance.now() - t) / 1000);

  t = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const r = await fetch(`${base}/consumer?name=r${i % 100}`);
    if (r.status !== 200) throw new Error(`GET ${r.status}`);
    await r.arrayBuffer();
  }
  const getRate = REQUESTS / ((performance.now() - t) / 1000);

  const wake = [];
  const putRtt = [];
  const afterPut = [];
  for (let i = 0; i < SAMPLES; i++) {
    const poll = fetch(`${base}/consumer?name=w&wait=10s`).then(async (r) => {
      await r.arrayBuffer();
      return performance.now();
    });
    // Wait until the poll is held by the object (not part of the measured delay).
    for (;;) {
      const h = await (await fetch(`${base}/v1/health`)).json();
      if (h.waiters >= 1) break;
    }
    const t0 = performance.now();
    const put = await fetch(`${base}/provider`, { method: "PUT", body: `{"registers":{"w":{"value":${i},"ttl":"1h"}}}` });
    await put.arrayBuffer();
    const tPut = performance.now();
    const tWake = await poll;
    wake.push(tWake - t0);
    putRtt.push(tPut - t0);
    afterPut.push(tWake - tPut);
  }
  wake.sort((a, b) => a - b);
  putRtt.sort((a, b) => a - b);
  afterPut.sort((a, b) => a - b);
  const f = (x) => x.toFixed(2);
  console.log(JSON.stringify({
    requests: REQUESTS,
    static_file_per_s: Math.round(staticRate),
    put_provider_per_s: Math.round(putRate),
    get_consumer_per_s: Math.round(getRate),
    samples: SAMPLES,
    wake_ms: { median: f(pct(wake, 50)), p99: f(pct(wake, 99)), max: f(wake[wake.length - 1]) },
    put_round_trip_ms: { median: f(pct(putRtt, 50)), p99: f(pct(putRtt, 99)) },
    poll_return_after_put_response_ms: { median: f(pct(afterPut, 50)), p99: f(pct(afterPut, 99)) },
  }, null, 2));
} finally {
  await worker.dispose();
}
