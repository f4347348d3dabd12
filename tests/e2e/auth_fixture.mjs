// The token-protected worker shared by the access-control suites (issue 11): one token per role,
// the scoped ones limited to registry `home` and ids under `kitchen.`; requests made as a role;
// the registry head (to prove a refused request changed nothing); a seeded registry.
import { Worker, http } from "./worker.mjs";

/** The configured tokens, by role name used in the tables. */
export const TOKENS = {
  consumer: { name: "panel", token: "t-consumer-0123456789", role: "consumer", registries: ["home"], prefixes: ["kitchen."] },
  provider: { name: "kitchen-pi", token: "t-provider-0123456789", role: "provider", registries: ["home"], prefixes: ["kitchen."] },
  kadmin: { name: "kitchen-admin", token: "t-kadmin-0123456789", role: "admin", registries: ["home"], prefixes: ["kitchen."] },
  admin: { name: "ops", token: "t-admin-0123456789", role: "admin" },
};
/** The roles, weakest first. */
export const ROLES = ["consumer", "provider", "kadmin", "admin"];
/** A token of the same length as a real one that matches none. */
export const WRONG = "t-admin-0123456780";

/** Headers carrying `role`'s token (a role name), a raw token, or none (`null`). */
export function auth(who) {
  if (who === null) return {};
  const token = TOKENS[who]?.token ?? who;
  return { authorization: `Bearer ${token}` };
}

/** A worker with every token of TOKENS configured. */
export function tokenWorker() {
  return new Worker({ vars: { REGISTRY_TOKENS: JSON.stringify(Object.values(TOKENS)) }, readyStatuses: [401] });
}

/** Requests inside one registry as a role (`null`: no token). */
export class As {
  constructor(worker, registry = "home") {
    this.worker = worker;
    this.registry = registry;
  }

  get base() {
    return `${this.worker.url}/r/${this.registry}`;
  }

  req(who, method, path, body) {
    return http(method, `${this.base}${path}`, body, auth(who));
  }

  /** The registry's head version, read by the unrestricted admin. */
  async head() {
    const r = await this.req("admin", "GET", "/v1/health");
    if (r.status !== 200) throw new Error(`health ${r.status} ${r.text}`);
    return r.json.version;
  }

  /** Registers and entries in and out of `kitchen.` (written by the admin). */
  async seed() {
    const put = await this.req("admin", "PUT", "/provider", {
      registers: { "kitchen.lamp": { value: true, ttl: "1h" }, "garage.door": { value: "shut", ttl: "1h" } },
    });
    if (put.status !== 204) throw new Error(`seed ${put.status} ${put.text}`);
    for (const id of ["kitchen.cfg", "garage.cfg"]) {
      const r = await this.req("admin", "PUT", `/v1/entries/${id}`, { kind: "cfg", data: { id } });
      if (r.status !== 201) throw new Error(`seed ${id}: ${r.status} ${r.text}`);
    }
  }
}

/** True when `value` mentions anything under `garage.` (ids, names, keys or text). */
export const mentionsGarage = (value) => JSON.stringify(value).includes("garage.");
