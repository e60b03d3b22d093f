#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what it needs (rustup
# components, the cross toolchains and qemu through scripts/cross-build.sh), then checks
# formatting and lints, cross-builds the Pi binaries and smoke-tests them under qemu, and runs
# every test of the workspace. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
for component in rustfmt clippy; do
    rustup component list --installed | grep -q "^${component}" || rustup component add "${component}"
done

step "Debian packages the tests use (MQTT clients, openssl, InfluxDB, PostgreSQL, nginx, curl, Chromium)"
missing=()
command -v mosquitto_pub >/dev/null || missing+=(mosquitto-clients)
command -v openssl >/dev/null || missing+=(openssl)
command -v /usr/bin/influxd >/dev/null || missing+=(influxdb)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
command -v /usr/sbin/nginx >/dev/null || missing+=(nginx-light)
command -v curl >/dev/null || missing+=(curl)
command -v /usr/bin/chromium >/dev/null || missing+=(chromium)
command -v /usr/bin/chromedriver >/dev/null || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -q && apt-get install -y -q "${missing[@]}"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cross-build for the Pi and smoke-test under qemu"
bash scripts/cross-build.sh

step "cargo test --workspace"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --locked 2>&1 | tee "$log" || status=$?
# One closing line for the whole workspace (cargo prints one per test binary).
count() { grep -E '^test result:' "$log" | grep -oE "[0-9]+ $1" | awk '{ n += $1 } END { print n + 0 }'; }
echo
echo "tests: $(count passed) passed, $(count failed) failed, $(count ignored) skipped"
exit "$status"
