#!/usr/bin/env bash
# scripts/check-swagger-ui.sh: Swagger UI at /api/ renders in headless Chromium with no request
# leaving the machine (gateway/tests/browser/swagger-ui.test.mjs).
#
# Installs what is missing — Debian's chromium, and node/npm — when run as root on Debian
# (saying what is missing otherwise), installs npm's playwright-core from the committed lock
# (never `playwright install`: the browser is Debian's), starts the single-process server (debug
# build) on a free loopback port over a fresh data directory, runs the test, and stops it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

apt_install() {
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        printf 'missing: %s (install it, or run this as root on Debian)\n' "$*" >&2
        exit 1
    fi
    printf '==== installing %s from Debian\n' "$*"
    # An old package list may not know the packages: refresh it once.
    apt-get install -y -q "$@" >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
    }
}

command -v chromium >/dev/null 2>&1 || apt_install chromium
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
fi

browser_tests=gateway/tests/browser
if [[ ! -d $browser_tests/node_modules/playwright-core ]]; then
    (cd "$browser_tests" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# --workspace: one feature set with the test step, nothing compiled twice (scripts/test.sh).
cargo build -q --workspace --bins
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data_dir=$(mktemp -d)
log="$data_dir/server.log"
target/debug/chat-backend --listen "127.0.0.1:$port" --data-dir "$data_dir/data" >"$log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$data_dir"
}
trap cleanup EXIT

for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || { cat "$log" >&2; exit 1; }

cd "$browser_tests"
BASE_URL="http://127.0.0.1:$port" CHROMIUM="$(command -v chromium)" node --test swagger-ui.test.mjs
