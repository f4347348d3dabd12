//! # registry-web
//!
//! The browser (and Node) client of Edge Registry, compiled to wasm with wasm-bindgen:
//! `consume()` streams a register's live value, `watch()` a query's live result, `provide()`
//! publishes a register and keeps it alive, `request()` asks a provider for a change and
//! resolves with its outcome, `validate()` takes part in transactions. One WebSocket per client
//! carries all of it (resumed without loss after a reconnect); HTTP long polls are the
//! fallback when no socket can be opened.
//!
//! ```js
//! import { RegistryClient } from "@edge-registry/client"; // bash scripts/pack.sh
//! const client = new RegistryClient("http://127.0.0.1:8787/r/home");
//! const lamp = client.provide("kitchen:lamp", false, { ttl: "10s" });
//! (async () => { for await (const req of lamp.requests) await req.accept(true); })();
//! const view = client.consume("kitchen:lamp");
//! for await (const { value } of view) { console.log("lamp is", value); break; }
//! const { status } = await view.request(true);   // "accepted"
//! client.close();
//! ```
//!
//! One JS class per file: [`RegistryClient`], [`RegisterStream`], [`RegistryStream`],
//! [`QueryStream`], [`Provider`], [`ChangeRequestStream`], [`Validator`]. JS is never called
//! while Rust holds a borrow.

mod abort;
mod client;
mod client_tx;
mod client_v1;
mod client_ws;
mod consumer_poll;
mod convert;
mod long_poll;
mod provider;
mod provider_poll;
mod query_poll;
mod query_stream;
mod register_stream;
mod registry_stream;
mod request_stream;
mod requests;
mod shared;
mod status;
mod stream;
mod transport;
mod validator;
mod ws;
mod ws_watch;

pub use client::RegistryClient;
pub use provider::Provider;
pub use query_stream::QueryStream;
pub use register_stream::RegisterStream;
pub use registry_stream::RegistryStream;
pub use request_stream::ChangeRequestStream;
pub use validator::Validator;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/**
 * `RegistryClient.status`: `"connecting"` (no socket opened yet), `"live"` (a socket is open),
 * `"reconnecting"` (the socket was lost; retrying), `"offline"` (6 failed attempts in a row, or
 * the browser is offline; still retrying), `"long-poll"` (HTTP long polls), `"closed"`.
 */
export type ConnectionStatus = "connecting" | "live" | "long-poll" | "reconnecting" | "offline" | "closed";
/** Options of `new RegistryClient(url, options)`. */
export interface ClientOptions {
  /** Closes the client when aborted. */
  signal?: AbortSignal;
  /**
   * `"auto"` (default): one WebSocket (`/v1/ws`), or HTTP long polls for the life of the client
   * if the first socket cannot be opened. `"websocket"`: never long polls (reconnects with
   * backoff however long it takes). `"long-poll"`: never a socket; `validate()` is unavailable.
   */
  transport?: "auto" | "websocket" | "long-poll";
  /** Long-poll duration, a Go-style duration such as "30s" (the server caps it at 60 s). */
  wait?: string;
  /**
   * Access token, when the registry has `REGISTRY_TOKENS` set (see docs/security.md): sent as
   * `Authorization: Bearer <token>` over HTTP and as the WebSocket subprotocol
   * `bearer.<token>` (next to `registry`). Without a valid one such a registry answers 401 and
   * calls reject with an `Error` whose `status` is 401 (403: outside the token's scope).
   *
   * ```js
   * const client = new RegistryClient("https://reg.example/r/home", { token: "s3cr3t-panel" });
   * ```
   */
  token?: string;
}
/** One update of a consumed register. */
export interface RegisterUpdate {
  name: string;
  /** The value (`undefined` when `removed`). */
  value: unknown;
  /** The metadata, `{}` when there is none. */
  metadata: Record<string, unknown>;
  /** The registry version this update reflects. */
  version: number | null;
  /** True when the register disappeared (expired). */
  removed: boolean;
}
/** A snapshot of the whole registry. */
export interface RegistrySnapshot {
  registers: Record<string, { value: unknown; metadata?: Record<string, unknown> }>;
  version: number | null;
}
/** Options of `client.provide(name, value, options)`. */
export interface ProvideOptions {
  metadata?: Record<string, unknown>;
  /** Go-style duration, default "10s"; the provider re-publishes at half of it. */
  ttl?: string;
  /** Closes the provider when aborted. */
  signal?: AbortSignal;
}
/**
 * A change request received by a provider.
 *
 * ```js
 * for await (const req of lamp.requests) {
 *   if (req.value === "broken") await req.reject("not a lamp state");
 *   else await req.accept(true);            // true: also set the register to req.value
 * }
 * ```
 */
export interface ChangeRequest {
  name: string;
  value: unknown;
  /** The request's id (`undefined` only from a registry that sends no `X-Request-Ids`). */
  request?: number;
  /** Accepts the request; `apply: true` also sets the register to `value` in the same version. */
  accept(apply?: boolean): Promise<RequestOutcome>;
  /** Rejects the request; the requester's outcome carries `reason`. */
  reject(reason?: string): Promise<RequestOutcome>;
}
/** The final outcome of a change request (`request()` resolves with it). */
export interface RequestOutcome {
  request: number;
  name?: string;
  status: "accepted" | "rejected" | "superseded" | "expired";
  /** The provider's reason, for a rejection. */
  reason?: string;
}
/** One item of a `QueryStream`: the entries matching the query after `version`. */
export interface QueryResult {
  version: number;
  /** Every matching entry, in id order. */
  entries: Entry[];
  /**
   * The operations of `version` that touched the query (`entry: null` = deleted or no longer
   * matching). Absent on the first item and on long polls.
   */
  ops?: { op: "create" | "update" | "delete"; id: string; entry: Entry | null }[];
}
/** What a validator function receives. */
export interface ValidationRequest {
  /** The transaction's id. */
  tx: number;
  validator: string;
  /** The transaction's operations that match the validator (`before` for updates and deletes). */
  ops: { op: "create" | "update" | "delete"; id: string; entry: Entry | null; before?: Entry | null }[];
  /** When the registry stops waiting (Unix ms). */
  deadline?: number;
}
/** An entry of the registry. */
export interface Entry {
  id: string;
  kind: string;
  meta: Record<string, unknown>;
  data: unknown;
  /** TTL in milliseconds, when the entry expires. */
  ttl_ms?: number;
  /** Expiry instant (Unix ms), when the entry expires. */
  expires_at?: number;
  /** The registry version at which it last changed. */
  version: number;
}
/** What `putEntry` takes. */
export interface EntryInput {
  kind: string;
  data: unknown;
  meta?: Record<string, unknown>;
  /** Go-style duration; the entry expires unless written again. */
  ttl?: string;
  /** Optimistic concurrency: the entry's current version (0 = must not exist). */
  ifVersion?: number;
}
/** One operation of `transaction()`. */
export interface TxOp {
  op: "create" | "update" | "upsert" | "delete";
  id: string;
  kind?: string;
  meta?: Record<string, unknown>;
  data?: unknown;
  ttl?: string;
  /** The entry's current version (0 = must not exist). */
  ifVersion?: number;
}
/** One operation of a changeset. */
export interface Op { op: "create" | "update" | "delete"; id: string; entry?: Entry; before?: Entry; }
/** One version with its changeset. */
export interface Version { version: number; parent: number; timestamp: number; actor: string; changeset: Op[]; }
/** A page of `history()`. */
export interface HistoryPage {
  versions: { version: number; parent: number; timestamp: number; actor: string; ops: number }[];
  head: number;
  oldest: number;
  next_before: number | null;
}
export interface RegisterStream { [Symbol.asyncIterator](): AsyncIterator<RegisterUpdate, undefined>; }
export interface RegistryStream { [Symbol.asyncIterator](): AsyncIterator<RegistrySnapshot, undefined>; }
export interface ChangeRequestStream { [Symbol.asyncIterator](): AsyncIterator<ChangeRequest, undefined>; }
export interface QueryStream { [Symbol.asyncIterator](): AsyncIterator<QueryResult, undefined>; }
"#;
