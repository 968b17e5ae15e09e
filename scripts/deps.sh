#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing pvlock needs, from Debian's archive.
# Idempotent; only packages of the machine's own suites are installed here.
. "$(dirname "$0")/lib.sh"

PKGS=(
	gcc make pkg-config libc6-dev libelf-dev bc flex bison dwarves	# modules
	libnl-genl-3-dev libjson-c-dev					# daemon
	libinih-dev libmicrohttpd-dev libsystemd-dev libbpf-dev		# pvlockd
	clang llvm bpftool						# BPF observer
	libcmocka-dev							# unit tests
	gnuplot-nox							# simulator plots (make bench-sim)
	qemu-system-x86 seabios busybox-static cpio kmod jq		# QEMU tests
	debootstrap xz-utils zstd ca-certificates curl			# kernel fetching
)
ensure_pkgs "${PKGS[@]}"
