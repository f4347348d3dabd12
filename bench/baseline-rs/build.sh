#!/usr/bin/env bash
# Builds the Rust floor baseline (build/: worker-build's output) with the pinned tools, as
# scripts/build.sh builds the registry: nothing is downloaded. Runs as its wrangler.toml's
# [build] command (SKIP_BUILD=1 skips it); bench/floor.mjs --baseline-rust runs it when build/
# is missing or older than the sources.
set -euo pipefail
cd "$(dirname "$0")"
[ "${SKIP_BUILD:-}" = 1 ] && exit 0
root=$(cd ../.. && pwd)
export PATH="$HOME/.cargo/bin:$root/node_modules/.bin:$PATH"
# worker-build does not look on PATH: tell it where the pinned tools are.
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
export WASM_OPT_BIN="$root/node_modules/binaryen/bin/wasm-opt"
export ESBUILD_BIN="$root/node_modules/.bin/esbuild"
worker-build --release
