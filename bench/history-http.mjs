// Versions per second through PUT /v1/entries/{id} on one registry in local workerd, each PUT
// making one version (the data changes every time), sequentially and with CONCURRENCY requests
// in flight; the static-file floor is measured the same two ways in the same run. The run fails
// unless the timed PUTs made exactly one version each (versions_made = 2 × requests).
// Usage: node bench/history-http.mjs [--requests N] [--concurrency C]   (after scripts/build.sh)
import { performance } from "node:perf_hooks";
import { Worker } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const REQUESTS = arg("requests", 2000);
const CONCURRENCY = arg("concurrency", 16);

async function run(total, concurrency, one) {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await one(next++);
  }));
  return Math.round(total / ((performance.now() - t) / 1000));
}

const worker = await new Worker().start();
const base = `${worker.url}/r/bench-history`;
try {
  let written = 0; // data never repeats across runs, so every PUT is a change
  const put = async (i) => {
    const r = await fetch(`${base}/v1/entries/ns%3Ae${i % 100}`, {
      method: "PUT",
      body: JSON.stringify({ kind: "config", meta: { owner: "bench" }, data: { n: written++ } }),
    });
    if (r.status !== 200 && r.status !== 201) throw new Error(`PUT ${r.status}: ${await r.text()}`);
    await r.arrayBuffer();
  };
  const stat = async () => {
    const r = await fetch(`${worker.url}/style.css`);
    await r.arrayBuffer();
  };
  await run(200, 4, put); // warm-up (also creates the 100 entries)
  const head0 = (await (await fetch(`${base}/v1/health`)).json()).version;
  const staticSeq = await run(REQUESTS, 1, stat);
  const putSeq = await run(REQUESTS, 1, put);
  const staticConc = await run(REQUESTS, CONCURRENCY, stat);
  const putConc = await run(REQUESTS, CONCURRENCY, put);
  const head1 = (await (await fetch(`${base}/v1/health`)).json()).version;
  // Every timed PUT (sequential and concurrent) must have made exactly one version.
  if (head1 - head0 !== 2 * REQUESTS) {
    throw new Error(`versions_made ${head1 - head0}, not ${2 * REQUESTS} (one per PUT)`);
  }
  console.log(JSON.stringify({
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    versions_made: head1 - head0,
    static_file_per_s: { sequential: staticSeq, concurrent: staticConc },
    put_v1_entries_versions_per_s: { sequential: putSeq, concurrent: putConc },
  }, null, 2));
} finally {
  await worker.dispose();
}
