#!/usr/bin/env bash
# Follows the logs of the deployment's containers. Example: ./logs.sh --tail=100 api scheduler
#
# Usage: ./logs.sh [-p NAME | --project NAME] [--dry-run] [ARGS...]
#   -p, --project  compose project name (default: TILEFLOW_COMPOSE_PROJECT, else "tileflow"); use the same one with
#                  every script of a deployment
#   --dry-run      print the docker-compose command, one quoted word a line, instead of running it
#   ARGS           passed on to `docker-compose logs -f`
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"

compose_parse_args "$@"
compose_run full logs -f
