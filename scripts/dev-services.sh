#!/usr/bin/env bash
# scripts/dev-services.sh: bring up Postgres and Redis for running the services locally.
#
#   eval "$(scripts/dev-services.sh)"     then run a service, e.g. cargo run -p chat-service
#
# Uses scripts/deps.sh (same rules: an answering server is used, an installed one is started, as
# root on Debian a missing one is installed; TEST_DATABASE_URL / TEST_REDIS_URL, if set, name the
# servers to use instead). It then creates the database DEV_DATABASE_NAME (default chat_dev) if
# it does not exist, and prints on stdout:
#   export DATABASE_URL=<the same server, database DEV_DATABASE_NAME>
#   export REDIS_URL=<the Redis>
# Progress goes to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# shellcheck source=scripts/deps.sh
source scripts/deps.sh

db=${DEV_DATABASE_NAME:-chat_dev}
[[ $db =~ ^[a-z_][a-z0-9_]*$ ]] || deps__die "DEV_DATABASE_NAME must be a plain lower-case identifier, not '$db'"

# TEST_DATABASE_URL with its database replaced by $db (query string kept).
scheme=${TEST_DATABASE_URL%%://*}
rest=${TEST_DATABASE_URL#*://}
authority=${rest%%/*}
query=""
[[ $rest == *\?* ]] && query="?${rest#*\?}"
database_url="$scheme://$authority/$db$query"

if deps__have psql; then
    exists=$(deps__psql user "$TEST_DATABASE_URL" "select 1 from pg_database where datname = '$db'") ||
        deps__die "could not query $(deps__redact "$TEST_DATABASE_URL"): $exists"
    if [[ $exists == 1 ]]; then
        deps__log "database $db exists"
    else
        out=$(deps__psql user "$TEST_DATABASE_URL" "create database $db") ||
            deps__die "could not create database $db: $out"
        deps__log "created database $db"
    fi
else
    deps__log "psql not found: not creating database $db; create it yourself if it is missing"
fi

deps__log "DATABASE_URL=$(deps__redact "$database_url")"
deps__log "REDIS_URL=$TEST_REDIS_URL"
printf 'export DATABASE_URL=%q\nexport REDIS_URL=%q\n' "$database_url" "$TEST_REDIS_URL"
