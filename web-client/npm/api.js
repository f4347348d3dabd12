// The public API of @edge-registry/client: every class the package exports, whatever the entry.
// The entries (web.js, node.js, workerd.js) instantiate the wasm first and then re-export this.
// index.d.ts lists the same names for TypeScript.
export {
  ChangeRequestStream,
  Provider,
  QueryStream,
  RegisterStream,
  RegistryClient,
  RegistryStream,
  Validator,
} from "./registry_web.js";
