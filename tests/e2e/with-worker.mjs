// Runs a command while a fresh worker runs in workerd; the command sees its URL in
// REGISTRY_URL. The worker is stopped afterwards, whatever the command did.
//   node tests/e2e/with-worker.mjs <command> [args…]
import { spawnSync } from "node:child_process";
import { Worker } from "./worker.mjs";

const [cmd, ...args] = process.argv.slice(2);
const worker = new Worker();
let status = 1;
try {
  await worker.start();
  const r = spawnSync(cmd, args, { stdio: "inherit", env: { ...process.env, REGISTRY_URL: worker.url } });
  status = r.status ?? 1;
} finally {
  await worker.dispose();
}
process.exit(status);
