#!/usr/bin/env bash
# Memory and CPU of edge-agent (release) ingesting MQTT telemetry from 50 room nodes: 50
# mosquitto_pub processes (farm/room<i%5>/node<i>/telemetry, 3 readings a message) each publish
# once a second for 60 s into the agent's embedded broker (no local sensors, HTTP off). Prints
# the readings committed, peak RSS (VmHWM), RSS at the end (VmRSS) and CPU time, from /proc.
#   scripts/bench-mqtt-rss.sh [seconds]     (default 60; needs mosquitto_pub from mosquitto-clients)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/measure.sh
source scripts/lib/measure.sh
seconds="${1:-60}"
nodes=50

cargo build --release --locked -p edge-agent 2>/dev/null || cargo build --release --locked -p edge-agent
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/edge-agent"
dir=$(mktemp -d)
pid=""
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; fi
    rm -rf "$dir"
}
trap cleanup EXIT

# Port 0: the agent picks a free port and logs it.
printf '[agent]\ndata_dir = "%s/data"\nlog_level = "warn"\n\n[http]\nlisten = ""\n\n[mqtt]\nenabled = true\nlisten = "127.0.0.1:0"\nallow_anonymous = true\n' \
    "$dir" > "$dir/config.toml"
"$bin" validate --config "$dir/config.toml" >/dev/null

RUST_LOG=warn,rumqttd=off,edge_agent::agent=info,edge_agent::mqtt=info \
    "$bin" run --config "$dir/config.toml" 2>"$dir/log" &
pid=$!
port=""
for _ in $(seq 1 100); do
    port=$(grep -o 'address=127\.0\.0\.1:[0-9]*' "$dir/log" | head -n 1 | cut -d: -f2 || true)
    [[ -n "$port" ]] && break
    sleep 0.1
done
if [[ -z "$port" ]]; then
    echo "the agent did not report its MQTT port:" >&2
    cat "$dir/log" >&2
    exit 1
fi

publishers=()
for i in $(seq 0 $((nodes - 1))); do
    mosquitto_pub -h 127.0.0.1 -p "$port" -i "bench-node$i" -q 1 \
        -t "farm/room$((i % 5))/node$i/telemetry" \
        -m '{"readings":{"temperature":21,"humidity":90,"co2":850}}' \
        --repeat "$seconds" --repeat-delay 1 &
    publishers+=("$!")
done
failed=0
for p in "${publishers[@]}"; do
    wait "$p" || failed=$((failed + 1))
done

measure_and_stop "$pid" "$dir/log" "$seconds" > "$dir/figures"
pid=""
echo "nodes: ${nodes} at 1s for ${seconds}s (${failed} publishers failed); expected $((nodes * seconds * 3)) readings; committed ${COMMITTED} readings and events"
cat "$dir/figures"
