// The detail view's editor: a new value for the selected entry, checked as JSON before it can be
// sent (the first error shown with its line and column; Send disabled meanwhile), or chosen with
// a true / false / null toggle when the value is a boolean. A register's new value goes to its
// provider as a change request (detail-request.js shows its life); any other entry is written
// directly with the version it was edited from, so a concurrent change is refused, not lost.
import { parseJson, prettyJson } from "./detail-json.js";
import { sendRequest } from "./detail-request.js";
import { describeError } from "./detail-errors.js";

const TEMPLATE = `
  <h3 id="detail-edit-title">Edit</h3>
  <p class="how"></p>
  <fieldset class="toggle" hidden>
    <legend>New value</legend>
    <label><input type="radio" name="detail-bool" value="true"> true</label>
    <label><input type="radio" name="detail-bool" value="false"> false</label>
    <label><input type="radio" name="detail-bool" value="null"> null</label>
    <button type="button" class="as-json">Type JSON instead</button>
  </fieldset>
  <div class="json">
    <label for="detail-json">New value (JSON)</label>
    <textarea id="detail-json" rows="4" spellcheck="false" autocomplete="off"
      aria-describedby="detail-json-error detail-edit-keys"></textarea>
    <p id="detail-json-error" class="invalid" aria-live="polite"></p>
  </div>
  <p class="base" aria-live="polite"></p>
  <div class="actions">
    <button type="submit" class="send">Send</button>
    <button type="button" class="revert">Revert</button>
    <small id="detail-edit-keys">Ctrl+Enter sends, Escape reverts.</small>
  </div>
  <p class="result" role="status" aria-live="polite"></p>
  <ol class="requests" aria-label="change requests sent from here"></ol>`;

/**
 * Builds the editor inside the form `form`. Returns `{show(entry), changed(entry), removed(),
 * clear()}`: `show` starts editing an entry (a new selection), `changed` tells it the entry's
 * newer state (the text is refreshed unless the user has typed), `removed` that it is gone.
 */
export function mountEditor(form, ctx) {
  form.innerHTML = TEMPLATE;
  form.setAttribute("aria-labelledby", "detail-edit-title");
  const $ = (sel) => form.querySelector(sel);
  const text = $("#detail-json");
  const toggle = $(".toggle");
  const send = $(".send");
  let base = null; // the entry as it was when editing started (its version guards direct writes)
  let latest = null; // the entry as it is now
  let dirty = false;
  let gone = false;
  let booleanMode = false;
  let stop = new AbortController(); // ends the following of request lives on a new selection

  const isRegister = () => base?.kind === "register";

  /** The value to send, or undefined while the input is not valid JSON. */
  function currentValue() {
    if (booleanMode) {
      const picked = form.querySelector('input[name="detail-bool"]:checked');
      return picked ? JSON.parse(picked.value) : undefined;
    }
    const parsed = parseJson(text.value);
    return parsed.ok ? parsed.value : undefined;
  }

  function validate() {
    const err = $("#detail-json-error");
    let ok = true;
    if (!booleanMode) {
      const parsed = parseJson(text.value);
      ok = parsed.ok;
      err.textContent = parsed.ok ? "" : `Not JSON at line ${parsed.line}, column ${parsed.column}: ${parsed.message}.`;
      text.setAttribute("aria-invalid", String(!parsed.ok));
    } else {
      err.textContent = "";
      text.removeAttribute("aria-invalid");
      ok = currentValue() !== undefined;
    }
    send.disabled = !ok || gone || !base;
  }

  function setMode(bool) {
    booleanMode = bool;
    toggle.hidden = !bool;
    $(".json").hidden = bool;
    validate();
  }

  function load(entry) {
    base = entry;
    dirty = false;
    text.value = prettyJson(entry.data);
    for (const r of form.querySelectorAll('input[name="detail-bool"]')) r.checked = r.value === JSON.stringify(entry.data);
    setMode(typeof entry.data === "boolean");
    $(".how").textContent = isRegister()
      ? "A register: Send asks its provider for the new value (a change request) and shows what becomes of it."
      : `Send writes the entry directly (kind ${entry.kind}, metadata kept), if it is still at version ${entry.version}.`;
    $(".base").textContent = "";
  }

  function noteChange() {
    if (!dirty || !latest || !base || latest.version === base.version) return;
    $(".base").textContent = isRegister()
      ? `The register changed (now version ${latest.version}) while you were editing.`
      : `The entry changed (now version ${latest.version}) since version ${base.version}, which you are editing: `
        + "Send will be refused; Revert loads the current value.";
  }

  async function submit() {
    validate();
    if (send.disabled) return;
    const value = currentValue();
    const result = $(".result");
    result.textContent = "";
    result.className = "result";
    if (isRegister()) {
      dirty = false;
      await sendRequest(ctx, base.id, value, $(".requests"), stop.signal);
      return;
    }
    const from = base;
    send.disabled = true;
    result.textContent = `Writing (if still at version ${from.version})…`;
    const input = { kind: from.kind, data: value, meta: from.meta ?? {}, ifVersion: from.version };
    if (from.ttl_ms != null) input.ttl = `${from.ttl_ms}ms`;
    try {
      const written = await ctx.client.putEntry(from.id, input);
      result.textContent = written.version === from.version
        ? "Nothing to write: the entry already has this value."
        : `Written: version ${written.version}.`;
      result.classList.add("ok");
      dirty = false;
      if (latest && latest.version >= written.version) load(latest);
    } catch (e) {
      result.textContent = describeError(e, from.version);
      result.classList.add("refused");
    }
    validate();
  }

  text.addEventListener("input", () => {
    dirty = true;
    validate();
    noteChange();
  });
  toggle.addEventListener("change", () => {
    dirty = true;
    text.value = prettyJson(currentValue());
    validate();
  });
  $(".as-json").addEventListener("click", () => {
    const v = currentValue();
    if (v !== undefined) text.value = prettyJson(v);
    setMode(false);
    text.focus();
  });
  $(".revert").addEventListener("click", () => latest && !gone && load(latest));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
  });
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
    } else if (e.key === "Escape" && latest && !gone) {
      e.preventDefault();
      e.stopPropagation(); // Escape here reverts; it does not close the detail
      load(latest);
    }
  });

  return {
    show(entry) {
      stop.abort();
      stop = new AbortController();
      form.querySelector(".requests").replaceChildren();
      $(".result").textContent = "";
      gone = false;
      latest = entry;
      form.hidden = false;
      load(entry);
    },
    changed(entry) {
      latest = entry;
      gone = false;
      if (!dirty) load(entry);
      else noteChange();
      validate();
    },
    removed() {
      gone = true;
      $(".base").textContent = "The entry was removed: there is nothing to edit.";
      validate();
    },
    clear() {
      stop.abort();
      base = latest = null;
      form.hidden = true;
    },
  };
}
