#!/usr/bin/env bash
# The local demo: the edge agent on a simulated farm (two growing rooms, ten minutes of farm
# time per real minute) regulating a fruiting room's humidity, CO2 and temperature, buffering
# every reading and event in its SQLite outbox under ./demo/farm-data.
# Stop it with Ctrl-C (it flushes, switches everything to its safe state and exits 0);
# DEMO_SECONDS=N stops it after N seconds. Afterwards it prints what the outbox holds and what
# the control loops did. The cloud side joins in with later releases.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

if ! command -v sqlite3 >/dev/null; then
    echo "==> installing sqlite3 (to show the outbox afterwards)"
    apt-get update -q && apt-get install -y -q sqlite3
fi

echo "==> building edge-agent (release)"
cargo build --release --locked -p edge-agent
bin="$PWD/target/release/edge-agent"

mkdir -p demo
# Written afresh each run, so it always matches this version of the agent.
# The documented example, sped up 10x (10 farm seconds per second) with the control
# timings scaled to match, the embedded MQTT broker on localhost for a room node
# "room-node" / "demo-password", and the control API open to the token "demo-token".
hash=$(printf 'demo-password\n' | "$bin" mqtt hash-password)
token_hash=$(printf 'demo-token\n' | "$bin" mqtt hash-password)
"$bin" generate-config | sed \
    -e 's/^speed = 1.0$/speed = 10.0/' \
    -e 's/^period = "2m"$/period = "12s"/' -e 's/^period = "10m"$/period = "1m"/' \
    -e 's/^min_on = "30s"$/min_on = "3s"/' -e 's/^min_off = "30s"$/min_off = "3s"/' \
    -e 's/^min_on = "1m"$/min_on = "6s"/' -e 's/^min_off = "1m"$/min_off = "6s"/' \
    | awk -v token="$token_hash" '{ print } /^listen = "0.0.0.0:8080"$/ { print "api_token_hash = \"" token "\"" }' \
    > demo/config.toml
cat >> demo/config.toml <<TOML

[mqtt]
enabled = true
listen = "127.0.0.1:1883"

[[mqtt.users]]
name = "room-node"
password_hash = "$hash"
TOML
"$bin" validate --config demo/config.toml

echo "==> running the edge agent on the simulated farm; Ctrl-C stops it"
echo "    a room node can publish:  mosquitto_pub -h 127.0.0.1 -u room-node -P demo-password \\"
echo "      -t farm/fruiting-1/esp32-a/telemetry -m '{\"readings\": {\"co2\": 900}}'"
echo "    metrics:                  curl -s http://127.0.0.1:8080/metrics"
echo "    control state:            curl -s http://127.0.0.1:8080/api/control"
echo "    run the fan for 5 minutes: curl -s -X PUT -H 'Authorization: Bearer demo-token' \\"
echo "      -d '{\"state\": \"on\", \"for\": \"5m\"}' http://127.0.0.1:8080/api/actuators/fruiting-1-fan/override"
cd demo
status=0
if [ -n "${DEMO_SECONDS:-}" ]; then
    timeout --signal=TERM --preserve-status "${DEMO_SECONDS}" "$bin" run --config config.toml || status=$?
else
    "$bin" run --config config.toml || status=$?
fi
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
