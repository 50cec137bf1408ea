#!/usr/bin/env bash
# What `npm start` runs after scripts/setup.sh: the whole system natively, with a demo project processing a
# synthetic acquisition that keeps growing. Logs go to $DATA/log/; Ctrl-C stops everything this script started.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

: "${TILEFLOW_API_PORT:=4700}"
: "${TILEFLOW_API_HOST:=127.0.0.1}"
: "${TILEFLOW_URL:=http://$TILEFLOW_API_HOST:$TILEFLOW_API_PORT}"
export TILEFLOW_API_PORT TILEFLOW_API_HOST TILEFLOW_URL

DEMO="$DATA/demo"
LOGS="$DATA/log"
mkdir -p "$DEMO" "$LOGS"
export TILEFLOW_DEMO_ACQUISITION="${TILEFLOW_DEMO_ACQUISITION:-$DEMO/acquisition}"
export TILEFLOW_DEMO_OUTPUT="${TILEFLOW_DEMO_OUTPUT:-$DEMO/output}"
export TILEFLOW_DEMO_TASKS="${TILEFLOW_DEMO_TASKS:-$ROOT/tasks/demo}"

if [[ ! -f client/dist/index.html || -n "$(find client/src client/index.html -newer client/dist/index.html -print -quit 2>/dev/null)" ]]; then
  log "building the web client"
  npm run build -w @tileflow/client >"$LOGS/client-build.log" 2>&1 || die "client build failed: see $LOGS/client-build.log"
fi

pids=()
# shellcheck disable=SC2317  # called through the trap
cleanup() {
  trap - EXIT INT TERM
  log "stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The microscope: 16 × 16 tiles per plane, 20 planes; the first plane at once, then 8 tiles a second (about ten
# minutes of acquisition, so the counts move while you watch).
if [[ ! -f "$TILEFLOW_DEMO_ACQUISITION/pipeline-input.json" ]] || [[ "${TILEFLOW_DEMO_RESET:-0}" == 1 ]]; then
  node coordinator/dist/tools/synth-cli.js --root "$TILEFLOW_DEMO_ACQUISITION" --format pipeline-json \
    --x 16 --y 16 --z 20 --bytes 4096 --initial 256 --append-rate 8 >"$LOGS/acquisition.log" 2>&1 &
  pids+=("$!")
  log "synthetic acquisition growing in $TILEFLOW_DEMO_ACQUISITION (log: $LOGS/acquisition.log)"
fi

ids=$(node coordinator/dist/db/seeds/cli.js --start) || die "seeding the demo failed"
project_id=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).projectId)' "$ids")

node coordinator/dist/main.js all >"$LOGS/coordinator.log" 2>&1 &
coordinator_pid=$!
pids+=("$coordinator_pid")
for _ in $(seq 1 100); do
  curl -fsS "$TILEFLOW_URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$coordinator_pid" 2>/dev/null || die "the coordinator exited: see $LOGS/coordinator.log"
  sleep 0.2
done
curl -fsS "$TILEFLOW_URL/healthz" >/dev/null || die "the coordinator did not answer: see $LOGS/coordinator.log"

TILEFLOW_WORKER_NAME="${TILEFLOW_WORKER_NAME:-local-1}" node worker/dist/main.js >"$LOGS/worker.log" 2>&1 &
worker_pid=$!
pids+=("$worker_pid")

cat <<TXT

  Tileflow is running:  $TILEFLOW_URL
  Sign in as "${TILEFLOW_ADMIN_USER:-admin}" with the password in .env (TILEFLOW_ADMIN_PASSWORD).

  Demo project $project_id: input → checksum → downsample → compare-z (z-adjacent), on one local worker.
  Follow it:  npx tileflow status --project $project_id
  Logs:       $LOGS/{coordinator,worker,acquisition}.log
  Stop:       Ctrl-C (the services keep running: npm run services -- stop)

TXT
# The acquisition finishes by itself; the coordinator and the worker run until Ctrl-C.
wait -n "$coordinator_pid" "$worker_pid" || true
die "a process exited: see $LOGS/"
