// The connection status shown in the header: one of "connecting", "live" (WebSocket),
// "long-poll" (the HTTP fallback), "reconnecting", "offline" or "closed".
//
// When the client reports its own status (`client.status` + `client.onStatus(cb)`), that is
// what is shown. Older clients only expose `client.transport` ("connecting" | "websocket" |
// "long-poll"), which stays "websocket" while the socket is being reopened; there the tracker
// also probes `GET /v1/health` every `probeMs` and says "reconnecting" while the registry does
// not answer, and "offline" while the browser says it has no network.

/** The states, in the words the header shows. */
export const STATES = ["connecting", "live", "long-poll", "reconnecting", "offline", "closed"];

/** What `client.transport` (the fallback) means as a state. */
function fromTransport(transport) {
  if (transport === "websocket") return "live";
  if (transport === "long-poll") return "long-poll";
  return "connecting";
}

/**
 * Follows the connection of `client` (the page's `RegistryClient`); calls `onChange(state)` with
 * every new state. `probe()` resolves true when the registry answers (used only without
 * `client.onStatus`). Returns `{state, streamFailed(), streamAlive(), stop()}`: the views report
 * a stream that failed (shown as "reconnecting" until one delivers again) and one that
 * delivered (the state is then re-read at once).
 */
export function trackStatus(client, onChange, { probe, probeMs = 2000 } = {}) {
  let current = null;
  let streamDown = false;
  let probeDown = false;
  const timers = [];
  const native = typeof client.onStatus === "function";

  const compute = () => {
    if (native) {
      const s = client.status;
      return STATES.includes(s) ? s : "connecting";
    }
    if (client.closed) return "closed";
    if (typeof navigator !== "undefined" && navigator.onLine === false) return "offline";
    if (streamDown || probeDown) return "reconnecting";
    return fromTransport(client.transport);
  };
  const update = () => {
    const next = compute();
    if (next !== current) {
      current = next;
      onChange(next);
    }
  };

  let off = () => {};
  if (native) {
    off = client.onStatus(() => update());
  } else {
    timers.push(setInterval(update, 250));
    if (probe) {
      let busy = false;
      timers.push(setInterval(async () => {
        if (busy) return;
        busy = true;
        try {
          probeDown = !(await probe());
        } catch {
          probeDown = true;
        } finally {
          busy = false;
        }
        update();
      }, probeMs));
    }
  }
  addEventListener("online", update);
  addEventListener("offline", update);
  update();

  return {
    get state() {
      return current;
    },
    streamFailed() {
      streamDown = true;
      update();
    },
    streamAlive() {
      streamDown = false;
      update();
    },
    stop() {
      off();
      for (const t of timers) clearInterval(t);
      removeEventListener("online", update);
      removeEventListener("offline", update);
    },
  };
}
