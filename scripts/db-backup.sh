#!/usr/bin/env bash
# `make backup` and `make restore FILE=…`: PostgreSQL's own tools, nothing else.
#   db-backup.sh backup          a consistent dump (pg_dump reads one snapshot), custom format, timestamped,
#                                into BACKUP_DIR (default .data/backups); prints the file's path
#   db-backup.sh restore FILE    that dump into an empty database, in one transaction; refuses a database
#                                that has tables already
# Where the database is: DATABASE_URL, or, when PG_EXEC is set (the Makefile sets it to
# `docker compose exec -T db`), POSTGRES_USER and POSTGRES_DB inside that container.
set -euo pipefail

die() { echo "db-backup: $*" >&2; exit 1; }

# runs a PostgreSQL client against the app's database; stdin and stdout pass through
pg() {
  local tool=$1; shift
  if [ -n "${PG_EXEC:-}" ]; then
    # shellcheck disable=SC2086 # PG_EXEC is a command with its arguments
    $PG_EXEC "$tool" --username "${POSTGRES_USER:?set POSTGRES_USER}" --dbname "${POSTGRES_DB:?set POSTGRES_DB}" "$@"
  else
    "$tool" --dbname "${DATABASE_URL:?set DATABASE_URL (or PG_EXEC, POSTGRES_USER and POSTGRES_DB)}" "$@"
  fi
}

backup() {
  local dir=${BACKUP_DIR:-.data/backups}
  mkdir -p "$dir"
  local file
  file="$dir/chat-$(date -u +%Y%m%dT%H%M%SZ).dump"
  # written aside and renamed when complete: a failed dump never looks like a backup
  pg pg_dump --format=custom --no-owner --no-privileges >"$file.partial" || {
    rm -f "$file.partial"
    die "pg_dump failed; no backup written"
  }
  mv "$file.partial" "$file"
  echo "$file"
}

restore() {
  local file=${1:-}
  [ -n "$file" ] || die "usage: make restore FILE=.data/backups/chat-<time>.dump"
  [ -f "$file" ] || die "no such file: $file"
  local tables
  tables=$(pg psql --no-psqlrc --quiet --tuples-only --no-align \
    --command "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')")
  [ "$tables" = 0 ] || die "the database is not empty ($tables tables): restore only into an empty one (see README, Backups)"
  # one transaction: a restore that fails leaves the database empty, not half-filled
  pg pg_restore --no-owner --no-privileges --exit-on-error --single-transaction <"$file"
  echo "restored $file"
}

case "${1:-}" in
  backup) backup ;;
  restore) restore "${2:-}" ;;
  *) die "usage: db-backup.sh backup | restore FILE" ;;
esac
