#!/usr/bin/env bash
# A throwaway PostgreSQL server for finrift's tests, on loopback.
#
#   scripts/postgres-test-server.sh         start it (or find it running) and print its URL
#   scripts/postgres-test-server.sh stop    stop it and delete its data
#
# Installs PostgreSQL from the distribution's packages when no server binaries are found
# (apt-get, as root or through sudo). The cluster lives in FINRIFT_PG_DIR (default: a
# fixed directory under the system's temporary directory, so every test process of a run
# finds the same server), listens on 127.0.0.1 only, on FINRIFT_PG_PORT (default: the
# first free port from 55432), and trusts connections from loopback: it holds test data
# only. Durability is off (fsync, synchronous_commit) because nothing in it must survive
# a crash; the benchmark suite says so beside its figures.
#
# Running as root, the server runs as the `postgres` user (PostgreSQL refuses to run as
# root). Only the URL goes to stdout; progress goes to stderr.
set -euo pipefail

dir="${FINRIFT_PG_DIR:-${TMPDIR:-/tmp}/finrift-postgres-test}"
data="$dir/data"
database="finrift_test"
role="finrift"

say() { echo "postgres-test-server: $*" >&2; }

# The directory of the newest installed server's binaries (initdb, pg_ctl, postgres).
server_bin() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$found" && -x "$found/initdb" ]]; then
    echo "$found"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

install_server() {
  say "no PostgreSQL server found; installing it from the distribution's packages"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || {
      say "installing needs root or sudo: run 'apt-get install postgresql' as root"
      exit 1
    }
    sudo=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends postgresql >&2
}

# Runs a server command as the user the cluster belongs to.
as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

url() {
  echo "postgres://$role@127.0.0.1:$(cat "$dir/port")/$database"
}

stop() {
  local bin
  bin="$(server_bin)"
  if [[ -f "$data/postmaster.pid" && -n "$bin" ]]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 || true
  fi
  rm -rf "$dir"
  say "stopped; $dir removed"
}

start() {
  local bin
  bin="$(server_bin)"
  if [[ -z "$bin" ]]; then
    install_server
    bin="$(server_bin)"
    [[ -n "$bin" ]] || { say "the installation gave no initdb"; exit 1; }
  fi

  mkdir -p "$dir"
  # One starter at a time: parallel test processes wait here and then find it running.
  exec 9>"$dir/lock"
  flock 9

  if [[ -f "$dir/port" ]] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    url
    return
  fi

  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf "$data"
    mkdir -p "$data"
    if [[ "$(id -u)" == 0 ]]; then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
      chown postgres "$dir" "$data"
      # The server user must be able to reach its directory.
      chmod 755 "$dir"
    fi
    say "creating a cluster in $data"
    as_owner "$bin/initdb" -D "$data" -U "$role" -A trust -E UTF8 --no-instructions >&2
  fi

  local port="${FINRIFT_PG_PORT:-55432}"
  if [[ -z "${FINRIFT_PG_PORT:-}" ]]; then
    while port_in_use "$port"; do port=$((port + 1)); done
  fi
  echo "$port" >"$dir/port"

  say "starting on 127.0.0.1:$port"
  # The server must not inherit the lock (fd 9): it would hold it for its whole life.
  as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=200" >&2 9>&- </dev/null || {
    say "the server did not start; its log:"
    cat "$dir/server.log" >&2 || true
    exit 1
  }

  # Ready for connections (pg_ctl -w waited for it), then the test database, once.
  local psql="$bin/psql"
  [[ -x "$psql" ]] || psql="psql"
  if ! "$psql" -h 127.0.0.1 -p "$port" -U "$role" -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    "$psql" -h 127.0.0.1 -p "$port" -U "$role" -d postgres -qc "CREATE DATABASE $database" >&2
  fi
  url
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) say "usage: $0 [start|stop|url]"; exit 2 ;;
esac
