#!/usr/bin/env bash
# Builds the worker (worker/build/) and the web client's npm package (scripts/pack.sh), a copy of
# which the page uses as it is (www/pkg/: the package's browser entry, no bundler).
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
bash scripts/pack.sh
rm -rf www/pkg && mkdir www/pkg
cp -r target/npm/package/{web.js,api.js,registry_web.js,registry_web_bg.wasm,snippets} www/pkg/
