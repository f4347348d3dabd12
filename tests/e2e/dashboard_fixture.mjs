// What every browser test shares: Debian's Chromium through playwright-core, a page opened on
// one registry with its errors collected, and screenshots of the main views written under
// docs/screenshots/ (committed, shown in the README) by the very run that tests them.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { chromium } from "playwright-core";

const SHOTS = resolve(import.meta.dirname, "../../docs/screenshots");

/** Launches headless Chromium (`$CHROMIUM`, default Debian's `/usr/bin/chromium`). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

/**
 * Starts `workers` and Chromium before a test file's tests and stops them after; the returned
 * object's `browser` is the running Chromium.
 */
export function withBrowser(...workers) {
  const session = { browser: null };
  before(async () => {
    await Promise.all(workers.map((w) => w.start()));
    session.browser = await launchBrowser();
  });
  after(async () => {
    await session.browser?.close();
    await Promise.all(workers.map((w) => w.dispose()));
  });
  return session;
}

/**
 * Opens the dashboard of `registry` served by the worker at `origin`. Returns the page; its
 * uncaught errors and console errors (with the URL a failed load was for) collect in
 * `page.errors` (a test asserts it stays empty).
 * `width`/`height`: the viewport (390 × 844 is a phone); `init`: a script run in the page
 * before its own (Playwright's `addInitScript`), e.g. to take a browser feature away.
 */
export async function openDashboard(browser, origin, registry, { width = 1280, height = 800, init } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  if (init) await page.addInitScript(init);
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const { url } = m.location();
    page.errors.push(url ? `${m.text()} (${url})` : m.text());
  });
  await page.goto(`${origin}/?registry=${encodeURIComponent(registry)}`);
  return page;
}

/** Saves a screenshot of the page as docs/screenshots/`name`.png. */
export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}
