#!/usr/bin/env bash
# Every set-up step that `npm start` and `npm test` need, each skipped when already done. Works from a fresh clone on
# a fresh Debian 12 as root with Node 20 (missing Debian packages are installed with apt-get).
#
#   1. npm install       when node_modules is missing or older than a package.json or package-lock.json
#   2. .env              written from .env-template when missing, every secret marked GENERATE filled at random
#   3. test tools        Debian's shellcheck, docker-compose and chromium (the deployment and browser tests use
#                        them); a warning, not a failure, when they cannot be installed (not root)
#   4. services          scripts/services.sh start ${TILEFLOW_SERVICES:-all}
#   5. build             tsc -b (incremental: a no-op when nothing changed)
#   6. migrations        ./migrate.sh up
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

check_node() {
  command -v node >/dev/null || die "Node.js 20 (>= 20.19) is required: install it first (https://nodejs.org)"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [[ "$major" -ge 20 ]] || die "Node.js >= 20.19 is required, found $(node --version)"
}

# True when node_modules is missing or older than the lock file or any workspace's package.json.
needs_npm_install() {
  local stamp="node_modules/.package-lock.json" f
  [[ -f "$stamp" ]] || return 0
  for f in package-lock.json package.json shared/package.json coordinator/package.json worker/package.json \
    client/package.json; do
    [[ -f "$f" && "$f" -nt "$stamp" ]] && return 0
  done
  return 1
}

npm_install() {
  if needs_npm_install; then
    log "npm install"
    local lock=(flock /tmp/tileflow-npm.lock)
    command -v flock >/dev/null || lock=()
    "${lock[@]}" npm install --no-audit --no-fund
    # npm leaves the stamp alone when nothing changed: touch it so that the check above is a no-op next time.
    touch node_modules/.package-lock.json
  else
    log "npm install: up to date"
  fi
}

random_secret() {
  if command -v openssl >/dev/null; then
    openssl rand -hex 24
  else
    od -An -tx1 -N24 /dev/urandom | tr -d ' \n'
    echo
  fi
}

# Writes .env from .env-template. A comment line ending in "GENERATE" marks the variable on the next line; one ending
# in "GENERATE (word)" marks the variables of the block below it whose name contains WORD (e.g. "(password)" in a
# block holding TILEFLOW_ADMIN_USER and TILEFLOW_ADMIN_PASSWORD). A marked variable that is empty gets a random value.
write_env() {
  if [[ -f .env ]]; then
    log ".env: present (kept as it is)"
    return 0
  fi
  [[ -f .env-template ]] || die ".env-template is missing"
  local line marker="" generated=() name value word admin_password=""
  local tmp=".env.tmp.$$"
  (
    umask 077
    : >"$tmp"
  )
  while IFS= read -r line || [[ -n "$line" ]]; do
    if [[ "$line" =~ ^#.*GENERATE[[:space:]]*$ ]]; then
      marker="next"
    elif [[ "$line" =~ ^#.*GENERATE[[:space:]]*\(([A-Za-z0-9_]+)\)[[:space:]]*$ ]]; then
      word="${BASH_REMATCH[1]}"
      marker="word:${word^^}"
    elif [[ "$line" =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]]; then
      name="${BASH_REMATCH[1]}"
      value="${BASH_REMATCH[2]}"
      if [[ -z "$value" && -n "$marker" && ("$marker" == next || "$name" == *"${marker#word:}"*) ]]; then
        line="$name=$(random_secret)"
        generated+=("$name")
        [[ "$name" == TILEFLOW_ADMIN_PASSWORD ]] && admin_password=yes
      fi
      [[ "$marker" == next ]] && marker=""
    else
      marker=""
    fi
    printf '%s\n' "$line" >>"$tmp"
  done <.env-template
  mv "$tmp" .env
  log ".env: written from .env-template (mode 600) with generated secrets: ${generated[*]:-none}"
  if [[ -n "$admin_password" ]]; then
    log ".env: the first admin's password is TILEFLOW_ADMIN_PASSWORD in $ROOT/.env (user: TILEFLOW_ADMIN_USER)"
  fi
  load_env_file "$ROOT/.env"
}

# Tools the tests use: shellcheck and docker-compose (test/deploy.test.ts checks every script and validates the compose
# files offline) and Debian's Chromium (the web client's end-to-end tests and the tile map benchmark).
install_tools() {
  apt_install shellcheck docker-compose || warn "shellcheck and docker-compose are missing: the deployment tests will fail"
  apt_install chromium || warn "chromium is missing: the browser tests will fail (apt-get install chromium)"
}

start_services() {
  # shellcheck disable=SC2086 # a list of service names on purpose
  bash "$ROOT/scripts/services.sh" start ${TILEFLOW_SERVICES:-all}
}

build() {
  log "build: tsc -b"
  npx --no-install tsc -b
}

migrate() {
  log "migrations: ./migrate.sh up"
  bash "$ROOT/migrate.sh" up
}

check_node
npm_install
write_env
install_tools
start_services
build
migrate
log "set-up done"
