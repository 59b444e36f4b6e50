#!/usr/bin/env bash
# scripts/deps.sh: make sure the Postgres and the Redis the tests need are reachable, and export
# their URLs. It prints (on stderr) what it found and what it did.
#
#   source scripts/deps.sh        exports TEST_DATABASE_URL and TEST_REDIS_URL in this shell
#                                 (scripts/test.sh does this)
#   scripts/deps.sh               the same work; prints `export ...` lines on stdout, so
#                                 eval "$(scripts/deps.sh)" does what sourcing does
#
# What it does, for each service:
#   - TEST_DATABASE_URL / TEST_REDIS_URL set by you: only checks that they answer (Postgres: that
#     `select 1` works with that URL and that its role may CREATE DATABASE; Redis: PING). Nothing is
#     started, installed or changed. Fails with the reason if not.
#   - Otherwise it uses loopback: postgres://postgres@127.0.0.1:5432/postgres and
#     redis://127.0.0.1:6379, in this order:
#       1. already answering (pg_isready / redis-cli PING, or bash's /dev/tcp when those are
#          missing): use it;
#       2. installed but stopped: start it. Postgres: the Debian cluster on that port, or, with
#          DEPS_PG_PORT unset and no cluster on 5432, the first cluster pg_lsclusters lists (its
#          port then goes into the URL; Debian's package puts its cluster on 5433 when 5432 is
#          taken at install time): pg_ctlcluster --skip-systemctl-redirect <ver> <name> start;
#          installed without any cluster: pg_createcluster first. Redis: redis-server
#          --daemonize yes --bind 127.0.0.1 -::1 --save "" --appendonly no (keeps nothing on disk;
#          as root with --dir /var/lib/redis, log /var/log/redis/redis-<port>.log, else under
#          ${TMPDIR:-/tmp}/chat-backend-redis-<port>/). No systemd is needed or used;
#       3. not installed, and we are root on Debian: apt-get install -y postgresql / redis-server
#          (apt-get update first only if the install fails), then as in 2;
#       4. otherwise: says exactly what is missing and how to provide it, and fails (exit 1).
#     Then waits (up to DEPS_WAIT_SECS, default 30 s) until the service answers.
#   - Postgres login: the tests connect as role `postgres` over TCP with no password. Debian's
#     default pg_hba.conf asks for a password (scram-sha-256) on 127.0.0.1 and ::1. Only if that
#     connection fails, and only for a cluster of this machine that we (root) manage, it inserts
#     these lines at the TOP of that cluster's pg_hba.conf (keeping a copy in
#     pg_hba.conf.before-deps-sh) and reloads the cluster:
#         host all postgres 127.0.0.1/32 trust
#         host all postgres ::1/128 trust
#     i.e. passwordless login as `postgres` from this machine only. Nothing else is changed.
#
# Knobs (all optional): DEPS_PG_PORT (5432), DEPS_REDIS_PORT (6379), DEPS_WAIT_SECS (30),
# DEPS_NO_INSTALL=1 (never run apt-get).
#
# Exports: TEST_DATABASE_URL, TEST_REDIS_URL.
#
# When sourced, the work runs in a subshell with `set -euo pipefail`, so sourcing it from an
# interactive shell neither changes that shell's options nor closes it on failure; the status
# of `source` is 0 when both services are usable, 1 otherwise.

deps__log() { printf '[deps] %s\n' "$*" >&2; }
deps__die() {
    local line
    for line in "$@"; do printf '[deps] ERROR: %s\n' "$line" >&2; done
    exit 1
}
deps__have() { command -v "$1" >/dev/null 2>&1; }
deps__is_root() { [[ "$(id -u)" == 0 ]]; }
deps__redact() { sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#' <<<"$1"; }

# "host port" of a URL such as scheme://user:pass@host:port/path?query (IPv6 in brackets).
deps__url_hostport() {
    local url=$1 default_port=$2 rest host port=""
    rest=${url#*://}
    rest=${rest%%[/?#]*}
    rest=${rest##*@}
    if [[ $rest == \[* ]]; then
        host=${rest#[}
        host=${host%%]*}
        port=${rest#*]}
        port=${port#:}
    else
        host=${rest%%:*}
        [[ $rest == *:* ]] && port=${rest##*:}
    fi
    printf '%s %s\n' "${host:-127.0.0.1}" "${port:-$default_port}"
}

deps__tcp_open() { # host port
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 3 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# Runs "$@" until it succeeds or $1 seconds pass.
deps__wait_for() {
    local secs=$1 deadline
    shift
    deadline=$((SECONDS + secs))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.5
    done
}

deps__can_install() {
    [[ ${DEPS_NO_INSTALL:-0} != 1 && -f /etc/debian_version ]] && deps__is_root && deps__have apt-get
}

deps__why_no_install() {
    if [[ ${DEPS_NO_INSTALL:-0} == 1 ]]; then
        echo "DEPS_NO_INSTALL=1 is set"
    elif [[ ! -f /etc/debian_version ]]; then
        echo "this is not a Debian machine (no /etc/debian_version)"
    elif ! deps__is_root; then
        echo "not running as root (uid $(id -u))"
    else
        echo "apt-get is not available"
    fi
}

deps__apt_install() {
    local apt=(apt-get -y -q -o DPkg::Lock::Timeout=300)
    deps__log "installing Debian package(s) $*: ${apt[*]} install $*"
    if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "$@" </dev/null >&2; then
        deps__log "install failed; running apt-get update and trying once more"
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" update </dev/null >&2 ||
            deps__die "apt-get update failed (see above)"
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" install "$@" </dev/null >&2 ||
            deps__die "apt-get install $* failed (see above)"
    fi
}

# ---------------------------------------------------------------- Postgres

deps__pg_answers() { # url
    if deps__have pg_isready; then
        pg_isready -q -t 3 -d "$1" >/dev/null 2>&1
    else
        local hp
        hp=$(deps__url_hostport "$1" 5432)
        deps__tcp_open "${hp% *}" "${hp#* }"
    fi
}

# Runs a query with the URL, the way the tests will: no password prompt. With "local", any
# PGPASSWORD or ~/.pgpass is ignored too, as our own URL must work without them. Prints the
# result, or psql's error message when it fails.
deps__psql() { # local|user url sql
    local mode=$1 url=$2 sql=$3 errf out rc=0
    local env=(env)
    [[ $mode == local ]] && env+=(-u PGPASSWORD PGPASSFILE=/nonexistent/deps-sh-no-pgpass)
    env+=(PGCONNECT_TIMEOUT=5)
    errf=$(mktemp)
    out=$("${env[@]}" psql -X -w -q -t -A -d "$url" -c "$sql" </dev/null 2>"$errf") || rc=$?
    if ((rc == 0)); then
        printf '%s\n' "$out"
    else
        tr '\n' ' ' <"$errf"
        echo
    fi
    rm -f "$errf"
    return "$rc"
}

# Prints "ver name port status" of the Debian cluster to use, or nothing. With DEPS_PG_PORT
# unset, a cluster on another port is taken when none is on 5432.
deps__pg_cluster() { # port
    deps__have pg_lsclusters || return 0
    local port=$1
    pg_lsclusters -h 2>/dev/null | awk -v port="$port" -v any="${DEPS_PG_PORT:+no}" '
        $3 == port { print $1, $2, $3, $4; found = 1; exit }
        any != "no" && first == "" { first = $1 " " $2 " " $3 " " $4 }
        END { if (!found && first != "") print first }'
}

deps__pg_logfile() { # ver name
    pg_lsclusters -h 2>/dev/null | awk -v v="$1" -v n="$2" '$1 == v && $2 == n { print $7 }'
}

deps__pg_start() { # ver name
    local ver=$1 name=$2
    deps__log "Postgres: starting cluster $ver/$name: pg_ctlcluster --skip-systemctl-redirect $ver $name start"
    if ! pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start </dev/null >&2; then
        # Someone else may have started it at the same moment; the wait below decides.
        deps__log "Postgres: pg_ctlcluster start failed (see above); waiting to see if it answers anyway"
    fi
}

deps__pg_not_answering() { # url ver name
    local log
    log=$(deps__pg_logfile "$2" "$3")
    if [[ -n $log && -r $log ]]; then
        deps__log "Postgres: last lines of $log:"
        tail -n 20 "$log" >&2
    fi
    deps__die "Postgres cluster $2/$3 did not answer at $1 within ${DEPS_WAIT_SECS:-30} s" \
        "(is listen_addresses in /etc/postgresql/$2/$3/postgresql.conf including localhost?)"
}

deps__pg_missing() { # port reason
    deps__die "Postgres is not reachable on 127.0.0.1:$1, and no PostgreSQL cluster is installed" \
        "that this script could start. It cannot install one because $2." \
        "Provide one of:" \
        "  - a local server: e.g. as root on Debian/Ubuntu 'apt-get install postgresql' then" \
        "    'pg_ctlcluster <version> main start', with role postgres allowed to log in over TCP" \
        "    from 127.0.0.1 without a password (pg_hba.conf: host all postgres 127.0.0.1/32 trust);" \
        "    then run this again (as root it does all of that itself);" \
        "  - or an existing server: export TEST_DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DB" \
        "    whose role may CREATE DATABASE."
}

# Puts passwordless loopback login for role postgres at the top of the cluster's pg_hba.conf.
deps__pg_trust_loopback() { # ver name
    local ver=$1 name=$2 hba marker="# added by chat-backend scripts/deps.sh"
    hba=/etc/postgresql/$ver/$name/pg_hba.conf
    [[ -f $hba ]] || deps__die "Postgres: no $hba to fix"
    if grep -qF "$marker" "$hba"; then
        deps__log "Postgres: $hba already has our trust lines; not adding them again"
        return 1
    fi
    deps__log "Postgres: adding passwordless loopback login for role postgres at the top of $hba" \
        "(copy of the original in $hba.before-deps-sh), then reloading the cluster"
    [[ -e $hba.before-deps-sh ]] || cp -p "$hba" "$hba.before-deps-sh"
    local tmp
    tmp=$(mktemp)
    {
        printf '%s: tests log in as postgres over TCP without a password\n' "$marker"
        printf 'host    all    postgres    127.0.0.1/32    trust\n'
        printf 'host    all    postgres    ::1/128         trust\n\n'
        cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba" # keeps the file's owner and mode
    rm -f "$tmp"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" reload </dev/null >&2 ||
        deps__die "Postgres: reloading cluster $ver/$name failed"
}

deps__pg_check_createdb() { # mode url
    local out
    out=$(deps__psql "$1" "$2" "select (rolsuper or rolcreatedb)::int from pg_roles where rolname = current_user") ||
        deps__die "Postgres: could not query $(deps__redact "$2"): $out"
    [[ $out == 1 ]] ||
        deps__die "Postgres: the role in $(deps__redact "$2") may not CREATE DATABASE, which the tests need" \
            "(grant it with: ALTER ROLE <role> CREATEDB)"
}

deps__ensure_postgres() {
    local wait=${DEPS_WAIT_SECS:-30} out

    if [[ -n ${TEST_DATABASE_URL:-} ]]; then
        local url=$TEST_DATABASE_URL shown
        shown=$(deps__redact "$url")
        deps__log "Postgres: TEST_DATABASE_URL is set ($shown); only checking it"
        deps__pg_answers "$url" ||
            deps__die "Postgres: nothing answers at TEST_DATABASE_URL=$shown" \
                "(unset TEST_DATABASE_URL to let this script use or start a local one)"
        if deps__have psql; then
            out=$(deps__psql user "$url" "select 1") ||
                deps__die "Postgres: server at $shown answers, but logging in failed:" "$out"
            deps__pg_check_createdb user "$url"
        else
            deps__log "Postgres: psql not found, so only checked that the server answers, not the login"
        fi
        deps__log "Postgres: ok ($shown)"
        DEPS_DATABASE_URL=$url
        return
    fi

    local port=${DEPS_PG_PORT:-5432} cluster="" ver="" name="" status=""
    local url=postgres://postgres@127.0.0.1:$port/postgres

    if deps__pg_answers "$url"; then
        deps__log "Postgres: 127.0.0.1:$port answers; using it"
    else
        cluster=$(deps__pg_cluster "$port")
        if [[ -z $cluster ]]; then
            if ! deps__can_install; then
                deps__pg_missing "$port" "$(deps__why_no_install)"
            fi
            deps__log "Postgres: nothing answers on 127.0.0.1:$port and no cluster is installed"
            deps__apt_install postgresql
            cluster=$(deps__pg_cluster "$port")
            if [[ -z $cluster ]]; then
                ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n 1)
                [[ -n $ver ]] || deps__die "Postgres: installed, but found no version under /usr/lib/postgresql"
                name=main
                [[ -e /etc/postgresql/$ver/main ]] && name=port$port
                deps__log "Postgres: creating cluster $ver/$name: pg_createcluster --port $port $ver $name"
                pg_createcluster --port "$port" "$ver" "$name" </dev/null >&2 ||
                    deps__die "Postgres: pg_createcluster failed"
                cluster=$(deps__pg_cluster "$port")
            fi
            [[ -n $cluster ]] || deps__die "Postgres: installed, but pg_lsclusters lists no cluster"
        fi
        read -r ver name port status <<<"$cluster"
        url=postgres://postgres@127.0.0.1:$port/postgres
        if [[ $status == online* ]]; then
            deps__log "Postgres: cluster $ver/$name (port $port) is $status; waiting for it to answer"
        else
            if ! deps__is_root && [[ $(id -un) != "$(stat -c %U "/etc/postgresql/$ver/$name" 2>/dev/null)" ]]; then
                deps__die "Postgres: cluster $ver/$name (port $port) is installed but stopped, and only root" \
                    "or its owner can start it. Start it with:" \
                    "  sudo pg_ctlcluster --skip-systemctl-redirect $ver $name start" \
                    "or export TEST_DATABASE_URL to use another server."
            fi
            deps__pg_start "$ver" "$name"
        fi
        deps__wait_for "$wait" deps__pg_answers "$url" || deps__pg_not_answering "$url" "$ver" "$name"
        deps__log "Postgres: cluster $ver/$name answers on 127.0.0.1:$port"
    fi

    if ! deps__have psql; then
        deps__log "Postgres: psql not found; assuming role postgres may log in without a password"
        DEPS_DATABASE_URL=$url
        return
    fi

    if ! out=$(deps__psql local "$url" "select 1"); then
        deps__log "Postgres: logging in as postgres to 127.0.0.1:$port without a password failed: $out"
        [[ -n $cluster ]] || cluster=$(DEPS_PG_PORT=$port deps__pg_cluster "$port")
        if [[ -z $cluster ]] || ! deps__is_root; then
            deps__die "Postgres: the tests need to log in as postgres to 127.0.0.1:$port with no password." \
                "Allow it (pg_hba.conf: host all postgres 127.0.0.1/32 trust, then reload), run this" \
                "script as root to let it do that, or export TEST_DATABASE_URL with a password."
        fi
        read -r ver name _ _ <<<"$cluster"
        deps__pg_trust_loopback "$ver" "$name" ||
            deps__die "Postgres: login still fails although pg_hba.conf has our trust lines:" "$out"
        deps__wait_for 10 deps__psql local "$url" "select 1" >/dev/null ||
            deps__die "Postgres: login as postgres still fails after the pg_hba.conf change:" \
                "$(deps__psql local "$url" "select 1")"
        deps__log "Postgres: login as postgres without a password works now"
    fi
    deps__pg_check_createdb local "$url"
    DEPS_DATABASE_URL=$url
}

# ---------------------------------------------------------------- Redis

# Prints the server's reply to PING; succeeds only on PONG.
deps__redis_ping() { # url
    local out
    if deps__have redis-cli; then
        out=$(timeout 5 redis-cli --no-auth-warning -u "$1" ping 2>&1 </dev/null) || true
    else
        local hp
        hp=$(deps__url_hostport "$1" 6379)
        # shellcheck disable=SC2016 # expanded by the inner bash
        out=$(timeout 5 bash -c '
            exec 3<>"/dev/tcp/$1/$2" || exit 1
            printf "PING\r\n" >&3
            IFS= read -r line <&3
            printf "%s" "$line"' _ "${hp% *}" "${hp#* }" 2>/dev/null) || true
        out=${out%$'\r'}
        out=${out#+}
    fi
    printf '%s\n' "${out:-no answer}"
    [[ $out == PONG ]]
}

deps__redis_start() { # port
    local port=$1 dir log
    if deps__is_root; then
        dir=/var/lib/redis
        log=/var/log/redis/redis-$port.log
    else
        dir=${TMPDIR:-/tmp}/chat-backend-redis-$port
        log=$dir/redis.log
    fi
    mkdir -p "$dir" "$(dirname "$log")"
    deps__log "Redis: starting: redis-server --daemonize yes --bind 127.0.0.1 -::1 --port $port" \
        "--save '' --appendonly no --dir $dir --logfile $log"
    if ! redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$port" \
        --save "" --appendonly no --dir "$dir" --logfile "$log" </dev/null >&2; then
        deps__log "Redis: redis-server failed to start (see above)"
    fi
    DEPS_REDIS_LOG=$log
}

deps__ensure_redis() {
    local wait=${DEPS_WAIT_SECS:-30} out

    if [[ -n ${TEST_REDIS_URL:-} ]]; then
        local url=$TEST_REDIS_URL shown
        shown=$(deps__redact "$url")
        deps__log "Redis: TEST_REDIS_URL is set ($shown); only checking it"
        out=$(deps__redis_ping "$url") ||
            deps__die "Redis: PING to TEST_REDIS_URL=$shown failed: $out" \
                "(unset TEST_REDIS_URL to let this script use or start a local one)"
        deps__log "Redis: ok ($shown)"
        DEPS_REDIS_URL=$url
        return
    fi

    local port=${DEPS_REDIS_PORT:-6379}
    local url=redis://127.0.0.1:$port

    if out=$(deps__redis_ping "$url"); then
        deps__log "Redis: 127.0.0.1:$port answers PING; using it"
    else
        deps__log "Redis: no PONG from 127.0.0.1:$port ($out)"
        if ! deps__have redis-server; then
            if ! deps__can_install; then
                deps__die "Redis is not reachable on 127.0.0.1:$port and redis-server is not installed;" \
                    "this script cannot install it because $(deps__why_no_install)." \
                    "Provide one of:" \
                    "  - a local server: e.g. as root on Debian/Ubuntu 'apt-get install redis-server'," \
                    "    then run this again (it starts redis-server itself), or start one on port $port;" \
                    "  - or an existing server: export TEST_REDIS_URL=redis://[:PASSWORD@]HOST:PORT"
            fi
            deps__apt_install redis-server
            # The package may have started its own (where services may start); if so, use that.
            if out=$(deps__redis_ping "$url"); then
                deps__log "Redis: the package's server answers on 127.0.0.1:$port"
                DEPS_REDIS_URL=$url
                return
            fi
        fi
        DEPS_REDIS_LOG=""
        deps__redis_start "$port"
        if ! deps__wait_for "$wait" deps__redis_ping "$url" >/dev/null; then
            if [[ -n $DEPS_REDIS_LOG && -r $DEPS_REDIS_LOG ]]; then
                deps__log "Redis: last lines of $DEPS_REDIS_LOG:"
                tail -n 20 "$DEPS_REDIS_LOG" >&2
            fi
            deps__die "Redis did not answer PING on 127.0.0.1:$port within $wait s"
        fi
        deps__log "Redis: answers on 127.0.0.1:$port"
    fi
    DEPS_REDIS_URL=$url
}

# ---------------------------------------------------------------- main

# Does the work and writes `export ...` lines to the file $1 (- for stdout).
deps__main() {
    local out=$1
    DEPS_DATABASE_URL="" DEPS_REDIS_URL=""
    deps__ensure_postgres
    deps__ensure_redis
    local exports
    exports=$(printf 'export TEST_DATABASE_URL=%q\nexport TEST_REDIS_URL=%q' \
        "$DEPS_DATABASE_URL" "$DEPS_REDIS_URL")
    if [[ $out == - ]]; then
        printf '%s\n' "$exports" # not >/dev/stdout, which would truncate a file stdout points to
    else
        printf '%s\n' "$exports" >"$out"
    fi
    deps__log "TEST_DATABASE_URL=$(deps__redact "$DEPS_DATABASE_URL")"
    deps__log "TEST_REDIS_URL=$(deps__redact "$DEPS_REDIS_URL")"
}

deps__sourced() {
    local env_file rc had_e=0
    env_file=$(mktemp) || return 1
    [[ $- == *e* ]] && had_e=1
    set +e
    (
        set -euo pipefail
        deps__main "$env_file"
    )
    rc=$?
    ((had_e)) && set -e
    if ((rc == 0)); then
        # shellcheck source=/dev/null
        source "$env_file"
    fi
    rm -f "$env_file"
    return "$rc"
}

if [[ ${BASH_SOURCE[0]} != "$0" ]]; then
    deps__sourced
else
    set -euo pipefail
    deps__main -
fi
