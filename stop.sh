#!/usr/bin/env bash
# Stops the deployment's containers (any mode: up.sh, base.sh or dev.sh), keeping them and their data.
#
# Usage: ./stop.sh [-p NAME | --project NAME] [--dry-run] [ARGS...]
#   -p, --project  compose project name (default: TILEFLOW_COMPOSE_PROJECT, else "tileflow"); use the same one with
#                  every script of a deployment
#   --dry-run      print the docker-compose command, one quoted word a line, instead of running it
#   ARGS           passed on to `docker-compose stop`
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"

compose_parse_args "$@"
compose_run full stop
