# shellcheck shell=bash
# Used by scripts/demo.sh and scripts/bench-drain.sh: a throwaway cloud side, a PostgreSQL
# cluster, an influxd and the sync-service, each started as a child in its own session (so a
# Ctrl-C meant for the agent does not reach them; the caller stops them with cloud_stop) with
# its data and log under $CLOUD_DIR. Needs Debian's postgresql, influxdb and curl.
#
# The caller sets CLOUD_DIR (an absolute path) before calling anything here.

# PIDs of what cloud_start_* started, in start order, and their names.
CLOUD_PIDS=()
CLOUD_NAMES=()
# A directory outside the repo for PostgreSQL, when the postgres user cannot reach
# $CLOUD_DIR (a checkout under /root); removed by cloud_stop.
CLOUD_PG_TMP=""

# port_in_use PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port PORT: PORT if nothing listens on it, else the next free port above it.
free_port() {
    local port=$1 last=$(($1 + 100))
    while port_in_use "$port"; do
        port=$((port + 1))
        if [ "$port" -gt "$last" ]; then
            echo "no free port in $1..$last" >&2
            return 1
        fi
    done
    echo "$port"
}

# alive PID: true while PID runs (a zombie, exited but not yet reaped, counts as gone).
alive() {
    local state
    { read -r _ _ state _ <"/proc/$1/stat"; } 2>/dev/null || return 1
    [ "$state" != "Z" ]
}

# cloud_spawn NAME LOG DIR COMMAND...: runs COMMAND in DIR in a session of its own, output to
# LOG, and remembers it (also in $CLOUD_DIR/pids, for cloud_kill_leftovers).
cloud_spawn() {
    local name=$1 log=$2 dir=$3
    shift 3
    (cd "$dir" && exec setsid "$@" </dev/null >"$log" 2>&1) &
    CLOUD_PIDS+=("$!")
    CLOUD_NAMES+=("$name")
    echo "$! $name" >>"$CLOUD_DIR/pids"
}

# cloud_kill_leftovers: stops what a previous demo that was killed (SIGKILL, a closed
# terminal) left running, by the PIDs it recorded, if they still are those programs.
cloud_kill_leftovers() {
    local pid name comm
    [ -f "$CLOUD_DIR/pids" ] || return 0
    while read -r pid name; do
        comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
        if [ "$comm" = "$name" ]; then
            echo "    stopping $name (PID $pid) left over from an earlier demo"
            CLOUD_PIDS+=("$pid")
            CLOUD_NAMES+=("$name")
        fi
    done <"$CLOUD_DIR/pids"
    cloud_stop
}

# cloud_wait NAME SECONDS CHECK...: polls CHECK until it succeeds; fails with the end of NAME's
# log if NAME exits first or SECONDS pass.
cloud_wait() {
    local name=$1 seconds=$2 i pid="" log
    shift 2
    for i in "${!CLOUD_NAMES[@]}"; do
        [ "${CLOUD_NAMES[$i]}" = "$name" ] && pid=${CLOUD_PIDS[$i]}
    done
    log="$CLOUD_DIR/$name.log"
    for ((i = 0; i < seconds * 5; i++)); do
        if "$@"; then
            return 0
        fi
        if [ -n "$pid" ] && ! alive "$pid"; then
            echo "${0##*/}: $name exited before it was ready; the end of $log:" >&2
            tail -n 20 "$log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "${0##*/}: $name not ready within ${seconds}s; the end of $log:" >&2
    tail -n 20 "$log" >&2
    return 1
}

# pg_bin: the newest /usr/lib/postgresql/<version>/bin that has initdb.
pg_bin() {
    local dir
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    [ -x "$dir/initdb" ] || {
        echo "${0##*/}: no PostgreSQL server binaries (apt-get install postgresql)" >&2
        return 1
    }
    echo "$dir"
}

# cloud_start_postgres PORT: initdb (trust auth for the superuser postgres) in
# $CLOUD_DIR/postgres/data and a server on 127.0.0.1:PORT with its socket beside the data.
# PostgreSQL refuses to run as root, so as root both run as the postgres system user.
# Sets PG_BIN and PG_PORT.
cloud_start_postgres() {
    local dir="$CLOUD_DIR/postgres" as=()
    PG_BIN=$(pg_bin)
    PG_PORT=$1
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then
        as=(setpriv --reuid=postgres --regid=postgres --init-groups)
        chown postgres: "$dir"
        if ! "${as[@]}" test -w "$dir"; then
            # e.g. the checkout is under /root (mode 700): the postgres user cannot get in.
            CLOUD_PG_TMP=$(mktemp -d /tmp/farm-demo-postgres.XXXXXX)
            chown postgres: "$CLOUD_PG_TMP"
            echo "    (the postgres user cannot reach $dir; the cluster lives in $CLOUD_PG_TMP)"
            dir=$CLOUD_PG_TMP
        fi
    fi
    # A Unix socket path must stay under 108 bytes.
    local socket_dir=$dir
    if [ "${#socket_dir}" -gt 80 ]; then
        socket_dir=""
    fi
    if ! (cd "$dir" && "${as[@]}" "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres \
        --no-sync -E UTF8 --locale=C) >"$CLOUD_DIR/initdb.log" 2>&1; then
        echo "${0##*/}: initdb failed:" >&2
        cat "$CLOUD_DIR/initdb.log" >&2
        return 1
    fi
    cloud_spawn postgres "$CLOUD_DIR/postgres.log" "$dir" "${as[@]}" "$PG_BIN/postgres" \
        -D "$dir/data" -p "$PG_PORT" -k "$socket_dir" -c listen_addresses=127.0.0.1 \
        -c fsync=off -c full_page_writes=off -c synchronous_commit=off
}

# pg_ready: true when the server accepts connections.
pg_ready() {
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres
}

# pg_sql DB SQL [psql options...]: runs SQL on DB as the superuser.
pg_sql() {
    local db=$1 sql=$2
    shift 2
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "$db" \
        "$@" -c "$sql"
}

# cloud_start_influxd PORT: influxd (Debian's 1.x) with a generated config, HTTP on
# 127.0.0.1:PORT, its RPC address on the next free port two above, reporting disabled, data in
# $CLOUD_DIR/influxdb. Sets INFLUX_PORT.
cloud_start_influxd() {
    local dir="$CLOUD_DIR/influxdb" rpc
    INFLUX_PORT=$1
    rpc=$(free_port $((INFLUX_PORT + 2)))
    mkdir -p "$dir"
    cat >"$dir/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc"

[meta]
  dir = "$dir/meta"

[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$INFLUX_PORT"
  auth-enabled = false
  log-enabled = false

[logging]
  level = "warn"
  suppress-logo = true

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false
CONF
    cloud_spawn influxd "$CLOUD_DIR/influxd.log" "$dir" /usr/bin/influxd run -config "$dir/influxdb.conf"
}

# influx_ready: true when influxd answers /ping with 204.
influx_ready() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$INFLUX_PORT/ping")" = 204 ]
}

# http_ok URL: true when URL answers 200.
http_ok() {
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ]
}

# cloud_stop: stops everything cloud_start_* started, newest first (SIGTERM; PostgreSQL gets
# SIGINT, its fast shutdown), waits up to 15 s for each, then SIGKILLs what still runs.
cloud_stop() {
    local i pid name tries
    for ((i = ${#CLOUD_PIDS[@]} - 1; i >= 0; i--)); do
        pid=${CLOUD_PIDS[$i]}
        name=${CLOUD_NAMES[$i]}
        alive "$pid" || { wait "$pid" 2>/dev/null || true; continue; }
        if [ "$name" = postgres ]; then
            kill -INT "$pid" 2>/dev/null || true
        else
            kill -TERM "$pid" 2>/dev/null || true
        fi
        for ((tries = 0; tries < 75; tries++)); do
            alive "$pid" || break
            sleep 0.2
        done
        if alive "$pid"; then
            echo "    $name (PID $pid) did not stop within 15 s; killing it" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    CLOUD_PIDS=()
    CLOUD_NAMES=()
    rm -f "$CLOUD_DIR/pids"
    if [ -n "$CLOUD_PG_TMP" ]; then
        rm -rf "$CLOUD_PG_TMP"
        CLOUD_PG_TMP=""
    fi
}
