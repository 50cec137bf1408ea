#!/usr/bin/env bash
# Seeds the demo rows (idempotent): the task repository in TILEFLOW_TASK_ROOT (the folder holding checksum.sh,
# downsample.sh and compare-z.sh, as in tasks/demo), a project on the acquisition in TILEFLOW_ACQUISITION_ROOT
# (pipeline-input.json inside) writing to TILEFLOW_OUTPUT_ROOT, and its three stages. ARGS go to the seed CLI
# (--start: start processing at once).
#
# Usage:
#   ./seed.sh [--dry-run] [ARGS...]   natively: node coordinator/dist/db/seeds/cli.js ARGS (build first)
#   ./seed.sh --compose [-p NAME | --project NAME] [--dry-run] [ARGS...]
#                                     inside the running api container of the compose deployment (base.sh or up.sh)
#                                     with this shell's TILEFLOW_TASK_ROOT, TILEFLOW_ACQUISITION_ROOT and
#                                     TILEFLOW_OUTPUT_ROOT (default: output/ in the acquisition root); they must lie
#                                     under the roots the containers mount (the .env values when they were created)
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
  [[ -n "${TILEFLOW_TASK_ROOT:-}" ]] || die "TILEFLOW_TASK_ROOT is not set (.env or the environment)"
  [[ -n "${TILEFLOW_ACQUISITION_ROOT:-}" ]] || die "TILEFLOW_ACQUISITION_ROOT is not set (.env or the environment)"
  # The seed's own default output folder is inside the image, where neither the workers nor the host see it.
  output_root="${TILEFLOW_OUTPUT_ROOT:-${TILEFLOW_ACQUISITION_ROOT%/}/output}"
  compose_run base exec -T \
    -e "TILEFLOW_TASK_ROOT=$TILEFLOW_TASK_ROOT" \
    -e "TILEFLOW_ACQUISITION_ROOT=$TILEFLOW_ACQUISITION_ROOT" \
    -e "TILEFLOW_OUTPUT_ROOT=$output_root" \
    api node coordinator/dist/db/seeds/cli.js
fi

# Native.
cli="$ROOT/coordinator/dist/db/seeds/cli.js"
[[ "$COMPOSE_DRY_RUN" -eq 1 || -f "$cli" ]] || die "$cli is missing: build first (npm run build)"
run_or_print node "$cli" "${COMPOSE_ARGS[@]}"
