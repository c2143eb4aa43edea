#!/usr/bin/env bash
# Entrypoint of labgrader's offline postgres:14 image. Follows the official image's contract as
# far as the course's operator uses it:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_USER (default
#   postgres), POSTGRES_DB (default: the user), PGDATA (default /var/lib/postgresql/data, may be
#   on a root-owned volume), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD, and *.sh / *.sql
#   files in /docker-entrypoint-initdb.d on first start.
# On first start it runs initdb, then in every case runs postgres in the foreground as the
# postgres user, listening on 5432 on all addresses.
set -euo pipefail
shopt -s nullglob

# `docker run postgres:14 -c foo=bar` means `postgres -c foo=bar`, as in the official image.
if [[ $# -eq 0 || ${1:0:1} == "-" ]]; then
  set -- postgres "$@"
fi

POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGDATA

as_postgres() {
  if [[ $(id -u) -eq 0 ]]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

prepare_dirs() {
  mkdir -p "$PGDATA" /run/postgresql
  chmod 3777 /run/postgresql
  if [[ $(id -u) -eq 0 ]]; then
    # A freshly mounted volume is owned by root; postgres insists on owning its data directory.
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    chmod 700 "$PGDATA"
  fi
}

run_initdb_scripts() {
  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case $f in
      *.sh) echo "entrypoint: running $f"; bash "$f" ;;
      *.sql) echo "entrypoint: running $f"; as_postgres psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -f "$f" ;;
      *) echo "entrypoint: ignoring $f" ;;
    esac
  done
}

init_cluster() {
  local auth=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
  if [[ -z ${POSTGRES_PASSWORD:-} && $auth != trust ]]; then
    echo "entrypoint: database is uninitialized and POSTGRES_PASSWORD is not set; set it (or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
    exit 1
  fi
  local pwfile
  pwfile=$(mktemp)
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  if [[ $(id -u) -eq 0 ]]; then chown postgres "$pwfile"; fi
  # Like the official image, connections from inside the container stay "trust" (initdb's
  # default); connections from anywhere else need the password.
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of words, as in the official image.
  as_postgres initdb --username="$POSTGRES_USER" --pwfile="$pwfile" ${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  printf '\nlisten_addresses = '"'*'"'\n' >>"$PGDATA/postgresql.conf"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"

  # A private server (no TCP) for creating the database and running the init scripts.
  as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start
  if [[ $POSTGRES_DB != postgres ]]; then
    # psql interpolates :"db" (quoted as an identifier) only in scripts, not in -c.
    as_postgres psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
      --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  run_initdb_scripts
  as_postgres pg_ctl -D "$PGDATA" -m fast -w stop
  echo "entrypoint: PostgreSQL init process complete; ready for start up."
}

if [[ $1 == postgres ]]; then
  prepare_dirs
  if [[ ! -s $PGDATA/PG_VERSION ]]; then
    init_cluster
  else
    echo "entrypoint: PostgreSQL database directory appears to contain a database; skipping initialization"
  fi
  if [[ $(id -u) -eq 0 ]]; then
    exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  fi
fi

exec "$@"
