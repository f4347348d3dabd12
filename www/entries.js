// The entries view: every register of the registry, live (see docs/ARCHITECTURE.md, dashboard).

const rows = new Map();
let ctxRef = null;

function render({ registers, version }) {
  const body = document.querySelector("#registers tbody");
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
  document.querySelector("#empty").hidden = names.length > 0;
  document.querySelector("#version").textContent = version ?? "–";
  ctxRef.emit("status", "live");
}


/** Mounts the entries view into `el` (the context is www/context.js's). */
export function mountEntries(el, ctx) {
  ctxRef = ctx;
  el.innerHTML = `<table id="registers">
      <thead><tr><th>name</th><th>value</th><th>metadata</th></tr></thead>
      <tbody></tbody>
    </table>
    <p id="empty" hidden>No registers yet. Publish one with
      <code>curl -X PUT <span class="origin"></span>/provider -d '{"registers":{"demo":{"value":1,"ttl":"60s"}}}'</code></p>`;
  el.querySelector(".origin").textContent = ctx.base;
  el.addEventListener("click", (e) => {
    const row = e.target.closest("tr[data-name]");
    if (row) ctx.emit("select", row.dataset.name);
  });
  ctx.client.consumeAll().subscribe(render);
}
