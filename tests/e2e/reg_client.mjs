// A client written only against reg's wire protocol (shared/reference/reg-wire-protocol.md §3.1,
// as reg's own Go and JS wire layers behave): it knows nothing of our additions. Used to prove
// that existing reg clients work unchanged.
export class RegWireClient {
  /** `base` may carry credentials (`http://x:TOKEN@host/`): like Go's net/http, they are taken
   *  out of the URL and sent as `Authorization: Basic` on every request. */
  constructor(base) {
    const url = new URL(base);
    this.headers = {};
    if (url.username || url.password) {
      const user = decodeURIComponent(url.username);
      const password = decodeURIComponent(url.password);
      this.headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
      url.username = "";
      url.password = "";
    }
    this.base = url.href.replace(/\/$/, "");
  }

  static validate(body) {
    if (typeof body !== "object" || body === null || typeof body.registers !== "object" || body.registers === null || Array.isArray(body.registers)) {
      throw new Error("invalid response: registers missing");
    }
    for (const [name, reg] of Object.entries(body.registers)) {
      if (typeof reg !== "object" || reg === null || !("value" in reg)) throw new Error(`invalid register ${name}`);
      if ("metadata" in reg && (reg.metadata === null || Array.isArray(reg.metadata))) throw new Error(`invalid metadata ${name}`);
    }
    return body.registers;
  }

  async getRegisters(names, waitSeconds) {
    const q = new URLSearchParams();
    for (const n of names ?? []) q.append("name", n);
    if (waitSeconds > 0) q.set("wait", `${waitSeconds}s`);
    const r = await fetch(`${this.base}/consumer?${q}`, { headers: this.headers });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    return RegWireClient.validate(await r.json());
  }

  async requestChanges(map) {
    const registers = Object.fromEntries(Object.entries(map).map(([n, v]) => [n, { value: v }]));
    const r = await fetch(`${this.base}/consumer`, { method: "PUT", headers: { ...this.headers, "Content-Type": "application/json" }, body: JSON.stringify({ registers }) });
    if (r.status !== 202) throw new Error(`HTTP ${r.status}`);
  }

  async setRegisters(map) {
    const r = await fetch(`${this.base}/provider`, { method: "PUT", headers: { ...this.headers, "Content-Type": "application/json" }, body: JSON.stringify({ registers: map }) });
    if (r.status !== 204) throw new Error(`HTTP ${r.status}`);
  }

  async getChangeRequests(names, waitSeconds) {
    const q = new URLSearchParams();
    for (const n of names ?? []) q.append("name", n);
    if (waitSeconds > 0) q.set("wait", `${waitSeconds}s`);
    const r = await fetch(`${this.base}/provider?${q}`, { headers: this.headers });
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
    const regs = RegWireClient.validate(await r.json());
    return Object.fromEntries(Object.entries(regs).map(([n, r]) => [n, r.value]));
  }
}
