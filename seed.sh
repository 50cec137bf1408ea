#!/usr/bin/env bash
# Seeds the demo data: a demo task repository under TILEFLOW_TASK_ROOT and a demo acquisition under
# TILEFLOW_ACQUISITION_ROOT (both from .env), with a project that processes it.
#
# Usage:
#   ./seed.sh [--dry-run] [ARGS...]   natively: node coordinator/dist/db/seeds/cli.js ARGS (build first)
#   ./seed.sh --compose [-p NAME | --project NAME] [--dry-run] [ARGS...]
#                                     inside the running api container of the compose deployment (start it with
#                                     base.sh or up.sh); the roots are mounted there at the same paths as on the host
#   --dry-run                         print the command, one quoted word a line, instead of running it
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"

use_compose=0
args=()
for arg in "$@"; do
  if [[ "$arg" == "--compose" ]]; then
    use_compose=1
  else
    args+=("$arg")
  fi
done

compose_parse_args "${args[@]}"
if [[ "$use_compose" -eq 1 ]]; then
  compose_run base exec -T api node coordinator/dist/db/seeds/cli.js
fi

# Native.
cli="$ROOT/coordinator/dist/db/seeds/cli.js"
[[ "$COMPOSE_DRY_RUN" -eq 1 || -f "$cli" ]] || die "$cli is missing: build first (npm run build)"
run_or_print node "$cli" "${COMPOSE_ARGS[@]}"
