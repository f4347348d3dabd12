#!/usr/bin/env bash
# Installs what is needed, builds, and runs the registry and its page locally on
# http://127.0.0.1:${PORT:-8787} (workerd through wrangler dev). State persists in .state/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PWD/node_modules/.bin:$PATH"
export WRANGLER_SEND_METRICS=false X_LOCAL_OBSERVABILITY=false X_LOCAL_EXPLORER=false
PORT=${PORT:-8787}
echo "Edge Registry: http://127.0.0.1:$PORT/ (building first; Ctrl-C stops)"
exec node node_modules/wrangler/bin/wrangler.js dev --ip 127.0.0.1 --port "$PORT" --persist-to .state
