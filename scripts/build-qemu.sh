#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the QEMU the nested tests run their L1 under: Debian's own qemu
# source package, the version installed in the cached trixie chroot
# (scripts/kernels.sh qemu), with scripts/qemu-pause-filter.patch (AMD's
# pause filter under TCG, so that L1's kvm_amd takes PLE exits; README,
# "How it is tested here"). Only the x86_64 system emulator, TCG only, the
# devices an L1 boot needs (i440fx with its serial ports and fw_cfg), no
# optional features; built inside the trixie chroot, once, and cached:
#
#   $PVLOCK_CACHE/qemu/<debian version>-<hash of patch and script>/qemu-system-x86_64
#
# Prints that path, which is valid inside the chroot too (the cache is bind
# mounted at its own path). Needs root the first time (apt-get in the chroot).
. "$(dirname "$0")/lib.sh"

patch=$PVLOCK_ROOT/scripts/qemu-pause-filter.patch
ch=$("$PVLOCK_ROOT/scripts/kernels.sh" qemu) || die "no trixie chroot with QEMU"
ver=$(chroot "$ch" dpkg-query -W -f='${Version}' qemu-system-x86) || die "no qemu-system-x86 in $ch"
# What goes into the binary: the patch and the configuration (not comments)
conf=(--cc=gcc-14 --target-list=x86_64-softmmu --without-default-features
      --without-default-devices --with-devices-x86_64=pvlock
      --enable-tcg --disable-kvm --disable-docs --disable-werror --disable-download
      --disable-install-blobs --disable-fdt --disable-pixman --disable-user --disable-tools
      --disable-guest-agent --disable-qom-cast-debug --disable-debug-info
      --firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu)
devices='CONFIG_I440FX=y'
key=$({ cat "$patch"; echo "${conf[*]}" "$devices"; } | sha256sum | cut -c1-12)
out=$PVLOCK_CACHE/qemu/${ver#*:}-$key
if [ -x "$out/qemu-system-x86_64" ]; then
	echo "$out/qemu-system-x86_64"
	exit 0
fi
need_root "building QEMU in the trixie chroot"
t0=$(now)
work=$PVLOCK_CACHE/qemu/build
log=$PVLOCK_CACHE/qemu/build.log
rm -rf "$work"
mkdir -p "$work"
: > "$log"

# build dependencies of this configuration, into the chroot (once)
if [ ! -f "$ch/.pvlock-qemu-build" ]; then
	msg "installing QEMU's build dependencies into the trixie chroot (once)"
	chroot "$ch" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
		/bin/sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends \
			ninja-build meson python3-venv pkgconf libglib2.0-dev zlib1g-dev' >>"$log" 2>&1 ||
		die "apt-get in the trixie chroot failed: $(tail -3 "$log")"
	touch "$ch/.pvlock-qemu-build"
fi
t1=$(now)

# the source of exactly the installed version, from Debian's deb-src
mapfile -t src_lines < <(suite_sources trixie | sed 's/^deb /deb-src /')
apt_priv_setup trixie-src "${src_lines[@]}"
(cd "$work" && apt_priv trixie-src apt-get source --download-only -qq "qemu=$ver") >>"$log" 2>&1 ||
	die "apt-get source qemu=$ver failed: $(tail -3 "$log")"
ensure_pkgs dpkg-dev
dpkg-source -x --no-check "$work"/qemu_*.dsc "$work/src" >>"$log" 2>&1 ||
	die "dpkg-source -x failed: $(tail -3 "$log")"
patch -d "$work/src" -p1 --no-backup-if-mismatch < "$patch" >>"$log" 2>&1 ||
	die "$patch does not apply to qemu $ver: $(tail -3 "$log")"
t2=$(now)

# The machine's devices: i440fx selects what an L1 boot uses (ISA serial,
# PIC/PIT/RTC, fw_cfg DMA for -kernel/-initrd, ACPI); nothing implied.
echo "$devices" > "$work/src/configs/devices/x86_64-softmmu/pvlock.mak"
msg "building QEMU $ver with the pause-filter patch (x86_64-softmmu, TCG only; log $log)"
unshare -m --propagation private "$PVLOCK_ROOT/scripts/in-chroot.sh" "$ch" "$PVLOCK_CACHE" -- \
	/bin/sh -c '
	set -e
	cd "$1/src"
	shift
	./configure "$@"
	nice -n 10 ninja -C build qemu-system-x86_64
	' _ "$work" "${conf[@]}" >>"$log" 2>&1 || die "QEMU build failed: $(tail -5 "$log")"
t3=$(now)
mkdir -p "$out"
strip -o "$out/qemu-system-x86_64" "$work/src/build/qemu-system-x86_64"
rm -rf "$work"
msg "QEMU built in $(awk -v a="$t0" -v b="$t3" 'BEGIN { printf "%.0f", b - a }') s (deps $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s, source $(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.0f", b - a }') s, configure and build $(awk -v a="$t2" -v b="$t3" 'BEGIN { printf "%.0f", b - a }') s): $out"
echo "$out/qemu-system-x86_64"
