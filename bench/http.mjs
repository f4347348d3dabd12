// HTTP benchmark of the worker in local workerd (wrangler dev), one registry, sequential requests:
//   1. PUT /provider (a register write),
//   2. GET /consumer (a read),
//   3. PUT /v1/entries/{id} (an entry write: a one-op transaction),
//   4. POST /v1/tx of TX_OPS upserts (one version of TX_OPS operations),
//   5. POST /v1/rollback {"to": head - 1} (a new version undoing the last one),
//   each as requests per second and per-request latency (p50, p99);
//   6. wake-up delay: from sending a PUT /provider to the return of a long poll waiting on that
//      register (median, p99), over SAMPLES samples; also how much later than the PUT's own
//      response the poll returned;
//   0. a reference: sequential GETs of a static file (served by wrangler dev without our code),
//      measured in the same run, so that the figures above can be read as ratios to it.
// Only the public HTTP API is used, so the script runs against any build of the worker: it
// starts the worker of the tree it lies in (tests/e2e/worker.mjs), which must be built first.
// Usage: node bench/http.mjs [--requests N] [--samples N] [--tx-ops N]   (after scripts/build.sh)
import { performance } from "node:perf_hooks";
import { Worker, http } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REQUESTS = arg("requests", 2000);
const SAMPLES = arg("samples", 1000);
const TX_OPS = arg("tx-ops", 10);

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const f = (x) => x.toFixed(2);

/** Sends `REQUESTS` requests made by `make(i)` one after another, each expected to answer one
 *  of `statuses`; returns requests per second and the latency percentiles in ms. */
async function series(label, statuses, make) {
  const lat = [];
  const t = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const [url, init] = make(i);
    const t0 = performance.now();
    const r = await fetch(url, init);
    const body = await r.arrayBuffer();
    lat.push(performance.now() - t0);
    if (!statuses.includes(r.status)) throw new Error(`${label} ${r.status}: ${Buffer.from(body).toString().slice(0, 300)}`);
  }
  const perS = REQUESTS / ((performance.now() - t) / 1000);
  lat.sort((a, b) => a - b);
  return { per_s: Math.round(perS), p50_ms: f(pct(lat, 50)), p99_ms: f(pct(lat, 99)) };
}

const worker = await new Worker().start();
const base = `${worker.url}/r/bench`;
try {
  // Warm up the object and the connection pool.
  for (let i = 0; i < 50; i++) await http("PUT", `${base}/provider`, { registers: { warm: { value: i } } });

  const staticFile = await series("static", [200], () => [`${worker.url}/style.css`]);
  const putProvider = await series("PUT /provider", [204], (i) => [`${base}/provider`, {
    method: "PUT", body: `{"registers":{"r${i % 100}":{"value":${i},"ttl":"1h"}}}`,
  }]);
  const getConsumer = await series("GET /consumer", [200], (i) => [`${base}/consumer?name=r${i % 100}`]);
  const putEntry = await series("PUT /v1/entries", [200, 201], (i) => [`${base}/v1/entries/svc:e${i % 100}`, {
    method: "PUT", body: JSON.stringify({ kind: "svc", meta: { port: i }, data: { n: i } }),
  }]);
  const tx = await series("POST /v1/tx", [200], (i) => [`${base}/v1/tx`, {
    method: "POST",
    body: JSON.stringify({
      ops: Array.from({ length: TX_OPS }, (_, k) => ({ op: "upsert", id: `svc:t${k}`, kind: "svc", data: { n: i, k } })),
    }),
  }]);
  // Each rollback undoes the version before it (the previous rollback from the second on).
  let head = (await (await fetch(`${base}/v1/health`)).json()).version;
  const rollback = await series("POST /v1/rollback", [200], () => [`${base}/v1/rollback`, {
    method: "POST", body: JSON.stringify({ to: head++ - 1 }),
  }]);

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
  console.log(JSON.stringify({
    requests: REQUESTS,
    tx_ops: TX_OPS,
    static_file_per_s: staticFile.per_s,
    put_provider_per_s: putProvider.per_s,
    get_consumer_per_s: getConsumer.per_s,
    latency: {
      static_file: staticFile,
      put_provider: putProvider,
      get_consumer: getConsumer,
      put_v1_entry: putEntry,
      post_v1_tx: tx,
      post_v1_rollback: rollback,
    },
    samples: SAMPLES,
    wake_ms: { median: f(pct(wake, 50)), p99: f(pct(wake, 99)), max: f(wake[wake.length - 1]) },
    put_round_trip_ms: { median: f(pct(putRtt, 50)), p99: f(pct(putRtt, 99)) },
    poll_return_after_put_response_ms: { median: f(pct(afterPut, 50)), p99: f(pct(afterPut, 99)) },
  }, null, 2));
} finally {
  await worker.dispose();
}
