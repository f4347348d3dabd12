// The packed web client (`bash scripts/pack.sh` → target/npm/*.tgz) installed into fresh
// temporary projects, the way a user installs it: `npm install <tarball>`, offline (the package
// has no dependencies).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const ROOT = resolve(import.meta.dirname, "../..");
/** The package's name (web-client/npm/package.json). */
export const NAME = "@edge-registry/client";

/** The one tarball scripts/pack.sh left in target/npm/. */
export function tarball() {
  const dir = join(ROOT, "target/npm");
  let found = [];
  try {
    found = readdirSync(dir).filter((f) => f.endsWith(".tgz"));
  } catch {}
  if (found.length !== 1) throw new Error(`expected one tarball in ${dir} (run bash scripts/pack.sh), found ${found.length}`);
  return join(dir, found[0]);
}

/** A fresh ESM project in a temporary folder with the tarball installed; `files` are written
 *  into it first (path → text). Returns the folder; `remove()` deletes it. */
export function project(files = {}) {
  const dir = mkdtempSync(join(tmpdir(), "edge-registry-pkg-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--offline", "--loglevel=error", tarball()], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 60_000,
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The package as Node imports it from a project that installed it (conditions `node`,
 *  `import`): installed into a fresh temporary project, which is removed at exit. */
export async function importPackage() {
  const { dir, remove } = project({ "client.mjs": `export * from "${NAME}";\n` });
  process.once("exit", remove);
  return import(pathToFileURL(join(dir, "client.mjs")).href);
}
