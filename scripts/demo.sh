#!/usr/bin/env bash
# The local demo: the edge agent on a simulated farm (two growing rooms, an hour of farm time
# per real minute), buffering every reading in its SQLite outbox under ./demo/farm-data.
# Stop it with Ctrl-C (it flushes and exits 0); DEMO_SECONDS=N stops it after N seconds.
# Afterwards it prints what the outbox holds. The cloud side joins in with later releases.
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
if [ ! -f demo/config.toml ]; then
    # The documented example, sped up so the rooms visibly drift (60 farm seconds per second),
    # with the embedded MQTT broker on localhost for a room node "room-node" / "demo-password".
    "$bin" generate-config | sed 's/^speed = 1.0$/speed = 60.0/' > demo/config.toml
    hash=$(printf 'demo-password\n' | "$bin" mqtt hash-password)
    cat >> demo/config.toml <<TOML

[mqtt]
enabled = true
listen = "127.0.0.1:1883"

[[mqtt.users]]
name = "room-node"
password_hash = "$hash"
TOML
fi
"$bin" validate --config demo/config.toml

echo "==> running the edge agent on the simulated farm; Ctrl-C stops it"
echo "    a room node can publish:  mosquitto_pub -h 127.0.0.1 -u room-node -P demo-password \\"
echo "      -t farm/fruiting-1/esp32-a/telemetry -m '{\"readings\": {\"co2\": 900}}'"
echo "    metrics:                  curl -s http://127.0.0.1:8080/metrics"
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
