// The history view's rendering of changesets: each operation as its entry before and after,
// side by side, in pretty JSON with the values that differ from the other side highlighted.
// Used for a version's changeset, a diff between two versions and the rollback preview.

/** Escapes text for HTML. */
export function esc(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Pretty JSON of `value` as HTML, with every part that differs from `other` (the same path on
 * the other side) wrapped in `<mark>`; `other === undefined` marks nothing (no other side).
 */
export function jsonHtml(value, other, indent = "") {
  if (other !== undefined && !same(value, other) && !(isObject(value) && isObject(other))) {
    return `<mark>${esc(JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`))}</mark>`;
  }
  if (!isObject(value)) return esc(JSON.stringify(value, null, 2).replace(/\n/g, `\n${indent}`));
  const keys = Object.keys(value);
  if (keys.length === 0) return "{}";
  const inner = `${indent}  `;
  const lines = keys.map((k) => {
    const sub = other === undefined ? undefined : isObject(other) && k in other ? other[k] : null;
    const missing = other !== undefined && !(isObject(other) && k in other);
    const body = jsonHtml(value[k], missing ? Symbol.for("absent") : sub, inner);
    const key = `${esc(JSON.stringify(k))}: `;
    return `${inner}${missing ? `<mark>${key}</mark>` : key}${body}`;
  });
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

/** The words shown for an operation. */
const OP_LABEL = { create: "created", update: "updated", delete: "deleted" };

/** Operations drawn at most for one changeset (a rollback may restore thousands). */
export const SHOWN_OPS = 200;

/**
 * Renders a changeset (`[{op, id, entry?, before?}]`) into `el`: one block per operation with
 * the entry before and after, the first SHOWN_OPS of them (the rest counted in a sentence).
 * `empty`: the sentence shown when there is no operation.
 */
export function renderChangeset(el, changeset, empty = "No changes.") {
  if (changeset.length === 0) {
    el.innerHTML = `<p class="hist-empty">${esc(empty)}</p>`;
    return;
  }
  const more = changeset.length - SHOWN_OPS;
  const tail = more > 0 ? `<p class="hist-more">… and ${more} more operation${more === 1 ? "" : "s"} (not drawn).</p>` : "";
  el.innerHTML = changeset
    .slice(0, SHOWN_OPS)
    .map((op) => {
      const before = op.before === undefined || op.before === null
        ? '<p class="hist-none">(did not exist)</p>'
        : `<pre>${jsonHtml(op.before, op.entry ?? undefined)}</pre>`;
      const after = op.entry === undefined || op.entry === null
        ? '<p class="hist-none">(does not exist)</p>'
        : `<pre>${jsonHtml(op.entry, op.before ?? undefined)}</pre>`;
      return `<article class="hist-op op-${esc(op.op)}" data-id="${esc(op.id)}" data-op="${esc(op.op)}">
        <h4><span class="hist-badge">${esc(OP_LABEL[op.op] ?? op.op)}</span> <code>${esc(op.id)}</code></h4>
        <div class="hist-sides">
          <div class="hist-before"><h5>before</h5>${before}</div>
          <div class="hist-after"><h5>after</h5>${after}</div>
        </div>
      </article>`;
    })
    .join("") + tail;
}

/** `{create, update, delete}` counts of a changeset. */
export function countOps(changeset) {
  const counts = { create: 0, update: 0, delete: 0 };
  for (const op of changeset) counts[op.op] = (counts[op.op] ?? 0) + 1;
  return counts;
}

/** A short text of the counts, e.g. "+1 ~2 −0" with a readable label. */
export function countsHtml(changeset) {
  const c = countOps(changeset);
  const label = `${c.create} created, ${c.update} updated, ${c.delete} deleted`;
  return `<span class="hist-counts" title="${label}" aria-label="${label}">` +
    `<span class="c-create">+${c.create}</span> <span class="c-update">~${c.update}</span> ` +
    `<span class="c-delete">−${c.delete}</span></span>`;
}
