// Entry for Cloudflare Workers (conditions `workerd`, `worker`): wrangler's bundler turns the
// `.wasm` import into a precompiled WebAssembly.Module, instantiated synchronously here; nothing
// is fetched at run time (Workers cannot compile wasm from bytes they download).
import { initSync } from "./registry_web.js";
import wasmModule from "./registry_web_bg.wasm";

initSync({ module: wasmModule });

export * from "./api.js";
