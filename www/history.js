// The history view: the version timeline, changesets, diffs and rollback. (To be built: issue 13.)

/** Mounts the history view into `el` (the context is www/context.js's). */
export function mountHistory(el, ctx) {
  ctx.on("history", (id) => {
    el.dataset.entry = id ?? "";
  });
}
