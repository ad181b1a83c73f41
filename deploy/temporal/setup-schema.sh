#!/bin/sh
# One-shot: creates Temporal's two databases in PostgreSQL and brings their schemas up to date.
# Safe to run again: a database or schema that exists already is kept (the tool's "already exists"),
# and updates are versioned. Any other failure stops here, loudly, with the tool's own message.
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u "$POSTGRES_USER" --pw "$POSTGRES_PASSWORD" "$@"; }

# Runs a step that may find its work done already; fails on anything else.
once() {
  what="$1"
  shift
  if output=$(tool "$@" 2>&1); then
    echo "$what: done"
  elif printf '%s' "$output" | grep -qi 'already exists'; then
    echo "$what: already there"
  else
    printf '%s\n' "$output" >&2
    echo "$what FAILED" >&2
    exit 1
  fi
}

for db in temporal temporal_visibility; do
  once "database $db" --db "$db" create
  once "schema of $db" --db "$db" setup-schema -v 0.0
done
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "Temporal schemas are up to date"
