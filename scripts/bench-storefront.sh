#!/usr/bin/env bash
# Storefront read speed (issue 7): GET /v1/products/{sku} (availability: lots, holds, per
# farm) from the release cloud-api at a fixed request rate with oha, as configured by default
# (availability answered from the read cache, which PostgreSQL notifications keep exact)
# and with the read cache off (http.read_cache_max_age = "0s": one query per request),
# beside pgbench -S (select-only transactions) and pgbench running the API's own availability
# query, against the same PostgreSQL, in the same run, ROUNDS times (the order alternating),
# with the medians at the end.
#
#   scripts/bench-storefront.sh                       (RATE=10000 DURATION=20 ROUNDS=3)
#   RATE=5000 DURATION=5 ROUNDS=1 scripts/bench-storefront.sh   (a quick check)
#
# Needs Debian's postgresql (15) and jq; installs oha with cargo (under ~/.cache) if it is
# not on PATH. Starts its own PostgreSQL (fsync=off: a bench, not a store) on a free
# loopback port in a temp dir and cloud-api on another; stops both and removes the dir on
# exit. The catalogue: one tenant, 2 farms, 20 products, 40 lots (some expired), 30 live
# holds; the SKU read is one with lots on both farms and holds.
set -euo pipefail
cd "$(dirname "$0")/.."
rate="${RATE:-10000}"
duration="${DURATION:-20}"
rounds="${ROUNDS:-3}"
connections="${CONNECTIONS:-50}"
pool="${POOL:-8}"

log() { printf '%s\n' "$*" >&2; }
die() {
    log "bench-storefront: $*"
    exit 1
}
command -v jq >/dev/null || die "jq is missing (apt-get install jq)"
oha=$(command -v oha || true)
if [[ -z "$oha" ]]; then
    oha="$HOME/.cache/farm-bench/bin/oha"
    if [[ ! -x "$oha" ]]; then
        log "installing oha (once) into ~/.cache/farm-bench ..."
        cargo install oha --locked --quiet --root "$HOME/.cache/farm-bench"
    fi
fi
# shellcheck source=scripts/lib/cloud.sh
source scripts/lib/cloud.sh

cargo build --release --locked -p cloud-api 2>/dev/null || cargo build --release --locked -p cloud-api
api_bin="${CARGO_TARGET_DIR:-$PWD/target}/release/cloud-api"

dir=$(mktemp -d)
chmod 755 "$dir"
CLOUD_DIR="$dir"
api_pid="" uncached_pid=""
cleanup() {
    local pid
    for pid in $api_pid $uncached_pid; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    cloud_stop
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PG_PORT=$(free_port 54400)
cloud_start_postgres "$PG_PORT"
cloud_wait postgres 30 pg_ready
pg_sql postgres "CREATE DATABASE farm" >/dev/null
pg_sql postgres "CREATE DATABASE pgbench" >/dev/null
"$PG_BIN/pgbench" -q -i -s 10 -h 127.0.0.1 -p "$PG_PORT" -U postgres pgbench >/dev/null 2>&1

api_port=$(free_port 8480)
cat >"$dir/cloud-api.toml" <<TOML
[http]
listen = "127.0.0.1:$api_port"

[postgres]
url = "postgres://postgres@127.0.0.1:$PG_PORT/farm"
pool_size = $pool

[rate_limit]
per_second = 1000000
burst = 1000000
TOML
uncached_port=$(free_port $((api_port + 1)))
sed -e "s/^listen = .*/listen = \"127.0.0.1:$uncached_port\"\nread_cache_max_age = \"0s\"/" \
    "$dir/cloud-api.toml" >"$dir/uncached.toml"
api() { "$api_bin" "$@" --config "$dir/cloud-api.toml"; }
api tenant add --tenant bench >/dev/null 2>&1
api farm add --tenant bench --farm north >/dev/null 2>&1
api farm add --tenant bench --farm south >/dev/null 2>&1
for i in $(seq -w 1 20); do
    api product add --tenant bench --sku "SKU-$i" --name "Product $i" --unit kg \
        --shelf-life-days 7 >/dev/null 2>&1
done
key=$(api key add --tenant bench --name bench 2>/dev/null)
# 40 lots: two per product, one per farm, of different ages (those 8 days old are expired);
# 30 live holds on SKU-01, the product read.
pg_sql farm "
INSERT INTO devices (id, farm_id, token_sha256)
    SELECT 'bench-' || slug, id, sha256(slug::bytea) FROM farms;
INSERT INTO device_events (event_id, device_id, seq, ts, kind, body)
    SELECT gen_random_uuid(), d.id, n, now(), 'harvest', '{}'
    FROM devices d, generate_series(1, 20) n;
INSERT INTO lots (tenant_id, farm_id, product_id, event_id, lot_code, room, quantity,
                  remaining, harvested_at, best_before)
    SELECT f.tenant_id, f.id, p.id, e.event_id, 'L' || e.seq, 'room-1', 50, 50,
           now() - make_interval(days => (e.seq % 9)::int),
           now() - make_interval(days => (e.seq % 9)::int) + interval '7 days'
    FROM device_events e JOIN devices d ON d.id = e.device_id JOIN farms f ON f.id = d.farm_id
    JOIN products p ON p.sku = 'SKU-' || lpad(e.seq::text, 2, '0');
INSERT INTO reservations (id, tenant_id, status, expires_at)
    SELECT gen_random_uuid(), tenant_id, 'held', now() + interval '1 day'
    FROM products, generate_series(1, 30) WHERE sku = 'SKU-01';
INSERT INTO reservation_items (reservation_id, product_id, quantity, held_until)
    SELECT r.id, p.id, 0.5, r.expires_at FROM reservations r, products p WHERE p.sku = 'SKU-01';
ANALYZE;" >/dev/null

(exec setsid "$api_bin" run --config "$dir/cloud-api.toml" </dev/null >"$dir/cloud-api.log" 2>&1) &
api_pid=$!
(exec setsid "$api_bin" run --config "$dir/uncached.toml" </dev/null >"$dir/uncached.log" 2>&1) &
uncached_pid=$!
url="http://127.0.0.1:$api_port/v1/products/SKU-01"
uncached_url="http://127.0.0.1:$uncached_port/v1/products/SKU-01"
for port in "$api_port" "$uncached_port"; do
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
        sleep 0.1
    done
done
for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$api_port/metrics" | grep -q '^farm_api_read_cache_live 1' && break
    sleep 0.1
done
body=$(curl -fsS -H "Authorization: Bearer $key" "$url") || die "the API does not answer: $(tail -5 "$dir/cloud-api.log")"
log "GET /v1/products/SKU-01 → $body"

run_oha() { # URL → "rps p50_ms p99_ms success_rate count_200"
    "$oha" --no-tui --output-format json -z "${duration}s" -q "$rate" -c "$connections" \
        --latency-correction -H "Authorization: Bearer $key" "$1" |
        jq -r '[.summary.requestsPerSec, .latencyPercentiles.p50 * 1000,
                .latencyPercentiles.p99 * 1000, .summary.successRate,
                (.statusCodeDistribution["200"] // 0)] | @tsv'
}
run_pgbench() { # → tps
    "$PG_BIN/pgbench" -n -S -c 8 -j 2 -T "$duration" -h 127.0.0.1 -p "$PG_PORT" -U postgres \
        pgbench 2>/dev/null | awk '/^tps/ {print $3}'
}
# The API's own availability query (cut from cloud-api/src/products.rs), run by pgbench as a
# prepared statement: what PostgreSQL alone can answer, without HTTP or the service.
awk '/^const PRODUCT_JSON: &str = "/ {on = 1; next} on && /^WHERE p.tenant_id = \$1";/ {
        print "WHERE p.tenant_id = (SELECT id FROM tenants WHERE slug = \x27bench\x27) AND p.sku = \x27SKU-01\x27;"; exit }
     on {print}' cloud-api/src/products.rs >"$dir/availability.sql"
grep -q "SKU-01" "$dir/availability.sql" || die "could not cut the availability query from cloud-api/src/products.rs"
run_query() { # → tps
    "$PG_BIN/pgbench" -n -M prepared -f "$dir/availability.sql" -c 8 -j 2 -T "$duration" \
        -h 127.0.0.1 -p "$PG_PORT" -U postgres farm 2>/dev/null | awk '/^tps/ {print $3}'
}

log "warming up (3 s at $rate req/s)"
for u in "$url" "$uncached_url"; do
    "$oha" --no-tui -z 3s -q "$rate" -c "$connections" -H "Authorization: Bearer $key" "$u" >/dev/null
done
api_rps=() api_p50=() api_p99=() pg_tps=() query_tps=() un_rps=() un_p50=() un_p99=()
for round in $(seq 1 "$rounds"); do
    if ((round % 2)); then
        read -r rps p50 p99 ok n200 < <(run_oha "$url")
        read -r urps up50 up99 uok un200 < <(run_oha "$uncached_url")
        tps=$(run_pgbench)
        qtps=$(run_query)
    else
        qtps=$(run_query)
        tps=$(run_pgbench)
        read -r urps up50 up99 uok un200 < <(run_oha "$uncached_url")
        read -r rps p50 p99 ok n200 < <(run_oha "$url")
    fi
    printf 'round %d at %d req/s: API %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d × 200 of %.4f | cache off %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d × 200 of %.4f | pgbench -S %.0f tps | availability query in pgbench %.0f tps\n' \
        "$round" "$rate" "$rps" "$p50" "$p99" "$n200" "$ok" "$urps" "$up50" "$up99" "$un200" "$uok" "$tps" "$qtps"
    api_rps+=("$rps") api_p50+=("$p50") api_p99+=("$p99") pg_tps+=("$tps") query_tps+=("$qtps")
    un_rps+=("$urps") un_p50+=("$up50") un_p99+=("$up99")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
printf 'median of %d rounds at a fixed %d req/s: API %.0f req/s, p50 %.2f ms, p99 %.2f ms | cache off %.0f req/s, p50 %.2f ms, p99 %.2f ms | pgbench -S %.0f tps | availability query in pgbench %.0f tps\n' \
    "$rounds" "$rate" "$(median "${api_rps[@]}")" "$(median "${api_p50[@]}")" "$(median "${api_p99[@]}")" \
    "$(median "${un_rps[@]}")" "$(median "${un_p50[@]}")" "$(median "${un_p99[@]}")" \
    "$(median "${pg_tps[@]}")" "$(median "${query_tps[@]}")"
log "machine: $(nproc) cores, $(uname -m); cloud-api pool_size $pool; oha $connections connections; pgbench -c 8 -j 2 -S, scale 10"
