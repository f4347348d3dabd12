// End-to-end: the packed npm package (target/npm/*.tgz, bash scripts/pack.sh) installed into
// fresh temporary projects and used from each environment against the registry in workerd —
// a Node ESM script, a browser bundle made with esbuild in headless Chromium, a second Worker
// under `wrangler dev` — and its types checked with `tsc --strict` over typed examples.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { launchBrowser } from "./dashboard_fixture.mjs";
import { NAME, ROOT, project } from "./package.mjs";
import { Worker, freePort, http } from "./worker.mjs";

const run = promisify(execFile);
const BIN = join(ROOT, "node_modules/.bin");
const registry = new Worker();
before(() => registry.start());
after(() => registry.dispose());

test("exports: the same classes from the node entry as index.d.ts declares", async () => {
  const p = project({ "names.mjs": `import * as m from "${NAME}"; console.log(JSON.stringify(Object.keys(m).sort()));` });
  try {
    const { stdout } = await run(join(BIN, "node"), ["names.mjs"], { cwd: p.dir, timeout: 20_000 });
    const types = readFileSync(join(p.dir, "node_modules", NAME, "index.d.ts"), "utf8");
    const declared = types.match(/^export \{([^}]*)\}/m)[1].split(",").map((s) => s.trim()).filter(Boolean).sort();
    assert.deepEqual(JSON.parse(stdout), declared);
    assert.ok(declared.includes("RegistryClient"));
  } finally {
    p.remove();
  }
});

test("Node: an ESM script writes, reads and watches a register", async () => {
  const script = `
    import { RegistryClient } from "${NAME}";
    const client = new RegistryClient(process.env.REGISTRY_URL + "/r/pkg-node");
    const lamp = client.provide("pkg:lamp", "off", { ttl: "10s" });
    const seen = [];
    for await (const { value } of client.consume("pkg:lamp")) {
      seen.push(value);
      if (value === "off") await lamp.set("on");
      else break;
    }
    const read = await client.read(["pkg:lamp"]);
    await client.putEntry("pkg:node", { kind: "test", data: { seen } });
    const transport = client.transport;
    client.close();
    console.log(JSON.stringify({ seen, read, transport }));
  `;
  const p = project({ "app.mjs": script });
  try {
    const { stdout } = await run(join(BIN, "node"), ["app.mjs"], {
      cwd: p.dir, timeout: 30_000, env: { ...process.env, REGISTRY_URL: registry.url },
    });
    const out = JSON.parse(stdout);
    assert.deepEqual(out.seen, ["off", "on"]);
    assert.equal(out.read["pkg:lamp"].value, "on");
    assert.equal(out.transport, "websocket");
    // The registry holds what the script wrote.
    const direct = await http("GET", `${registry.url}/r/pkg-node/v1/entries/pkg:node`);
    assert.equal(direct.status, 200, direct.text);
    assert.deepEqual(direct.json.data, { seen: ["off", "on"] });
  } finally {
    p.remove();
  }
});

test("browser: an esbuild bundle in headless Chromium writes, reads and watches a register", async (t) => {
  const app = `
    import { RegistryClient } from "${NAME}";
    const base = new URLSearchParams(location.search).get("registry");
    const client = new RegistryClient(base);
    const done = (result) => { window.result = result; client.close(); };
    (async () => {
      const entry = await client.putEntry("pkg:browser", { kind: "test", data: { n: 1 } });
      const seen = [];
      const lamp = client.provide("pkg:light", 1, { ttl: "10s" });
      for await (const { value } of client.consume("pkg:light")) {
        seen.push(value);
        if (value === 1) await lamp.set(2);
        else break;
      }
      const back = await client.getEntry("pkg:browser");
      done({ written: entry.data, read: back.data, seen, transport: client.transport });
    })().catch((e) => done({ error: String(e) }));
  `;
  const p = project({ "app.js": app });
  let server;
  let browser;
  try {
    const dist = join(p.dir, "dist");
    mkdirSync(dist);
    await run(join(BIN, "esbuild"), ["app.js", "--bundle", "--format=esm", "--outfile=dist/app.js", "--log-level=warning"], { cwd: p.dir, timeout: 60_000 });
    const bundle = readFileSync(join(dist, "app.js"), "utf8");
    assert.match(bundle, /new URL\("\.\/registry_web_bg\.wasm", import\.meta\.url\)/, "the browser entry was bundled");
    assert.doesNotMatch(bundle, /readFileSync/, "not the node entry");
    copyFileSync(join(p.dir, "node_modules", NAME, "registry_web_bg.wasm"), join(dist, "registry_web_bg.wasm"));
    writeFileSync(join(dist, "index.html"), '<!doctype html><script type="module" src="app.js"></script>');
    server = await serve(dist);
    browser = await launchBrowser();
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${server.url}/index.html?registry=${encodeURIComponent(`${registry.url}/r/pkg-browser`)}`);
    const result = await (await page.waitForFunction(() => window.result, null, { timeout: 20_000 })).jsonValue();
    t.diagnostic(`browser: ${JSON.stringify(result)}`);
    assert.deepEqual(result, { written: { n: 1 }, read: { n: 1 }, seen: [1, 2], transport: "websocket" });
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    server?.close();
    p.remove();
  }
});

test("Workers: a second Worker under wrangler dev uses the package against the registry", async (t) => {
  const source = `
    import { RegistryClient } from "${NAME}";
    export default {
      async fetch(request, env) {
        const url = new URL(request.url);
        if (url.pathname === "/health") return new Response("ok");
        const client = new RegistryClient(env.REGISTRY_URL + "/r/pkg-worker", { transport: "long-poll" });
        try {
          const value = url.searchParams.get("value");
          const written = await client.putEntry("pkg:from-worker", { kind: "test", data: { value } });
          const read = await client.getEntry("pkg:from-worker");
          const registers = await client.read(["pkg:seeded"]);
          return Response.json({ written: written.data, read: read.data, seeded: registers["pkg:seeded"]?.value });
        } catch (e) {
          return Response.json({ error: String(e) }, { status: 500 });
        } finally {
          client.close();
        }
      },
    };
  `;
  const p = project({});
  mkdirSync(join(p.dir, "src"));
  writeFileSync(join(p.dir, "src/index.js"), source);
  writeFileSync(join(p.dir, "wrangler.toml"), [
    'name = "registry-consumer"',
    'main = "src/index.js"',
    'compatibility_date = "2026-07-01"',
    "[vars]",
    `REGISTRY_URL = "${registry.url}"`,
    "",
  ].join("\n"));
  const consumer = new Worker({ cwd: p.dir, health: "/health" });
  try {
    // What wrangler uploads: the `workerd` entry, the .wasm as a module of its own (precompiled
    // by the runtime), instantiated synchronously; nothing read from disk or fetched.
    await run(join(BIN, "node"), [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", "out"], {
      cwd: p.dir, timeout: 60_000, env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    const bundle = readFileSync(join(p.dir, "out/index.js"), "utf8");
    const imported = bundle.match(/^import (\w+) from "\.\/\w+-registry_web_bg\.wasm";$/m);
    assert.ok(imported, "the .wasm is imported as a module");
    assert.ok(bundle.includes(`initSync({ module: ${imported[1]} })`), "and instantiated from it");
    assert.doesNotMatch(bundle, /readFileSync/);
    await consumer.start();
    const seeded = await http("PUT", `${registry.url}/r/pkg-worker/provider`, { registers: { "pkg:seeded": { value: 42, ttl: "60s" } } });
    assert.equal(seeded.status, 204, seeded.text);
    const r = await fetchWithin(`${consumer.url}/?value=hello`, 20_000);
    t.diagnostic(`worker: ${r.status} ${r.text}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { written: { value: "hello" }, read: { value: "hello" }, seeded: 42 });
    // The registry holds what the second Worker wrote.
    const direct = await http("GET", `${registry.url}/r/pkg-worker/v1/entries/pkg:from-worker`);
    assert.equal(direct.status, 200, direct.text);
    assert.deepEqual(direct.json.data, { value: "hello" });
  } catch (e) {
    t.diagnostic(consumer.log);
    throw e;
  } finally {
    await consumer.dispose();
    p.remove();
  }
});

test("types: tsc --strict over the typed examples against the packed declarations", async () => {
  const p = project({});
  try {
    cpSync(join(ROOT, "web-client/types-check"), p.dir, { recursive: true });
    const r = await run(join(BIN, "tsc"), ["-p", "tsconfig.json"], { cwd: p.dir, timeout: 120_000 }).catch((e) => e);
    assert.equal(r.code ?? 0, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
    // Every method and getter of every exported class appears in the examples.
    const generated = readFileSync(join(p.dir, "node_modules", NAME, "registry_web.d.ts"), "utf8");
    const examples = readFileSync(join(p.dir, "examples.ts"), "utf8");
    const classes = [...generated.matchAll(/^export class (\w+) \{\n([\s\S]*?)^\}/gm)];
    assert.equal(classes.length, 7);
    const missing = classes.flatMap(([, cls, body]) =>
      [...body.matchAll(/^    (?:readonly )?(\w+)[(:]/gm)].map((m) => m[1])
        .filter((member) => member !== "constructor" && !examples.includes(`.${member}`))
        .map((member) => `${cls}.${member}`));
    assert.deepEqual(missing, [], "members of the API the typed examples do not use");
  } finally {
    p.remove();
  }
});

/** A static file server on 127.0.0.1 for `dir`. */
async function serve(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://x").pathname.replace(/^\/+/, "");
    try {
      const body = readFileSync(join(dir, path));
      res.writeHead(200, { "content-type": types[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  const port = await freePort();
  await new Promise((ok) => server.listen(port, "127.0.0.1", ok));
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** `GET url` with a deadline. */
async function fetchWithin(url, ms) {
  const r = await fetch(url, { signal: AbortSignal.timeout(ms) });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, text, json };
}
