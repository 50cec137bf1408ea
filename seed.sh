#!/usr/bin/env bash
# Seeds the demo rows (idempotent): the task repository in TILEFLOW_DEMO_TASKS (the folder holding checksum.sh,
# downsample.sh and compare-z.sh, as in tasks/demo), a project on the acquisition in TILEFLOW_DEMO_ACQUISITION
# (pipeline-input.json inside) writing to TILEFLOW_DEMO_OUTPUT, and its three stages. ARGS go to the seed CLI
# (--start: start processing at once).
#
# Usage:
#   ./seed.sh [--dry-run] [ARGS...]   natively: node coordinator/dist/db/seeds/cli.js ARGS (build first)
#   ./seed.sh --compose [-p NAME | --project NAME] [--dry-run] [ARGS...]
#                                     inside the running api container of the compose deployment (base.sh or up.sh)
#                                     with this shell's TILEFLOW_DEMO_TASKS, TILEFLOW_DEMO_ACQUISITION and
#                                     TILEFLOW_DEMO_OUTPUT (default: output/ in the acquisition); they must lie
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
  [[ -n "${TILEFLOW_DEMO_TASKS:-}" ]] || die "TILEFLOW_DEMO_TASKS is not set: the demo's task folder, under TILEFLOW_TASK_ROOT"
  [[ -n "${TILEFLOW_DEMO_ACQUISITION:-}" ]] || die "TILEFLOW_DEMO_ACQUISITION is not set: the demo acquisition, under TILEFLOW_ACQUISITION_ROOT"
  # The seed's own default output folder is inside the image, where neither the workers nor the host see it.
  output_root="${TILEFLOW_DEMO_OUTPUT:-${TILEFLOW_DEMO_ACQUISITION%/}/output}"
  compose_run base exec -T \
    -e "TILEFLOW_DEMO_TASKS=$TILEFLOW_DEMO_TASKS" \
    -e "TILEFLOW_DEMO_ACQUISITION=$TILEFLOW_DEMO_ACQUISITION" \
    -e "TILEFLOW_DEMO_OUTPUT=$output_root" \
    api node coordinator/dist/db/seeds/cli.js
fi

# Native.
cli="$ROOT/coordinator/dist/db/seeds/cli.js"
[[ "$COMPOSE_DRY_RUN" -eq 1 || -f "$cli" ]] || die "$cli is missing: build first (npm run build)"
run_or_print node "$cli" "${COMPOSE_ARGS[@]}"
