#!/usr/bin/env bash
# Drain throughput (issue 6): a backlog of N readings (default 1,000,000) in the agent's
# outbox → uplink (gzip JSON batches of 5,000) → sync-service → InfluxDB, in readings/s end
# to end, beside the ceiling: the same points as line protocol posted straight to the same
# influxd with curl in 5,000-line batches, one curl after another (and, labelled: two at a
# time; one curl posting all the batches in turn over one kept-alive connection).
#
#   scripts/bench-drain.sh                    (N=1000000 ROUNDS=3)
#   N=100000 ROUNDS=1 scripts/bench-drain.sh  (a quick check)
#
# Needs Debian's influxdb (/usr/bin/influxd, 1.6) and postgresql (15) packages, curl, jq and
# split. Starts its own PostgreSQL (fsync=off: a bench, not a store) and influxd on free
# loopback ports in a temp dir, and sync-service and the agent on port 0; all are stopped and
# the temp dir removed on exit. Each round: a fresh outbox (edge-agent/examples/fill_outbox.rs,
# also writing the line-protocol copy), a fresh device, and the InfluxDB databases dropped and
# created again. The order inside a round alternates (odd: drain first; even: curl first).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${N:-1000000}"
rounds="${ROUNDS:-3}"
batch=5000
tenant=bench
farm=drain

log() { printf '%s\n' "$*" >&2; }
die() {
    log "bench-drain: $*"
    exit 1
}
for tool in /usr/bin/influxd curl jq split setpriv; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
# shellcheck source=scripts/lib/cloud.sh
source scripts/lib/cloud.sh

build() { cargo build --release --locked "$@" 2>/dev/null || cargo build --release --locked "$@"; }
build -p edge-agent -p sync-service
build -p edge-agent --example fill_outbox
target="${CARGO_TARGET_DIR:-$PWD/target}/release"
agent_bin="$target/edge-agent"
sync_bin="$target/sync-service"
fill_bin="$target/examples/fill_outbox"

dir=$(mktemp -d)
chmod 755 "$dir"
sync_pid="" agent_pid="" DRAIN="" CEILING=""
stop() { # stop PID SIGNAL: signal it and wait until it is gone
    local pid=$1 sig=$2
    [[ -n "$pid" ]] || return 0
    kill "-$sig" "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    stop "$agent_pid" TERM
    stop "$sync_pid" TERM
    cloud_stop
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU seconds × CLK_TCK (utime + stime) of PID; with "tree", plus its live children and its
# waited-for children (PostgreSQL's backends).
ticks() {
    local pid=$1 tree=${2:-} total child
    total=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    if [[ -n "$tree" ]]; then
        total=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat")
        for child in $(ps -o pid= --ppid "$pid"); do
            total=$((total + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0)))
        done
    fi
    echo "$total"
}
# Waited-for children of this script's shell (the curl processes); $$, not $BASHPID: this
# runs inside $(…).
child_ticks() { awk '{print $16 + $17}' "/proc/$$/stat"; }
hz=$(getconf CLK_TCK)
secs() { awk -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'; }
now_ns() { date +%s%N; }

# --- PostgreSQL and InfluxDB (scripts/lib/cloud.sh) -------------------------------------
CLOUD_DIR="$dir/cloud"
mkdir -p "$CLOUD_DIR"
cloud_start_postgres "$(free_port $((40000 + RANDOM % 10000)))"
cloud_wait postgres 60 pg_ready || die "PostgreSQL did not start"
pg_sql postgres 'CREATE DATABASE sync'
pg_port=$PG_PORT
pg_pid=${CLOUD_PIDS[0]}
cloud_start_influxd "$(free_port $((50000 + RANDOM % 10000)))"
cloud_wait influxd 60 influx_ready || die "influxd did not start"
influx_port=$INFLUX_PORT
influx_pid=${CLOUD_PIDS[1]}
influx="http://127.0.0.1:$influx_port"
influxql() { # influxql DB QUERY: the JSON answer; fails on an error
    local answer
    answer=$(curl -sS -XPOST "$influx/query" --data-urlencode "db=$1" --data-urlencode "q=$2")
    if jq -e '.error // (.results[]? | .error) // empty' <<<"$answer" >/dev/null; then
        die "InfluxQL $2 on $1: $answer"
    fi
    printf '%s\n' "$answer"
}
# "count sum" of field value over every measurement of DB.
points() {
    influxql "$1" 'SELECT count(value), sum(value) FROM /.*/' |
        jq -r '[.results[0].series[]?.values[0]] | "\(map(.[1]) | add // 0) \(map(.[2]) | add // 0)"'
}
fresh_db() {
    influxql "" "DROP DATABASE \"$1\"" >/dev/null
    influxql "" "CREATE DATABASE \"$1\"" >/dev/null
}

# --- sync-service ---------------------------------------------------------------------------
mkdir -p "$dir/sync"
cat >"$dir/sync/sync.toml" <<EOF
[http]
listen = "127.0.0.1:0"

[postgres]
url = "postgres://postgres@127.0.0.1:$pg_port/sync"

[influxdb]
api = "v1"
url = "$influx"
database = "drain"
timeout = "30s"
EOF
fresh_db drain
# Each round provisions its own device (see below); one first, so the schema exists.
"$sync_bin" provision --config "$dir/sync/sync.toml" --tenant "$tenant" --farm "$farm" \
    --device warmup >/dev/null 2>"$dir/sync/provision.log"
RUST_LOG=info "$sync_bin" run --config "$dir/sync/sync.toml" >"$dir/sync/log" 2>&1 &
sync_pid=$!
# wait_address LOG PID: the address the process logged as "Listening. service=HTTP".
wait_address() {
    local addr=""
    for _ in $(seq 1 300); do
        addr=$(grep -a 'service=HTTP' "$1" | grep -o 'address=127\.0\.0\.1:[0-9]*' | head -n 1 | cut -d= -f2 || true)
        [[ -n "$addr" ]] && break
        kill -0 "$2" 2>/dev/null || break
        sleep 0.05
    done
    [[ -n "$addr" ]] || { cat "$1" >&2; die "no HTTP address in $1"; }
    echo "$addr"
}
sync_addr=$(wait_address "$dir/sync/log" "$sync_pid")
log "postgres :$pg_port, influxd :$influx_port, sync-service $sync_addr; $n readings, $rounds rounds"

# --- one round's parts --------------------------------------------------------------------
# drain ROUND: sets DRAIN to "seconds took_seconds agent_cpu sync_cpu influx_cpu pg_cpu" (CPU
# in s). Runs in this shell (not in $(…)), so that the exit trap knows the agent's pid.
drain() {
    local r=$1 rdir="$dir/round$1" t0 t1 acked addr took sync0 influx0 pg0 agent_cpu
    fresh_db drain
    cat >"$rdir/agent.toml" <<EOF
[agent]
device_id = "bench-r$r"
data_dir = "$rdir/data"
log_level = "info"

[http]
listen = "127.0.0.1:0"

[sync]
enabled = true
url = "http://$sync_addr"
token_file = "$rdir/token"
batch_readings = $batch
interval = "1s"
EOF
    "$agent_bin" validate --config "$rdir/agent.toml" >/dev/null
    sync0=$(ticks "$sync_pid")
    influx0=$(ticks "$influx_pid")
    pg0=$(ticks "$pg_pid" tree)
    t0=$(now_ns)
    "$agent_bin" run --config "$rdir/agent.toml" 2>"$rdir/agent.log" &
    agent_pid=$!
    addr=$(wait_address "$rdir/agent.log" "$agent_pid")
    acked=0
    while ((acked < n)); do
        kill -0 "$agent_pid" 2>/dev/null || { cat "$rdir/agent.log" >&2; die "the agent exited"; }
        sleep 0.1
        acked=$(curl -s "http://$addr/metrics" | awk '$1 == "farm_outbox_acked_seq" {print $2}')
        acked=${acked:-0}
    done
    t1=$(now_ns)
    agent_cpu=$(ticks "$agent_pid")
    local cpu_line
    cpu_line="$(secs "$agent_cpu") $(secs $(($(ticks "$sync_pid") - sync0))) $(secs $(($(ticks "$influx_pid") - influx0))) $(secs $(($(ticks "$pg_pid" tree) - pg0)))"
    # The agent's own figure: from the first delivered batch to the end.
    took=""
    for _ in $(seq 1 50); do
        took=$(grep -a 'Caught up' "$rdir/agent.log" | grep -o 'took=[0-9.]*[µmn]*s' | head -n 1 | cut -d= -f2 || true)
        [[ -n "$took" ]] && break
        sleep 0.1
    done
    took=$(awk -v t="${took:-0s}" 'BEGIN {
        v = t + 0; u = t; sub(/^[0-9.]+/, "", u)
        printf "%.3f", v / (u == "ms" ? 1e3 : u == "µs" ? 1e6 : u == "ns" ? 1e9 : 1) }')
    stop "$agent_pid" TERM
    agent_pid=""
    read -r count _ < <(points drain)
    [[ "$count" == "$n" ]] || die "round $r: InfluxDB db drain holds $count points, not $n"
    points drain >"$rdir/drain.points"
    DRAIN=$(awk -v a="$t0" -v b="$t1" -v took="$took" -v cpu="$cpu_line" \
        'BEGIN { printf "%.3f %s %s\n", (b - a) / 1e9, took, cpu }')
}

# ceiling ROUND DB HOW: posts the round's 5,000-line files to DB: HOW = 1, one curl per file,
# one after another; 2, two such curls at a time; keepalive, one curl for all the files in
# turn on one kept-alive connection (no process start per batch). Sets CEILING to "seconds influx_cpu curl_cpu".
ceiling() {
    local r=$1 db=$2 par=$3 rdir="$dir/round$1" t0 t1 influx0 curl0 count
    fresh_db "$db"
    influx0=$(ticks "$influx_pid")
    curl0=$(child_ticks)
    t0=$(now_ns)
    if [[ $par == 1 ]]; then
        for f in "$rdir"/lines/c*; do
            curl -sSf -o /dev/null -XPOST "$influx/write?db=$db&precision=ms" --data-binary "@$f"
        done
    elif [[ $par == keepalive ]]; then
        local args=() f
        for f in "$rdir"/lines/c*; do
            args+=(--next -sSf -o /dev/null -XPOST "$influx/write?db=$db&precision=ms" --data-binary "@$f")
        done
        curl "${args[@]:1}"
    else
        printf '%s\n' "$rdir"/lines/c* |
            xargs -P "$par" -I{} curl -sSf -o /dev/null -XPOST "$influx/write?db=$db&precision=ms" --data-binary @{}
    fi
    t1=$(now_ns)
    local cpu_line
    cpu_line="$(secs $(($(ticks "$influx_pid") - influx0))) $(secs $(($(child_ticks) - curl0)))"
    read -r count _ < <(points "$db")
    [[ "$count" == "$n" ]] || die "round $r: InfluxDB db $db holds $count points, not $n"
    points "$db" >"$rdir/$db.points"
    CEILING=$(awk -v a="$t0" -v b="$t1" -v cpu="$cpu_line" 'BEGIN { printf "%.3f %s\n", (b - a) / 1e9, cpu }')
}

# --- the rounds -----------------------------------------------------------------------------
results="$dir/results"
: >"$results"
for r in $(seq 1 "$rounds"); do
    rdir="$dir/round$r"
    mkdir -p "$rdir/data" "$rdir/lines"
    "$sync_bin" provision --config "$dir/sync/sync.toml" --tenant "$tenant" --farm "$farm" \
        --device "bench-r$r" >"$rdir/token" 2>>"$dir/sync/provision.log"
    "$fill_bin" "$rdir/data/outbox.sqlite" "$n" "$rdir/lines.lp" "$tenant" "$farm" "bench-r$r" >&2
    split -l "$batch" -a 4 -d "$rdir/lines.lp" "$rdir/lines/c"
    rm "$rdir/lines.lp"
    sync
    if ((r % 2 == 1)); then
        drain "$r"
        ceiling "$r" direct 1
        c1=$CEILING
        ceiling "$r" direct2 2
        c2=$CEILING
        ceiling "$r" directka keepalive
        ck=$CEILING
    else
        ceiling "$r" direct 1
        c1=$CEILING
        ceiling "$r" direct2 2
        c2=$CEILING
        ceiling "$r" directka keepalive
        ck=$CEILING
        drain "$r"
    fi
    d=$DRAIN
    # The three databases hold the same points (value sums agree).
    for db in direct direct2 directka; do
        cmp -s "$rdir/drain.points" "$rdir/$db.points" ||
            log "round $r: count/sum differ: drain $(cat "$rdir/drain.points"), $db $(cat "$rdir/$db.points")"
    done
    read -r ds took acpu scpu icpu pcpu <<<"$d"
    read -r cs ccpu_influx ccpu_curl <<<"$c1"
    read -r c2s _ _ <<<"$c2"
    read -r cks kcpu_influx kcpu_curl <<<"$ck"
    printf '%s %s %s %s %s %s %s %s %s %s %s %s %s %s\n' "$r" "$ds" "$took" "$cs" "$c2s" \
        "$acpu" "$scpu" "$icpu" "$pcpu" "$ccpu_influx" "$ccpu_curl" "$cks" "$kcpu_influx" "$kcpu_curl" >>"$results"
    awk -v n="$n" -v first="$((r % 2 == 1 ? 1 : 0))" '{ d = n / $2; c = n / $4
        printf "round %d (%s first): drain %.2f s = %.0f readings/s (agent took= %.2f s = %.0f/s) | curl %.2f s = %.0f/s | ratio %.3f\n", \
            $1, first ? "drain" : "curl", $2, d, $3, n / $3, $4, c, d / c
        printf "  also: curl x2 %.2f s = %.0f/s | curl keep-alive %.2f s = %.0f/s (ratio drain / keep-alive %.3f)\n", \
            $5, n / $5, $12, n / $12, d / (n / $12)
        printf "  CPU s: drain: agent %s, sync-service %s, influxd %s, postgres %s | curl: influxd %s, curl %s | keep-alive: influxd %s, curl %s\n", \
            $6, $7, $8, $9, $10, $11, $13, $14 }' <(tail -n 1 "$results")
    rm -rf "$rdir/lines" "$rdir/data"
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
col() { awk -v c="$1" -v n="$n" '{ print n / $c }' "$results" | median; }
drain_med=$(col 2)
took_med=$(col 3)
curl_med=$(col 4)
curl2_med=$(col 5)
curlka_med=$(col 12)
ratio_med=$(awk -v n="$n" '{ print (n / $2) / (n / $4) }' "$results" | median)
echo "median over $rounds rounds of $n readings (batches of $batch):"
awk -v d="$drain_med" -v t="$took_med" -v c="$curl_med" -v c2="$curl2_med" -v ck="$curlka_med" -v r="$ratio_med" 'BEGIN {
    printf "  drain (agent start → /metrics acked_seq = N): %.0f readings/s (agent took=: %.0f)\n", d, t
    printf "  curl, sequential 5,000-line batches:           %.0f readings/s\n", c
    printf "  curl, two at a time:                            %.0f readings/s\n", c2
    printf "  curl, one process, one kept-alive connection:   %.0f readings/s\n", ck
    printf "  ratio drain / sequential curl: median of rounds %.3f, of medians %.3f (target >= 0.7)\n", r, d / c
}'
