#!/usr/bin/env bash
# The whole test suite: lints, the native conformance suite, the end-to-end suites against the
# real worker in workerd, the page in Chromium, and the web client in headless Chromium.
# Installs what it needs first (scripts/setup.sh, idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false

logs=$(mktemp -d)
step() {
  local name=$1; shift
  printf '\n==> %s\n' "$name"
  "$@" 2>&1 | tee "$logs/$(echo "$name" | tr ' /' '__').log"
}

printf '\n==> no merge conflict markers\n'
if git grep -nE '^(<<<<<<<|>>>>>>>) ' -- . ':!*.lock'; then
  echo "merge conflict markers are committed (above)" >&2
  exit 1
fi
step "format" cargo fmt --all -- --check
step "lint native" cargo clippy --workspace --all-targets -- -D warnings
step "lint wasm" cargo clippy -p registry-core -p registry-worker -p registry-web -p floor-baseline \
  --target wasm32-unknown-unknown -- -D warnings
printf '\n==> core has no JS dependency\n'
if cargo tree -p registry-core -e normal | grep -E 'wasm-bindgen|js-sys|web-sys'; then
  echo "registry-core must not depend on wasm-bindgen, js-sys or web-sys" >&2
  exit 1
fi
# The floor baseline (bench/baseline-rs) has no tests; excluded so that its workers-rs does not
# take part in the native build's feature resolution.
step "native tests" cargo test --workspace --exclude registry-web --exclude registry-worker \
  --exclude floor-baseline
# Every parser of client input, 20 s each (fuzz/fuzz_targets/*.rs; fuzz/README.md).
for target in fuzz/fuzz_targets/*.rs; do
  target=$(basename "$target" .rs)
  printf '\n==> fuzz %s (20 s)\n' "$target"
  corpus=$(mktemp -d)
  if (cd fuzz && cargo fuzz run "$target" "$corpus" "seeds/$target" -s none \
    -- -max_total_time=20 -dict=dict.txt) >"$logs/fuzz.out" 2>&1; then
    tail -1 "$logs/fuzz.out"
  else
    tail -60 "$logs/fuzz.out"
    crasher=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$logs/fuzz.out" | tail -1)
    echo "the $target fuzzer found a failure (${crasher:-see above}):" \
      "keep the input under fuzz/regressions/$target/" >&2
    exit 1
  fi
  rm -rf "$corpus" "$logs/fuzz.out"
done
# build.sh also packs the web client (scripts/pack.sh: target/npm/*.tgz, size budget checked);
# the e2e suites install that tarball (package.test.mjs: Node, an esbuild bundle in Chromium, a
# second Worker, tsc --strict over web-client/types-check; node_*client.test.mjs: Node).
step "build and pack" bash scripts/build.sh
# A test that hangs fails after 10 minutes (none takes more than a few) instead of holding CI.
step "e2e" node --test --test-concurrency=1 --test-timeout=600000 --test-reporter=spec tests/e2e/*.test.mjs
step "browser" node tests/e2e/with-worker.mjs \
  wasm-pack test --headless --chrome web-client --test browser

# One closing line for the whole run (cargo's and node's counts added up).
read -r passed failed < <(cat "$logs"/*.log | awk '
  /^test result:/ { p += $4; f += $6 }
  /^ℹ pass / { p += $3 }
  /^ℹ fail / { f += $3 }
  END { print p + 0, f + 0 }')
rm -rf "$logs"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
