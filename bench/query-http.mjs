// The query engine through HTTP on local workerd: ENTRIES registers loaded into one registry,
// then `GET /v1/entries?where=…` timed uncached (first call at a version) and cached (repeat),
// next to `GET /v1/health` (no query work) measured the same way in the same run. The criteria
// are `meta.room=k*n` and `.name=sensor-0*2` (limit 10). The run fails unless each uncached
// query answers at a new version and its repeat at the same version with the same page.
// Usage: node bench/query-http.mjs [--entries N] [--samples N]   (after scripts/build.sh)
import { performance } from "node:perf_hooks";
import { Worker } from "../tests/e2e/worker.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ENTRIES = arg("entries", 100_000);
const SAMPLES = arg("samples", 50);
const ROOMS = ["kitchen", "hall", "attic", "garage", "bath", "office", "porch", "cellar"];
const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Past the default entry bound (10,000) on purpose: the engine at 100,000 entries.
const worker = await new Worker({ vars: { MAX_ENTRIES: String(ENTRIES), MAX_STATE_BYTES: String(2 ** 40) } }).start();
const base = `${worker.url}/r/bench-query`;
try {
  for (let start = 0; start < ENTRIES; start += 1000) {
    const registers = {};
    for (let i = start; i < Math.min(start + 1000, ENTRIES); i++) {
      const room = ROOMS[i % ROOMS.length];
      registers[`${room}:sensor-${String(i).padStart(6, "0")}`] = { value: i, metadata: { room, port: 8000 + (i % 100) }, ttl: "1h" };
    }
    const r = await fetch(`${base}/provider`, { method: "PUT", body: JSON.stringify({ registers }) });
    if (r.status !== 204) throw new Error(`load: ${r.status} ${await r.text()}`);
  }
  const loaded = await (await fetch(`${base}/v1/health`)).json();
  if (loaded.entries !== ENTRIES) throw new Error(`loaded ${loaded.entries} entries, not ${ENTRIES}`);
  const timed = async (url) => {
    const t = performance.now();
    const r = await fetch(url);
    const body = await r.json();
    if (r.status !== 200) throw new Error(`${r.status} ${JSON.stringify(body)}`);
    return [performance.now() - t, body, r.headers.get("x-registry-version")];
  };
  const glob = `where=${encodeURIComponent("meta.room=k*n")}&where=${encodeURIComponent(".name=sensor-0*2")}&limit=10`;
  const uncached = [], cached = [], health = [];
  let found = 0;
  let lastVersion = loaded.version;
  for (let s = 0; s < SAMPLES; s++) {
    // A write makes a new version, so the next query is a cache miss.
    const bump = await fetch(`${base}/provider`, {
      method: "PUT",
      body: JSON.stringify({ registers: { "kitchen:sensor-000000": { value: -1 - s, metadata: { room: "kitchen", port: 8000 }, ttl: "1h" } } }),
    });
    if (bump.status !== 204) throw new Error(`bump: ${bump.status} ${await bump.text()}`);
    const [miss, body, missVersion] = await timed(`${base}/v1/entries?${glob}`);
    if (missVersion === null || Number(missVersion) <= lastVersion) {
      throw new Error(`the query after a write answered at version ${missVersion}, not after ${lastVersion}`);
    }
    lastVersion = Number(missVersion);
    uncached.push(miss);
    found = body.entries.length;
    const [hit, hitBody, hitVersion] = await timed(`${base}/v1/entries?${glob}`);
    // The repeat is answered at the same version (so from the cache), with the same page.
    if (hitVersion !== missVersion) throw new Error(`cached query at version ${hitVersion}, not ${missVersion}`);
    if (JSON.stringify(hitBody) !== JSON.stringify(body)) throw new Error("the cached query answered another page");
    cached.push(hit);
    health.push((await timed(`${base}/v1/health`))[0]);
  }
  console.log(JSON.stringify({
    entries: ENTRIES,
    samples: SAMPLES,
    first_page_size: found,
    median_ms: { uncached_query: median(uncached).toFixed(2), cached_query: median(cached).toFixed(2), health: median(health).toFixed(2) },
  }, null, 2));
} finally {
  await worker.dispose();
}
