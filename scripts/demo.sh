#!/usr/bin/env bash
# The local demo, edge and cloud: the edge agent on a simulated farm (two growing rooms, ten
# minutes of farm time per real minute) regulating a fruiting room's humidity, CO2 and
# temperature, buffering every reading and event in its SQLite outbox under ./demo/farm-data
# and syncing them every 2 s to a local sync-service, which writes the readings to InfluxDB
# (database "farm") and the events to PostgreSQL, where harvest events become stock that the
# storefront API (cloud-api) sells.
#
# The cloud side runs as throwaway processes started here (as root, installing Debian's
# influxdb, influxdb-client, postgresql, sqlite3 and curl when missing): a PostgreSQL cluster
# on 127.0.0.1:54329 and an influxd on 127.0.0.1:8086 (each the next free port if that one is
# taken), the sync-service on 127.0.0.1:8470 and cloud-api on 127.0.0.1:8480, with their data,
# configs and logs under ./demo/cloud; the device is provisioned with `sync-service provision`
# and its token written to ./demo/device-token, the catalogue (two products) made with
# `cloud-api product add` and a storefront key written to ./demo/storefront-key. Once the agent
# runs, the demo records a harvest at the edge (POST /api/harvests) and shows it arriving as
# availability in the storefront API. Each run starts afresh (demo/cloud, demo/farm-data and the token are
# removed first), and everything started here is stopped when the script exits, also on
# Ctrl-C or an error.
#
# Stop the agent with Ctrl-C (it flushes, switches everything to its safe state and exits 0);
# DEMO_SECONDS=N stops it after N seconds. Afterwards the script prints what the outbox holds,
# what the control loops did, and what reached the cloud: the points per measurement in
# InfluxDB next to the outbox's counts, the synced watermark, and the events in PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
root=$PWD
# shellcheck source=scripts/lib/cloud.sh
source scripts/lib/cloud.sh

missing=()
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v curl >/dev/null || missing+=(curl)
[ -x /usr/bin/influxd ] || missing+=(influxdb)
command -v influx >/dev/null || missing+=(influxdb-client)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    apt-get update -q && apt-get install -y -q "${missing[@]}"
fi

echo "==> building edge-agent, sync-service and cloud-api (release)"
cargo build --release --locked -p edge-agent -p sync-service -p cloud-api
bin="$root/target/release/edge-agent"
sync_bin="$root/target/release/sync-service"
api_bin="$root/target/release/cloud-api"

CLOUD_DIR="$root/demo/cloud"
mkdir -p demo
# Whatever an earlier demo left: processes (if it was killed), then the data.
cloud_kill_leftovers
rm -rf demo/cloud demo/farm-data demo/device-token demo/storefront-key
mkdir -p demo/cloud

on_exit() {
    local status=$?
    trap - EXIT INT TERM
    if [ "${#CLOUD_PIDS[@]}" -gt 0 ]; then
        echo "==> stopping the cloud side (cloud-api, sync-service, influxd, PostgreSQL)"
        cloud_stop
    fi
    exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Written afresh each run, so it always matches this version of the agent.
# The documented example, sped up 10x (10 farm seconds per second) with the control
# timings scaled to match, the embedded MQTT broker on localhost for a room node
# "room-node" / "demo-password", the control API open to the token "demo-token", and the
# control panel for the user "manager" / "demo-password".
hash=$(printf 'demo-password\n' | "$bin" mqtt hash-password)
token_hash=$(printf 'demo-token\n' | "$bin" mqtt hash-password)
panel_hash=$(printf 'demo-password\n' | "$bin" mqtt hash-password)
"$bin" generate-config | sed \
    -e 's/^speed = 1.0$/speed = 10.0/' \
    -e 's/^period = "2m"$/period = "12s"/' -e 's/^period = "10m"$/period = "1m"/' \
    -e 's/^min_on = "30s"$/min_on = "3s"/' -e 's/^min_off = "30s"$/min_off = "3s"/' \
    -e 's/^min_on = "1m"$/min_on = "6s"/' -e 's/^min_off = "1m"$/min_off = "6s"/' \
    | awk -v token="$token_hash" '{ print } /^listen = "0.0.0.0:8080"$/ { print "api_token_hash = \"" token "\"" }' \
    > demo/config.toml
device=$(sed -n 's/^device_id = "\(.*\)"$/\1/p' demo/config.toml | head -n 1)
if [ -z "$device" ]; then
    echo "demo: no agent.device_id in demo/config.toml" >&2
    exit 1
fi

echo "==> starting the cloud side (logs in demo/cloud/)"
started=$SECONDS
cloud_start_postgres "$(free_port 54329)"
cloud_start_influxd "$(free_port 8086)"
cloud_wait postgres 30 pg_ready
cloud_wait influxd 30 influx_ready
echo "    PostgreSQL on 127.0.0.1:$PG_PORT, influxd on 127.0.0.1:$INFLUX_PORT"
pg_sql postgres 'CREATE DATABASE sync'
curl -sSf -o /dev/null -X POST "http://127.0.0.1:$INFLUX_PORT/query" \
    --data-urlencode 'q=CREATE DATABASE farm'

sync_port=$(free_port 8470)
cat >demo/cloud/sync.toml <<TOML
# The demo's sync-service: written by scripts/demo.sh.
[http]
listen = "127.0.0.1:$sync_port"

[postgres]
url = "postgres://postgres@127.0.0.1:$PG_PORT/sync"

[influxdb]
api = "v1"
url = "http://127.0.0.1:$INFLUX_PORT"
database = "farm"
TOML
# provision applies the schema, creates tenant, farm and device and prints the token (only).
if ! (umask 077 && "$sync_bin" provision --config demo/cloud/sync.toml --tenant demo \
    --farm demo-farm --device "$device" >demo/device-token 2>demo/cloud/provision.log); then
    echo "demo: sync-service provision failed:" >&2
    cat demo/cloud/provision.log >&2
    exit 1
fi
cloud_spawn sync-service "$CLOUD_DIR/sync-service.log" "$root" \
    env RUST_LOG=info "$sync_bin" run --config "$CLOUD_DIR/sync.toml"
cloud_wait sync-service 60 http_ok "http://127.0.0.1:$sync_port/readyz"
echo "    sync-service on 127.0.0.1:$sync_port; device $device of farm demo-farm (tenant demo)"

api_port=$(free_port 8480)
cat >demo/cloud/api.toml <<TOML
# The demo's cloud-api (storefront): written by scripts/demo.sh.
[http]
listen = "127.0.0.1:$api_port"

[postgres]
url = "postgres://postgres@127.0.0.1:$PG_PORT/sync"
TOML
api() { "$api_bin" "$@" --config demo/cloud/api.toml 2>>demo/cloud/admin.log; }
api product add --tenant demo --sku OYS-BLUE --name "Blue oyster mushrooms" --unit kg \
    --shelf-life-days 7 --low-stock-threshold 2 >/dev/null
api product add --tenant demo --sku LION-EA --name "Lion's mane, whole" --unit each \
    --shelf-life-days 5 >/dev/null
(umask 077 && api key add --tenant demo --name demo-shop >demo/storefront-key)
cloud_spawn cloud-api "$CLOUD_DIR/cloud-api.log" "$root" \
    env RUST_LOG=info "$api_bin" run --config "$CLOUD_DIR/api.toml"
cloud_wait cloud-api 60 http_ok "http://127.0.0.1:$api_port/readyz"
echo "    cloud-api on 127.0.0.1:$api_port; products OYS-BLUE (kg) and LION-EA (each)"
echo "    the cloud side took $((SECONDS - started)) s to start"

cat >>demo/config.toml <<TOML

[mqtt]
enabled = true
listen = "127.0.0.1:1883"

[[mqtt.users]]
name = "room-node"
password_hash = "$hash"

[sync]
enabled = true
url = "http://127.0.0.1:$sync_port"
token_file = "device-token"
interval = "2s"

[[panel.users]]
name = "manager"
password_hash = "$panel_hash"

[[products]]
sku = "OYS-BLUE"
name = "Blue oyster mushrooms"
unit = "kg"

[[products]]
sku = "LION-EA"
name = "Lion's mane, whole"
unit = "each"
TOML
(cd demo && "$bin" validate --config config.toml)

query="SELECT last(value) FROM humidity GROUP BY room"
echo "==> running the edge agent on the simulated farm; Ctrl-C stops it"
echo "    a room node can publish:  mosquitto_pub -h 127.0.0.1 -u room-node -P demo-password \\"
echo "      -t farm/fruiting-1/esp32-a/telemetry -m '{\"readings\": {\"co2\": 900}}'"
echo "    the control panel:        http://127.0.0.1:8080/  (sign in as manager / demo-password)"
echo "    metrics:                  curl -s http://127.0.0.1:8080/metrics"
echo "    control state:            curl -s http://127.0.0.1:8080/api/control"
echo "    run the fan for 5 minutes: curl -s -X PUT -H 'Authorization: Bearer demo-token' \\"
echo "      -d '{\"state\": \"on\", \"for\": \"5m\"}' http://127.0.0.1:8080/api/actuators/fruiting-1-fan/override"
echo "    the data in InfluxDB:     influx -port $INFLUX_PORT -database farm -precision rfc3339 \\"
echo "      -execute '$query'"
echo "      or: curl -sG http://127.0.0.1:$INFLUX_PORT/query --data-urlencode db=farm \\"
echo "            --data-urlencode 'q=$query'"
echo "    the events in PostgreSQL: psql -h 127.0.0.1 -p $PG_PORT -U postgres -d sync \\"
echo "      -c \"SELECT ts, kind, body->>'actuator' AS actuator, body->>'state' AS state FROM device_events ORDER BY seq DESC LIMIT 10\""
echo "    sync-service metrics:     curl -s http://127.0.0.1:$sync_port/metrics"
echo "    record a harvest:         curl -s -H 'Authorization: Bearer demo-token' -H 'Content-Type: application/json' \\"
echo "      -d '{\"room\": \"fruiting-1\", \"product\": \"LION-EA\", \"quantity\": 12, \"unit\": \"each\"}' http://127.0.0.1:8080/api/harvests"
echo "    storefront availability:  curl -s -H \"Authorization: Bearer \$(cat demo/storefront-key)\" \\"
echo "      http://127.0.0.1:$api_port/v1/products/OYS-BLUE"

# The harvest the demo records itself, once the agent serves: 3.2 kg of blue oysters from
# fruiting-1, then the storefront's view of it as soon as it has synced.
show_harvest() {
    local key answer i
    key=$(cat "$root/demo/storefront-key")
    for ((i = 0; i < 150; i++)); do
        answer=$(curl -sS -X POST -H 'Authorization: Bearer demo-token' \
            -H 'Content-Type: application/json' \
            -d '{"room": "fruiting-1", "product": "OYS-BLUE", "quantity": 3.2, "unit": "kg"}' \
            http://127.0.0.1:8080/api/harvests 2>/dev/null) && break
        sleep 0.2
    done
    echo "==> harvest recorded at the edge: $answer"
    for ((i = 0; i < 150; i++)); do
        answer=$(curl -sS -H "Authorization: Bearer $key" \
            "http://127.0.0.1:$api_port/v1/products/OYS-BLUE" 2>/dev/null) || answer=""
        case $answer in *'"status":"out_of_stock"'* | "") sleep 0.2 ;; *) break ;; esac
    done
    echo "==> the storefront (GET /v1/products/OYS-BLUE) after the next sync: $answer"
}
show_harvest &
cd demo
status=0
# Ctrl-C goes to the agent, which stops cleanly; the script then goes on to show the results.
trap ':' INT
if [ -n "${DEMO_SECONDS:-}" ]; then
    timeout --foreground --signal=TERM --preserve-status "${DEMO_SECONDS}" \
        "$bin" run --config config.toml || status=$?
else
    "$bin" run --config config.toml || status=$?
fi
trap 'exit 130' INT
# 130 = stopped by Ctrl-C through the shell: the agent itself flushed and exited cleanly.
if [ "$status" -ne 0 ] && [ "$status" -ne 130 ]; then
    exit "$status"
fi

echo
echo "==> what the outbox holds (demo/farm-data/outbox.sqlite)"
sqlite3 -header -column farm-data/outbox.sqlite "
  SELECT s.room, s.name AS sensor,
         CASE r.metric WHEN 1 THEN 'temperature' WHEN 2 THEN 'humidity' WHEN 3 THEN 'co2'
                       WHEN 4 THEN 'light' WHEN 5 THEN 'moisture' WHEN 6 THEN 'pressure'
                       WHEN 7 THEN 'vpd' ELSE 'dew_point' END AS metric,
         count(*) AS readings, round(min(r.value), 1) AS min, round(max(r.value), 1) AS max,
         round(avg(r.value), 1) AS mean
  FROM readings r JOIN sources s ON s.id = r.source GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;"

echo
echo "==> what the control loops did (events)"
sqlite3 -header -column farm-data/outbox.sqlite "
  SELECT kind, json_extract(body, '$.actuator') AS actuator, json_extract(body, '$.state') AS state,
         count(*) AS events
  FROM events GROUP BY 1, 2, 3 ORDER BY 1, 2, 3;"

echo
echo "==> what reached the cloud"
acked=$(sqlite3 farm-data/outbox.sqlite "SELECT value FROM meta WHERE key='acked_seq'")
committed=$(sqlite3 farm-data/outbox.sqlite "SELECT value - 1 FROM meta WHERE key='next_seq'")
read -r unsynced_readings unsynced_events < <(sqlite3 -separator ' ' farm-data/outbox.sqlite "
  SELECT (SELECT count(*) FROM readings WHERE seq > $acked),
         (SELECT count(*) FROM events WHERE seq > $acked);")
echo "outbox: committed up to seq $committed, synced (acked_seq) up to seq $acked"
if [ "$acked" -lt "$committed" ]; then
    echo "  not synced yet: $unsynced_readings readings and $unsynced_events events, committed after the last"
    echo "  batch (the uplink sends every 2 s and stops with the agent; they would go with the next one)"
fi
echo
echo "readings per metric: in the outbox, synced, and the points InfluxDB holds (database farm)"
# Outbox: metric, readings, synced. InfluxDB (the influx CLI, times as unix ms): the count,
# first and last point of each measurement, one query each so that first/last carry the
# point's time.
sqlite3 -separator ' ' farm-data/outbox.sqlite "
  SELECT CASE metric WHEN 1 THEN 'temperature' WHEN 2 THEN 'humidity' WHEN 3 THEN 'co2'
                     WHEN 4 THEN 'light' WHEN 5 THEN 'moisture' WHEN 6 THEN 'pressure'
                     WHEN 7 THEN 'vpd' ELSE 'dew_point' END,
         count(*), sum(seq <= $acked)
  FROM readings GROUP BY 1 ORDER BY 1;" >cloud/outbox-counts.txt
for fn in count first last; do
    influx -host 127.0.0.1 -port "$INFLUX_PORT" -database farm -format csv -precision ms \
        -execute "SELECT $fn(value) FROM /.*/" | awk -F, -v fn="$fn" '$1 != "name" { print fn, $1, $2, $3 }'
done >cloud/influx-summary.txt
awk '
    FNR == NR { outbox[$1] = $2; synced[$1] = $3; seen[$1] = 1; next }
    $1 == "count" { points[$2] = $4; seen[$2] = 1 }
    $1 == "first" { first[$2] = $3 }
    $1 == "last" { last[$2] = $3 }
    function t(ms) { return ms == "" ? "-" : strftime("%Y-%m-%d %H:%M:%S", int(ms / 1000), 1) sprintf(".%03d", ms % 1000) }
    END {
        printf "%-12s %8s %8s %9s  %-23s  %-23s\n", "metric", "outbox", "synced", "InfluxDB", "first point (UTC)", "last point (UTC)"
        n = 0
        for (m in seen) names[++n] = m
        for (i = 2; i <= n; i++) for (j = i; j > 1 && names[j - 1] > names[j]; j--) { s = names[j]; names[j] = names[j - 1]; names[j - 1] = s }
        for (i = 1; i <= n; i++) {
            m = names[i]
            printf "%-12s %8d %8d %9d  %-23s  %-23s\n", m, outbox[m], synced[m], points[m], t(first[m]), t(last[m])
            o += outbox[m]; y += synced[m]; p += points[m]
        }
        printf "%-12s %8d %8d %9d\n", "total", o, y, p
    }' cloud/outbox-counts.txt cloud/influx-summary.txt

echo
echo "events the cloud stored (PostgreSQL, database sync, table device_events)"
pg_sql sync "SELECT kind, count(*) AS events FROM device_events GROUP BY kind ORDER BY kind"
echo
echo "the storefront's stock (cloud-api, GET /v1/products?fields=sku,available,status,next_best_before)"
curl -s -H "Authorization: Bearer $(cat storefront-key)" \
    "http://127.0.0.1:$api_port/v1/products?fields=sku,available,status,next_best_before"
echo
echo "sync-service: $(curl -s "http://127.0.0.1:$sync_port/metrics" \
    | awk '/^farm_sync_batches_accepted_total / { b = $2 } /^farm_sync_readings_written_total / { r = $2 }
           END { print b " batches accepted, " r " readings written" }')"
echo "(demo/cloud/ keeps the logs and data until the next run; the cloud processes stop now)"
