// The one object every view of the dashboard receives: the client, the registry's address, one
// way to call the HTTP API (with the token and the server's error shape), and a small event bus
// through which views talk (selection, switching to the history of an entry).

/** An error answered by the registry: `status` (HTTP), `code` and `message` from its JSON body. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Makes the dashboard's context.
 *
 * - `client`: the page's one `RegistryClient`; `registry`: its name; `base`: its URL; `token`: the
 *   access token or null.
 * - `api(method, path, body?, {signal}?)`: `fetch(base + path)` with the token; resolves with the
 *   parsed JSON (null for an empty body), rejects with an `ApiError` (or the signal's abort).
 * - `emit(event, data)` / `on(event, cb)` (returns the unsubscribe function). Events:
 *   `"select"` (an entry id, or null): the entries view marks it, the detail view shows it;
 *   `"history"` (an entry id, or null for the whole registry): the history view opens on it;
 *   `"status"` (a connection state, www/status.js): the header shows it; `"version"` (the
 *   registry version the entries view has reached): the header shows it; `"stream-error"`
 *   (an error that ended the entries view's watch): the status says "reconnecting".
 */
export function makeContext({ client, registry, base, token }) {
  const listeners = new Map();
  const ctx = {
    client,
    registry,
    base,
    token,
    async api(method, path, body, { signal } = {}) {
      const headers = {};
      if (token) headers.authorization = `Bearer ${token}`;
      const init = { method, headers, signal };
      if (body !== undefined) {
        headers["content-type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      const r = await fetch(`${base}${path}`, init);
      const text = await r.text();
      let json = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      if (!r.ok) {
        const err = json?.error ?? {};
        throw new ApiError(r.status, err.code ?? json?.code ?? "http_error", err.message ?? json?.message ?? (text || `HTTP ${r.status}`));
      }
      return json;
    },
    emit(event, data) {
      for (const cb of [...(listeners.get(event) ?? [])]) cb(data);
    },
    on(event, cb) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(cb);
      return () => listeners.get(event)?.delete(cb);
    },
  };
  return ctx;
}
