#!/usr/bin/env bash
# Makes sure the PostgreSQL server binaries (initdb, pg_ctl) are installed,
# since the tests and the demo start a throwaway server from them. As root
# with apt-get it installs them; otherwise it says what to run.
set -euo pipefail

have_pg() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    return 0
  fi
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && return 0
  done
  return 1
}

if [ -n "${DPCOPS_TEST_PG_DSN:-}" ] || have_pg; then
  exit 0
fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-postgres: installing the PostgreSQL server (apt-get install postgresql)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  have_pg && exit 0
fi

cat >&2 <<'MSG'
ensure-postgres: the PostgreSQL server binaries (initdb, pg_ctl) are missing.
Install them, then run the command again:
  Debian/Ubuntu: sudo apt-get install -y postgresql
  Fedora:        sudo dnf install -y postgresql-server
  macOS:         brew install postgresql
or point the tests at a running server: export DPCOPS_TEST_PG_DSN=postgres://user@host:5432/postgres
MSG
exit 1
