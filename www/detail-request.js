// The life of one change request, shown as it happens: pending → delivered → accepted /
// rejected (with the provider's reason) / superseded / expired. Sent and followed through the
// HTTP API (docs/protocol.md, "Change requests with ids"), because the package's `request()`
// resolves with the final outcome only and the dashboard must show the steps before it.
import { describeError } from "./detail-errors.js";

const FINAL = new Set(["accepted", "rejected", "superseded", "expired"]);
/** While pending, the status is re-read at this interval (`GET /v1/requests/{id}?wait=` is
 *  answered early only by a final status, so "delivered" is seen at the next answer). */
const PENDING_WAIT = "1s";
/** Once delivered only a final status can follow: one long wait (the server caps it at 60 s). */
const DELIVERED_WAIT = "30s";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Words shown next to each status. */
const SAYS = {
  pending: "waiting for the provider to take it",
  delivered: "the provider has it; waiting for its verdict",
  accepted: "accepted by the provider",
  rejected: "rejected by the provider",
  superseded: "replaced by a newer request for this register",
  expired: "no provider answered in time",
};

/**
 * Sends a change request for register `name` with `value` and shows its life as a new item at
 * the top of the list `list`. Resolves with the final status (or null when stopped early or
 * refused; a refusal is shown in the item). `signal` stops following it (the request itself
 * stays in the registry).
 */
export async function sendRequest(ctx, name, value, list, signal) {
  const item = document.createElement("li");
  item.className = "request";
  item.innerHTML = '<p class="what"></p><ol class="life"></ol><p class="error" hidden></p>';
  item.querySelector(".what").textContent = `request for ${JSON.stringify(value)}: sending…`;
  list.prepend(item);
  while (list.children.length > 5) list.lastElementChild.remove();
  const life = item.querySelector(".life");
  const seen = [];
  const step = (rec) => {
    if (FINAL.has(rec.status) && rec.status !== "superseded" && rec.status !== "expired" && !seen.includes("delivered")) {
      // Taken and answered between two reads: it was delivered, we did not see it.
      addStep(life, "delivered", "between two reads", true);
      seen.push("delivered");
    }
    const why = rec.status === "rejected" && rec.reason ? `reason: ${rec.reason}` : SAYS[rec.status] ?? "";
    addStep(life, rec.status, why, false);
    seen.push(rec.status);
    item.dataset.status = rec.status;
  };

  let rec;
  try {
    rec = await ctx.api("POST", "/v1/requests", { name, value });
  } catch (e) {
    item.dataset.status = "refused";
    showError(item, describeError(e));
    item.querySelector(".what").textContent = `request for ${JSON.stringify(value)}: not sent`;
    return null;
  }
  item.dataset.request = rec.request;
  item.querySelector(".what").textContent = `request #${rec.request} for ${JSON.stringify(value)}`;
  step(rec);
  let failures = 0;
  while (!FINAL.has(rec.status) && !signal.aborted) {
    const wait = rec.status === "pending" ? PENDING_WAIT : DELIVERED_WAIT;
    let next;
    try {
      next = await ctx.api("GET", `/v1/requests/${rec.request}?wait=${wait}`, undefined, { signal });
      failures = 0;
      item.querySelector(".error").hidden = true;
    } catch (e) {
      if (signal.aborted) break;
      if (e.status === 404) {
        showError(item, "The registry no longer knows this request (it keeps the 1,000 newest outcomes).");
        return null;
      }
      failures++;
      showError(item, `Lost contact (${describeError(e)}); retrying…`);
      await sleep(Math.min(500 * 2 ** failures, 5000));
      continue;
    }
    if (signal.aborted) break;
    if (next.status !== rec.status) step(next);
    rec = next;
  }
  return FINAL.has(rec.status) ? rec.status : null;
}

function addStep(life, status, why, inferred) {
  const li = document.createElement("li");
  li.className = `step ${status}${inferred ? " inferred" : ""}`;
  li.dataset.status = status;
  const name = document.createElement("strong");
  name.textContent = status;
  const time = document.createElement("time");
  if (!inferred) {
    const now = new Date();
    time.dateTime = now.toISOString();
    time.textContent = now.toLocaleTimeString();
  }
  const text = document.createElement("span");
  text.className = "why";
  text.textContent = why;
  li.append(name, " ", text, " ", time);
  life.append(li);
}

function showError(item, message) {
  const p = item.querySelector(".error");
  p.textContent = message;
  p.hidden = false;
}
