#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what building and testing pvlock needs, from Debian's archive.
# Idempotent; only packages of the machine's own suites are installed here.
# On a fresh machine dpkg may be busy (unattended-upgrades runs at first
# boot): wait for it, saying so, instead of failing.
. "$(dirname "$0")/lib.sh"

PKGS=(
	gcc make pkg-config libc6-dev libelf-dev bc flex bison dwarves	# modules
	libnl-genl-3-dev libjson-c-dev libsmartcols-dev			# daemon
	libinih-dev libmicrohttpd-dev libsystemd-dev libbpf-dev		# pvlockd
	clang llvm bpftool						# BPF observer
	libcmocka-dev groff-base dpkg-dev				# unit tests, man pages, build flags
	dkms								# make test-dkms
	gnuplot-nox							# simulator plots (make bench-sim)
	qemu-system-x86 seabios busybox-static cpio kmod jq		# QEMU tests
	debootstrap xz-utils zstd ca-certificates curl			# kernel fetching
)

# The holder of dpkg's lock, or nothing (lslocks reads /proc/locks and names the path).
DPKG_LOCK=${DPKG_LOCK:-/var/lib/dpkg/lock}
dpkg_lock_holder() {
	lslocks -n -o PID,PATH 2>/dev/null | awk -v l="$DPKG_LOCK" 'index($2, l) == 1 { print $1; exit }'
}

dpkg_wait() {
	local pid t0=$SECONDS last=-15 max=${PVLOCK_DPKG_WAIT:-1800}
	while pid=$(dpkg_lock_holder) && [ -n "$pid" ]; do
		if [ $((SECONDS - last)) -ge 15 ]; then
			msg "waiting for the dpkg lock, held by pid $pid ($(ps -o comm= -p "$pid" 2>/dev/null || echo '?')), $((SECONDS - t0)) s so far"
			last=$SECONDS
		fi
		[ $((SECONDS - t0)) -lt "$max" ] ||
			die "dpkg is still locked after $max s (PVLOCK_DPKG_WAIT); is an upgrade stuck?"
		sleep 3
	done
}

missing=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PKGS[@]}" 2>&1 | grep -vc '^ii ')
if [ "$missing" -gt 0 ]; then
	dpkg_wait
	# should it be taken again between the check and apt-get: apt waits too
	if [ -z "${APT_CONFIG:-}" ]; then
		APT_CONFIG=$(mktemp)
		trap 'rm -f "$APT_CONFIG"' EXIT
		echo 'DPkg::Lock::Timeout "600";' > "$APT_CONFIG"
		export APT_CONFIG
	fi
	ensure_pkgs "${PKGS[@]}"
fi

# promtool (Debian's prometheus package) checks pvlockd's metrics in "make
# check": taken out of the package into the cache, so that no Prometheus
# server is installed or started on the machine (19 MB download, 48 MB).
PROMTOOL=$PVLOCK_CACHE/tools/prometheus/usr/bin/promtool
if [ ! -x "$PROMTOOL" ]; then
	mkdir -p "$PVLOCK_CACHE/debs" "$PVLOCK_CACHE/tools"
	msg "fetching promtool (Debian's prometheus package, into $PVLOCK_CACHE/tools)"
	(cd "$PVLOCK_CACHE/debs" && apt-get download -qq prometheus 2>/dev/null) ||
		die "apt-get download prometheus failed"
	rm -rf "$PVLOCK_CACHE/tools/prometheus.new"
	dpkg -x "$(ls -t "$PVLOCK_CACHE"/debs/prometheus_*.deb | head -1)" "$PVLOCK_CACHE/tools/prometheus.new" &&
		rm -f "$PVLOCK_CACHE/tools/prometheus.new/usr/bin/prometheus" &&
		rm -rf "$PVLOCK_CACHE/tools/prometheus" &&
		mv "$PVLOCK_CACHE/tools/prometheus.new" "$PVLOCK_CACHE/tools/prometheus" ||
		die "extracting promtool failed"
fi
