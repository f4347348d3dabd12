#!/usr/bin/env bash
# Builds the npm package of the web client, @edge-registry/client, from one wasm-bindgen build
# (`--target web` glue + one .wasm) and the entries of web-client/npm/, and packs it:
#   target/npm/package/                       the package folder (also copied to www/pkg by build.sh)
#   target/npm/edge-registry-client-<v>.tgz   the tarball (`npm install <it>`)
# target/npm/ is under the repository whatever CARGO_TARGET_DIR says (the cargo build itself
# goes to CARGO_TARGET_DIR). Fails when wasm + JS gzipped (-9) exceed the size budget.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"

BUDGET_BYTES=150000 # wasm + JS of the package, each file gzip -9, summed (issue 12: 150 KB)
WASM_OPT="$PWD/node_modules/binaryen/bin/wasm-opt"
cargo_target=${CARGO_TARGET_DIR:-$PWD/target}
out=$PWD/target/npm
pkg=$out/package

# The CLI must be the version the crate is pinned to (Cargo.toml, `=`), or the glue mismatches.
pinned=$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' Cargo.lock)
if ! wasm-bindgen --version | grep -qx "wasm-bindgen $pinned"; then
  echo "pack: wasm-bindgen CLI $(wasm-bindgen --version) is not the pinned $pinned (scripts/setup.sh)" >&2
  exit 1
fi
version=$(cargo metadata --no-deps --format-version 1 \
  | node -e 'const m = JSON.parse(require("fs").readFileSync(0, "utf8"));
             const p = m.packages.find((p) => p.name === "registry-web");
             console.log(JSON.stringify({ version: p.version, license: p.license }))')

cargo build -p registry-web --lib --release --target wasm32-unknown-unknown
rm -rf "$pkg" "$out"/*.tgz && mkdir -p "$pkg" # no stale tarball survives a failed pack
wasm-bindgen --target web --out-dir "$pkg" --out-name registry_web \
  "$cargo_target/wasm32-unknown-unknown/release/registry_web.wasm"
rm "$pkg/registry_web_bg.wasm.d.ts"
"$WASM_OPT" -Oz "$pkg/registry_web_bg.wasm" -o "$pkg/registry_web_bg.wasm"
cp web-client/npm/{api.js,index.d.ts,node.js,web.js,workerd.js,README.md} "$pkg/"
node -e 'const fs = require("fs");
         const p = JSON.parse(fs.readFileSync("web-client/npm/package.json", "utf8"));
         Object.assign(p, JSON.parse(process.argv[1]));
         fs.writeFileSync(process.argv[2], JSON.stringify(p, null, 2) + "\n")' "$version" "$pkg/package.json"

# Size budget: what a client downloads (the .wasm and every .js file), each gzipped at -9.
total=0
while IFS= read -r f; do
  n=$(gzip -9c "$f" | wc -c)
  printf '  %-60s %8d B raw %8d B gzip -9\n' "${f#"$pkg"/}" "$(wc -c <"$f")" "$n"
  total=$((total + n))
done < <(find "$pkg" -type f \( -name '*.wasm' -o -name '*.js' \) | sort)
printf 'pack: wasm + JS gzipped: %d B (budget %d B)\n' "$total" "$BUDGET_BYTES"
if [ "$total" -gt "$BUDGET_BYTES" ]; then
  echo "pack: over the size budget by $((total - BUDGET_BYTES)) B" >&2
  exit 1
fi

tarball=$(cd "$pkg" && npm pack --silent --pack-destination "$out")
echo "pack: $out/$tarball ($(wc -c <"$out/$tarball") B)"
