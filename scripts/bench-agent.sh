#!/usr/bin/env bash
# Memory and CPU of edge-agent (release) sampling 40 simulated sensors every second for 60 s
# (10 rooms x 4 sensors; temperature, humidity and CO2 each, plus the derived VPD and dew
# point: 200 readings/s into the outbox). Prints peak RSS (VmHWM), RSS at the end (VmRSS) and
# CPU time over the run, read from /proc.
#   scripts/bench-agent.sh [seconds]     (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
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
ticks=$(getconf CLK_TCK)
read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
wait "$pid"
rows=$(grep -o 'committed_seq=[0-9]*' "$dir/log" | cut -d= -f2)

echo "sensors: 40 at 1s for ${seconds}s; committed ${rows} readings and events"
awk -v hwm="$hwm" -v rss="$rss" -v cpu="$((utime + stime))" -v hz="$ticks" -v s="$seconds" 'BEGIN {
    printf "peak RSS (VmHWM): %.1f MiB\nRSS at the end (VmRSS): %.1f MiB\n", hwm / 1024, rss / 1024
    printf "CPU time: %.2f s over %d s = %.2f %% of one core\n", cpu / hz, s, 100 * cpu / hz / s
}'
