// Entry for browsers and bundlers (conditions `browser`, `import`, `default`): fetches and
// instantiates the wasm next to this file before the importer runs (top-level await). Bundlers
// that emit `new URL("…", import.meta.url)` assets copy the .wasm themselves; with esbuild,
// copy registry_web_bg.wasm next to the bundle.
import init from "./registry_web.js";

await init({ module_or_path: new URL("./registry_web_bg.wasm", import.meta.url) });

export * from "./api.js";
