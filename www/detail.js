// The detail view: the selected entry (value, metadata, kind, version, expiry, dependencies) and
// its editing through change requests. (To be built: issue 13.)

/** Mounts the detail view into `el` (the context is www/context.js's). */
export function mountDetail(el, ctx) {
  ctx.on("select", (id) => {
    el.textContent = id ?? "";
  });
}
