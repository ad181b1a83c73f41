#!/bin/sh
# One-shot: creates Temporal's two databases in PostgreSQL and brings their schemas up to date.
# Safe to run again: creating an existing database fails harmlessly, schema updates are versioned.
set -eu
tool() { temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u "$POSTGRES_USER" --pw "$POSTGRES_PASSWORD" "$@"; }
for db in temporal temporal_visibility; do
  tool --db "$db" create 2>/dev/null || echo "database $db exists"
done
tool --db temporal setup-schema -v 0.0 2>/dev/null || true
tool --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned
tool --db temporal_visibility setup-schema -v 0.0 2>/dev/null || true
tool --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned
echo "Temporal schemas are up to date"
