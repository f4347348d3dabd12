// Transactions of 100 operations per second on one registry in local workerd: each POST /v1/tx
// upserts 100 entries (new data every time, so every transaction is one version of 100 ops),
// sequentially; the static-file floor is measured in the same run.
// Usage: node bench/tx-http.mjs [--transactions N]   (after scripts/build.sh)
import { performance } from "node:perf_hooks";
import { Worker } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const TXS = arg("transactions", 300);

const worker = await new Worker().start();
const base = `${worker.url}/r/bench-tx`;
try {
  const tx = async (n) => {
    const ops = Array.from({ length: 100 }, (_, i) => ({
      op: "upsert",
      id: `svc:e${String(i).padStart(3, "0")}`,
      kind: "svc",
      meta: { depends_on: i ? [`e${String(i - 1).padStart(3, "0")}`] : [] },
      data: { n, i },
    }));
    const r = await fetch(`${base}/v1/tx`, { method: "POST", body: JSON.stringify({ ops }) });
    const body = await r.json();
    if (r.status !== 200 || body.changeset.length !== 100) throw new Error(`tx ${r.status}: ${JSON.stringify(body).slice(0, 300)}`);
  };
  for (let n = 0; n < 10; n++) await tx(-1 - n); // warm-up
  let t = performance.now();
  for (let n = 0; n < TXS; n++) await (await fetch(`${worker.url}/style.css`)).arrayBuffer();
  const floor = TXS / ((performance.now() - t) / 1000);
  const head0 = (await (await fetch(`${base}/v1/health`)).json()).version;
  t = performance.now();
  for (let n = 0; n < TXS; n++) await tx(n);
  const rate = TXS / ((performance.now() - t) / 1000);
  const head1 = (await (await fetch(`${base}/v1/health`)).json()).version;
  console.log(JSON.stringify({
    transactions: TXS,
    versions_made: head1 - head0,
    static_file_per_s: Math.round(floor),
    tx_of_100_ops_per_s: Math.round(rate),
    ops_per_s: Math.round(rate * 100),
  }, null, 2));
} finally {
  await worker.dispose();
}
