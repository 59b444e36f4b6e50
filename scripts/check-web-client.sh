#!/usr/bin/env bash
# scripts/check-web-client.sh: the web chat client at / (gateway/web/, docs/web-client.md) in
# Debian's headless Chromium, against a services deployment with two gateways, with no request
# leaving the machine (gateway/tests/browser/web-client.test.mjs).
#
# Installs what is missing — Debian's chromium, and node/npm — when run as root on Debian
# (saying what is missing otherwise), npm's playwright-core from the committed lock (never
# `playwright install`: the browser is Debian's). Brings up Postgres and Redis (scripts/deps.sh),
# builds the debug binaries, and starts auth-, chat- and presence-service and two gateways on
# free loopback ports over a fresh database and Redis key prefix. The test puts a small TCP
# proxy in front of the gateways (the page's one origin, as a load balancer would be), kills
# one gateway mid-chat and checks that the pages reconnect through the other one without
# losing or repeating a message. Everything it started is stopped and dropped at the end.
#
# Env: SCREENSHOT=path.png also saves a screenshot of the app (docs/web-client.png is one).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

apt_install() {
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        printf 'missing: %s (install it, or run this as root on Debian)\n' "$*" >&2
        exit 1
    fi
    printf '==== installing %s from Debian\n' "$*"
    apt-get install -y -q "$@" >/dev/null 2>&1 || {
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
    }
}

command -v chromium >/dev/null 2>&1 || apt_install chromium
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
fi
command -v psql >/dev/null 2>&1 || apt_install postgresql-client

browser_tests=gateway/tests/browser
if [[ ! -d $browser_tests/node_modules/playwright-core ]]; then
    (cd "$browser_tests" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

# shellcheck source=scripts/deps.sh
source scripts/deps.sh

# --workspace: one feature set with the test step, nothing compiled twice (scripts/test.sh).
cargo build -q --workspace --bins
bins=${CARGO_TARGET_DIR:-target}/debug

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
suffix=$(python3 -c 'import secrets; print(secrets.token_hex(4))')
database=chat_webclient_$suffix
# TEST_DATABASE_URL with its database replaced (query string kept).
scheme=${TEST_DATABASE_URL%%://*}
rest=${TEST_DATABASE_URL#*://}
authority=${rest%%/*}
query=""
[[ $rest == *\?* ]] && query="?${rest#*\?}"
database_url="$scheme://$authority/$database$query"

work=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    psql -X -w -q -d "$TEST_DATABASE_URL" -c "drop database if exists \"$database\" with (force)" \
        </dev/null >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
psql -X -w -q -d "$TEST_DATABASE_URL" -c "create database \"$database\"" </dev/null >/dev/null

auth=$(free_port) chat=$(free_port) presence=$(free_port) gw_a=$(free_port) gw_b=$(free_port)
common=(RUST_LOG=info NO_COLOR=1 REDIS_KEY_PREFIX="webclient-$suffix:")
start() { # name binary env...
    local name=$1 binary=$2
    shift 2
    env -i PATH="$PATH" "${common[@]}" "$@" "$bins/$binary" >"$work/$name.log" 2>&1 &
    pids+=($!)
}
start auth auth-service LISTEN_ADDR="127.0.0.1:$auth" DATABASE_URL="$database_url" \
    JWT_SECRET="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
start presence presence-service LISTEN_ADDR="127.0.0.1:$presence" REDIS_URL="$TEST_REDIS_URL"
start chat chat-service LISTEN_ADDR="127.0.0.1:$chat" DATABASE_URL="$database_url" \
    REDIS_URL="$TEST_REDIS_URL" PRESENCE_URL="http://127.0.0.1:$presence"
gateway_env=(AUTH_URL="http://127.0.0.1:$auth" CHAT_URL="http://127.0.0.1:$chat"
    PRESENCE_URL="http://127.0.0.1:$presence" REDIS_URL="$TEST_REDIS_URL")
start gateway-a gateway "${gateway_env[@]}" LISTEN_ADDR="127.0.0.1:$gw_a" NODE_ID=gw-a
gateway_a=${pids[-1]}
# The test kills it: no "Killed" job notice from this shell, please.
disown "$gateway_a"
start gateway-b gateway "${gateway_env[@]}" LISTEN_ADDR="127.0.0.1:$gw_b" NODE_ID=gw-b

ready() {
    curl -fsS "http://127.0.0.1:$gw_a/readyz" >/dev/null 2>&1 &&
        curl -fsS "http://127.0.0.1:$gw_b/readyz" >/dev/null 2>&1
}
for _ in $(seq 1 300); do
    ready && break
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$work"/*.log >&2; exit 1; }
    done
    sleep 0.1
done
ready || { tail -n 30 "$work"/*.log >&2; exit 1; }

screenshot=${SCREENSHOT:+$(realpath -m "$SCREENSHOT")}
rc=0
(cd "$browser_tests" && GATEWAYS="127.0.0.1:$gw_a,127.0.0.1:$gw_b" GATEWAY_A_PID=$gateway_a \
    FRESH_DATABASE=1 SCREENSHOT="$screenshot" CHROMIUM="$(command -v chromium)" \
    node --test --test-reporter=spec web-client.test.mjs) || rc=$?
if ((rc)); then
    echo "==== the test failed; the last lines of each process' log:" >&2
    for log in "$work"/*.log; do printf -- '---- %s\n' "$log" >&2; tail -n 15 "$log" >&2; done
fi
exit "$rc"
