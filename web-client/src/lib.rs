//! # registry-web
//!
//! The browser (and Node) client of Edge Registry, compiled to wasm with wasm-bindgen. It speaks
//! the reg-compatible register API: `consume()` streams a register's live value, `provide()`
//! publishes one and keeps it alive, `request()` asks a provider for a change.
//!
//! ```js
//! import init, { RegistryClient } from "registry-web";
//! await init();
//! const client = new RegistryClient("http://127.0.0.1:8787/r/home");
//! const lamp = client.provide("kitchen:lamp", false, { ttl: "10s" });
//! const view = client.consume("kitchen:lamp");
//! for await (const { value } of view) { console.log("lamp is", value); break; }
//! await view.request(true);            // lamp.requests yields { name, value: true }
//! client.close();
//! ```
//!
//! One JS class per file: [`RegistryClient`], [`RegisterStream`], [`RegistryStream`],
//! [`Provider`], [`ChangeRequestStream`]. JS is never called while Rust holds a borrow.

mod client;
mod client_tx;
mod client_v1;
mod consumer_poll;
mod convert;
mod long_poll;
mod provider;
mod provider_poll;
mod register_stream;
mod registry_stream;
mod request_stream;
mod shared;
mod stream;
mod transport;

pub use client::RegistryClient;
pub use provider::Provider;
pub use register_stream::RegisterStream;
pub use registry_stream::RegistryStream;
pub use request_stream::ChangeRequestStream;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `new RegistryClient(url, options)`. */
export interface ClientOptions {
  /** Closes the client when aborted. */
  signal?: AbortSignal;
  /** Long-poll duration, a Go-style duration such as "30s" (the server caps it at 60 s). */
  wait?: string;
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
}
/** A change request received by a provider. */
export interface ChangeRequest { name: string; value: unknown; }
/** What `RegisterStream.request()` resolves with. */
export interface RequestOutcome { name: string; status: "pending"; }
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
"#;
