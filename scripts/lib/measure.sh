# shellcheck shell=bash
# Shared by the benchmark scripts: read a running agent's memory and CPU from /proc, stop it
# with SIGTERM, and print the figures.

# measure_and_stop PID LOG SECONDS: prints peak RSS (VmHWM), RSS (VmRSS) and CPU time
# (utime + stime) of PID over SECONDS, stops it, and sets COMMITTED to the committed_seq the
# agent logged in LOG at shutdown.
measure_and_stop() {
    local pid=$1 log=$2 seconds=$3 ticks utime stime hwm rss
    ticks=$(getconf CLK_TCK)
    read -r utime stime < <(awk '{print $14, $15}' "/proc/$pid/stat")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
    kill -TERM "$pid"
    wait "$pid"
    # shellcheck disable=SC2034 # read by the calling script
    COMMITTED=$(grep -o 'committed_seq=[0-9]*' "$log" | cut -d= -f2)
    awk -v hwm="$hwm" -v rss="$rss" -v cpu="$((utime + stime))" -v hz="$ticks" -v s="$seconds" 'BEGIN {
        printf "peak RSS (VmHWM): %.1f MiB\nRSS at the end (VmRSS): %.1f MiB\n", hwm / 1024, rss / 1024
        printf "CPU time: %.2f s over %d s = %.2f %% of one core\n", cpu / hz, s, 100 * cpu / hz / s
    }'
}
