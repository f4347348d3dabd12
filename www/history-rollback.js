// The history view's rollback confirmation: a <dialog> that first shows what a rollback would
// change (the diff from the registry's current version to the target), then sends
// `rollback(target, {ifVersion: current})`, so a change made meanwhile is refused (409) and said.
import { countOps, renderChangeset } from "./history-changes.js";

/** The dialog's markup (one per history view). */
export const ROLLBACK_HTML = `<dialog class="hist-dialog" aria-labelledby="hist-dlg-title">
  <form method="dialog">
    <h3 id="hist-dlg-title">Roll back</h3>
    <p class="hist-dlg-summary" aria-live="polite"></p>
    <p class="hist-dlg-error" role="alert" hidden></p>
    <div class="hist-dlg-changes"></div>
    <div class="hist-dlg-actions">
      <button type="button" class="hist-dlg-review" hidden>Review again</button>
      <button type="submit" value="cancel" class="hist-dlg-cancel">Cancel</button>
      <button type="button" class="hist-dlg-confirm" disabled>Roll back</button>
    </div>
  </form>
</dialog>`;

/**
 * Opens the confirmation for rolling the registry back to version `target`. `onDone(result)`
 * runs after a successful rollback (`{version, to, changeset}`).
 */
export function confirmRollback(dialog, client, target, onDone) {
  const $ = (sel) => dialog.querySelector(sel);
  const summary = $(".hist-dlg-summary");
  const error = $(".hist-dlg-error");
  const confirm = $(".hist-dlg-confirm");
  const review = $(".hist-dlg-review");
  let head = null;
  let busy = false;

  $("#hist-dlg-title").textContent = `Roll back to version ${target}?`;

  async function preview() {
    head = null;
    confirm.disabled = true;
    review.hidden = true;
    error.hidden = true;
    summary.textContent = "Reading what would change…";
    $(".hist-dlg-changes").innerHTML = "";
    try {
      const now = (await client.history({ limit: 1 })).head;
      const { changeset } = await client.diff(now, target);
      const c = countOps(changeset);
      summary.innerHTML = changeset.length
        ? `The registry is at <strong>v${now}</strong>. Rolling back writes a new version that restores ` +
          `the state of <strong>v${target}</strong>: ${c.create} created, ${c.update} updated, ${c.delete} deleted.`
        : `The registry at v${now} already has the state of v${target}: nothing would change.`;
      renderChangeset($(".hist-dlg-changes"), changeset);
      head = now;
      confirm.disabled = changeset.length === 0;
      if (!confirm.disabled) confirm.focus();
    } catch (e) {
      fail(e);
    }
  }

  function fail(e) {
    error.hidden = false;
    if (e?.status === 409 || e?.code === "version_conflict") {
      error.textContent = `Someone changed the registry since this preview (${e.message}). ` +
        "Nothing was rolled back: review the new changes before rolling back.";
      review.hidden = false;
      review.focus();
    } else if (e?.status === 403) {
      error.textContent = "This token may not roll back the registry: a rollback concerns every entry, so it needs " +
        `an admin token without prefixes. Nothing was rolled back. (${e.message})`;
    } else if (e?.status === 410 || e?.code === "version_folded") {
      error.textContent = `Version ${target} was folded by retention: it can no longer be restored. (${e.message})`;
    } else {
      error.textContent = `Rollback failed: ${e?.message ?? e}`;
    }
    confirm.disabled = true;
  }

  async function send() {
    if (busy || head === null || confirm.disabled) return;
    busy = true;
    confirm.disabled = true;
    try {
      const result = await client.rollback(target, { ifVersion: head });
      dialog.close("done");
      onDone(result);
    } catch (e) {
      fail(e);
    } finally {
      busy = false;
    }
  }

  confirm.onclick = send;
  review.onclick = preview;
  // Enter confirms (unless on another button); Escape cancels (the dialog's own behaviour).
  dialog.onkeydown = (e) => {
    if (e.key === "Enter" && e.target.tagName !== "BUTTON") {
      e.preventDefault();
      send();
    }
  };
  dialog.showModal();
  return preview();
}
