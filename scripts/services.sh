#!/usr/bin/env bash
# Project-local services for the native quick start and the tests: PostgreSQL 15, Redis 7, InfluxDB 1.x and a
# single-node SLURM with munge. Every instance listens on 127.0.0.1 only and keeps its data under $DATA.
#
#   scripts/services.sh {start|stop|status|env} [all|pg|redis|influx|slurm]...
#
# start   installs the missing Debian packages (as root), then starts what is not already answering. Idempotent.
#         Each service is started on its own: a failing service (say SLURM) never keeps the others from starting,
#         and `start pg redis influx` does not touch SLURM at all. Exits non-zero if any requested service failed.
# stop    stops this checkout's instances (by the pid files under $DATA; never anything else).
# status  prints one line per service; exits non-zero if any is down.
# env     prints `export SLURM_CONF=...` for sbatch/squeue/sacct/scancel, and writes it to $DATA/services.env.
#
# Settings (environment or .env): TILEFLOW_DATA_DIR (default .data), TILEFLOW_DB_PORT (55432), TILEFLOW_DB_USER and
# TILEFLOW_DB_NAME (tileflow), TILEFLOW_DB_PASSWORD (optional), TILEFLOW_DB_FSYNC (on; off when CI=true: faster,
# safe against a killed server but not against an OS crash), TILEFLOW_REDIS_PORT (56379), TILEFLOW_REDIS_PASSWORD (optional), TILEFLOW_INFLUX_PORT (58086),
# TILEFLOW_INFLUX_RPC_PORT (InfluxDB port + 2), TILEFLOW_INFLUX_DATABASE (tileflow), TILEFLOW_SLURMCTLD_PORT (56817),
# TILEFLOW_SLURMD_PORT (56818).
#
# A port that already answers with a server that is not this checkout's (another checkout's instance left running)
# is used as it is, with a warning: the role, database and InfluxDB database are still ensured on it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${TILEFLOW_DB_PORT:-55432}"
DB_USER="${TILEFLOW_DB_USER:-tileflow}"
DB_NAME="${TILEFLOW_DB_NAME:-tileflow}"
REDIS_PORT="${TILEFLOW_REDIS_PORT:-56379}"
INFLUX_PORT="${TILEFLOW_INFLUX_PORT:-58086}"
INFLUX_RPC_PORT="${TILEFLOW_INFLUX_RPC_PORT:-$((INFLUX_PORT + 2))}"
INFLUX_DB="${TILEFLOW_INFLUX_DATABASE:-tileflow}"
SLURMCTLD_PORT="${TILEFLOW_SLURMCTLD_PORT:-56817}"
SLURMD_PORT="${TILEFLOW_SLURMD_PORT:-56818}"

LOG_DIR="$DATA/log"
REDIS_DIR="$DATA/redis"
INFLUX_DIR="$DATA/influx"
SLURM_DIR="$DATA/slurm"
SLURM_CONF_FILE="$SLURM_DIR/slurm.conf"
SERVICES_ENV="$DATA/services.env"

ALL_SERVICES=(pg redis influx slurm)

packages_for() {
  case "$1" in
    pg) echo postgresql ;;
    redis) echo redis-server ;;
    influx) echo influxdb influxdb-client curl ;;
    slurm) echo munge slurm-wlm slurmctld slurmd slurm-client iproute2 ;;
  esac
}

# --- small helpers ------------------------------------------------------------------------------------------------

data_hash() { printf '%s' "$DATA" | sha256sum | cut -c1-10; }

# Runs a command as USER when root (services refuse to run as root or need their own user), else as ourselves.
as_user() {
  local user="$1"
  shift
  if is_root && [[ "$user" != root ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

# The folder under which USER's service keeps its files: $DATA when USER can enter it, otherwise (a checkout under
# /root, which other users cannot enter) a folder under /var/lib/tileflow named after $DATA.
service_base() {
  local user="$1"
  if ! is_root || [[ "$user" == root ]] || runuser -u "$user" -- test -x "$DATA" 2>/dev/null; then
    printf '%s\n' "$DATA"
  else
    printf '/var/lib/tileflow/%s\n' "$(data_hash)"
  fi
}

# Creates $DATA and lets the service users enter it (it is our own folder; its contents keep their modes).
prepare_data_dir() {
  mkdir -p "$DATA" "$LOG_DIR"
  chmod a+x "$DATA"
}

# A folder for a unix socket: PREFERRED unless the socket path would be too long (the limit is 107 bytes).
socket_dir() {
  local preferred="$1" name="$2"
  if ((${#preferred} + 24 < 100)); then
    printf '%s\n' "$preferred"
  else
    printf '/tmp/tileflow-%s-%s\n' "$name" "$(data_hash)"
  fi
}

# First line of a pid file, if it is a number.
read_pid() {
  local file="$1" pid
  [[ -f "$file" ]] || return 1
  pid="$(head -n1 "$file" 2>/dev/null | tr -d '[:space:]')"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  printf '%s\n' "$pid"
}

# True when PID is alive and its command name starts with COMM (a reused pid does not count, nor a zombie: killed
# daemons are reparented to PID 1, which may take its time to reap them).
pid_is() {
  local pid="$1" comm="$2" actual stat
  [[ -n "$pid" && -r "/proc/$pid/stat" ]] || return 1
  actual="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
  [[ "$actual" == "${comm:0:15}"* ]] || return 1
  stat="$(cat "/proc/$pid/stat" 2>/dev/null || true)"
  stat="${stat##*) }"
  [[ -n "$stat" && "${stat:0:1}" != Z && "${stat:0:1}" != X ]]
}

# True when the pid file names a live process called COMM.
pidfile_alive() {
  local pid
  pid="$(read_pid "$1")" || return 1
  pid_is "$pid" "$2"
}

# Retries a command every 0.1 s until it succeeds or SECONDS pass.
wait_until() {
  local seconds="$1" i
  shift
  for ((i = 0; i < seconds * 10; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# Sends TERM to the process in PIDFILE (if it is COMM), waits up to 30 s, then KILL. Removes the pid file.
stop_pidfile() {
  local file="$1" comm="$2" name="$3" pid i
  if pid="$(read_pid "$file")" && pid_is "$pid" "$comm"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
      pid_is "$pid" "$comm" || break
      sleep 0.1
    done
    if pid_is "$pid" "$comm"; then
      warn "$name (pid $pid) did not stop within 30 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$name stopped"
  else
    log "$name is not running"
  fi
  rm -f "$file"
}

# Pid of the process listening on 127.0.0.1:PORT (TCP), if any.
listener_pid() {
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

# --- PostgreSQL ---------------------------------------------------------------------------------------------------

pg_paths() {
  PG_BASE="$(service_base postgres)"
  PGDATA_DIR="$PG_BASE/pg"
  PG_RUN="$(socket_dir "$PG_BASE/pg-run" pg)"
  PG_LOG="$PG_BASE/log/postgresql.log"
  PG_BIN=""
  if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then
    PG_BIN=/usr/lib/postgresql/15/bin
  else
    PG_BIN="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n1)"
  fi
}

pg_ready() { [[ -n "$PG_BIN" ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2; }

pg_ours() {
  local port
  pidfile_alive "$PGDATA_DIR/postmaster.pid" postgres || return 1
  port="$(sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null | tr -d '[:space:]')"
  [[ "$port" == "$PG_PORT" ]]
}

pg_psql() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres "$@"
}

# Creates the login role (superuser: it runs the migrations and clones test databases) and its database.
pg_ensure_role_and_db() {
  {
    printf '%s\n' \
      "SELECT format('CREATE ROLE %I SUPERUSER LOGIN', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \\gexec" \
      "SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \\gexec"
    # The password never appears in a command line: psql reads it from its own environment.
    if [[ -n "${TILEFLOW_DB_PASSWORD:-}" ]]; then
      printf '%s\n' '\getenv pw TILEFLOW_DB_PASSWORD' "ALTER ROLE :\"role\" PASSWORD :'pw';"
    fi
  } | pg_psql -v role="$DB_USER" -v db="$DB_NAME" -f -
}

pg_write_settings() {
  local fsync="${TILEFLOW_DB_FSYNC:-}" run_escaped="${PG_RUN//\'/\'\'}"
  if [[ -z "$fsync" ]]; then
    if [[ "${CI:-}" == true ]]; then fsync=off; else fsync=on; fi
  fi
  as_user postgres tee "$PGDATA_DIR/tileflow.conf" >/dev/null <<EOF
# Written by scripts/services.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$run_escaped'
max_connections = 200
# fsync off (CI) survives a killed server but not an OS crash. synchronous_commit stays on: with it off, a commit
# acknowledged just before the server is killed can be lost, which the crash tests would rightly report.
fsync = $fsync
full_page_writes = $fsync
synchronous_commit = on
EOF
}

start_pg() {
  pg_paths
  if pg_ready; then
    if pg_ours; then
      log "pg: already up on 127.0.0.1:$PG_PORT"
    else
      warn "pg: 127.0.0.1:$PG_PORT answers but is not the instance in $PGDATA_DIR: using it as it is"
    fi
    pg_ensure_role_and_db
    return 0
  fi
  apt_install postgresql
  pg_paths
  [[ -n "$PG_BIN" ]] || die "pg: no PostgreSQL server binaries under /usr/lib/postgresql"

  prepare_data_dir
  mkdir -p "$PG_BASE/log" "$PG_RUN"
  touch "$PG_LOG"
  if is_root; then chown postgres: "$PG_BASE/log" "$PG_LOG" "$PG_RUN"; fi
  chmod 755 "$PG_RUN"

  if [[ ! -f "$PGDATA_DIR/PG_VERSION" ]]; then
    rm -rf "$PGDATA_DIR" # a half-made cluster from an interrupted initdb
    mkdir -p "$PGDATA_DIR"
    if is_root; then chown postgres: "$PGDATA_DIR"; fi
    chmod 700 "$PGDATA_DIR"
    log "pg: initdb $PGDATA_DIR"
    as_user postgres "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >>"$PG_LOG" 2>&1 || {
      log_tail "$PG_LOG"
      return 1
    }
  fi
  # Also for a cluster made by hand (PLATFORM.md's recipe): its settings come from tileflow.conf from now on.
  if ! grep -q "^include_if_exists = 'tileflow.conf'" "$PGDATA_DIR/postgresql.conf"; then
    echo "include_if_exists = 'tileflow.conf'" | as_user postgres tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null
  fi
  pg_write_settings

  # Left over by a process that is gone (machine restarted, killed): pid file and socket lock files.
  if ! pidfile_alive "$PGDATA_DIR/postmaster.pid" postgres; then
    rm -f "$PGDATA_DIR/postmaster.pid" "$PG_RUN/.s.PGSQL.$PG_PORT" "$PG_RUN/.s.PGSQL.$PG_PORT.lock"
  fi

  log "pg: starting PostgreSQL on 127.0.0.1:$PG_PORT"
  # setsid: the server must not receive the Ctrl-C meant for whoever started it (npm test, npm start).
  local as_postgres=()
  if is_root; then as_postgres=(runuser -u postgres --); fi
  if ! setsid -w "${as_postgres[@]}" "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null; then
    log_tail "$PG_LOG"
    return 1
  fi
  if ! wait_until 30 pg_ready; then
    log_tail "$PG_LOG"
    return 1
  fi
  pg_ensure_role_and_db
  log "pg: up (data $PGDATA_DIR)"
}

stop_pg() {
  pg_paths
  if pidfile_alive "$PGDATA_DIR/postmaster.pid" postgres; then
    as_user postgres "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null
    log "pg stopped"
  else
    log "pg is not running"
  fi
}

status_pg() {
  pg_paths
  if pg_ready && pg_ours; then
    echo "pg: up 127.0.0.1:$PG_PORT (data $PGDATA_DIR)"
  elif pg_ready; then
    echo "pg: up 127.0.0.1:$PG_PORT (not this checkout's instance)"
  else
    echo "pg: down (127.0.0.1:$PG_PORT)"
    return 1
  fi
}

# --- Redis --------------------------------------------------------------------------------------------------------

redis_cli() {
  if [[ -n "${TILEFLOW_REDIS_PASSWORD:-}" ]]; then
    REDISCLI_AUTH="$TILEFLOW_REDIS_PASSWORD" redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
  else
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
  fi
}

redis_ready() { command -v redis-cli >/dev/null && [[ "$(redis_cli ping 2>/dev/null)" == PONG ]]; }

# True when the server answers without a password although TILEFLOW_REDIS_PASSWORD is set (started before .env had
# one). Clients that send a password still work.
redis_open_without_password() {
  [[ -n "${TILEFLOW_REDIS_PASSWORD:-}" ]] && [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}
redis_ours() { pidfile_alive "$REDIS_DIR/redis.pid" redis-server; }

redis_write_config() {
  local pass
  (
    umask 077
    cat >"$REDIS_DIR/redis.conf" <<EOF
# Written by scripts/services.sh on every start; edit the script, not this file.
bind 127.0.0.1
port $REDIS_PORT
protected-mode yes
daemonize yes
pidfile "$REDIS_DIR/redis.pid"
logfile "$LOG_DIR/redis.log"
dir "$REDIS_DIR"
save ""
appendonly no
maxmemory-policy noeviction
EOF
    if [[ -n "${TILEFLOW_REDIS_PASSWORD:-}" ]]; then
      pass="${TILEFLOW_REDIS_PASSWORD//\\/\\\\}"
      printf 'requirepass "%s"\n' "${pass//\"/\\\"}" >>"$REDIS_DIR/redis.conf"
    fi
  )
}

start_redis() {
  if redis_open_without_password; then
    # Changing it live would lock out the processes already using it: it takes effect at the next restart.
    warn "redis: 127.0.0.1:$REDIS_PORT runs without the password in TILEFLOW_REDIS_PASSWORD (clients that send it" \
      "still work); to turn it on: scripts/services.sh stop redis && scripts/services.sh start redis"
  fi
  if redis_ready || redis_open_without_password; then
    if redis_ours; then
      log "redis: already up on 127.0.0.1:$REDIS_PORT"
    else
      warn "redis: 127.0.0.1:$REDIS_PORT answers but is not the instance in $REDIS_DIR: using it as it is"
    fi
    return 0
  fi
  if ss -Hltn "sport = :$REDIS_PORT" 2>/dev/null | grep -q .; then
    die "redis: 127.0.0.1:$REDIS_PORT is taken by a server that does not accept TILEFLOW_REDIS_PASSWORD: stop it or choose another TILEFLOW_REDIS_PORT"
  fi
  apt_install redis-server
  prepare_data_dir
  mkdir -p "$REDIS_DIR"
  redis_write_config
  if ! redis_ours; then rm -f "$REDIS_DIR/redis.pid"; fi
  log "redis: starting Redis on 127.0.0.1:$REDIS_PORT"
  setsid -w redis-server "$REDIS_DIR/redis.conf" </dev/null >>"$LOG_DIR/redis.log" 2>&1 || {
    log_tail "$LOG_DIR/redis.log"
    return 1
  }
  if ! wait_until 15 redis_ready; then
    log_tail "$LOG_DIR/redis.log"
    return 1
  fi
  log "redis: up (data $REDIS_DIR)"
}

stop_redis() { stop_pidfile "$REDIS_DIR/redis.pid" redis-server redis; }

status_redis() {
  if redis_open_without_password; then
    echo "redis: up 127.0.0.1:$REDIS_PORT (without the password in TILEFLOW_REDIS_PASSWORD: restart it to turn it on)"
  elif redis_ready && redis_ours; then
    echo "redis: up 127.0.0.1:$REDIS_PORT (data $REDIS_DIR)"
  elif redis_ready; then
    echo "redis: up 127.0.0.1:$REDIS_PORT (not this checkout's instance)"
  elif ss -Hltn "sport = :$REDIS_PORT" 2>/dev/null | grep -q .; then
    echo "redis: unusable: 127.0.0.1:$REDIS_PORT does not accept TILEFLOW_REDIS_PASSWORD"
    return 1
  else
    echo "redis: down (127.0.0.1:$REDIS_PORT)"
    return 1
  fi
}

# --- InfluxDB -----------------------------------------------------------------------------------------------------

influx_ready() { curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$INFLUX_PORT/ping" 2>/dev/null; }
influx_ours() { pidfile_alive "$INFLUX_DIR/influxd.pid" influxd; }

influx_query() {
  local q="$1"
  if [[ -n "${TILEFLOW_INFLUX_USER:-}" ]]; then
    # Credentials go through curl's config on stdin, never through its command line.
    printf 'user = "%s:%s"\n' "$TILEFLOW_INFLUX_USER" "${TILEFLOW_INFLUX_PASSWORD:-}" |
      curl -fsS -o /dev/null --max-time 10 -K - -XPOST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode "q=$q"
  else
    curl -fsS -o /dev/null --max-time 10 -XPOST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode "q=$q"
  fi
}

influx_ensure_db() { influx_query "CREATE DATABASE \"${INFLUX_DB//\"/\\\"}\""; }

influx_write_config() {
  cat >"$INFLUX_DIR/influxdb.conf" <<EOF
# Written by scripts/services.sh on every start; edit the script, not this file.
reporting-disabled = true
bind-address = "127.0.0.1:$INFLUX_RPC_PORT"

[meta]
  dir = "$INFLUX_DIR/meta"

[data]
  dir = "$INFLUX_DIR/data"
  wal-dir = "$INFLUX_DIR/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
EOF
}

start_influx() {
  if influx_ready; then
    if influx_ours; then
      log "influx: already up on 127.0.0.1:$INFLUX_PORT"
    else
      warn "influx: 127.0.0.1:$INFLUX_PORT answers but is not the instance in $INFLUX_DIR: using it as it is"
    fi
    influx_ensure_db
    return 0
  fi
  apt_install influxdb influxdb-client curl
  prepare_data_dir
  mkdir -p "$INFLUX_DIR/meta" "$INFLUX_DIR/data" "$INFLUX_DIR/wal"
  influx_write_config
  if influx_ours; then
    log "influx: influxd is running but not answering yet"
  else
    rm -f "$INFLUX_DIR/influxd.pid"
    log "influx: starting InfluxDB on 127.0.0.1:$INFLUX_PORT"
    setsid -f influxd run -config "$INFLUX_DIR/influxdb.conf" -pidfile "$INFLUX_DIR/influxd.pid" \
      </dev/null >>"$LOG_DIR/influxd.log" 2>&1
  fi
  if ! wait_until 30 influx_ready; then
    log_tail "$LOG_DIR/influxd.log"
    return 1
  fi
  influx_ensure_db
  log "influx: up (data $INFLUX_DIR)"
}

stop_influx() { stop_pidfile "$INFLUX_DIR/influxd.pid" influxd influx; }

status_influx() {
  if influx_ready && influx_ours; then
    echo "influx: up 127.0.0.1:$INFLUX_PORT (data $INFLUX_DIR)"
  elif influx_ready; then
    echo "influx: up 127.0.0.1:$INFLUX_PORT (not this checkout's instance)"
  else
    echo "influx: down (127.0.0.1:$INFLUX_PORT)"
    return 1
  fi
}

# --- SLURM + munge ------------------------------------------------------------------------------------------------

munge_paths() {
  MUNGE_BASE="$(service_base munge)/munge"
  MUNGE_RUN="$(socket_dir "$MUNGE_BASE/run" munge)"
  MUNGE_SOCKET="$MUNGE_RUN/munge.socket"
  MUNGE_KEY="$MUNGE_BASE/munge.key"
  MUNGE_PID="$MUNGE_BASE/munged.pid"
  MUNGE_LOG="$MUNGE_BASE/munged.log"
}

munge_ready() {
  command -v munge >/dev/null && [[ -S "$MUNGE_SOCKET" ]] &&
    munge -n -S "$MUNGE_SOCKET" 2>/dev/null | unmunge -S "$MUNGE_SOCKET" >/dev/null 2>&1
}

start_munge() {
  munge_paths
  if pidfile_alive "$MUNGE_PID" munged && munge_ready; then
    return 0
  fi
  mkdir -p "$MUNGE_BASE" "$MUNGE_RUN"
  if is_root; then chown munge: "$MUNGE_BASE" "$MUNGE_RUN"; fi
  chmod 755 "$MUNGE_BASE"
  chmod 711 "$MUNGE_RUN"
  if [[ ! -s "$MUNGE_KEY" ]]; then
    log "slurm: creating the munge key"
    (
      umask 077
      dd if=/dev/urandom of="$MUNGE_KEY" bs=1024 count=1 status=none
    )
  fi
  if is_root; then chown munge: "$MUNGE_KEY"; fi
  chmod 400 "$MUNGE_KEY"
  # A munged that runs but does not answer is restarted.
  stop_pidfile "$MUNGE_PID" munged munged >/dev/null 2>&1
  rm -f "$MUNGE_PID" "$MUNGE_SOCKET" "$MUNGE_SOCKET.lock"
  as_user munge munged --key-file="$MUNGE_KEY" --socket="$MUNGE_SOCKET" --pid-file="$MUNGE_PID" \
    --seed-file="$MUNGE_BASE/munged.seed" --log-file="$MUNGE_LOG" </dev/null >>"$LOG_DIR/munged.out" 2>&1 || {
    log_tail "$MUNGE_LOG"
    log_tail "$LOG_DIR/munged.out"
    return 1
  }
  if ! wait_until 10 munge_ready; then
    log_tail "$MUNGE_LOG"
    return 1
  fi
}

slurm_write_config() {
  local user
  user="$(id -un)"
  cat >"$SLURM_CONF_FILE" <<EOF
# Written by scripts/services.sh on every start; edit the script, not this file.
ClusterName=tileflow
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$SLURMCTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
StateSaveLocation=$SLURM_DIR/state
SlurmdSpoolDir=$SLURM_DIR/spool
SlurmctldPidFile=$SLURM_DIR/run/slurmctld.pid
SlurmdPidFile=$SLURM_DIR/run/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$SLURM_DIR/jobcomp.txt
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
MinJobAge=300
MaxArraySize=10001
NodeName=localhost NodeAddr=127.0.0.1 CPUs=2 Sockets=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
EOF
}

# The slurm.conf clients should use: ours, or the one of another checkout's controller that holds our port.
slurm_conf_in_use() {
  local pid conf
  if pidfile_alive "$SLURM_DIR/run/slurmctld.pid" slurmctld; then
    printf '%s\n' "$SLURM_CONF_FILE"
    return 0
  fi
  pid="$(listener_pid "$SLURMCTLD_PORT" || true)"
  if [[ -n "$pid" ]] && pid_is "$pid" slurmctld; then
    conf="$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n '/^-f$/{n;p;q}')"
    if [[ -n "$conf" && -f "$conf" ]]; then
      printf '%s\n' "$conf"
      return 0
    fi
  fi
  printf '%s\n' "$SLURM_CONF_FILE"
}

# Only with an existing slurm.conf: without one, the clients look for DNS SRV records and hang for a minute.
slurmctld_ready() {
  [[ -f "$1" ]] && command -v scontrol >/dev/null && SLURM_CONF="$1" scontrol ping 2>/dev/null | grep -q 'is UP'
}

# Node state as sinfo prints it (idle, mixed, allocated, down*, drained, ...).
slurm_node_state() { [[ -f "$1" ]] && SLURM_CONF="$1" sinfo -h -N -n localhost -o '%T' 2>/dev/null | head -n1; }

slurm_node_ready() {
  case "$(slurm_node_state "$1")" in
    idle | mixed | allocated | completing) return 0 ;;
    *) return 1 ;;
  esac
}

write_services_env() {
  local conf
  conf="$(slurm_conf_in_use)"
  mkdir -p "$DATA"
  {
    echo "# Written by scripts/services.sh: source it so that sbatch/squeue/sacct/scancel use the project's SLURM."
    printf 'export SLURM_CONF=%q\n' "$conf"
  } >"$SERVICES_ENV"
}

start_slurm() {
  local conf state first=()
  conf="$(slurm_conf_in_use)"
  if slurmctld_ready "$conf" && slurm_node_ready "$conf"; then
    if [[ "$conf" == "$SLURM_CONF_FILE" ]] && pidfile_alive "$SLURM_DIR/run/slurmd.pid" slurmd; then
      log "slurm: already up (controller 127.0.0.1:$SLURMCTLD_PORT)"
    else
      warn "slurm: 127.0.0.1:$SLURMCTLD_PORT is another checkout's controller ($conf): using it as it is"
    fi
    write_services_env
    return 0
  fi
  apt_install munge slurm-wlm slurmctld slurmd slurm-client iproute2
  prepare_data_dir
  start_munge
  mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/run"
  slurm_write_config
  export SLURM_CONF="$SLURM_CONF_FILE"

  if ! pidfile_alive "$SLURM_DIR/run/slurmctld.pid" slurmctld; then
    rm -f "$SLURM_DIR/run/slurmctld.pid"
    # -i only on the very first start, when there is no saved state yet.
    if [[ ! -e "$SLURM_DIR/state/node_state" ]]; then first=(-i); fi
    log "slurm: starting slurmctld on 127.0.0.1:$SLURMCTLD_PORT"
    setsid -f slurmctld -D "${first[@]}" -f "$SLURM_CONF_FILE" </dev/null >>"$LOG_DIR/slurmctld.out" 2>&1
  fi
  if ! wait_until 30 slurmctld_ready "$SLURM_CONF_FILE"; then
    log_tail "$LOG_DIR/slurmctld.log"
    log_tail "$LOG_DIR/slurmctld.out" 10
    return 1
  fi
  if ! pidfile_alive "$SLURM_DIR/run/slurmd.pid" slurmd; then
    rm -f "$SLURM_DIR/run/slurmd.pid"
    log "slurm: starting slurmd (node localhost) on 127.0.0.1:$SLURMD_PORT"
    setsid -f slurmd -D -N localhost -f "$SLURM_CONF_FILE" </dev/null >>"$LOG_DIR/slurmd.out" 2>&1
  fi
  if ! wait_until 30 slurm_node_ready "$SLURM_CONF_FILE"; then
    state="$(slurm_node_state "$SLURM_CONF_FILE")"
    # A node left down or drained by an earlier unclean stop comes back once slurmd answers.
    if [[ "$state" == down* || "$state" == drain* ]]; then
      scontrol update nodename=localhost state=resume 2>/dev/null || true
    fi
    if ! wait_until 15 slurm_node_ready "$SLURM_CONF_FILE"; then
      log "slurm: node localhost is '$(slurm_node_state "$SLURM_CONF_FILE")'"
      log_tail "$LOG_DIR/slurmd.log"
      log_tail "$LOG_DIR/slurmd.out" 10
      return 1
    fi
  fi
  write_services_env
  log "slurm: up (SLURM_CONF=$SLURM_CONF_FILE)"
}

stop_slurm() {
  munge_paths
  stop_pidfile "$SLURM_DIR/run/slurmd.pid" slurmd slurmd
  stop_pidfile "$SLURM_DIR/run/slurmctld.pid" slurmctld slurmctld
  stop_pidfile "$MUNGE_PID" munged munged
}

status_slurm() {
  local conf
  munge_paths
  conf="$(slurm_conf_in_use)"
  if command -v scontrol >/dev/null && slurmctld_ready "$conf" && slurm_node_ready "$conf"; then
    if [[ "$conf" == "$SLURM_CONF_FILE" ]]; then
      echo "slurm: up 127.0.0.1:$SLURMCTLD_PORT, node localhost $(slurm_node_state "$conf") (SLURM_CONF=$conf)"
    else
      echo "slurm: up 127.0.0.1:$SLURMCTLD_PORT (not this checkout's instance; SLURM_CONF=$conf)"
    fi
  else
    echo "slurm: down (127.0.0.1:$SLURMCTLD_PORT)"
    return 1
  fi
}

# --- dispatch -----------------------------------------------------------------------------------------------------

usage() {
  echo "usage: $0 {start|stop|status|env} [all|pg|redis|influx|slurm]..." >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
command="$1"
shift
services=()
for arg in "${@:-all}"; do
  case "$arg" in
    all) services+=("${ALL_SERVICES[@]}") ;;
    pg | redis | influx | slurm) services+=("$arg") ;;
    *) usage ;;
  esac
done

# Runs one service's step in a subshell with errexit in force, so that a failure stops that service only.
run_each() {
  local step="$1" s rc failed=()
  shift
  for s in "$@"; do
    set +e
    (
      set -e
      "${step}_$s"
    )
    rc=$?
    set -e
    [[ $rc -eq 0 ]] || failed+=("$s")
  done
  if [[ ${#failed[@]} -gt 0 ]]; then
    [[ "$step" == status ]] || log "$step failed for: ${failed[*]}"
    return 1
  fi
}

case "$command" in
  start)
    prepare_data_dir
    pkgs=()
    for s in "${services[@]}"; do
      read -ra p <<<"$(packages_for "$s")"
      pkgs+=("${p[@]}")
    done
    # One apt-get run for everything missing; if it fails, each service retries its own packages and fails alone.
    apt_install "${pkgs[@]}" || warn "could not install every package; trying service by service"
    run_each start "${services[@]}"
    ;;
  stop)
    # Reverse order: SLURM first, PostgreSQL last.
    reversed=()
    for ((i = ${#services[@]} - 1; i >= 0; i--)); do reversed+=("${services[i]}"); done
    run_each stop "${reversed[@]}"
    ;;
  status) run_each status "${services[@]}" ;;
  env)
    write_services_env
    cat "$SERVICES_ENV"
    ;;
  *) usage ;;
esac
