// End-to-end: the dashboard's history view (www/history*.js) in Debian's Chromium against the
// real worker: the paged, live version timeline with actors and operation counts, a version's
// changeset before/after, a diff between two chosen versions, one entry's history (including
// an id deleted and created again), rollback from the timeline (the confirmation shows the
// change; confirmed it really restores, cancelled it changes nothing), a stale rollback refused
// with a message, and the view at phone width. Each test uses a registry of its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker, http } from "./worker.mjs";
import { openDashboard, screenshot, withBrowser } from "./dashboard_fixture.mjs";

const worker = new Worker();
const session = withBrowser(worker);

const base = (registry) => `${worker.url}/r/${registry}`;
const put = async (registry, id, data, kind = "svc") => {
  const r = await http("PUT", `${base(registry)}/v1/entries/${encodeURIComponent(id)}`, { kind, data });
  assert.ok(r.status === 200 || r.status === 201, r.text);
  return r.json.version;
};
const del = async (registry, id) => {
  const r = await http("DELETE", `${base(registry)}/v1/entries/${encodeURIComponent(id)}`);
  assert.equal(r.status, 200, r.text);
  return r.json.version;
};
const entry = async (registry, id) => (await http("GET", `${base(registry)}/v1/entries/${encodeURIComponent(id)}`)).json;
const headOf = async (registry) => (await http("GET", `${base(registry)}/v1/versions?limit=1`)).json.head;

/** Opens the dashboard on `registry` with the history view (`#history` or `#history=<id>`). */
async function openHistory(registry, id, viewport) {
  const page = await openDashboard(session.browser, worker.url, registry, viewport);
  const hash = id === undefined ? "#history" : `#history=${encodeURIComponent(id)}`;
  await page.goto(`${worker.url}/?registry=${encodeURIComponent(registry)}${hash}`);
  await page.locator("#history-view .hist-list li").first().waitFor({ timeout: 15_000 });
  return page;
}

/** The versions listed in the timeline, top to bottom. */
const listed = (page) => page.$$eval("#history-view .hist-list li", (lis) => lis.map((li) => Number(li.dataset.version)));
const row = (page, v) => page.locator(`#history-view .hist-list li[data-version="${v}"]`);

test("the timeline lists versions with actor and operation counts, pages older ones and picks up new ones live", async () => {
  const reg = "hist-timeline";
  const tx = await http("POST", `${base(reg)}/v1/tx`, { ops: [
    { op: "create", id: "app:db", kind: "svc", data: { port: 5432 } },
    { op: "create", id: "app:web", kind: "svc", data: { port: 80 } },
  ] });
  assert.equal(tx.status, 200, tx.text);
  for (let i = 1; i <= 22; i++) await put(reg, "app:web", { port: 80 + i });
  assert.equal((await http("PUT", `${base(reg)}/provider`, { registers: { "hall:lamp": { value: true, ttl: "1h" } } })).status, 204);
  const last = await del(reg, "app:db");
  assert.equal(last, 25);

  const page = await openHistory(reg);
  assert.ok(await page.locator("#history-view").isVisible());
  assert.ok(await page.locator("#entries-view").isHidden(), "the entries view gives way to the history");
  assert.equal(await page.locator('nav.views button[data-view="history"]').getAttribute("aria-selected"), "true");
  assert.deepEqual(await listed(page), Array.from({ length: 20 }, (_, i) => 25 - i), "newest first, one page of 20");
  // Actor and counts: v25 deleted one entry through the API, v24 the provider created one.
  assert.equal(await row(page, 25).locator(".hist-actor").textContent(), "api");
  assert.equal(await row(page, 25).locator(".hist-counts").getAttribute("aria-label"), "0 created, 0 updated, 1 deleted");
  assert.equal(await row(page, 24).locator(".hist-actor").textContent(), "provider");
  assert.equal(await row(page, 24).locator(".hist-counts").getAttribute("aria-label"), "1 created, 0 updated, 0 deleted");
  assert.equal(await row(page, 10).locator(".hist-counts").getAttribute("aria-label"), "0 created, 1 updated, 0 deleted");
  assert.match(await row(page, 25).locator("time").getAttribute("datetime"), /^\d{4}-\d\d-\d\dT/);
  // Older versions, down to the first one (a transaction of two creates).
  await page.click("#history-view .hist-older");
  await page.waitForFunction(() => document.querySelectorAll("#history-view .hist-list li").length === 25, null, { timeout: 10_000 });
  assert.deepEqual(await listed(page), Array.from({ length: 25 }, (_, i) => 25 - i));
  assert.equal(await row(page, 1).locator(".hist-counts").getAttribute("aria-label"), "2 created, 0 updated, 0 deleted");
  assert.ok(await page.locator("#history-view .hist-older").isHidden(), "nothing older than v1");
  assert.equal(await page.locator("#history-view .hist-note").textContent(), "This is the first version.");

  // Live: a write made elsewhere shows at the top, and the former head gets a rollback button.
  const v26 = await put(reg, "app:web", { port: 9999 });
  await row(page, v26).waitFor({ timeout: 10_000 });
  assert.equal((await listed(page))[0], v26);
  assert.equal(await row(page, v26).locator(".hist-current").textContent(), "current");
  assert.equal(await row(page, 25).locator(".hist-rollback").count(), 1);

  // A version's changeset: the entry before and after, the changed value highlighted.
  await row(page, 10).locator(".hist-v").click();
  const op = page.locator('#history-view .hist-detail .hist-op[data-id="app:web"]');
  await op.waitFor();
  assert.equal(await page.locator("#history-view .hist-detail h3").textContent(), "Version 10");
  assert.equal(await op.getAttribute("data-op"), "update");
  const beforeJson = JSON.parse(await op.locator(".hist-before pre").textContent());
  const afterJson = JSON.parse(await op.locator(".hist-after pre").textContent());
  assert.deepEqual([beforeJson.data, afterJson.data], [{ port: 88 }, { port: 89 }]);
  assert.deepEqual(await op.locator(".hist-after mark").allTextContents(), ["89", "10"], "the port and the version changed");
  assert.ok(await row(page, 10).evaluate((li) => li.classList.contains("selected")));
  await page.evaluate(() => scrollTo(0, 0));
  await screenshot(page, "history");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a diff between two versions picked in the timeline", async () => {
  const reg = "hist-diff";
  await put(reg, "svc:a", { n: 1 }); // v1
  await put(reg, "svc:b", { n: 1 }); // v2
  await put(reg, "svc:a", { n: 2 }); // v3
  await del(reg, "svc:b"); // v4
  await put(reg, "svc:c", { n: 1 }); // v5
  const page = await openHistory(reg);
  const diffBtn = page.locator("#history-view .hist-diff");
  assert.ok(await diffBtn.isDisabled(), "no diff until both ends are picked");
  await page.check('#history-view input[name="hist-from"][value="2"]');
  await page.check('#history-view input[name="hist-to"][value="5"]');
  assert.equal(await page.locator("#history-view .hist-from").textContent(), "v2");
  assert.equal(await page.locator("#history-view .hist-to").textContent(), "v5");
  await diffBtn.click();
  await page.locator("#history-view .hist-detail .hist-op").first().waitFor({ timeout: 10_000 });
  assert.equal(await page.locator("#history-view .hist-detail h3").textContent(), "Diff v2 → v5");
  const shown = await page.$$eval("#history-view .hist-detail .hist-op", (ops) => ops.map((o) => `${o.dataset.op} ${o.dataset.id}`).sort());
  const api = (await http("GET", `${base(reg)}/v1/diff?from=2&to=5`)).json.changeset.map((o) => `${o.op} ${o.id}`).sort();
  assert.deepEqual(shown, api);
  assert.deepEqual(shown, ["create svc:c", "delete svc:b", "update svc:a"]);
  const a = page.locator('#history-view .hist-detail .hist-op[data-id="svc:a"]');
  assert.deepEqual(JSON.parse(await a.locator(".hist-before pre").textContent()).data, { n: 1 });
  assert.deepEqual(JSON.parse(await a.locator(".hist-after pre").textContent()).data, { n: 2 });
  await screenshot(page, "history-diff");
  // Backwards: from 5 to 2 undoes it.
  await page.check('#history-view input[name="hist-from"][value="5"]');
  await page.check('#history-view input[name="hist-to"][value="2"]');
  await diffBtn.click();
  await page.waitForFunction(() => document.querySelector("#history-view .hist-detail h3")?.textContent === "Diff v5 → v2");
  await page.locator('#history-view .hist-detail .hist-op[data-id="svc:c"][data-op="delete"]').waitFor({ timeout: 10_000 });
  // A large changeset: the first 200 operations are drawn, the rest counted.
  const ops = Array.from({ length: 205 }, (_, i) => ({ op: "create", id: `bulk:${String(i).padStart(3, "0")}`, kind: "svc", data: { i } }));
  const tx = await http("POST", `${base(reg)}/v1/tx`, { ops });
  assert.equal(tx.status, 200, tx.text);
  await row(page, 6).waitFor({ timeout: 10_000 });
  assert.equal(await row(page, 6).locator(".hist-counts").getAttribute("aria-label"), "205 created, 0 updated, 0 deleted");
  await row(page, 6).locator(".hist-v").click();
  await page.locator("#history-view .hist-detail .hist-more").waitFor();
  assert.equal(await page.locator("#history-view .hist-detail .hist-op").count(), 200);
  assert.equal(await page.locator("#history-view .hist-detail .hist-more").textContent(), "… and 5 more operations (not drawn).");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("one entry's history: the versions that touched it, across a delete and a re-create", async () => {
  const reg = "hist-entry";
  const touched = [];
  touched.push(await put(reg, "svc:x", { n: 1 }));
  await put(reg, "svc:other", { n: 1 });
  touched.push(await put(reg, "svc:x", { n: 2 }));
  await put(reg, "svc:other", { n: 2 });
  touched.push(await del(reg, "svc:x"));
  await put(reg, "svc:other", { n: 3 });
  touched.push(await put(reg, "svc:x", { n: 3 }));
  touched.push(await put(reg, "svc:x", { n: 4 }));
  await put(reg, "svc:other", { n: 4 });
  touched.reverse();

  // Opened from another view's event (what the detail view's "history" button emits).
  const page = await openHistory(reg, "svc:x");
  assert.equal(await page.locator("#history-view .hist-title").textContent(), "History of svc:x");
  await page.locator("#history-view .hist-older").waitFor({ timeout: 10_000 });
  // The chain of the current entry ends at its create; older lives need a search, said so.
  assert.deepEqual(await listed(page), touched.slice(0, 2));
  assert.match(await page.locator("#history-view .hist-note").textContent(), /^Created at v7\./);
  assert.equal(await page.locator("#history-view .hist-older").textContent(), "Search older versions");
  await page.click("#history-view .hist-older");
  await page.waitForFunction((n) => document.querySelectorAll("#history-view .hist-list li").length === n, touched.length, { timeout: 10_000 });
  assert.deepEqual(await listed(page), touched);
  assert.equal(await row(page, 5).locator(".hist-badge").textContent(), "delete");
  assert.equal(await page.locator("#history-view .hist-note").textContent(), "No older changes of svc:x.");

  // A deleted entry: found by searching back from the head; the form and the hash agree.
  await del(reg, "svc:other");
  await page.fill("#history-view .hist-entry", "svc:other");
  await page.press("#history-view .hist-entry", "Enter");
  await page.waitForFunction(() => document.querySelector("#history-view .hist-title")?.textContent === "History of svc:other");
  await page.waitForFunction(() => document.querySelectorAll("#history-view .hist-list li").length === 5, null, { timeout: 10_000 });
  assert.deepEqual(await listed(page), [10, 9, 6, 4, 2]);
  assert.equal(await page.evaluate(() => location.hash), "#history=svc%3Aother");
  // Live: a new change of that entry appears; changes of others do not.
  await put(reg, "svc:x", { n: 5 });
  const v12 = await put(reg, "svc:other", { n: 5 });
  await row(page, v12).waitFor({ timeout: 10_000 });
  assert.deepEqual(await listed(page), [12, 10, 9, 6, 4, 2]);
  // Back to the whole registry.
  await page.click("#history-view .hist-all");
  await page.waitForFunction(() => document.querySelector("#history-view .hist-list li")?.dataset.version === "12", null, { timeout: 10_000 });
  assert.equal((await listed(page)).length, 12);
  assert.equal(await page.evaluate(() => location.hash), "#history");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("rollback from the timeline: the confirmation shows the change; cancelled nothing changes, confirmed the old value is back", async () => {
  const reg = "hist-rollback";
  await put(reg, "svc:web", { port: 8080 }); // v1
  await put(reg, "svc:web", { port: 9090 }); // v2
  await put(reg, "svc:api", { port: 3000 }); // v3
  const page = await openHistory(reg);
  const dialog = page.locator("#history-view .hist-dialog");

  // Negative: open the confirmation, read it, Escape: nothing is sent.
  await row(page, 1).locator(".hist-rollback").click();
  await dialog.waitFor({ state: "visible" });
  await page.waitForFunction(() => !document.querySelector("#history-view .hist-dlg-confirm").disabled, null, { timeout: 10_000 });
  assert.equal(await dialog.locator("h3").textContent(), "Roll back to version 1?");
  assert.match(await dialog.locator(".hist-dlg-summary").textContent(), /at v3\. .*state of v1: 0 created, 1 updated, 1 deleted\./);
  const web = dialog.locator('.hist-op[data-id="svc:web"]');
  assert.equal(await web.getAttribute("data-op"), "update");
  assert.deepEqual(JSON.parse(await web.locator(".hist-before pre").textContent()).data, { port: 9090 });
  assert.deepEqual(JSON.parse(await web.locator(".hist-after pre").textContent()).data, { port: 8080 });
  assert.equal(await dialog.locator('.hist-op[data-id="svc:api"]').getAttribute("data-op"), "delete");
  await screenshot(page, "history-rollback");
  await page.keyboard.press("Escape");
  await dialog.waitFor({ state: "hidden" });
  assert.equal(await headOf(reg), 3, "cancelled: no version written");
  assert.deepEqual((await entry(reg, "svc:web")).data, { port: 9090 });

  // Positive: confirm with Enter (the confirm button has the focus once the preview is read).
  await row(page, 1).locator(".hist-rollback").click();
  await page.waitForFunction(() => document.activeElement?.classList.contains("hist-dlg-confirm"), null, { timeout: 10_000 });
  await page.keyboard.press("Enter");
  await dialog.waitFor({ state: "hidden", timeout: 10_000 });
  assert.equal(await headOf(reg), 4);
  assert.deepEqual((await entry(reg, "svc:web")).data, { port: 8080 }, "the registry really has the old value");
  assert.equal((await http("GET", `${base(reg)}/v1/entries/svc:api`)).status, 404);
  await row(page, 4).waitFor({ timeout: 10_000 });
  assert.equal((await listed(page))[0], 4);
  assert.equal(await row(page, 4).locator(".hist-actor").textContent(), "rollback");
  await page.waitForFunction(() => document.querySelector("#history-view .hist-detail h3")?.textContent === "Version 4");
  assert.match(await page.locator("#history-view .hist-msg").textContent(), /Rolled back to v1: the registry is now at v4\./);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a stale rollback (someone wrote after the confirmation opened) is refused with a message", async () => {
  const reg = "hist-stale";
  await put(reg, "svc:web", { port: 1 }); // v1
  await put(reg, "svc:web", { port: 2 }); // v2
  const page = await openHistory(reg);
  const dialog = page.locator("#history-view .hist-dialog");
  await row(page, 1).locator(".hist-rollback").click();
  await page.waitForFunction(() => !document.querySelector("#history-view .hist-dlg-confirm").disabled, null, { timeout: 10_000 });
  await put(reg, "svc:web", { port: 3 }); // v3, written by someone else meanwhile
  await dialog.locator(".hist-dlg-confirm").click();
  const error = dialog.locator(".hist-dlg-error");
  await error.waitFor({ state: "visible", timeout: 10_000 });
  assert.match(await error.textContent(), /Someone changed the registry since this preview .*Nothing was rolled back/);
  assert.ok(await dialog.isVisible(), "the dialog stays open with the message");
  assert.ok(await dialog.locator(".hist-dlg-confirm").isDisabled());
  assert.equal(await headOf(reg), 3, "nothing written by the refused rollback");
  assert.deepEqual((await entry(reg, "svc:web")).data, { port: 3 });
  // Review again: the preview is read against v3, and confirming then works.
  await dialog.locator(".hist-dlg-review").click();
  await page.waitForFunction(() => /at v3\./.test(document.querySelector("#history-view .hist-dlg-summary")?.textContent), null, { timeout: 10_000 });
  await dialog.locator(".hist-dlg-confirm").click();
  await dialog.waitFor({ state: "hidden", timeout: 10_000 });
  assert.deepEqual((await entry(reg, "svc:web")).data, { port: 1 });
  // Chromium logs the refused request itself (the 409) as a console error: expected here.
  assert.deepEqual(page.errors.filter((e) => !/status of 409 \(Conflict\)/.test(e)), []);
  assert.equal(page.errors.length, 1);
  await page.close();
});

test("at phone width (390 × 844) the history view fits and works", async () => {
  const reg = "hist-phone";
  await put(reg, "kitchen:lamp", { on: false }, "device");
  await put(reg, "kitchen:lamp", { on: true }, "device");
  await put(reg, "hall:sensor", { temp: 21.5, unit: "C" }, "device");
  // Opened by the History tab (no hash yet): it loads, and the hash follows the view.
  const page = await openDashboard(session.browser, worker.url, reg, { width: 390, height: 844 });
  await page.locator("#status.live").waitFor({ timeout: 15_000 });
  assert.ok(await page.locator("#history-view").isHidden());
  assert.ok(await page.locator("#entries-view").isVisible());
  await page.click('nav.views button[data-view="history"]');
  await row(page, 3).waitFor({ timeout: 10_000 });
  assert.equal(await page.evaluate(() => location.hash), "#history");
  await page.click('nav.views button[data-view="entries"]');
  await page.waitForFunction(() => location.hash === "");
  await page.click('nav.views button[data-view="history"]');
  await row(page, 2).locator(".hist-v").click();
  await page.locator('#history-view .hist-detail .hist-op[data-id="kitchen:lamp"]').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (${overflow} px too wide)`);
  for (const sel of [".hist-v", ".hist-rollback", 'input[name="hist-from"]']) {
    const box = await row(page, 1).locator(sel).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `${sel} is on screen`);
  }
  await screenshot(page, "history-phone");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("with retention, versions folded away are said to be gone (timeline and an entry's history), not errors", async () => {
  const kept = new Worker({ vars: { RETENTION_VERSIONS: "5" } });
  await kept.start();
  try {
    const url = `${kept.url}/r/hist-retention`;
    // Folding happens at checkpoint boundaries (every 256 versions): 530 versions fold 1–512.
    for (let i = 1; i <= 530; i++) {
      const r = await http("PUT", `${url}/v1/entries/svc:web`, { kind: "svc", data: { n: i } });
      assert.ok(r.status === 200 || r.status === 201, r.text);
    }
    const { oldest, head } = (await http("GET", `${url}/v1/versions?limit=1`)).json;
    assert.equal(head, 530);
    assert.ok(oldest > 1, `some versions were folded (oldest ${oldest})`);
    const page = await openDashboard(session.browser, kept.url, "hist-retention");
    await page.goto(`${kept.url}/?registry=hist-retention#history`);
    const note = page.locator("#history-view .hist-note");
    while (!(await page.locator("#history-view .hist-older").isHidden())) {
      await page.locator("#history-view .hist-list li").first().waitFor({ timeout: 15_000 });
      if (await page.locator("#history-view .hist-older").isHidden()) break;
      await page.click("#history-view .hist-older");
      await page.waitForTimeout(200);
    }
    await page.waitForFunction(() => /folded by retention/.test(document.querySelector("#history-view .hist-note")?.textContent), null, { timeout: 10_000 });
    assert.equal(await note.textContent(), `Versions before v${oldest} were folded by retention: they are no longer kept.`);
    const shown = await listed(page);
    assert.equal(shown.length, head - oldest + 1);
    assert.equal(shown.at(-1), oldest);
    // The entry's history stops at the same edge, with the same kind of sentence.
    await page.fill("#history-view .hist-entry", "svc:web");
    await page.press("#history-view .hist-entry", "Enter");
    await page.waitForFunction(() => /folded by retention/.test(document.querySelector("#history-view .hist-note")?.textContent)
      && document.querySelector("#history-view .hist-title")?.textContent === "History of svc:web", null, { timeout: 10_000 });
    assert.equal((await listed(page)).at(-1), oldest);
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally {
    await kept.dispose();
  }
});

test("with tokens: versions carry the writer's name, and a token that may not roll back is told so", async () => {
  const tokens = [
    { name: "panel", token: "hist-panel-0123456789", role: "consumer" },
    { name: "ops", token: "hist-admin-0123456789", role: "admin" },
  ];
  const locked = new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify(tokens) }, readyStatuses: [401] });
  await locked.start();
  try {
    const url = `${locked.url}/r/hist-locked`;
    const admin = { authorization: `Bearer ${tokens[1].token}` };
    for (const port of [1, 2]) {
      const r = await http("PUT", `${url}/v1/entries/svc:web`, { kind: "svc", data: { port } }, admin);
      assert.ok(r.status === 200 || r.status === 201, r.text);
    }
    const page = await openDashboard(session.browser, locked.url, "hist-locked");
    await page.goto(`${locked.url}/?registry=hist-locked#history`);
    await page.locator("#token-form").waitFor({ state: "visible", timeout: 15_000 });
    await page.fill("#token", tokens[0].token);
    await page.press("#token", "Enter");
    await row(page, 2).waitFor({ timeout: 15_000 });
    assert.equal(await row(page, 2).locator(".hist-actor").textContent(), "ops");
    await row(page, 1).locator(".hist-rollback").click();
    await page.waitForFunction(() => !document.querySelector("#history-view .hist-dlg-confirm").disabled, null, { timeout: 10_000 });
    await page.click("#history-view .hist-dlg-confirm");
    const error = page.locator("#history-view .hist-dlg-error");
    await error.waitFor({ state: "visible", timeout: 10_000 });
    assert.match(await error.textContent(), /^This token may not roll back the registry: .*Nothing was rolled back/);
    const after = await http("GET", `${url}/v1/entries/svc:web`, undefined, admin);
    assert.deepEqual([after.json.data, after.json.version], [{ port: 2 }, 2], "nothing written");
    // Chromium logs refused requests as console errors: the shell's first try without a
    // token (401) and the rollback (403) are expected here; nothing else.
    assert.deepEqual(page.errors.filter((e) => !/status of (401 \(Unauthorized|403 \(Forbidden)\)/.test(e)), []);
    assert.ok(page.errors.some((e) => /403/.test(e)), "the refused rollback was sent");
    await page.close();
  } finally {
    await locked.dispose();
  }
});
