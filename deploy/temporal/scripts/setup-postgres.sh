#!/bin/sh
# Temporal's persistence on PostgreSQL: creates the databases DBNAME (`temporal`) and VISIBILITY_DBNAME
# (`temporal_visibility`) when missing and brings both schemas up to the versions this temporal-sql-tool
# embeds (the server of the same version expects them). Safe to run again: every step is idempotent.
# Run by Compose's admin-tools job and by the local stack (`npm start -- --temporal server`), which sets
# POSTGRES_PORT and its own database names.
set -eu
HOST=${POSTGRES_SEEDS:-postgres}
PORT=${POSTGRES_PORT:-5432}
tool() {
  SQL_PASSWORD="$POSTGRES_PWD" temporal-sql-tool --plugin postgres12 --ep "$HOST" -p "$PORT" -u "$POSTGRES_USER" "$@"
}
# Wait for PostgreSQL where nc is at hand (the admin-tools image); without it (a machine where the caller has
# checked PostgreSQL already) go on, and a server that is not there fails the first step below.
if command -v nc >/dev/null 2>&1; then
  echo "waiting for PostgreSQL at $HOST:$PORT"
  attempt=0
  until nc -z -w 5 "$HOST" "$PORT"; do
    attempt=$((attempt + 1))
    if [ "$attempt" -ge 120 ]; then
      echo "PostgreSQL at $HOST:$PORT is not answering" >&2
      exit 1
    fi
    sleep 1
  done
fi
for kind in temporal visibility; do
  case $kind in
    temporal) db=${DBNAME:-temporal} ;;
    *) db=${VISIBILITY_DBNAME:-temporal_visibility} ;;
  esac
  tool --db "$db" create || echo "database $db exists"
  tool --db "$db" setup-schema -v 0.0
  # The schemas embedded in the tool: no schema folder to ship or mount.
  tool --db "$db" update-schema --schema-name "postgresql/v12/$kind"
done
echo 'Temporal schemas are up to date'
