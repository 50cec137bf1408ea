#!/usr/bin/env bash
# `npm run coordinator -- [api|scheduler|all]`: the coordinator natively, configured by the environment and .env.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
entry="$ROOT/coordinator/dist/main.js"
[[ -f "$entry" ]] || die "$entry is missing: build first (npm run build)"
exec node "$entry" "${1:-all}"
