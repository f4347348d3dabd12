// Usage: node scripts/wasm_sizes.mjs $CARGO_TARGET_DIR/wasm32-unknown-unknown/release/registry_web.wasm
// (the cargo output before wasm-bindgen and wasm-opt: it still has its name section).
// Per-function code size of a wasm with a name section, grouped by patterns of symbol names.
import fs from "node:fs";
const buf = fs.readFileSync(process.argv[2]);
let p = 8;
const u = () => { let r = 0, s = 0, b; do { b = buf[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
let imports = 0, bodies = [], names = new Map();
while (p < buf.length) {
  const id = buf[p++]; const len = u(); const end = p + len;
  if (id === 2) { const n = u(); for (let i = 0; i < n; i++) { let l = u(); p += l; l = u(); p += l; const k = buf[p++]; if (k === 0) { u(); imports++; } else if (k === 1) { p++; const f = u(); u(); if (f & 1) u(); } else if (k === 2) { const f = u(); u(); if (f & 1) u(); } else { p += 2; } } }
  else if (id === 10) { const n = u(); for (let i = 0; i < n; i++) { const l = u(); bodies.push(l); p += l; } }
  else if (id === 0) { const nl = u(); const name = buf.slice(p, p + nl).toString(); p += nl;
    if (name === "name") { while (p < end) { const sid = buf[p++]; const sl = u(); const se = p + sl; if (sid === 1) { const n = u(); for (let i = 0; i < n; i++) { const idx = u(); const l = u(); names.set(idx, buf.slice(p, p + l).toString()); p += l; } } p = se; } } }
  p = end;
}
const groups = new Map(); let total = 0;
bodies.forEach((size, i) => {
  const n = names.get(i + imports) || "?";
  let key;
  if (/serde_json/.test(n)) key = "serde_json (parser, serializer, RawValue; incl. generic instances)";
  else if (/serde/.test(n)) key = "serde derives/impls (wire types and others)";
  else if (/flt2dec|float_to_decimal|fmt.*f64|f64.*fmt/.test(n)) key = "core float formatting (flt2dec)";
  else if (/registry_core/.test(n)) key = "registry_core (non-serde)";
  else if (/registry_web/.test(n)) key = "registry_web";
  else if (/dlmalloc/.test(n)) key = "dlmalloc";
  else if (/js_sys|wasm_bindgen|web_sys/.test(n)) key = "wasm-bindgen/js-sys/web-sys";
  else if (/alloc.*collections.*btree|btree/i.test(n)) key = "alloc btree";
  else if (/hashbrown|HashMap/.test(n)) key = "hashbrown";
  else { const m = n.match(/^_ZN\d+([A-Za-z_0-9]+)/) || n.match(/Cs[0-9A-Za-z]+_\d+([a-z_0-9]+)/); key = m ? m[1] : "other"; }
  groups.set(key, (groups.get(key) || 0) + size); total += size;
});
console.log("functions", bodies.length, "named", names.size, "code bytes", total);
[...groups].sort((a, b) => b[1] - a[1]).slice(0, 18).forEach(([k, v]) => console.log(String(v).padStart(8), (100 * v / total).toFixed(1).padStart(5) + "%", k));
