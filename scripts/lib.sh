# shellcheck shell=bash
# The one helper every Tileflow script sources: repository root, data folder, logging, .env loading and Debian
# package installation. Sourcing it has no side effect beyond setting variables and loading .env.

# Repository root: the folder above scripts/.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
export ROOT

SCRIPT_NAME="$(basename "${0:-tileflow}")"

log() { printf '[%s] %s\n' "$SCRIPT_NAME" "$*" >&2; }
warn() { printf '[%s] warning: %s\n' "$SCRIPT_NAME" "$*" >&2; }
die() {
  printf '[%s] error: %s\n' "$SCRIPT_NAME" "$*" >&2
  exit 1
}

# Loads KEY=VALUE lines from a dotenv file into the environment, exporting them. A variable already set to a non-empty
# value in the environment wins over the file (as in the Node tools' loadCliEnv, an empty value counts as unset).
# Lines are never evaluated: no command substitution, no expansion; one pair of surrounding quotes is removed.
load_env_file() {
  local file="$1" line key value
  [[ -f "$file" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%$'\r'}"
    [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
    key="${BASH_REMATCH[2]}"
    value="${BASH_REMATCH[3]}"
    if [[ "$value" =~ ^\"(.*)\"[[:space:]]*$ || "$value" =~ ^\'(.*)\'[[:space:]]*$ ]]; then
      value="${BASH_REMATCH[1]}"
    fi
    [[ -n "${!key:-}" ]] && continue
    [[ -z "$value" && -v "$key" ]] && continue
    export "$key=$value"
  done <"$file"
}

load_env_file "$ROOT/.env"

# Project data folder (git-ignored), always absolute. A relative TILEFLOW_DATA_DIR is relative to the repository root.
DATA="${TILEFLOW_DATA_DIR:-$ROOT/.data}"
[[ "$DATA" = /* ]] || DATA="$ROOT/$DATA"
DATA="${DATA%/}"
export DATA

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# True when the Debian package is installed.
pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# Prints the given packages that are not installed, one per line.
missing_packages() {
  local p
  for p in "$@"; do
    pkg_installed "$p" || printf '%s\n' "$p"
  done
}

# Succeeds when running as root; otherwise prints exactly which Debian packages to install and fails.
need_root_or_say() {
  is_root && return 0
  log "these Debian packages are missing and installing them needs root:"
  log "  sudo apt-get install -y --no-install-recommends $*"
  return 1
}

APT_UPDATED=0
# Installs the packages that are missing (and only those). Runs `apt-get update` once per script run, and only when
# something has to be installed. Fails with the command to run when not root.
apt_install() {
  local missing=()
  mapfile -t missing < <(missing_packages "$@")
  [[ ${#missing[@]} -eq 0 ]] && return 0
  need_root_or_say "${missing[@]}" || return 1
  if [[ "$APT_UPDATED" -eq 0 ]]; then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=300 update -qq >&2 || return 1
    APT_UPDATED=1
  fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
    "${missing[@]}" >&2 || return 1
}

# Prints the last lines of a log file, to explain a failure.
log_tail() {
  local file="$1" n="${2:-40}"
  if [[ -f "$file" ]]; then
    log "last $n lines of $file:"
    tail -n "$n" "$file" | sed 's/^/    /' >&2
  else
    log "(no log at $file)"
  fi
}

# --- Compose deployment: up.sh, base.sh, dev.sh, stop.sh, down.sh, logs.sh, migrate.sh --compose, seed.sh --compose -

# Prints the compose files of a deployment mode, one absolute path a line. Every compose script takes its files here.
#   core  PostgreSQL, Redis, InfluxDB only: dev.sh (our services run natively)
#   base  core + coordinator (migrate, api, scheduler, client): base.sh, migrate.sh --compose, seed.sh --compose
#   full  base + a local worker: up.sh, stop.sh, down.sh, logs.sh
compose_files() {
  local dir="$ROOT/compose"
  case "$1" in
    core) printf '%s\n' "$dir/docker-compose.yml" ;;
    base) printf '%s\n' "$dir/docker-compose.yml" "$dir/docker-compose.coordinator.yml" ;;
    full) printf '%s\n' "$dir/docker-compose.yml" "$dir/docker-compose.coordinator.yml" "$dir/docker-compose.worker.yml" ;;
    *)
      warn "unknown compose mode '$1' (core, base or full)"
      return 1
      ;;
  esac
}

# Options every compose script shares, taken out of "$@" by compose_parse_args:
#   -p NAME, --project NAME, --project=NAME   the compose project (else TILEFLOW_COMPOSE_PROJECT, else "tileflow")
#   --dry-run                                 print the command (print_argv) instead of running it
#   --                                        everything after it is passed on as it is
# The other arguments are kept in order in COMPOSE_ARGS; compose_run appends them to the command.
COMPOSE_PROJECT_ARG=""
COMPOSE_DRY_RUN=0
COMPOSE_ARGS=()
compose_parse_args() {
  # An empty TILEFLOW_COMPOSE_PROJECT gets the default too (MouseLight tested `[ -z "VAR" ]` and never applied it).
  COMPOSE_PROJECT_ARG="${TILEFLOW_COMPOSE_PROJECT:-tileflow}"
  COMPOSE_DRY_RUN=0
  COMPOSE_ARGS=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -p | --project)
        [[ $# -ge 2 ]] || die "$1 needs a project name"
        COMPOSE_PROJECT_ARG="$2"
        shift 2
        ;;
      --project=*)
        COMPOSE_PROJECT_ARG="${1#--project=}"
        shift
        ;;
      --dry-run)
        COMPOSE_DRY_RUN=1
        shift
        ;;
      --)
        shift
        COMPOSE_ARGS+=("$@")
        break
        ;;
      *)
        COMPOSE_ARGS+=("$1")
        shift
        ;;
    esac
  done
  [[ "$COMPOSE_PROJECT_ARG" =~ ^[a-z0-9][a-z0-9_-]*$ ]] ||
    die "compose project name '$COMPOSE_PROJECT_ARG': use lower-case letters, digits, '-' and '_'"
}

# Prints an argv one word a line, each word single-quoted so that the line reads back as exactly that word in a shell.
print_argv() {
  local word q="'"
  for word in "$@"; do
    printf "'%s'\n" "${word//"$q"/"$q\\$q$q"}"
  done
}

# Runs a command, or prints it with print_argv when --dry-run was given. Replaces the shell: call it last.
run_or_print() {
  if [[ "$COMPOSE_DRY_RUN" -eq 1 ]]; then
    print_argv "$@"
    exit 0
  fi
  exec "$@"
}

# compose_run MODE ARGS...: docker-compose with the files of MODE (compose_files), the project name, ARGS, then the
# script's remaining arguments (COMPOSE_ARGS). Call compose_parse_args "$@" first. Uses Debian's docker-compose when
# installed, else the docker CLI's compose plugin.
compose_run() {
  local mode="$1" file
  shift
  local files
  files="$(compose_files "$mode")" || exit 1
  local -a cmd=(docker-compose)
  if [[ "$COMPOSE_DRY_RUN" -eq 0 ]]; then
    if ! command -v docker-compose >/dev/null 2>&1; then
      if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
        cmd=(docker compose)
      else
        die "docker-compose is not installed: apt-get install docker-compose (or the docker compose plugin)"
      fi
    fi
    [[ -f "$ROOT/.env" ]] || warn "no $ROOT/.env: copy .env-template to .env and fill in the secrets (npm start does it)"
  fi
  cmd+=(--project-name "$COMPOSE_PROJECT_ARG")
  while IFS= read -r file; do
    cmd+=(--file "$file")
  done <<<"$files"
  run_or_print "${cmd[@]}" "$@" "${COMPOSE_ARGS[@]}"
}
