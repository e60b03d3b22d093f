#!/usr/bin/env bash
# Install (or upgrade) edge-agent on a Raspberry Pi. Run as root on the device.
#
#   sudo ./install.sh [--start] [--unit FILE] PATH/TO/edge-agent
#
# Idempotent: running it again with the same or a newer binary only replaces the binary and
# the unit file. An existing /etc/edge-agent/config.toml is never modified; it is validated
# with the new binary *before* anything is replaced, so a failed upgrade changes nothing.

set -euo pipefail

readonly BIN_PATH=/usr/local/bin/edge-agent
readonly CONFIG_DIR=/etc/edge-agent
readonly CONFIG="$CONFIG_DIR/config.toml"
readonly DATA_DIR=/var/lib/edge-agent
readonly SERVICE_USER=edge-agent
readonly UNIT=edge-agent.service
readonly UNIT_PATH="/etc/systemd/system/$UNIT"
readonly GROUPS_DROPIN="/etc/systemd/system/$UNIT.d/10-install-groups.conf"
# Owners of /dev/i2c-* and /dev/gpiochip* on Raspberry Pi OS; must match the unit's
# SupplementaryGroups=.
readonly DEVICE_GROUPS=(i2c gpio)

usage() {
    cat <<EOF
Usage: sudo $(basename -- "$0") [OPTIONS] BINARY

Install the edge-agent BINARY (built by scripts/cross-build.sh for this board's
architecture) as a systemd service:

  - binary      -> $BIN_PATH
  - system user '$SERVICE_USER' (member of: ${DEVICE_GROUPS[*]}, where those groups exist)
  - config      -> $CONFIG, from 'edge-agent generate-config' with
                   data_dir = "$DATA_DIR", only if no config exists yet
  - unit        -> $UNIT_PATH, enabled at boot

The config (new or existing) is validated with the new binary before anything is replaced.

Options:
  --start       (re)start the service now and check that it stays up
  --unit FILE   unit file to install (default: systemd/$UNIT or $UNIT next to this script)
  -h, --help    show this help
EOF
}

step() { printf '==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
    printf 'ERROR: %s\n' "$*" >&2
    exit 1
}

# --- arguments -------------------------------------------------------------------------------

start_now=0
unit_src=""
binary=""
while (($# > 0)); do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --start) start_now=1 ;;
        --unit)
            (($# >= 2)) || die "--unit needs a file argument"
            unit_src=$2
            shift
            ;;
        -*)
            usage >&2
            die "unknown option: $1"
            ;;
        *)
            [[ -z "$binary" ]] || die "only one BINARY may be given (got '$binary' and '$1')"
            binary=$1
            ;;
    esac
    shift
done
[[ -n "$binary" ]] || {
    usage >&2
    die "no BINARY given"
}

((EUID == 0)) || die "must run as root (try: sudo $0 ...)"
[[ -f "$binary" ]] || die "binary not found: $binary"

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
if [[ -z "$unit_src" ]]; then
    for candidate in "$script_dir/systemd/$UNIT" "$script_dir/$UNIT"; do
        if [[ -f "$candidate" ]]; then
            unit_src=$candidate
            break
        fi
    done
    [[ -n "$unit_src" ]] || die "unit file not found next to this script; pass --unit FILE"
fi
[[ -f "$unit_src" ]] || die "unit file not found: $unit_src"

for tool in useradd usermod getent runuser install; do
    command -v "$tool" >/dev/null || die "required command not found: $tool"
done

# Everything new is staged first and moved into place only after validation.
staged_bin=""
staged_config=""
cleanup() {
    [[ -z "$staged_bin" ]] || rm -f -- "$staged_bin"
    [[ -z "$staged_config" ]] || rm -f -- "$staged_config"
}
trap cleanup EXIT

# --- 1. the binary runs here -----------------------------------------------------------------

step "Checking $binary"
# ELF e_machine (offset 18, little-endian) against the OS userland. The unit sets
# SystemCallArchitectures=native, so e.g. an armv7 build on a 64-bit OS would be killed.
elf_machine=$(od -An -t u2 -j 18 -N 2 -- "$binary" | tr -d ' ') || elf_machine=""
case "$elf_machine" in
    183) binary_arch=arm64 ;;
    40) binary_arch=armhf ;;
    62) binary_arch=amd64 ;;
    *) binary_arch="unknown (ELF machine '${elf_machine}')" ;;
esac
if command -v dpkg >/dev/null; then
    os_arch=$(dpkg --print-architecture)
    [[ "$binary_arch" == "$os_arch" ]] ||
        die "binary is for $binary_arch but this OS is $os_arch: use the build for $os_arch" \
            "(arm64 -> aarch64-unknown-linux-gnu, armhf -> armv7-unknown-linux-gnueabihf)"
    info "architecture: $binary_arch (matches the OS)"
else
    warn "dpkg not found: cannot check that a $binary_arch binary matches this OS"
fi

# Staged next to its final place (same filesystem: the final mv is atomic, and a running
# agent keeps its old inode). World-readable like the final binary, so the service user can
# run it for the validation below.
install -d -m 0755 -- "$(dirname -- "$BIN_PATH")"
staged_bin=$(mktemp "$(dirname -- "$BIN_PATH")/.edge-agent.new.XXXXXX")
install -m 0755 -o root -g root -- "$binary" "$staged_bin"

# A too-old glibc shows up here ("version `GLIBC_2.xx' not found").
if ! version=$("$staged_bin" --version 2>&1); then
    printf '%s\n' "$version" >&2
    die "the binary does not run on this system (see above; deploy/README.md lists the minimum OS)"
fi
info "version: $version"

# --- 2. user, groups, data dir ---------------------------------------------------------------

step "Service user '$SERVICE_USER'"
if getent passwd "$SERVICE_USER" >/dev/null; then
    info "exists"
else
    useradd --system --user-group --home-dir "$DATA_DIR" --no-create-home \
        --shell /usr/sbin/nologin --comment "Farm edge agent" "$SERVICE_USER" ||
        die "useradd $SERVICE_USER failed"
    info "created"
fi
present_groups=()
missing_groups=()
for group in "${DEVICE_GROUPS[@]}"; do
    if getent group "$group" >/dev/null; then
        present_groups+=("$group")
        if id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx -- "$group"; then
            info "member of $group"
        else
            usermod -aG "$group" "$SERVICE_USER" || die "usermod -aG $group $SERVICE_USER failed"
            info "added to $group"
        fi
    else
        missing_groups+=("$group")
    fi
done

# systemd would create it on start (StateDirectory=); it is needed now for the validation.
install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" -- "$DATA_DIR"

# --- 3. config -------------------------------------------------------------------------------

# Validate as the service user, from the unit's working directory: the same check as the
# unit's ExecStartPre, minus the sandbox.
validate_config() {
    local bin=$1 config=$2 output
    if ! output=$(cd -- "$DATA_DIR" &&
        runuser -u "$SERVICE_USER" -- "$bin" validate --config "$config" 2>&1); then
        printf '%s\n' "$output" >&2
        return 1
    fi
    [[ -z "$output" ]] || printf '%s\n' "$output" | sed 's/^/    /'
}

step "Config $CONFIG"
if [[ ! -d "$CONFIG_DIR" ]]; then
    # Root-owned, readable by the service's group only: the config holds tokens/passwords.
    install -d -m 0750 -o root -g "$SERVICE_USER" -- "$CONFIG_DIR"
fi
if [[ -e "$CONFIG" ]]; then
    info "exists; not modified"
    validate_config "$staged_bin" "$CONFIG" ||
        die "the existing $CONFIG is not valid for $version (problems above)." \
            "Nothing was changed: fix the config (compare with '$binary generate-config'), then re-run."
    info "valid for the new binary"
else
    staged_config=$(mktemp "$CONFIG_DIR/.config.toml.new.XXXXXX")
    "$staged_bin" generate-config >"$staged_config" || die "'edge-agent generate-config' failed"
    [[ -s "$staged_config" ]] || die "'edge-agent generate-config' printed nothing"

    # The example's data_dir is relative ("./farm-data"); point it at the state directory.
    # Only the quoted value is replaced, so a trailing comment survives.
    data_dir_re='^[[:space:]]*data_dir[[:space:]]*='
    data_dir_lines=$(grep -cE "$data_dir_re" "$staged_config" || true)
    if ((data_dir_lines == 0)); then
        warn "the generated config sets no data_dir; the built-in default ($DATA_DIR) applies"
    else
        sed -E -i \
            -e "s#(${data_dir_re}[[:space:]]*)(\"[^\"]*\"|'[^']*')#\\1\"${DATA_DIR}\"#" \
            "$staged_config"
        if grep -E "$data_dir_re" "$staged_config" | grep -vqF "\"$DATA_DIR\""; then
            die "could not set data_dir in the generated config:" \
                "$(grep -E "$data_dir_re" "$staged_config")"
        fi
        info "data_dir = \"$DATA_DIR\""
    fi
    chown root:"$SERVICE_USER" -- "$staged_config"
    chmod 0640 -- "$staged_config"
    validate_config "$staged_bin" "$staged_config" ||
        die "the generated config does not validate (problems above); nothing was installed"
    info "generated and valid"
fi

# --- 4. put binary and config in place -------------------------------------------------------

step "Installing $BIN_PATH"
mv -f -- "$staged_bin" "$BIN_PATH"
staged_bin=""
if [[ -n "$staged_config" ]]; then
    # -n: never clobber a config that appeared meanwhile.
    mv -n -- "$staged_config" "$CONFIG"
    [[ ! -e "$staged_config" ]] || die "$CONFIG appeared during the install; left untouched"
    staged_config=""
    info "wrote $CONFIG"
fi

# --- 5. systemd unit -------------------------------------------------------------------------

step "Unit $UNIT_PATH"
if [[ -f "$UNIT_PATH" ]] && cmp -s -- "$unit_src" "$UNIT_PATH"; then
    info "unchanged"
else
    install -D -m 0644 -o root -g root -- "$unit_src" "$UNIT_PATH"
    info "installed from $unit_src"
fi

# The unit names both device groups; systemd refuses to start a unit whose
# SupplementaryGroups= do not exist. A drop-in narrows the list to the groups this OS has.
if ((${#missing_groups[@]} > 0)); then
    warn "group(s) ${missing_groups[*]} do not exist: the agent will not get access to those" \
        "devices (enable I2C with raspi-config, or create the group and a udev rule)"
    install -d -m 0755 -- "$(dirname -- "$GROUPS_DROPIN")"
    {
        echo "# Written by deploy/install.sh: groups missing on this system: ${missing_groups[*]}"
        echo "[Service]"
        echo "SupplementaryGroups="
        ((${#present_groups[@]} == 0)) || echo "SupplementaryGroups=${present_groups[*]}"
    } >"$GROUPS_DROPIN"
    info "drop-in $GROUPS_DROPIN"
elif [[ -e "$GROUPS_DROPIN" ]]; then
    rm -f -- "$GROUPS_DROPIN"
    rmdir --ignore-fail-on-non-empty -- "$(dirname -- "$GROUPS_DROPIN")"
    info "removed obsolete $GROUPS_DROPIN"
fi

command -v systemctl >/dev/null || die "systemctl not found: this system does not use systemd"
systemd_running=0
[[ -d /run/systemd/system ]] && systemd_running=1
if ((systemd_running)); then
    systemctl daemon-reload
fi
# Works without a running systemd too (e.g. in a chroot preparing an SD card image).
systemctl enable "$UNIT" || die "systemctl enable $UNIT failed"
info "enabled (starts at boot)"

# --- 6. start --------------------------------------------------------------------------------

if ((start_now)); then
    ((systemd_running)) || die "--start: systemd is not running here (chroot/container?)"
    step "Restarting $UNIT"
    systemctl restart "$UNIT" || true
    # Restart=always would hide a crash loop behind "activating": look twice.
    sleep 5
    if ! systemctl is-active --quiet "$UNIT"; then
        journalctl -u "$UNIT" -n 30 --no-pager >&2 || true
        die "$UNIT is not running (journal above)"
    fi
    info "running: $version"
fi

# --- next steps ------------------------------------------------------------------------------

active=0
((systemd_running)) && systemctl is-active --quiet "$UNIT" && active=1
cat <<EOF

Done: $version installed to $BIN_PATH.

Next steps:
  1. Review the config: $CONFIG
     (device id and token, broker users, rooms, sensors, setpoints).
  2. Check it:   sudo -u $SERVICE_USER $BIN_PATH validate --config $CONFIG
EOF
if ((active)); then
    echo "  3. Apply changes: sudo systemctl restart edge-agent"
    ((start_now)) || echo "     (the service is still running the previous binary until restarted)"
else
    echo "  3. Start it:   sudo systemctl start edge-agent   (it also starts at every boot)"
fi
cat <<EOF
  4. Logs:       journalctl -u edge-agent -f
     Status:     systemctl status edge-agent
EOF
