#!/usr/bin/env bash
# Starts the core services and the coordinator (migrate, api, scheduler, client), without a worker: workers run
# natively on the machines that see the data (docs/workers.md).
#
# Usage: ./base.sh [-p NAME | --project NAME] [--dry-run] [ARGS...]
#   -p, --project  compose project name (default: TILEFLOW_COMPOSE_PROJECT, else "tileflow"); use the same one with
#                  every script of a deployment
#   --dry-run      print the docker-compose command, one quoted word a line, instead of running it
#   ARGS           passed on to `docker-compose up -d`
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"

compose_parse_args "$@"
compose_run base up -d
