#!/usr/bin/env bash
# `npm run worker`: one worker daemon natively, configured by the environment and .env (Worker section of
# .env-template: TILEFLOW_URL, TILEFLOW_WORKER_TOKEN, TILEFLOW_WORKER_NAME, capacities, TILEFLOW_PATH_MAP, Redis).
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
entry="$ROOT/worker/dist/main.js"
[[ -f "$entry" ]] || die "$entry is missing: build first (npm run build)"
exec node "$entry" "$@"
