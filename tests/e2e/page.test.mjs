// End-to-end: the registry page in a real browser (Debian's Chromium driven by Playwright)
// lists the registers and updates them live through the web client.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { Worker, http } from "./worker.mjs";

const worker = new Worker();
let browser;
before(async () => {
  await worker.start();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
});
after(async () => {
  await browser?.close();
  await worker.dispose();
});

test("the page lists registers and updates values in place", async () => {
  const base = `${worker.url}/r/page`;
  await http("PUT", `${base}/provider`, { registers: { "kitchen:temp": { value: 21.5, metadata: { unit: "C" }, ttl: "60s" } } });
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${worker.url}/?registry=page`);
  const row = page.locator('tr[data-name="kitchen:temp"]');
  await row.waitFor({ timeout: 15_000 });
  assert.equal(await row.locator("td.value").textContent(), "21.5");
  assert.equal(await row.locator("td.meta").textContent(), '{"unit":"C"}');
  assert.equal(await page.locator("#status").textContent(), "live");

  await http("PUT", `${base}/provider`, { registers: { "kitchen:temp": { value: 22, metadata: { unit: "C" }, ttl: "60s" }, "hall:lamp": { value: true, ttl: "1s" } } });
  await page.waitForFunction(() => document.querySelector('tr[data-name="kitchen:temp"] td.value')?.textContent === "22", null, { timeout: 5_000 });
  await page.locator('tr[data-name="hall:lamp"]').waitFor({ timeout: 5_000 });
  // hall:lamp expires after 1 s and disappears from the page.
  await page.locator('tr[data-name="hall:lamp"]').waitFor({ state: "detached", timeout: 5_000 });
  assert.deepEqual(errors, []);
  await page.close();
});
