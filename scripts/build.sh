#!/usr/bin/env bash
# Builds the worker (worker/build/) and the web client for the page (www/pkg/).
# Runs as wrangler's [build] command; SKIP_BUILD=1 skips it (tests build once up front).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "${SKIP_BUILD:-}" = 1 ] && exit 0
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
# worker-build does not look on PATH: tell it where the pinned tools are (no downloads).
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$PWD/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
(cd worker && worker-build --release)
wasm-pack build web-client --release --target web --out-dir ../www/pkg --no-pack >/dev/null 2>&1 \
  || wasm-pack build web-client --release --target web --out-dir ../www/pkg --no-pack
