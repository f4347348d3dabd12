// End-to-end: the registry page in a real browser (Debian's Chromium driven by Playwright)
// lists the registers and updates them live through the web client; says when access is open;
// with REGISTRY_TOKENS set, asks for a token, keeps it for the tab and shows the data.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withBrowser } from "./dashboard_fixture.mjs";
import { Worker, http } from "./worker.mjs";

const worker = new Worker();
const TOKENS = [
  { name: "panel", token: "page-token-0123456789", role: "consumer", registries: ["page"] },
  { name: "ops", token: "page-admin-0123456789", role: "admin" },
];
const locked = new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify(TOKENS) }, readyStatuses: [401] });
const session = withBrowser(worker, locked);

test("the page lists registers and updates values in place", async () => {
  const base = `${worker.url}/r/page`;
  await http("PUT", `${base}/provider`, { registers: { "kitchen:temp": { value: 21.5, metadata: { unit: "C" }, ttl: "60s" } } });
  const page = await session.browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${worker.url}/?registry=page`);
  const row = page.locator('.row[data-id="kitchen:temp"]');
  await row.waitFor({ timeout: 15_000 });
  assert.equal(await row.locator(".value").textContent(), "21.5");
  assert.equal(await page.locator("#status").textContent(), "live");
  assert.ok(await page.locator("#open-access").isVisible(), "open mode is said on the page");
  assert.ok(await page.locator("#token-form").isHidden());

  await http("PUT", `${base}/provider`, { registers: { "kitchen:temp": { value: 22, metadata: { unit: "C" }, ttl: "60s" }, "hall:lamp": { value: true, ttl: "1s" } } });
  await page.waitForFunction(() => document.querySelector('.row[data-id="kitchen:temp"] .value')?.textContent === "22", null, { timeout: 5_000 });
  await page.locator('.row[data-id="hall:lamp"]').waitFor({ timeout: 5_000 });
  // hall:lamp expires after 1 s, is marked removed, then disappears from the page.
  await page.locator('.row[data-id="hall:lamp"]').waitFor({ state: "detached", timeout: 8_000 });
  assert.deepEqual(errors, []);
  await page.close();
});

test("with tokens: the page asks for one on 401, keeps it for the tab and shows the data", async () => {
  const base = `${locked.url}/r/page`;
  const admin = { authorization: `Bearer ${TOKENS[1].token}` };
  const publish = (value) => http("PUT", `${base}/provider`, { registers: { "hall:lamp": { value, ttl: "1h" } } }, admin);
  assert.equal((await publish(1)).status, 204);
  const page = await session.browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const sockets = [];
  page.on("websocket", (ws) => sockets.push(ws));
  await page.goto(`${locked.url}/?registry=page`);
  const form = page.locator("#token-form");
  await form.waitFor({ state: "visible", timeout: 15_000 });
  assert.equal(await page.locator("#status").textContent(), "token needed");
  // A wrong token is refused and asked again.
  await page.fill("#token", "not-the-token");
  await page.click('#token-form button[type="submit"]');
  await page.waitForFunction(() => document.querySelector("#token-why")?.textContent.includes("refused"), null, { timeout: 5_000 });
  await page.fill("#token", TOKENS[0].token);
  await page.click('#token-form button[type="submit"]');
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "live", null, { timeout: 15_000 });
  const cell = page.locator('.row[data-id="hall:lamp"] .value');
  await cell.waitFor({ timeout: 5_000 });
  assert.equal(await cell.textContent(), "1");
  // Live over the token-carrying WebSocket.
  assert.equal((await publish(2)).status, 204);
  await page.waitForFunction(() => document.querySelector('.row[data-id="hall:lamp"] .value')?.textContent === "2", null, { timeout: 5_000 });
  assert.ok(await page.locator("#open-access").isHidden(), "no open-access note when tokens are set");
  // The live update came over Chromium's WebSocket (token as subprotocol), not a fallback.
  assert.equal(sockets.length, 1);
  assert.ok(sockets[0].url().endsWith("/r/page/v1/ws") && !sockets[0].isClosed());
  assert.equal(await page.evaluate(() => sessionStorage.getItem("registry-token")), TOKENS[0].token);
  assert.equal(await page.evaluate(() => localStorage.length), 0);
  // A reload in the same tab reuses the token without asking.
  await page.reload();
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "live", null, { timeout: 15_000 });
  assert.ok(await form.isHidden());
  await page.locator('.row[data-id="hall:lamp"]').waitFor({ timeout: 5_000 });
  assert.deepEqual(errors, []);
  await page.close();
});
