#!/usr/bin/env bash
# scripts/fault.sh: the fault suite (tests/fault.rs, described in docs/faults.md). It starts its
# own Postgres (initdb + pg_ctl in a temp dir) and Redis on free loopback ports, the release
# binaries of the three services and two gateways, and injects one fault per test under traffic.
#
#   scripts/fault.sh                 the short form: each fault once (under 2 minutes)
#   scripts/fault.sh --long          each fault 20 times (FAULT_ROUNDS=20)
#   scripts/fault.sh --build ...     rebuild the binaries first (else only when missing)
#   scripts/fault.sh -- <filter>     extra arguments for the test binary, e.g. `-- a_kill`
#
# Env: FAULT_ROUNDS, FAULT_SECONDS (traffic per round, default 8), FAULT_BIN_DIR (default
# target/release; target/debug for the debug build, as scripts/test.sh runs it),
# FAULT_KEEP_LOGS=1 (keep the temp dir of passing tests too).
# The summary, one line per round, goes to target/fault-summary.txt (FAULT_SUMMARY).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=0
while (($#)); do
    case $1 in
        --long) export FAULT_ROUNDS=${FAULT_ROUNDS:-20} ;;
        --build) build=1 ;;
        --) shift; break ;;
        *) echo "usage: scripts/fault.sh [--long] [--build] [-- test args]" >&2; exit 2 ;;
    esac
    shift
done

# The suite runs Postgres' server binaries and redis-server itself; scripts/deps.sh installs them
# (as root on Debian) when they are missing.
if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null && ! command -v initdb >/dev/null \
    || ! command -v redis-server >/dev/null; then
    echo "==== Postgres or Redis server binaries missing: scripts/deps.sh" >&2
    scripts/deps.sh >/dev/null
fi

bins=${FAULT_BIN_DIR:-target/release}
for name in auth-service chat-service presence-service gateway healthcheck; do
    [[ -x $bins/$name ]] || build=1
done
if ((build)); then
    # The profile the binaries' directory names: target/debug, else release.
    profile=(--release)
    [[ $(basename "$bins") == debug ]] && profile=()
    echo "==== cargo build${profile[*]:+ ${profile[*]}} --workspace --bins" >&2
    cargo build "${profile[@]}" --workspace --bins
fi

export FAULT_SUMMARY=${FAULT_SUMMARY:-$PWD/target/fault-summary.txt}
: >"$FAULT_SUMMARY"
rc=0
cargo test --workspace --test fault -- --ignored --test-threads=1 --nocapture "$@" || rc=$?
echo "==== fault suite summary (rounds: ${FAULT_ROUNDS:-1}; $FAULT_SUMMARY)"
cat "$FAULT_SUMMARY"
exit "$rc"
