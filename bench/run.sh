#!/usr/bin/env bash
# Starts the release binaries on loopback and runs every chat-bench scenario against them.
#
#   bench/run.sh [single|services|services2|all|socketio|socketio2|prosody|peers] [scenario...]
#
#   single     chat-backend in one process (SQLite, in-memory presence and events)
#   services   auth-, chat-, presence-service on Postgres and Redis, one gateway
#   services2  the same with two gateway replicas (fan-out crosses Redis)
#   all        the three in turn (the default)
#   socketio   the peer people run instead: Socket.IO on Node, one node, storing nothing
#              (bench/peers/socketio; its npm packages are installed on first use)
#   socketio2  two Socket.IO nodes on Redis (@socket.io/redis-adapter)
#   prosody    the peer that keeps everything: Prosody, XMPP group chat (MUC) with every room
#              archived, over WebSocket on 127.0.0.1:3203 (bench/peers/prosody; Debian's
#              `prosody` package is installed with apt-get on first use, which needs root; run
#              as root, Prosody drops to the package's `prosody` user). Its config and data are
#              in a fresh /tmp/chat-bench-prosody.* directory; /etc/prosody and the system's
#              own service are neither read nor touched.
#   peers      socketio, socketio2 and prosody in turn
#
# Scenarios default to: idle fanout send reconnect (the peers have no catch-up: reconnect is
# skipped for them). Build first:
#   cargo build --release -p chat-bench -p chat-backend -p gateway -p auth-service \
#     -p chat-service -p presence-service
# (the peers' modes need chat-bench alone).
#
# Sizes come from the environment (defaults are the targets of issue 7, within what the
# machine allows): IDLE_CONNECTIONS, FANOUT_GROUPS, FANOUT_MEMBERS, FANOUT_RATE,
# FANOUT_DURATION, SEND_SENDERS, SEND_PER_GROUP, SEND_RATE, SEND_DURATION, RECONNECT_GROUPS,
# RECONNECT_MEMBERS, RECONNECT_MESSAGES; PROSODY_ARCHIVE=off runs the Prosody peer with no
# room archived (on by default). Postgres: PGHOST/PGPORT/PGUSER (127.0.0.1, 5432,
# postgres) and BENCH_DATABASE (chat_bench, dropped and created afresh for each mode); Redis:
# BENCH_REDIS_URL (redis://127.0.0.1:6379) under a key prefix of its own. Reports go to
# OUT (target/bench-results), as text and JSON, with the servers' logs and the CPU seconds
# each process used during each scenario.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT/target/release}
OUT=${OUT:-$ROOT/target/bench-results}
LABEL=${LABEL:-} # appended to the names of the report files
MODES=${1:-all}
shift || true
SCENARIOS=${*:-idle fanout send reconnect}

IDLE_CONNECTIONS=${IDLE_CONNECTIONS:-19000}
FANOUT_GROUPS=${FANOUT_GROUPS:-50}
FANOUT_MEMBERS=${FANOUT_MEMBERS:-10}
FANOUT_RATE=${FANOUT_RATE:-10}
FANOUT_DURATION=${FANOUT_DURATION:-10}
SEND_SENDERS=${SEND_SENDERS:-200}
SEND_RATE=${SEND_RATE:-10000}
SEND_DURATION=${SEND_DURATION:-10}
SEND_PER_GROUP=${SEND_PER_GROUP:-1}
RECONNECT_GROUPS=${RECONNECT_GROUPS:-100}
RECONNECT_MEMBERS=${RECONNECT_MEMBERS:-10}
RECONNECT_MESSAGES=${RECONNECT_MESSAGES:-20}

export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
DATABASE=${BENCH_DATABASE:-chat_bench}
REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
# Ports of our own, so that a developer's services on the default ports are left alone.
AUTH_PORT=51061 CHAT_PORT=51062 PRESENCE_PORT=51063 GATEWAY_PORTS=(3101 3102) PEER_PORTS=(3201 3202)
PROSODY_PORT=3203

BINARIES=(chat-bench chat-backend gateway auth-service chat-service presence-service)
[[ $MODES == socketio* || $MODES == prosody || $MODES == peers ]] && BINARIES=(chat-bench)
for bin in "${BINARIES[@]}"; do
    [[ -x $BIN/$bin ]] || { echo "missing $BIN/$bin: build the release binaries first" >&2; exit 1; }
done
# Every socket is a file: take as many as this machine lets us (the hard limit).
ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT/logs"

PIDS=()
NAMES=()
DATA_DIRS=() # the single process's data directories, removed once it has stopped
stop_all() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    done
    PIDS=()
    NAMES=()
    [[ ${#DATA_DIRS[@]} -gt 0 ]] && rm -rf "${DATA_DIRS[@]}"
    DATA_DIRS=()
}
trap stop_all EXIT

# CPU seconds (user + system) used so far by a process, or by all processes of a name.
cpu_of_pid() { awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# For a name, the time of its processes that have exited counts too: the parent of the others
# (Postgres's postmaster) holds its reaped children's time, so backends that come and go between
# two snapshots (a long setup's) are not lost from the difference.
cpu_of_name() {
    local total=0 pid parent
    for pid in $(pgrep -x "$1"); do
        total=$(echo "$total + $(cpu_of_pid "$pid")" | bc)
        parent=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null)
        if [[ -n $parent && $(cat "/proc/$parent/comm" 2>/dev/null) != "$1" ]]; then
            total=$(echo "$total + $(cpu_of_reaped "$pid")" | bc)
        fi
    done
    echo "$total"
}
cpu_of_reaped() { awk '{ printf "%.1f", ($16 + $17) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
cpu_snapshot() { # "name=seconds ..." for our servers, Postgres and Redis
    local i line=""
    for i in "${!PIDS[@]}"; do line+="${NAMES[$i]}=$(cpu_of_pid "${PIDS[$i]}") "; done
    echo "$line postgres=$(cpu_of_name postgres) redis=$(cpu_of_name redis-server)"
}
cpu_delta() { # before after: what each used in between
    paste -d' ' <(tr ' ' '\n' <<<"$1" | grep =) <(tr ' ' '\n' <<<"$2" | grep =) |
        awk -F'[= ]' '{ printf "%s %.1f s  ", $1, $4 - $2 } END { print "" }'
}

wait_for_port() {
    local port=$1
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing listens on 127.0.0.1:$port after 30 s" >&2
    return 1
}

start() { # name port command...
    local name=$1 port=$2
    shift 2
    RUST_LOG=${RUST_LOG:-warn} "$@" >"$OUT/logs/$MODE-$name.log" 2>&1 &
    PIDS+=($!)
    NAMES+=("$name")
    LAST_PID=$!
    wait_for_port "$port"
}

fresh_database() {
    dropdb --if-exists "$DATABASE"
    createdb "$DATABASE"
    DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DATABASE"
}

start_mode() { # sets GATEWAYS (--gateway flags), PROTOCOL and GATEWAY_PID
    GATEWAYS=()
    PROTOCOL=()
    local secret prefix
    secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    prefix="chatbench:$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n'):"
    case $MODE in
    single) # the bench's clients all come from loopback: the cap per address is off
        local data
        data=$(mktemp -d /tmp/chat-bench-data.XXXXXX)
        DATA_DIRS+=("$data")
        start chat-backend "${GATEWAY_PORTS[0]}" env LISTEN_ADDR="127.0.0.1:${GATEWAY_PORTS[0]}" \
            DATA_DIR="$data" JWT_SECRET="$secret" MAX_CONNECTIONS_PER_ADDRESS=0 "$BIN/chat-backend"
        GATEWAY_PID=$LAST_PID
        GATEWAYS=(--gateway "http://127.0.0.1:${GATEWAY_PORTS[0]}")
        ;;
    services | services2)
        fresh_database
        start auth "$AUTH_PORT" env LISTEN_ADDR="127.0.0.1:$AUTH_PORT" DATABASE_URL="$DATABASE_URL" \
            JWT_SECRET="$secret" "$BIN/auth-service"
        start presence "$PRESENCE_PORT" env LISTEN_ADDR="127.0.0.1:$PRESENCE_PORT" \
            REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="$prefix" "$BIN/presence-service"
        start chat "$CHAT_PORT" env LISTEN_ADDR="127.0.0.1:$CHAT_PORT" DATABASE_URL="$DATABASE_URL" \
            REDIS_URL="$REDIS_URL" REDIS_KEY_PREFIX="$prefix" \
            PRESENCE_URL="http://127.0.0.1:$PRESENCE_PORT" "$BIN/chat-service"
        local replicas=1 i
        [[ $MODE == services2 ]] && replicas=2
        for ((i = 0; i < replicas; i++)); do
            local port=${GATEWAY_PORTS[$i]}
            start "gateway-$i" "$port" env LISTEN_ADDR="127.0.0.1:$port" NODE_ID="bench-gw-$i" \
                AUTH_URL="http://127.0.0.1:$AUTH_PORT" CHAT_URL="http://127.0.0.1:$CHAT_PORT" \
                PRESENCE_URL="http://127.0.0.1:$PRESENCE_PORT" REDIS_URL="$REDIS_URL" \
                REDIS_KEY_PREFIX="$prefix" MAX_CONNECTIONS_PER_ADDRESS=0 "$BIN/gateway"
            [[ $i == 0 ]] && GATEWAY_PID=$LAST_PID
            GATEWAYS+=(--gateway "http://127.0.0.1:$port")
        done
        ;;
    socketio | socketio2)
        install_peers
        local nodes=1 i redis=()
        [[ $MODE == socketio2 ]] && nodes=2 redis=(REDIS_URL="$REDIS_URL" REDIS_PREFIX="${prefix}sio")
        for ((i = 0; i < nodes; i++)); do
            local port=${PEER_PORTS[$i]}
            start "socketio-$i" "$port" env PORT="$port" "${redis[@]}" \
                node "$ROOT/bench/peers/socketio/server.mjs"
            [[ $i == 0 ]] && GATEWAY_PID=$LAST_PID
            GATEWAYS+=(--gateway "http://127.0.0.1:$port")
        done
        PROTOCOL=(--protocol socketio)
        ;;
    prosody)
        install_prosody
        local dir as_prosody=()
        dir=$(mktemp -d /tmp/chat-bench-prosody.XXXXXX)
        mkdir "$dir/certs" # none: plain ws:// on loopback, but Prosody looks for the directory
        sed -e "s|@DATA@|$dir|g" -e "s|@PORT@|$PROSODY_PORT|g" \
            "$ROOT/bench/peers/prosody/prosody.cfg.lua" >"$dir/prosody.cfg.lua"
        if [[ ${PROSODY_ARCHIVE:-on} == off ]]; then # no room archived: what the archive costs
            sed -i -E 's/^(\s*muc_log_(all_rooms|by_default)) = true/\1 = false/' "$dir/prosody.cfg.lua"
        fi
        # Prosody refuses to run as root; setpriv keeps the process id (for its CPU and memory).
        if [[ $EUID == 0 ]]; then
            chown -R prosody:prosody "$dir"
            as_prosody=(setpriv --reuid=prosody --regid=prosody --init-groups)
        fi
        start prosody "$PROSODY_PORT" "${as_prosody[@]}" prosody --config "$dir/prosody.cfg.lua" -F
        GATEWAY_PID=$LAST_PID
        GATEWAYS=(--gateway "http://127.0.0.1:$PROSODY_PORT")
        PROTOCOL=(--protocol xmpp)
        ;;
    *) echo "unknown mode $MODE (single, services, services2, all, socketio, socketio2, prosody, peers)" >&2; exit 2 ;;
    esac
}

# Debian's prosody package (0.12), from apt, when no prosody is installed.
install_prosody() {
    command -v prosody >/dev/null && return 0
    command -v apt-get >/dev/null || { echo "the Prosody peer needs prosody (or apt-get to install it)" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prosody \
        >"$OUT/logs/apt-prosody.log" 2>&1 ||
        { echo "installing prosody failed: see $OUT/logs/apt-prosody.log" >&2; exit 1; }
}

# The peers' packages, pinned by their package-lock.json, from the npm registry.
install_peers() {
    local dir=$ROOT/bench/peers/socketio
    [[ -d $dir/node_modules/socket.io ]] && return 0
    command -v npm >/dev/null || { echo "the Socket.IO peer needs Node.js and npm" >&2; exit 1; }
    npm ci --prefix "$dir" --no-audit --no-fund >"$OUT/logs/npm-ci.log" 2>&1 ||
        { echo "npm ci in $dir failed: see $OUT/logs/npm-ci.log" >&2; exit 1; }
}

scenario_args() {
    case $1 in
    # Idle connections are held by one gateway: the first.
    idle) echo "${GATEWAYS[*]:0:2} idle --connections $IDLE_CONNECTIONS --per-user 100 --hold 20 --gateway-pid $GATEWAY_PID" ;;
    fanout) echo "${GATEWAYS[*]} fanout --groups $FANOUT_GROUPS --members $FANOUT_MEMBERS --rate $FANOUT_RATE --duration $FANOUT_DURATION" ;;
    send) echo "${GATEWAYS[*]} send --senders $SEND_SENDERS --per-group $SEND_PER_GROUP --rate $SEND_RATE --duration $SEND_DURATION" ;;
    reconnect) echo "${GATEWAYS[*]} reconnect --groups $RECONNECT_GROUPS --members $RECONNECT_MEMBERS --messages $RECONNECT_MESSAGES" ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
    esac
}

run_mode() {
    MODE=$1
    echo "=== $MODE ==="
    start_mode
    local scenario status=0
    for scenario in $SCENARIOS; do
        if [[ ($MODE == socketio* || $MODE == prosody) && $scenario == reconnect ]]; then
            echo "  ($MODE has no catch-up to measure: reconnect skipped)"
            continue
        fi
        local before name=$MODE-$scenario$LABEL
        before=$(cpu_snapshot)
        local timer=()
        [[ -x /usr/bin/time ]] && timer=(/usr/bin/time -a -o "$OUT/logs/$name.bench.log"
            -f "  chat-bench used %U s user + %S s system CPU")
        # The servers' CPU once the setup (registrations hash passwords) is over: from the
        # moment the tool says its sockets are connected.
        rm -f "$OUT/logs/$name.cpu-after-setup"
        (
            for _ in $(seq 1 9000); do
                if grep -q 'sockets connected' "$OUT/logs/$name.bench.log" 2>/dev/null; then
                    cpu_snapshot >"$OUT/logs/$name.cpu-after-setup"
                    exit 0
                fi
                sleep 0.1
            done
        ) &
        local watcher=$!
        # shellcheck disable=SC2046
        "${timer[@]}" "$BIN/chat-bench" --json-out "$OUT/$name.json" "${PROTOCOL[@]}" $(scenario_args "$scenario") \
            2>"$OUT/logs/$name.bench.log" | tee "$OUT/$name.txt" || status=1
        local after
        after=$(cpu_snapshot)
        kill "$watcher" 2>/dev/null || true
        wait "$watcher" 2>/dev/null || true
        echo "  CPU seconds during the run: $(cpu_delta "$before" "$after")" | tee -a "$OUT/$name.txt"
        if [[ -s $OUT/logs/$name.cpu-after-setup ]]; then
            local traffic total delivered
            traffic=$(cpu_delta "$(cat "$OUT/logs/$name.cpu-after-setup")" "$after")
            total=$(awk '{ for (i = 2; i <= NF; i += 3) sum += $i } END { printf "%.1f", sum }' <<<"$traffic")
            echo "  CPU seconds after the setup: $traffic(servers in all: $total s)" | tee -a "$OUT/$name.txt"
            delivered=$(awk '$1 == "delivered" { print $2 }' "$OUT/$name.txt")
            if [[ -n $delivered && $delivered -gt 0 ]]; then
                echo "  server CPU per 1,000 deliveries: $(awk -v t="$total" -v d="$delivered" 'BEGIN { printf "%.3f", t * 1000 / d }') s" |
                    tee -a "$OUT/$name.txt"
            fi
        fi
        grep -v '^chat-bench:' "$OUT/logs/$MODE-$scenario$LABEL.bench.log" | tail -n 3 | tee -a "$OUT/$MODE-$scenario$LABEL.txt" || true
    done
    stop_all
    return $status
}

overall=0
case $MODES in
all) for mode in single services services2; do run_mode "$mode" || overall=1; done ;;
peers) for mode in socketio socketio2 prosody; do run_mode "$mode" || overall=1; done ;;
*) run_mode "$MODES" || overall=1 ;;
esac
exit $overall
