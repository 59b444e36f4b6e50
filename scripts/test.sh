#!/usr/bin/env bash
# scripts/test.sh: the project's test command (the README's, and what .ci/run runs).
#
#   scripts/test.sh [extra cargo test args]     e.g. scripts/test.sh -- --nocapture
#   TEST_RELEASE=1 scripts/test.sh               the smoke test and the fault suite on the
#                                                release binaries (built first) instead of the
#                                                debug ones
#
# 1. scripts/deps.sh makes sure Postgres and Redis are reachable (starting or, as root on Debian,
#    installing them) and exports TEST_DATABASE_URL and TEST_REDIS_URL.
# 2. TESTS_REQUIRE_SERVICES=1 is exported: tests that need a service must fail, not skip, when it
#    is missing.
# 3. The steps below run in order; the first failing one stops the run with its exit status.
#    To add a check, add one `step "name" command args...` line at the end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STEPS_DONE=()

# step NAME COMMAND [ARGS...]: runs one check, loudly.
step() {
    local name=$1 start=$SECONDS rc=0
    shift
    printf '\n==== %s\n==== $ %s\n' "$name" "$*"
    "$@" || rc=$?
    if ((rc != 0)); then
        printf '\n==== FAILED: %s (exit %d after %ds)\n' "$name" "$rc" $((SECONDS - start)) >&2
        exit "$rc"
    fi
    printf '==== ok: %s (%ds)\n' "$name" $((SECONDS - start))
    STEPS_DONE+=("$name")
}

# A CI run builds everything once, from nothing: incremental compilation's bookkeeping only
# costs there (a developer's own runs keep it).
if [[ -n ${CI:-} ]]; then
    export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
fi

printf '==== services (scripts/deps.sh)\n'
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
export TESTS_REQUIRE_SERVICES=1

# Each test makes a database of its own (chat_test_*); drop those of earlier runs, and of this
# one when it ends, so that they do not pile up on a long-lived server.
drop_test_databases() {
    if ! command -v psql >/dev/null 2>&1; then
        printf '==== psql not found: leaving chat_test_* databases on %s\n' "$TEST_DATABASE_URL" >&2
        return 0
    fi
    local names
    names=$(psql -X -w -q -t -A -d "$TEST_DATABASE_URL" \
        -c "select datname from pg_database where datname like 'chat\_test\_%'" </dev/null) || return 0
    local name count=0
    for name in $names; do
        psql -X -w -q -d "$TEST_DATABASE_URL" -c "drop database if exists \"$name\" with (force)" \
            </dev/null >/dev/null 2>&1 && count=$((count + 1))
    done
    printf '==== dropped %d test database(s)\n' "$count"
}
drop_test_databases
trap drop_test_databases EXIT

# Every debug build below (here and in the scripts the steps run) selects the whole workspace
# (`--workspace`): a selection of packages resolves other features of shared crates (a package's
# dev-dependencies, chat-bench's reqwest) and compiles them, and all that depends on them, again.

# Before the tests: it checks Cargo.lock as committed (the image builds with --locked), which
# cargo test would otherwise quietly rewrite.
step "deployment files" scripts/check-deploy.sh
step "cargo test" cargo test --workspace --all-targets "$@"
# The OpenAPI document, checked by a validator that is not the code that wrote it.
step "openapi document" scripts/check-openapi.sh
# The binaries as docker-compose.yml runs them, on loopback, with SIGTERM under traffic
# (tests/release_smoke.rs), then the fault suite's short form: its own Postgres and Redis, one
# kill or outage per test under traffic, every acknowledgement and delivery checked
# (tests/fault.rs). Both run the binaries the test step has just built (target/debug): a release
# build from nothing takes ~14 minutes on two cores, as long as everything else here together.
# TEST_RELEASE=1 builds the release binaries (as the image does) and runs both on them; the
# whole workspace's, chat-bench included, so that bench/run.sh and fault.sh --build reuse them.
if [[ -n ${TEST_RELEASE:-} ]]; then
    step "release build" cargo build --release --workspace --bins
    bins=target/release
else
    bins=target/debug
fi
step "smoke test ($bins)" env SMOKE_BIN_DIR="$bins" \
    cargo test --workspace --test release_smoke -- --ignored
step "fault suite ($bins)" env FAULT_BIN_DIR="$bins" scripts/fault.sh
# Swagger UI at /api/ in Debian's headless Chromium, no request leaving the machine.
step "swagger ui in a browser" scripts/check-swagger-ui.sh
# The server against its OpenAPI document (schemathesis, real credentials in every dialect), and a
# client generated from the document that logs in and reads a conversation back.
step "api contract" scripts/check-api-contract.sh
# The web chat client at / in Debian's headless Chromium: two users, two gateways, one killed
# mid-chat, no request leaving the machine.
step "web client in a browser" scripts/check-web-client.sh

done_list=$(printf '%s, ' "${STEPS_DONE[@]}")
printf '\n==== all %d step(s) passed: %s\n' "${#STEPS_DONE[@]}" "${done_list%, }"
