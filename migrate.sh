#!/usr/bin/env bash
# Database migrations (ordered, transactional; the coordinator never creates tables at run time).
#
# Usage:
#   ./migrate.sh [up|down|status]     natively, against the database in .env: node coordinator/dist/db/cli.js
#                                     (default: up; build first with npm run build)
#   ./migrate.sh --compose [-p NAME | --project NAME] [--dry-run] [up|down|status]
#                                     in the compose deployment: a one-off container of its `migrate` service
#                                     (base.sh and up.sh also run it before the api and the scheduler start)
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

if [[ "$use_compose" -eq 1 ]]; then
  compose_parse_args "${args[@]}"
  [[ ${#COMPOSE_ARGS[@]} -gt 0 ]] || COMPOSE_ARGS=(up)
  compose_run base run --rm -T migrate node coordinator/dist/db/cli.js
fi

# Native.
[[ ${#args[@]} -gt 0 ]] || args=(up)
cli="$ROOT/coordinator/dist/db/cli.js"
[[ -f "$cli" ]] || die "$cli is missing: build first (npm run build)"
exec node "$cli" "${args[@]}"
