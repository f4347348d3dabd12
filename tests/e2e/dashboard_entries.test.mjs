// End-to-end: the dashboard's entries view in Debian's Chromium against the real worker — live
// values, tree/flat and the name filter, expand/collapse all, the query box (valid, invalid,
// live), removed entries, TTLs and refreshing providers, keyboard selection, the phone width,
// reconnecting after a restart, and 10,000 registers. Writes the entries screenshots.
import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { openDashboard, screenshot, withBrowser } from "./dashboard_fixture.mjs";
import { Worker, http, putUntilAccepted } from "./worker.mjs";

const worker = new Worker();
const session = withBrowser(worker);

const reg = (name) => `${worker.url}/r/${name}`;
const publish = (name, registers) => http("PUT", `${reg(name)}/provider`, { registers });
const valueOf = (page, id) => page.evaluate((id) => document.querySelector(`.row[data-id="${id}"] .value`)?.textContent ?? null, id);
const waitValue = (page, id, text, timeout = 5_000) => page.waitForFunction(
  ([id, text]) => document.querySelector(`.row[data-id="${id}"] .value`)?.textContent === text, [id, text], { timeout });
const rowIds = (page) => page.evaluate(() => [...document.querySelectorAll(".entries-rows .row")]
  .sort((a, b) => a.dataset.index - b.dataset.index).map((r) => r.dataset.id ?? `[${r.dataset.path}]`));

/** A registry with a few registers in two rooms and an entry of another kind. */
async function seed(name) {
  assert.equal((await publish(name, {
    "kitchen.temp": { value: 21.5, metadata: { room: "kitchen", unit: "C" }, ttl: "1h" },
    "kitchen:lamp": { value: false, metadata: { room: "kitchen" }, ttl: "1h" },
    "hall:lamp": { value: true, metadata: { room: "hall" }, ttl: "1h" },
  })).status, 204);
  assert.equal((await http("PUT", `${reg(name)}/v1/entries/svc:web`, { kind: "svc.http", meta: { port: 8080 }, data: { up: true } })).status, 201);
}

test("entries: every kind listed in a tree with counts; values update in place with a highlight", async () => {
  await seed("tree");
  const page = await openDashboard(session.browser, worker.url, "tree", { width: 1100, height: 640 });
  await waitValue(page, "kitchen.temp", "21.5", 15_000);
  assert.equal(await valueOf(page, "svc:web"), '{"up":true}', "entries of other kinds are shown");
  assert.equal(await page.textContent('.row[data-id="svc:web"] .kind'), "svc.http");
  assert.equal(await page.textContent(".count-total"), "4");
  // The tree: "kitchen" holds kitchen.temp and kitchen:lamp (split on "." and ":").
  assert.equal(await page.textContent('.row.group[data-path="kitchen"] .count'), "2");
  assert.deepEqual(await rowIds(page), ["[hall]", "hall:lamp", "[kitchen]", "kitchen:lamp", "kitchen.temp", "[svc]", "svc:web"]);
  assert.equal(await page.getAttribute('.row[data-id="kitchen.temp"]', "aria-level"), "2");
  // A new value replaces the old one in the same row, highlighted.
  await publish("tree", { "kitchen.temp": { value: 22.25, metadata: { room: "kitchen", unit: "C" }, ttl: "1h" } });
  await page.waitForFunction(() => {
    const row = document.querySelector('.row[data-id="kitchen.temp"]');
    return row?.querySelector(".value").textContent === "22.25" && row.getAnimations().length > 0;
  }, null, { timeout: 5_000 });
  assert.equal(await page.textContent("#status"), "live");
  assert.match(await page.textContent("#head-version"), /^v\d+$/);
  await page.locator('.row[data-id="kitchen.temp"] .ttl').waitFor();
  // Published again with a TTL: its provider keeps it alive (↻), and it counts down from 1 h.
  assert.match(await page.textContent('.row[data-id="kitchen.temp"] .ttl'), /^↻ (59m|1h) /);
  assert.match(await page.textContent('.row[data-id="hall:lamp"] .ttl'), /^(59m|1h) /);
  await sleep(1100); // the highlight fades
  await screenshot(page, "entries-tree");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("entries: flat list, name filter, expand/collapse all, keyboard selection", async () => {
  await seed("flat");
  const page = await openDashboard(session.browser, worker.url, "flat", { width: 1100, height: 640 });
  await waitValue(page, "hall:lamp", "true", 15_000);
  // Collapse all: only the top-level nodes; expand all: every entry again.
  await page.click("button.collapse-all");
  assert.deepEqual(await rowIds(page), ["[hall]", "[kitchen]", "[svc]"]);
  // One node opened with the keyboard (ArrowRight) shows its entries only.
  await page.focus(".entries-rows");
  await page.keyboard.press("Home");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowRight");
  assert.deepEqual(await rowIds(page), ["[hall]", "[kitchen]", "kitchen:lamp", "kitchen.temp", "[svc]"]);
  await page.click("button.expand-all");
  assert.equal((await rowIds(page)).length, 7);
  // Flat: one row per entry, full ids, no groups.
  await page.click('.seg button[data-mode="flat"]');
  assert.deepEqual(await rowIds(page), ["hall:lamp", "kitchen.temp", "kitchen:lamp", "svc:web"].sort());
  assert.equal(await page.getAttribute('.seg button[data-mode="flat"]', "aria-pressed"), "true");
  // The name filter narrows the list (case-insensitive substring of the id).
  await page.fill(".name-filter", "LAMP");
  assert.deepEqual(await rowIds(page), ["hall:lamp", "kitchen:lamp"]);
  assert.equal(await page.textContent(".count-shown"), "2");
  assert.equal(await page.textContent(".count-total"), "4");
  await screenshot(page, "entries-flat");
  // Arrow keys and Enter select an entry (ctx "select": marked here, shown by the detail view).
  await page.focus(".entries-rows");
  await page.keyboard.press("Home");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.waitForSelector('.row.selected[data-id="kitchen:lamp"]', { timeout: 2_000 });
  assert.equal(await page.getAttribute(".entries-rows", "aria-activedescendant"), await page.getAttribute('.row[data-id="kitchen:lamp"]', "id"));
  // A click selects too.
  await page.click('.row[data-id="hall:lamp"] .name');
  await page.waitForSelector('.row.selected[data-id="hall:lamp"]', { timeout: 2_000 });
  assert.equal(await page.locator(".row.selected").count(), 1);
  // The filter in tree mode keeps the matching entries with their parents, opened.
  await page.click('.seg button[data-mode="tree"]');
  await page.fill(".name-filter", "temp");
  assert.deepEqual(await rowIds(page), ["[kitchen]", "kitchen.temp"]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("entries: the query box — valid, invalid (explained inline), and live", async () => {
  await seed("query");
  const page = await openDashboard(session.browser, worker.url, "query", { width: 1100, height: 640 });
  await waitValue(page, "hall:lamp", "true", 15_000);
  await page.fill(".query", "^meta.room=kit");
  await page.press(".query", "Enter");
  await page.waitForFunction(() => document.querySelector(".count-total")?.textContent === "2", null, { timeout: 5_000 });
  assert.deepEqual(await rowIds(page), ["[kitchen]", "kitchen:lamp", "kitchen.temp"]);
  assert.ok(await page.locator(".query-error").isHidden());
  // Invalid: the registry's reason shown next to the box; the last result stays.
  await page.fill(".query", "^meta.room=kit nosuchfield=1");
  await page.click('.query-form button[type="submit"]');
  await page.locator(".query-error").waitFor({ state: "visible", timeout: 5_000 });
  const message = await page.textContent(".query-error");
  assert.match(message, /invalid criterion "nosuchfield=1"/);
  assert.match(message, /unknown field/);
  assert.equal(await page.getAttribute(".query", "aria-invalid"), "true");
  assert.deepEqual(await rowIds(page), ["[kitchen]", "kitchen:lamp", "kitchen.temp"]);
  // Valid again; live: a non-matching write does not appear, a matching one written after it
  // does (the positive control proves the watch delivered past the non-matching version).
  await page.fill(".query", "^meta.room=kit $.id=lamp");
  await page.press(".query", "Enter");
  await page.waitForFunction(() => document.querySelector(".count-total")?.textContent === "1", null, { timeout: 5_000 });
  assert.ok(await page.locator(".query-error").isHidden());
  await publish("query", { "garage:lamp": { value: 1, metadata: { room: "garage" }, ttl: "1h" } });
  await publish("query", { "kitchen:bulb:lamp": { value: 2, metadata: { room: "kitchenette" }, ttl: "1h" } });
  await waitValue(page, "kitchen:bulb:lamp", "2");
  assert.equal(await page.locator('.row[data-id="garage:lamp"]').count(), 0);
  assert.equal(await page.textContent(".count-total"), "2");
  await screenshot(page, "entries-query");
  // An entry that stops matching leaves the result (marked removed, then gone).
  await publish("query", { "kitchen:lamp": { value: false, metadata: { room: "hall" }, ttl: "1h" } });
  await page.waitForSelector('.row.removed[data-id="kitchen:lamp"]', { timeout: 5_000 });
  await page.waitForSelector('.row[data-id="kitchen:lamp"]', { state: "detached", timeout: 6_000 });
  // A valid query that matches nothing says so.
  await page.fill(".query", ".id=nothing-here");
  await page.press(".query", "Enter");
  await page.locator(".no-match").waitFor({ state: "visible", timeout: 5_000 });
  assert.equal(await page.textContent(".count-total"), "0");
  // Back to everything.
  await page.click(".query-clear");
  await page.waitForFunction(() => document.querySelector(".count-total")?.textContent === "6", null, { timeout: 5_000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("entries: a removed entry is marked, then vanishes; TTLs count down; a refreshing provider shows", async () => {
  const page = await openDashboard(session.browser, worker.url, "ttl", { width: 1100, height: 640 });
  await page.waitForFunction(() => document.querySelector("#status").textContent === "live", null, { timeout: 15_000 });
  await publish("ttl", { "gone:soon": { value: 1, ttl: "1500ms" }, "stays:long": { value: 2, ttl: "30s" } });
  await waitValue(page, "gone:soon", "1");
  const first = await page.textContent('.row[data-id="stays:long"] .ttl');
  assert.match(first, /^(30|29|28)s$/);
  // Removed by expiry: marked (struck, red) for a while, then gone.
  await page.waitForSelector('.row.removed[data-id="gone:soon"]', { timeout: 5_000 });
  assert.equal(await page.$eval('.row[data-id="gone:soon"] .name', (e) => getComputedStyle(e).textDecorationLine), "line-through");
  await page.waitForSelector('.row[data-id="gone:soon"]', { state: "detached", timeout: 5_000 });
  const later = Number((await page.textContent('.row[data-id="stays:long"] .ttl')).replace("s", ""));
  assert.ok(later < Number(first.replace("s", "")), `the TTL counts down (${first} → ${later}s)`);
  assert.ok(!(await page.textContent('.row[data-id="stays:long"] .ttl')).includes("↻"));
  // A provider refreshing a 2 s register (same value: no version) keeps it alive, and says so.
  const refresher = setInterval(() => publish("ttl", { "kept:alive": { value: 3, ttl: "2s" } }).catch(() => {}), 500);
  try {
    await waitValue(page, "kept:alive", "3");
    await page.waitForFunction(() => document.querySelector('.row[data-id="kept:alive"] .ttl')?.textContent.startsWith("↻"), null, { timeout: 8_000 });
    assert.equal(await page.locator('.row.removed[data-id="kept:alive"]').count(), 0);
  } finally {
    clearInterval(refresher);
  }
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("entries: usable at phone width (390 × 844)", async () => {
  await seed("phone");
  const page = await openDashboard(session.browser, worker.url, "phone", { width: 390, height: 844 });
  await waitValue(page, "kitchen.temp", "21.5", 15_000);
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), "no horizontal scrolling");
  for (const sel of [".name-filter", ".query", ".entries-rows", 'button.collapse-all']) {
    const box = await page.locator(sel).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${sel} fits`);
  }
  await page.click('.row[data-id="hall:lamp"] .name');
  await page.waitForSelector('.row.selected[data-id="hall:lamp"]');
  await screenshot(page, "entries-phone");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("status: follows client.onStatus when the package has it; else transport, network and a health probe", async () => {
  const page = await openDashboard(session.browser, worker.url, "status", { width: 800, height: 600 });
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "live", null, { timeout: 15_000 });
  const seen = await page.evaluate(async () => {
    const { trackStatus } = await import("/status.js");
    const out = {};
    // A client with its own status (the package's status API): shown as it reports it.
    const listeners = new Set();
    const native = { status: "connecting", transport: "websocket", closed: false,
      onStatus(cb) { listeners.add(cb); return () => listeners.delete(cb); } };
    const a = [];
    const ta = trackStatus(native, (s) => a.push(s), { probe: async () => false, probeMs: 20 });
    for (const s of ["live", "reconnecting", "live", "long-poll", "offline", "closed"]) {
      native.status = s;
      for (const cb of listeners) cb(s);
    }
    await new Promise((r) => setTimeout(r, 100)); // the probe is not used with onStatus
    ta.stop();
    out.native = a;
    out.unsubscribed = listeners.size === 0;
    // An older client: transport, then a failing health probe (reconnecting), then back.
    const old = { transport: "connecting", closed: false };
    let up = true;
    const b = [];
    const tb = trackStatus(old, (s) => b.push(s), { probe: async () => up, probeMs: 30 });
    old.transport = "websocket";
    await new Promise((r) => setTimeout(r, 300));
    up = false;
    await new Promise((r) => setTimeout(r, 300));
    up = true;
    await new Promise((r) => setTimeout(r, 300));
    old.transport = "long-poll";
    await new Promise((r) => setTimeout(r, 300));
    tb.streamFailed();
    tb.streamAlive();
    old.closed = true;
    await new Promise((r) => setTimeout(r, 300));
    tb.stop();
    out.fallback = b;
    return out;
  });
  assert.deepEqual(seen.native, ["connecting", "live", "reconnecting", "live", "long-poll", "offline", "closed"]);
  assert.ok(seen.unsubscribed);
  assert.deepEqual(seen.fallback, ["connecting", "live", "reconnecting", "live", "long-poll", "reconnecting", "long-poll", "closed"]);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("entries: without WebSockets the page says long-poll and stays live over HTTP", async () => {
  await publish("poll", { "hall:lamp": { value: 1, ttl: "1h" } });
  // A network where no WebSocket can be opened (e.g. a proxy that refuses upgrades).
  const noSockets = () => {
    window.WebSocket = class extends EventTarget {
      constructor(url) {
        super();
        this.url = url;
        this.readyState = 3;
        setTimeout(() => {
          this.dispatchEvent(new Event("error"));
          this.onerror?.(new Event("error"));
          const close = new CloseEvent("close", { code: 1006 });
          this.dispatchEvent(close);
          this.onclose?.(close);
        }, 10);
      }
      send() {}
      close() {}
    };
  };
  const page = await openDashboard(session.browser, worker.url, "poll", { width: 1000, height: 600, init: noSockets });
  await waitValue(page, "hall:lamp", "1", 15_000);
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "long-poll", null, { timeout: 10_000 });
  await publish("poll", { "hall:lamp": { value: 2, ttl: "1h" } });
  await waitValue(page, "hall:lamp", "2", 10_000);
  assert.equal(await page.textContent("#status"), "long-poll");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("entries: reconnects after the worker restarts (status leaves live, then returns)", async () => {
  await publish("restart", { "a:b": { value: 1, ttl: "1h" } });
  const page = await openDashboard(session.browser, worker.url, "restart", { width: 1100, height: 640 });
  await waitValue(page, "a:b", "1", 15_000);
  await page.waitForFunction(() => document.querySelector("#status").textContent === "live", null, { timeout: 5_000 });
  // Every status the page shows from here on, recorded before the restart begins (awaited, so
  // a quick change cannot slip past the observer).
  await page.evaluate(() => {
    const s = document.querySelector("#status");
    window.statusesSeen = [];
    new MutationObserver(() => window.statusesSeen.push(s.textContent))
      .observe(s, { childList: true, characterData: true, subtree: true });
  });
  await worker.restart();
  const seen = () => page.evaluate(() => window.statusesSeen);
  await page.waitForFunction(() => window.statusesSeen.some((t) => t !== "live"), null, { timeout: 15_000 })
    .catch(async () => assert.fail(`the status never left live across the restart: ${JSON.stringify(await seen())}`));
  const during = (await seen()).find((t) => t !== "live");
  assert.ok(["reconnecting", "offline", "connecting"].includes(during), `status while down: ${during}`);
  await putUntilAccepted(`${reg("restart")}/provider`, { registers: { "a:b": { value: 2, ttl: "1h" } } });
  await waitValue(page, "a:b", "2", 20_000);
  await page.waitForFunction(() => document.querySelector("#status").textContent === "live", null, { timeout: 15_000 });
  // Chromium logs each refused connection attempt while the worker is down; nothing else.
  assert.deepEqual(page.errors.filter((e) => !/ERR_CONNECTION_REFUSED/.test(e)), []);
  await page.close();
});

test("entries: 10,000 registers are all counted and a change deep in the list shows quickly", async () => {
  const big = new Worker({ vars: { MAX_ENTRIES: "20000", MAX_STATE_BYTES: String(64 << 20) } });
  await big.start();
  try {
    const base = `${big.url}/r/scale`;
    for (let z = 0; z < 10; z++) {
      const registers = {};
      for (let i = 0; i < 1000; i++) registers[`zone-${z}.room-${Math.floor(i / 100)}:reg-${i}`] = { value: i, metadata: { zone: z }, ttl: "1h" };
      assert.equal((await http("PUT", `${base}/provider`, { registers })).status, 204);
    }
    const page = await openDashboard(session.browser, big.url, "scale", { width: 1100, height: 640 });
    await page.waitForFunction(() => document.querySelector(".count-total")?.textContent === "10000", null, { timeout: 30_000 });
    // Only the rows in view are in the DOM.
    assert.ok((await page.locator(".entries-rows .row").count()) < 80);
    // The last entry of the flat list: scrolled to with End, then changed.
    await page.click('.seg button[data-mode="flat"]');
    await page.focus(".entries-rows");
    await page.keyboard.press("End");
    const deep = "zone-9.room-9:reg-999";
    await waitValue(page, deep, "999");
    const t0 = Date.now();
    await http("PUT", `${base}/provider`, { registers: { [deep]: { value: "changed", metadata: { zone: 9 }, ttl: "1h" } } });
    await waitValue(page, deep, '"changed"', 3_000);
    const ms = Date.now() - t0;
    console.log(`# 10,000 registers: a change to the last one shown after ${ms} ms`);
    assert.equal(await page.textContent(".count-total"), "10000");
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    await big.dispose();
  }
});
