// The dashboard's shell: registry picker, access token, connection status, and the views
// (entries.js, detail.js, history.js), which all receive one context (context.js).
import { makeContext } from "./context.js";
import { mountEntries } from "./entries.js";
import { mountDetail } from "./detail.js";
import { mountHistory } from "./history.js";
import { trackStatus } from "./status.js";

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);
const registry = params.get("registry") || "default";
$("#registry").value = registry;

function registryUrl(name) {
  return name === "default" ? location.origin : `${location.origin}/r/${encodeURIComponent(name)}`;
}

/** What each connection state means, for the status pill's tooltip. */
const STATUS_TITLES = {
  connecting: "opening the connection",
  live: "live over a WebSocket",
  "long-poll": "live over HTTP long polls (the WebSocket could not be opened)",
  reconnecting: "connection lost; reconnecting",
  offline: "the browser is offline",
  closed: "the connection is closed",
};

function setStatus(text, kind) {
  const s = $("#status");
  s.textContent = text;
  s.title = STATUS_TITLES[text] ?? text;
  s.className = `status ${kind || ""}`;
}

/** Shows the registry version the page has seen (header and footer). */
function setVersion(v) {
  const text = v == null ? "–" : String(v);
  $("#version").textContent = text;
  $("#head-version").textContent = v == null ? "" : `v${text}`;
}

// Access tokens (docs/security.md): when the API answers 401 the page asks for one and keeps
// it in sessionStorage, i.e. for this tab only; never in localStorage, cookies or the URL.
const TOKEN_KEY = "registry-token";

/** Resolves with a token typed into the form (`why`: the line shown above it). */
function askToken(why) {
  const form = $("#token-form");
  $("#token-why").textContent = why;
  form.hidden = false;
  setStatus("token needed", "error");
  $("#token").focus();
  return new Promise((resolve) => {
    form.onsubmit = (e) => {
      e.preventDefault();
      const token = $("#token").value.trim();
      if (!token) return;
      form.hidden = true;
      $("#token").value = "";
      resolve(token);
    };
  });
}

/** A token the registry accepts for reading (or none in open mode), asking until it does. */
async function accessToken(base) {
  let token = sessionStorage.getItem(TOKEN_KEY);
  for (;;) {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const r = await fetch(`${base}/v1/health`, { headers });
    if (r.status === 200) {
      $("#open-access").hidden = (await r.json()).auth !== "open";
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      return token;
    }
    if (r.status !== 401 && r.status !== 403) throw new Error(`registry answered HTTP ${r.status}`);
    sessionStorage.removeItem(TOKEN_KEY);
    token = await askToken(
      r.status === 403 ? `That token may not read registry "${registry}"; enter another.`
        : token ? "That token was refused; enter another." : "This registry needs an access token.",
    );
  }
}

/** Shows one of the views ("entries" or "history"). */
function showView(name) {
  for (const tab of document.querySelectorAll("nav.views button")) {
    tab.setAttribute("aria-selected", String(tab.dataset.view === name));
  }
  $("#entries-view").hidden = name !== "entries";
  $("#history-view").hidden = name !== "history";
}

async function main() {
  // The npm package's browser entry (www/pkg is a copy of it, scripts/build.sh); imported here so
  // that a wasm that fails to load shows as an error on the page.
  const { RegistryClient } = await import("./pkg/web.js");
  const base = registryUrl(registry);
  const token = await accessToken(base);
  const client = new RegistryClient(base, token ? { token } : undefined);
  const ctx = makeContext({ client, registry, base, token });
  ctx.on("status", (s) => setStatus(s, s));
  ctx.on("version", setVersion);
  const probe = async () => (await fetch(`${base}/v1/health`, { headers: token ? { authorization: `Bearer ${token}` } : {} })).ok;
  const status = trackStatus(client, (s) => ctx.emit("status", s), { probe });
  ctx.on("stream-error", () => status.streamFailed());
  ctx.on("version", () => status.streamAlive());
  ctx.on("history", () => showView("history"));
  for (const tab of document.querySelectorAll("nav.views button")) {
    tab.addEventListener("click", () => showView(tab.dataset.view));
  }
  mountEntries($("#entries"), ctx);
  mountDetail($("#detail"), ctx);
  mountHistory($("#history-view"), ctx);
  window.addEventListener("pagehide", () => {
    status.stop();
    client.close();
  });
}

main().catch((e) => {
  console.error(e);
  setStatus(`error: ${e.message || e}`, "error");
});
