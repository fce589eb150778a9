#!/bin/sh
# Temporal's persistence on the Compose PostgreSQL: creates the databases `temporal` and
# `temporal_visibility` when missing and brings both schemas up to the versions this admin-tools image ships
# (the server image of the same tag expects them). Safe to run again: every step is idempotent.
set -eu
HOST=${POSTGRES_SEEDS:-postgres}
tool() {
  SQL_PASSWORD="$POSTGRES_PWD" temporal-sql-tool --plugin postgres12 --ep "$HOST" -p 5432 -u "$POSTGRES_USER" "$@"
}
echo "waiting for PostgreSQL at $HOST:5432"
until nc -z -w 5 "$HOST" 5432; do sleep 1; done
for db in temporal temporal_visibility; do
  case $db in
    temporal) dir=/etc/temporal/schema/postgresql/v12/temporal/versioned ;;
    *) dir=/etc/temporal/schema/postgresql/v12/visibility/versioned ;;
  esac
  tool --db "$db" create || echo "database $db exists"
  tool --db "$db" setup-schema -v 0.0
  tool --db "$db" update-schema -d "$dir"
done
echo 'Temporal schemas are up to date'
