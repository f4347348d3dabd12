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
mod consumer_poll;
mod convert;
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
export interface RegisterStream { [Symbol.asyncIterator](): AsyncIterator<RegisterUpdate, undefined>; }
export interface RegistryStream { [Symbol.asyncIterator](): AsyncIterator<RegistrySnapshot, undefined>; }
export interface ChangeRequestStream { [Symbol.asyncIterator](): AsyncIterator<ChangeRequest, undefined>; }
"#;
