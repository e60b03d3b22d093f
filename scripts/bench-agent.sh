#!/usr/bin/env bash
# Memory and CPU of edge-agent (release) sampling 40 simulated sensors every second for 60 s
# (10 rooms x 4 sensors; temperature, humidity and CO2 each, plus the derived VPD and dew
# point: 200 readings/s into the outbox). Prints peak RSS (VmHWM), RSS at the end (VmRSS) and
# CPU time over the run, read from /proc.
#   scripts/bench-agent.sh [seconds]     (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/measure.sh
source scripts/lib/measure.sh
seconds="${1:-60}"

cargo build --release --locked -p edge-agent 2>/dev/null || cargo build --release --locked -p edge-agent
bin="$PWD/target/release/edge-agent"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

{
    printf '[agent]\ndata_dir = "%s/data"\nlog_level = "warn"\n\n' "$dir"
    for room in $(seq 1 10); do
        for sensor in $(seq 1 4); do
            printf '[[sensors]]\nname = "room%s-sensor%s"\nkind = "simulated"\nroom = "room%s"\ninterval = "1s"\n\n' \
                "$room" "$sensor" "$room"
        done
    done
} > "$dir/config.toml"
"$bin" validate --config "$dir/config.toml" >/dev/null

RUST_LOG=warn,edge_agent::agent=info "$bin" run --config "$dir/config.toml" 2>"$dir/log" &
pid=$!
sleep "$seconds"
measure_and_stop "$pid" "$dir/log" "$seconds" > "$dir/figures"
echo "sensors: 40 at 1s for ${seconds}s; committed ${COMMITTED} readings and events"
cat "$dir/figures"
