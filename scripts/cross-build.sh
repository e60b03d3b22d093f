#!/usr/bin/env bash
# Cross-build edge-agent for Raspberry Pi boards and smoke-test the result under qemu.
#
# Used by CI and by technicians on a Debian/Ubuntu x86_64 machine. Installs what is missing
# (Debian cross gcc + cross glibc + qemu-user-static, rustup targets), builds
#   cargo build --release --locked -p edge-agent --target <triple>
# for each requested target, runs the binaries under qemu, and prints each binary's size and
# the newest glibc symbol version it needs (= the oldest OS it runs on).
#
# Idempotent and unattended: nothing is installed when everything is present, apt never
# prompts, and `apt-get update` runs only when something has to be installed.

set -euo pipefail

readonly PACKAGE=edge-agent
readonly ALL_TARGETS=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)

usage() {
    cat <<EOF
Usage: scripts/cross-build.sh [OPTIONS] [TARGET...]

Cross-build ${PACKAGE} (release, --locked) and smoke-test it under qemu.

TARGET is a Rust target triple or a short name; default: both.
  aarch64 | arm64  -> aarch64-unknown-linux-gnu      (64-bit Raspberry Pi OS / Debian arm64)
  armv7   | armhf  -> armv7-unknown-linux-gnueabihf  (32-bit Raspberry Pi OS / Debian armhf)

Options:
  --no-install   fail instead of installing missing packages / rustup targets
  --no-smoke     build only; skip the qemu smoke tests
  -h, --help     show this help

Environment: CARGO_TARGET_DIR and other cargo variables are honoured.
Binaries end up in <target-dir>/<triple>/release/${PACKAGE}.
EOF
}

# --- output helpers --------------------------------------------------------------------------

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() {
    printf '\nERROR: %s\n' "$*" >&2
    exit 1
}

# Per-target facts: GNU toolchain prefix, Debian packages, qemu binary, loader root.
toolchain_prefix() {
    case "$1" in
        aarch64-unknown-linux-gnu) echo aarch64-linux-gnu ;;
        armv7-unknown-linux-gnueabihf) echo arm-linux-gnueabihf ;;
    esac
}
libc_dev_package() {
    case "$1" in
        aarch64-unknown-linux-gnu) echo libc6-dev-arm64-cross ;;
        armv7-unknown-linux-gnueabihf) echo libc6-dev-armhf-cross ;;
    esac
}
qemu_name() {
    case "$1" in
        aarch64-unknown-linux-gnu) echo qemu-aarch64 ;;
        armv7-unknown-linux-gnueabihf) echo qemu-arm ;;
    esac
}

# qemu-user-static ships `qemu-<arch>-static`; newer Debian releases also ship plain
# `qemu-<arch>` (statically linked). Print whichever exists, or nothing.
find_qemu() {
    local name
    name=$(qemu_name "$1")
    command -v "${name}-static" || command -v "${name}" || true
}

# --- arguments -------------------------------------------------------------------------------

install_missing=1
smoke=1
targets=()
while (($# > 0)); do
    case "$1" in
        -h | --help)
            usage
            exit 0
            ;;
        --no-install) install_missing=0 ;;
        --no-smoke) smoke=0 ;;
        aarch64 | arm64 | aarch64-unknown-linux-gnu) targets+=(aarch64-unknown-linux-gnu) ;;
        armv7 | armhf | armv7-unknown-linux-gnueabihf) targets+=(armv7-unknown-linux-gnueabihf) ;;
        *)
            usage >&2
            die "unknown argument or unsupported target: '$1'"
            ;;
    esac
    shift
done
if ((${#targets[@]} == 0)); then
    targets=("${ALL_TARGETS[@]}")
fi

# Work from the workspace root so .cargo/config.toml (linkers, qemu runners) applies.
repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
cd -- "$repo_root"

export DEBIAN_FRONTEND=noninteractive

# --- 1. host packages ------------------------------------------------------------------------

step "Checking cross toolchains (${targets[*]})"
missing_packages=()
for t in "${targets[@]}"; do
    prefix=$(toolchain_prefix "$t")
    command -v "${prefix}-gcc" >/dev/null || missing_packages+=("gcc-${prefix}")
    # objdump comes with binutils-<prefix>, a dependency of gcc-<prefix>.
    command -v "${prefix}-objdump" >/dev/null || missing_packages+=("binutils-${prefix}")
    # The cross glibc headers and crt files: without them linking fails late and obscurely.
    [[ -e "/usr/${prefix}/lib/crt1.o" ]] || missing_packages+=("$(libc_dev_package "$t")")
    if ((smoke)) && [[ -z "$(find_qemu "$t")" ]]; then
        missing_packages+=(qemu-user-static)
    fi
done

if ((${#missing_packages[@]} > 0)); then
    # De-duplicate (qemu-user-static may be listed once per target).
    mapfile -t missing_packages < <(printf '%s\n' "${missing_packages[@]}" | sort -u)
    info "missing: ${missing_packages[*]}"
    ((install_missing)) || die "missing packages (--no-install given): ${missing_packages[*]}"
    command -v apt-get >/dev/null ||
        die "apt-get not found: install ${missing_packages[*]} with your package manager"
    if ((EUID == 0)); then
        as_root=()
    elif command -v sudo >/dev/null; then
        as_root=(sudo -n) # -n: fail instead of prompting for a password
    else
        die "not root and no sudo: install ${missing_packages[*]} as root first"
    fi
    # Wait for a concurrent apt/dpkg (unattended-upgrades, another CI step) instead of failing.
    apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef
        -o Dpkg::Options::=--force-confold)
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update ||
        die "apt-get update failed"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y \
        --no-install-recommends "${missing_packages[@]}" ||
        die "apt-get install ${missing_packages[*]} failed"
else
    info "all cross packages present"
fi

# Re-check after installing, so a package that did not provide the command fails here.
for t in "${targets[@]}"; do
    prefix=$(toolchain_prefix "$t")
    for tool in gcc objdump; do
        command -v "${prefix}-${tool}" >/dev/null || die "${prefix}-${tool} still not found"
    done
    [[ -e "/usr/${prefix}/lib/crt1.o" ]] ||
        die "/usr/${prefix}/lib/crt1.o still missing ($(libc_dev_package "$t"))"
    if ((smoke)) && [[ -z "$(find_qemu "$t")" ]]; then
        die "$(qemu_name "$t")-static still not found (qemu-user-static)"
    fi
done

# --- 2. rust targets -------------------------------------------------------------------------

step "Checking Rust targets"
command -v cargo >/dev/null || die "cargo not found: install Rust with rustup (https://rustup.rs)"
if command -v rustup >/dev/null; then
    installed_targets=$(rustup target list --installed) || die "rustup target list failed"
    for t in "${targets[@]}"; do
        if grep -qx -- "$t" <<<"$installed_targets"; then
            info "$t: installed"
        else
            ((install_missing)) || die "rust target $t missing (--no-install given)"
            rustup target add "$t" || die "rustup target add $t failed"
        fi
    done
else
    # A distro rustc cannot add targets; the build below fails clearly if std is missing.
    info "rustup not found; assuming the toolchain already has std for: ${targets[*]}"
fi

target_dir=$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p') || true
[[ -n "$target_dir" ]] || die "could not determine cargo's target directory (cargo metadata failed?)"

# --- 3. build --------------------------------------------------------------------------------

declare -A build_seconds
for t in "${targets[@]}"; do
    step "Building ${PACKAGE} for $t (release, --locked)"
    started=$SECONDS
    cargo build --release --locked -p "$PACKAGE" --target "$t" ||
        die "cargo build for $t failed (output above; --locked also fails if Cargo.lock needs an update)"
    build_seconds[$t]=$((SECONDS - started))
    bin="$target_dir/$t/release/$PACKAGE"
    [[ -x "$bin" ]] || die "build for $t succeeded but $bin does not exist"
    info "built $bin in ${build_seconds[$t]} s"
done

# --- 4. smoke tests under qemu ---------------------------------------------------------------

# Run the target binary under user-mode qemu with the cross glibc as loader root.
run_emulated() {
    local t=$1
    shift
    "$(find_qemu "$t")" -L "/usr/$(toolchain_prefix "$t")" "$@"
}

if ((smoke)); then
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/edge-agent-smoke.XXXXXX")
    trap 'rm -rf -- "$scratch"' EXIT
    for t in "${targets[@]}"; do
        bin="$target_dir/$t/release/$PACKAGE"
        step "Smoke test $t under $(basename -- "$(find_qemu "$t")")"
        work="$scratch/$t"
        mkdir -p -- "$work"

        version=$(run_emulated "$t" "$bin" --version) ||
            die "$t: '$PACKAGE --version' failed under qemu (exit $?)"
        [[ -n "$version" ]] || die "$t: '$PACKAGE --version' printed nothing"
        info "--version: $version"

        # The example config uses relative paths (data_dir = "./farm-data"): run inside the
        # scratch directory so nothing lands in the repository.
        (cd -- "$work" && run_emulated "$t" "$bin" generate-config >config.toml) ||
            die "$t: '$PACKAGE generate-config' failed under qemu"
        [[ -s "$work/config.toml" ]] || die "$t: 'generate-config' printed nothing"
        info "generate-config: $(wc -l <"$work/config.toml") lines"

        if ! out=$(cd -- "$work" && run_emulated "$t" "$bin" validate --config config.toml 2>&1); then
            printf '%s\n' "$out" >&2
            die "$t: '$PACKAGE validate --config <generated config>' failed under qemu"
        fi
        info "validate --config config.toml: ok${out:+ ($(head -n1 <<<"$out"))}"
    done
fi

# --- 5. report -------------------------------------------------------------------------------

step "Summary"
printf '    %-31s %12s %8s  %-11s %s\n' TARGET BYTES BUILD 'GLIBC>=' BINARY
for t in "${targets[@]}"; do
    bin="$target_dir/$t/release/$PACKAGE"
    size=$(stat -c %s -- "$bin")
    # The newest versioned glibc symbol the binary imports is the oldest glibc it runs on.
    # (`|| true`: a fully static binary has none, which is not an error.)
    glibc=$("$(toolchain_prefix "$t")-objdump" -T -- "$bin" |
        { grep -o 'GLIBC_[0-9.]*' || true; } | sort -Vu | tail -n1) ||
        die "$t: objdump -T failed on $bin"
    printf '    %-31s %12s %7ss  %-11s %s\n' "$t" "$size" "${build_seconds[$t]}" \
        "${glibc:-none}" "$bin"
done
info "GLIBC>= is the minimum glibc on the device (Debian 12 bookworm ships 2.36, 11 bullseye 2.31)."
