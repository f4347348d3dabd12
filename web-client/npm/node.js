// Entry for Node (condition `node`): reads the wasm from the package folder and instantiates it
// synchronously while the module loads; no fetch, no top-level await.
import { readFileSync } from "node:fs";
import { initSync } from "./registry_web.js";

initSync({ module: readFileSync(new URL("./registry_web_bg.wasm", import.meta.url)) });

export * from "./api.js";
