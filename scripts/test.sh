#!/usr/bin/env bash
# scripts/test.sh: the project's test command (the README's, and what .ci/run runs).
#
#   scripts/test.sh [extra cargo test args]     e.g. scripts/test.sh -- --nocapture
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

printf '==== services (scripts/deps.sh)\n'
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
export TESTS_REQUIRE_SERVICES=1

step "cargo test" cargo test --workspace --all-targets "$@"

done_list=$(printf '%s, ' "${STEPS_DONE[@]}")
printf '\n==== all %d step(s) passed: %s\n' "${#STEPS_DONE[@]}" "${done_list%, }"
