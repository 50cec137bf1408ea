#!/usr/bin/env bash
# Starts the core services only (PostgreSQL, Redis, InfluxDB) on the host's loopback, for running Tileflow's own
# services natively against them (npm start, npm run worker).
#
# Usage: ./dev.sh [-p NAME | --project NAME] [--dry-run] [ARGS...]
#   -p, --project  compose project name (default: TILEFLOW_COMPOSE_PROJECT, else "tileflow"); use the same one with
#                  every script of a deployment
#   --dry-run      print the docker-compose command, one quoted word a line, instead of running it
#   ARGS           passed on to `docker-compose up -d`
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/scripts/lib.sh"

compose_parse_args "$@"
compose_run core up -d
