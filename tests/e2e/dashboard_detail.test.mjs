// End-to-end: the dashboard's detail view (www/detail*.js) in Debian's Chromium against the real
// worker — the selected entry's value, metadata, kind, version, expiry and dependencies, kept
// live; editing: a register's change request shown through its life (a provider driven from
// here over HTTP accepts or rejects it), JSON checked before Send, the boolean toggle, a direct
// write of another kind (and a concurrent change refused), a consumer token's write refused.
// Entries are selected through the URL hash `#entry=<id>`, which the detail view owns.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker, http } from "./worker.mjs";
import { openDashboard, screenshot, withBrowser } from "./dashboard_fixture.mjs";

const worker = new Worker();
const TOKENS = [
  { name: "panel", token: "detail-consumer-0123456789", role: "consumer" },
  { name: "ops", token: "detail-admin-0123456789", role: "admin" },
];
const locked = new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify(TOKENS) }, readyStatuses: [401] });
const session = withBrowser(worker, locked);

const text = (page, sel) => page.locator(`#detail ${sel}`).textContent();
const waitText = (page, sel, want, timeout = 10_000) =>
  page.waitForFunction(([s, w]) => {
    const t = document.querySelector(`#detail ${s}`)?.textContent ?? "";
    return typeof w === "string" ? t === w : new RegExp(w.source, w.flags).test(t);
  }, [sel, want instanceof RegExp ? { source: want.source, flags: want.flags } : want], { timeout });

/** `page.errors` but Chromium's console line for an HTTP answer of one of `statuses`: the
 *  refusals a test provokes on purpose (anything else still fails it). */
const unexpected = (page, ...statuses) =>
  page.errors.filter((e) => !statuses.some((s) => e.startsWith(`Failed to load resource: the server responded with a status of ${s} (${STATUS_TEXT[s]})`)));
const STATUS_TEXT = { 401: "Unauthorized", 403: "Forbidden", 409: "Conflict" };

/** Opens the dashboard of `registry` on the entry `id` (through the URL hash). */
async function openOn(registry, id, options = {}, origin = worker.url) {
  const page = await openDashboard(session.browser, origin, registry, options);
  await page.goto(`${origin}/?registry=${encodeURIComponent(registry)}#entry=${encodeURIComponent(id)}`);
  await waitText(page, "#detail-title", id);
  return page;
}

/** One HTTP long poll of a provider for `name`: resolves with the taken request's id. */
async function takeRequest(base, name, headers = {}) {
  const r = await http("GET", `${base}/provider?name=${encodeURIComponent(name)}&wait=20s`, undefined, headers);
  assert.equal(r.status, 200, r.text);
  const ids = JSON.parse(r.headers.get("x-request-ids") ?? "{}");
  assert.ok(ids[name], `a request for ${name} was taken: ${r.text}`);
  return { id: ids[name], value: r.json.registers[name].value };
}

test("the detail shows value, metadata, kind, version, expiry and dependencies, live", async () => {
  const base = `${worker.url}/r/detail`;
  const db = await http("PUT", `${base}/v1/entries/app:db`, { kind: "svc.sql", meta: { port: 5432 }, data: { engine: "pg", replicas: 2 }, ttl: "90s" });
  assert.equal(db.status, 201, db.text);
  const web = await http("PUT", `${base}/v1/entries/app:web`, { kind: "svc.http", meta: { depends_on: "db", team: "web" }, data: { routes: ["/", "/api"] } });
  assert.equal(web.status, 201, web.text);
  assert.equal((await http("PUT", `${base}/provider`, { registers: { "hall:lamp": { value: true, ttl: "5m" }, "hall:temp": { value: 21.5, metadata: { unit: "C" }, ttl: "5m" } } })).status, 204);
  const page = await openOn("detail", "app:web", { width: 1100, height: 860 });
  await waitText(page, ".kind", "svc.http");
  assert.equal(await text(page, ".version"), String(web.json.version));
  assert.equal(await text(page, ".expiry"), "no TTL");
  assert.equal(await text(page, "pre.value"), JSON.stringify({ routes: ["/", "/api"] }, null, 2));
  assert.equal(await text(page, "pre.meta"), JSON.stringify({ depends_on: "db", team: "web" }, null, 2));
  await page.locator('#detail .needs a[data-entry="app:db"]').waitFor({ timeout: 5_000 });
  assert.equal(await text(page, ".needed-by"), "nothing");
  await screenshot(page, "detail");

  // A dependency is a link: following it (by keyboard) selects that entry, and the hash follows.
  await page.locator('#detail .needs a[data-entry="app:db"]').focus();
  await page.keyboard.press("Enter");
  await waitText(page, "#detail-title", "app:db");
  assert.match(page.url(), /#entry=app:db$/);
  await waitText(page, ".kind", "svc.sql");
  await waitText(page, ".expiry", /^in 1 min( \d+ s)? \(TTL 1 min 30 s\)$/);
  const first = await text(page, ".expiry");
  await page.waitForFunction((t) => document.querySelector("#detail .expiry").textContent !== t, first, { timeout: 5_000 });
  await page.locator('#detail .needed-by a[data-entry="app:web"]').waitFor({ timeout: 5_000 });
  assert.equal(await text(page, ".needs"), "nothing");

  // Live: a change elsewhere shows here; the countdown restarts from the new TTL.
  const db2 = await http("PUT", `${base}/v1/entries/app:db`, { kind: "svc.sql", meta: { port: 5433 }, data: { engine: "pg", replicas: 3 }, ttl: "1h" });
  assert.equal(db2.status, 200, db2.text);
  await waitText(page, ".version", String(db2.json.version));
  assert.equal(await text(page, "pre.value"), JSON.stringify({ engine: "pg", replicas: 3 }, null, 2));
  assert.match(await text(page, "pre.meta"), /5433/);
  await waitText(page, ".expiry", /^in (59 min( \d+ s)?|1 h) \(TTL 1 h\)$/);

  // Reloading keeps the selection (the hash); deleting the entry shows it removed.
  await page.goto(`${worker.url}/?registry=detail#entry=app:web`);
  await page.reload();
  await waitText(page, "#detail-title", "app:web");
  await waitText(page, ".kind", "svc.http");
  assert.equal((await http("DELETE", `${base}/v1/entries/app:web`)).status, 200);
  await waitText(page, ".state", /^Removed at version \d+/);
  assert.equal(await text(page, ".expiry"), "removed");
  assert.ok(await page.locator("#detail .send").isDisabled(), "nothing to edit once removed");

  // "History of this entry" opens the history view; Escape (outside the editor) closes the detail.
  await page.locator("#detail button.history").click();
  await page.waitForFunction(() => !document.querySelector("#history-view").hidden && document.querySelector("#entries-view").hidden, null, { timeout: 5_000 });
  await page.locator('nav.views button[data-view="entries"]').click();
  await page.locator("#detail button.close").focus();
  await page.keyboard.press("Escape");
  await page.locator("#detail .placeholder").waitFor({ state: "visible", timeout: 5_000 });
  assert.doesNotMatch(page.url(), /entry=/);
  // The delete can land while the page still reads the entry's dependencies (asked for when it
  // was shown): that read's 404 is the race, not a fault; any other error still fails.
  const deps404 = /status of 404 \(Not Found\) \(.*\/v1\/entries\/app(:|%3A)web\/dependencies\)$/;
  assert.deepEqual(page.errors.filter((e) => !deps404.test(e)), []);
  await page.close();
});

test("a register's change request: its life on the page; accepted changes the value, rejected shows why", async () => {
  const base = `${worker.url}/r/detail-req`;
  assert.equal((await http("PUT", `${base}/provider`, { registers: { "hall:temp": { value: 20, metadata: { unit: "C" }, ttl: "5m" } } })).status, 204);
  const page = await openOn("detail-req", "hall:temp", { width: 1100, height: 860 });
  await waitText(page, "pre.value", "20");
  assert.equal(await text(page, ".kind"), "register");

  const editor = page.locator("#detail-json");
  await editor.fill("21.5");
  const taken = takeRequest(base, "hall:temp");
  await page.locator("#detail .send").click();
  const life = page.locator("#detail li.request").first();
  await life.locator('.step[data-status="pending"]').waitFor({ timeout: 5_000 });
  const { id, value } = await taken;
  assert.equal(value, 21.5);
  assert.equal(await life.getAttribute("data-request"), String(id));
  // Taken by the provider: the page shows it delivered before any verdict.
  await life.locator('.step[data-status="delivered"]:not(.inferred)').waitFor({ timeout: 5_000 });
  assert.equal(await life.locator('.step[data-status="accepted"]').count(), 0);
  const verdict = await http("POST", `${base}/v1/requests/${id}/verdict`, { accept: true, apply: true });
  assert.equal(verdict.status, 200, verdict.text);
  await life.locator('.step[data-status="accepted"]').waitFor({ timeout: 5_000 });
  await waitText(page, "pre.value", "21.5");
  assert.deepEqual(await life.locator(".step").evaluateAll((s) => s.map((x) => x.dataset.status)), ["pending", "delivered", "accepted"]);
  await page.evaluate(() => document.querySelector("#detail li.request").scrollIntoView({ block: "end" }));
  await screenshot(page, "detail-request");

  // A rejection shows the provider's reason; the value stays.
  await editor.fill('"boiling"');
  const taken2 = takeRequest(base, "hall:temp");
  await editor.press("Control+Enter");
  const { id: id2 } = await taken2;
  const no = await http("POST", `${base}/v1/requests/${id2}/verdict`, { accept: false, reason: "a temperature is a number" });
  assert.equal(no.status, 200, no.text);
  const life2 = page.locator(`#detail li.request[data-request="${id2}"]`);
  await life2.locator('.step[data-status="rejected"]').waitFor({ timeout: 5_000 });
  assert.match(await life2.locator('.step[data-status="rejected"]').textContent(), /reason: a temperature is a number/);
  assert.equal(await text(page, "pre.value"), "21.5");
  assert.equal((await http("GET", `${base}/consumer?name=hall:temp`)).json.registers["hall:temp"].value, 21.5);

  // A request nobody takes, then a newer one: the first is superseded.
  await editor.fill("1");
  await page.locator("#detail .send").click();
  const first3 = page.locator("#detail li.request").first();
  await first3.locator('.step[data-status="pending"]').waitFor({ timeout: 5_000 });
  const older = page.locator(`#detail li.request[data-request="${await first3.getAttribute("data-request")}"]`);
  await editor.fill("2");
  await page.locator("#detail .send").click();
  await older.locator('.step[data-status="superseded"]').waitFor({ timeout: 5_000 });
  // Leaving the entry stops following the newer (still pending) request: its held read is aborted.
  const newer = await page.locator("#detail li.request").first().getAttribute("data-request");
  const aborted = page.waitForEvent("requestfailed", { predicate: (r) => r.url().includes(`/v1/requests/${newer}?`), timeout: 5_000 });
  await page.locator("#detail button.close").click();
  await aborted;
  await page.locator("#detail .placeholder").waitFor({ state: "visible", timeout: 5_000 });
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("the JSON editor: invalid JSON blocks Send with its position, valid JSON enables it, Escape reverts", async () => {
  const base = `${worker.url}/r/detail-json`;
  assert.equal((await http("PUT", `${base}/v1/entries/cfg:site`, { kind: "cfg", data: { title: "home" } })).status, 201);
  const page = await openOn("detail-json", "cfg:site");
  const editor = page.locator("#detail-json");
  await page.waitForFunction(() => document.querySelector("#detail-json")?.value.includes("home"), null, { timeout: 5_000 });
  const send = page.locator("#detail .send");
  assert.ok(await send.isEnabled(), "the current value is valid JSON");
  assert.ok(await page.locator("#detail fieldset.toggle").isHidden(), "no boolean toggle for an object");
  await editor.fill('{\n  "title": "home",\n}');
  assert.ok(await send.isDisabled(), "a trailing comma blocks Send");
  assert.equal(await text(page, "#detail-json-error"), "Not JSON at line 3, column 1: expected a property name in double quotes.");
  assert.equal(await editor.getAttribute("aria-invalid"), "true");
  await editor.fill("{'title': 'x'}");
  assert.ok(await send.isDisabled());
  assert.match(await text(page, "#detail-json-error"), /line 1, column 2/);
  // Positive control: valid JSON enables Send again.
  await editor.fill('{"title": "cabin"}');
  assert.ok(await send.isEnabled());
  assert.equal(await text(page, "#detail-json-error"), "");
  // Escape reverts to the entry's value.
  await editor.press("Escape");
  assert.equal(await editor.inputValue(), JSON.stringify({ title: "home" }, null, 2));
  assert.equal(await text(page, "#detail-title"), "cfg:site", "Escape in the editor does not close the detail");
  // Nothing was sent meanwhile.
  assert.equal((await http("GET", `${base}/v1/entries/cfg:site`)).json.version, 1);
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a boolean register is edited with a true / false / null toggle", async () => {
  const base = `${worker.url}/r/detail-bool`;
  const publish = (value) => http("PUT", `${base}/provider`, { registers: { "hall:lamp": { value, ttl: "5m" } } });
  assert.equal((await publish(true)).status, 204);
  const page = await openOn("detail-bool", "hall:lamp");
  await waitText(page, "pre.value", "true");
  const toggle = page.locator("#detail fieldset.toggle");
  assert.ok(await toggle.isVisible(), "a boolean gets the toggle");
  assert.ok(await page.locator("#detail-json").isHidden(), "not the text editor");
  assert.ok(await page.getByLabel("true", { exact: true }).isChecked());
  await page.getByLabel("false", { exact: true }).check();
  const taken = takeRequest(base, "hall:lamp");
  await page.locator("#detail .send").click();
  const { value } = await taken;
  assert.equal(value, false);
  // A reg provider answers by publishing the requested value: that accepts the request.
  assert.equal((await publish(false)).status, 204);
  const life = page.locator("#detail li.request").first();
  await life.locator('.step[data-status="accepted"]').waitFor({ timeout: 10_000 });
  await waitText(page, "pre.value", "false");
  assert.ok(await page.getByLabel("false", { exact: true }).isChecked(), "the toggle shows the new value");
  // "Type JSON instead" leaves the toggle for the text editor.
  await page.getByRole("button", { name: "Type JSON instead" }).click();
  assert.ok(await page.locator("#detail-json").isVisible());
  assert.equal(await page.locator("#detail-json").inputValue(), "false");
  assert.deepEqual(page.errors, []);
  await page.close();
});

test("a direct write of a non-register entry, and a concurrent change refused with a clear message", async () => {
  const base = `${worker.url}/r/detail-write`;
  const made = await http("PUT", `${base}/v1/entries/svc:api`, { kind: "svc.http", meta: { port: 8080 }, data: { replicas: 1 } });
  assert.equal(made.status, 201);
  const page = await openOn("detail-write", "svc:api");
  await waitText(page, ".version", String(made.json.version));
  const editor = page.locator("#detail-json");
  await editor.fill('{"replicas": 2}');
  await page.locator("#detail .send").click();
  await waitText(page, ".result", /^Written: version \d+\.$/);
  const after1 = (await http("GET", `${base}/v1/entries/svc:api`)).json;
  assert.deepEqual(after1.data, { replicas: 2 });
  assert.deepEqual(after1.meta, { port: 8080 }, "metadata kept");
  assert.equal(after1.kind, "svc.http");
  await waitText(page, ".version", String(after1.version));
  await waitText(page, "pre.value", JSON.stringify({ replicas: 2 }, null, 2));

  // Someone else changes it while we edit: our write, based on the older version, is refused.
  await editor.fill('{"replicas": 5}');
  const theirs = await http("PUT", `${base}/v1/entries/svc:api`, { kind: "svc.http", meta: { port: 8080 }, data: { replicas: 3 } });
  assert.equal(theirs.status, 200);
  await waitText(page, ".version", String(theirs.json.version));
  assert.match(await text(page, ".base"), /changed \(now version \d+\) since version \d+/);
  await page.locator("#detail .send").click();
  await waitText(page, ".result", /^Refused \(409 version_conflict\): the entry changed after version \d+/);
  const after2 = (await http("GET", `${base}/v1/entries/svc:api`)).json;
  assert.deepEqual(after2.data, { replicas: 3 }, "their value stands");
  assert.equal(await editor.inputValue(), '{"replicas": 5}', "our text is kept to retry");
  await page.locator("#detail button.revert").click();
  assert.equal(await editor.inputValue(), JSON.stringify({ replicas: 3 }, null, 2));
  assert.deepEqual(unexpected(page, 409), [], "only the refused write failed");
  await page.close();
});

test("a consumer token's write is refused with a clear message and changes nothing", async () => {
  const base = `${locked.url}/r/detail-auth`;
  const admin = { authorization: `Bearer ${TOKENS[1].token}` };
  const made = await http("PUT", `${base}/v1/entries/svc:db`, { kind: "svc", data: { size: 1 } }, admin);
  assert.equal(made.status, 201, made.text);
  const page = await openDashboard(session.browser, locked.url, "detail-auth");
  await page.locator("#token-form").waitFor({ state: "visible", timeout: 15_000 });
  await page.fill("#token", TOKENS[0].token);
  await page.press("#token", "Enter");
  await page.waitForFunction(() => document.querySelector("#status")?.textContent === "live", null, { timeout: 15_000 });
  await page.goto(`${locked.url}/?registry=detail-auth#entry=svc:db`);
  await waitText(page, ".version", String(made.json.version));
  await page.locator("#detail-json").fill('{"size": 2}');
  await page.locator("#detail .send").click();
  await waitText(page, ".result", /^Refused \(403 forbidden\): your token's role or scope does not allow this.*Nothing was changed\.$/);
  const now = await http("GET", `${base}/v1/entries/svc:db`, undefined, admin);
  assert.deepEqual(now.json.data, { size: 1 });
  assert.equal(now.json.version, made.json.version);
  assert.equal(now.version, made.json.version, "no version was made");
  assert.equal(await text(page, "pre.value"), JSON.stringify({ size: 1 }, null, 2));
  assert.deepEqual(unexpected(page, 401, 403), [], "only the token prompt's 401 and the refused write");
  await page.close();
});

test("at phone width (390 px) the detail fits and works with the keyboard", async () => {
  const base = `${worker.url}/r/detail-phone`;
  assert.equal((await http("PUT", `${base}/v1/entries/app:cache`, { kind: "svc.kv", data: { size: "1 GiB" } })).status, 201);
  const made = await http("PUT", `${base}/v1/entries/app:front`, { kind: "svc.http", meta: { depends_on: ["cache"], owner: "web-team@example.com" }, data: { routes: { "/": "index", "/api": "api" }, replicas: 2 }, ttl: "10m" });
  assert.equal(made.status, 201, made.text);
  const page = await openOn("detail-phone", "app:front", { width: 390, height: 844 });
  await page.locator('#detail .needs a[data-entry="app:cache"]').waitFor({ timeout: 5_000 });
  await page.locator("#detail").scrollIntoViewIfNeeded();
  await screenshot(page, "detail-phone");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `no horizontal scrolling (page is ${overflow} px wide)`);
  // Keyboard only: focus the editor by its label, type, Ctrl+Enter writes.
  await page.getByLabel("New value (JSON)").focus();
  await page.keyboard.press("Control+A");
  await page.keyboard.type('{"replicas": 4}');
  await page.keyboard.press("Control+Enter");
  await waitText(page, ".result", /^Written: version \d+\.$/);
  await waitText(page, "pre.value", JSON.stringify({ replicas: 4 }, null, 2));
  assert.deepEqual(page.errors, []);
  await page.close();
});
