// The registry page: lists the registers of one registry and keeps them live through the web
// client (one long poll for the whole registry).

const $ = (sel) => document.querySelector(sel);
const params = new URLSearchParams(location.search);
const registry = params.get("registry") || "default";
$("#registry").value = registry;
document.querySelectorAll(".origin").forEach((e) => (e.textContent = registryUrl(registry)));

function registryUrl(name) {
  return name === "default" ? location.origin : `${location.origin}/r/${encodeURIComponent(name)}`;
}

function setStatus(text, kind) {
  const s = $("#status");
  s.textContent = text;
  s.className = `status ${kind || ""}`;
}

const rows = new Map();

function render({ registers, version }) {
  const body = $("#registers tbody");
  const names = Object.keys(registers).sort();
  for (const [name, row] of rows) {
    if (!(name in registers)) {
      row.remove();
      rows.delete(name);
    }
  }
  let before = null;
  for (const name of names.reverse()) {
    const reg = registers[name];
    const value = JSON.stringify(reg.value);
    const meta = reg.metadata ? JSON.stringify(reg.metadata) : "";
    let row = rows.get(name);
    if (!row) {
      row = document.createElement("tr");
      row.dataset.name = name;
      row.innerHTML = '<td class="name"></td><td class="value"></td><td class="meta"></td>';
      row.cells[0].textContent = name;
      rows.set(name, row);
    }
    if (row.cells[1].textContent !== value || row.cells[2].textContent !== meta) {
      row.cells[1].textContent = value;
      row.cells[2].textContent = meta;
      row.classList.remove("changed");
      void row.offsetWidth;
      row.classList.add("changed");
    }
    body.insertBefore(row, before);
    before = row;
  }
  $("#empty").hidden = names.length > 0;
  $("#version").textContent = version ?? "–";
  setStatus("live", "live");
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

async function main() {
  // The npm package's browser entry (www/pkg is a copy of it, scripts/build.sh); imported here so
  // that a wasm that fails to load shows as an error on the page.
  const { RegistryClient } = await import("./pkg/web.js");
  const base = registryUrl(registry);
  const token = await accessToken(base);
  const client = new RegistryClient(base, token ? { token } : undefined);
  const all = client.consumeAll();
  all.subscribe(render);
  window.addEventListener("pagehide", () => client.close());
}

main().catch((e) => {
  console.error(e);
  setStatus(`error: ${e.message || e}`, "error");
});
