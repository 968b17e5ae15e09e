#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The packaging checks of "make check", each a PASS or FAIL line in RESULTS:
#   promtool    pvlockd's expositions (kept by test_metrics) pass Prometheus's
#               own "promtool check metrics" (lint included)
#   systemd     the unit's "systemd-analyze security --offline" exposure is at
#               most PVLOCK_EXPOSURE_MAX (3.0), and "systemd-analyze verify" is clean
#   dkms-range  dkms.conf's BUILD_EXCLUSIVE_KERNEL takes exactly the releases
#               include/pvlock/kcompat.h builds for, and BUILD_EXCLUSIVE_ARCH x86_64
#   buildflags  the daemon's build keeps its own flags under CFLAGS/CPPFLAGS/
#               LDFLAGS from outside and honours them (dpkg-buildflags: FORTIFY)
#   checks.sh RESULTS PROM_DIR
set -u
RESULTS=$1
PROM_DIR=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${PVLOCK_CACHE:-${HOME:-/root}/.cache/pvlock}
PROMTOOL=${PROMTOOL:-$CACHE/tools/prometheus/usr/bin/promtool}
EXPOSURE_MAX=${PVLOCK_EXPOSURE_MAX:-3.0}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS unit/checks/$1${2:+: $2}" >> "$RESULTS"; }
fail() { echo "FAIL unit/checks/$1${2:+: $2}" >> "$RESULTS"; echo "  checks: FAIL $1: ${2:-}"; }

# --- promtool ------------------------------------------------------------------
n=0
for f in "$PROM_DIR"/*.prom; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	name=promtool-$(basename "$f" .prom)
	if [ ! -x "$PROMTOOL" ]; then
		fail "$name" "promtool missing ($PROMTOOL; scripts/deps.sh fetches it)"
	elif out=$("$PROMTOOL" check metrics < "$f" 2>&1); then
		pass "$name" "$(grep -c '^[a-z]' "$f") samples"
	else
		fail "$name" "$(echo "$out" | head -3 | tr '\n' ' ')"
	fi
done
[ $n -ge 2 ] || fail promtool "test_metrics kept $n expositions in $PROM_DIR, want 2"

# --- systemd unit ----------------------------------------------------------------
unit=$tmp/pvlockd.service
sed 's|@SBINDIR@|/usr/sbin|g' "$ROOT/daemon/dist/pvlockd.service.in" > "$unit"
out=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1)
level=$(echo "$out" | sed -n 's/.*Overall exposure level for pvlockd.service: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
	fail systemd-exposure "no score: $(echo "$out" | tail -2 | tr '\n' ' ')"
elif awk -v l="$level" -v m="$EXPOSURE_MAX" 'BEGIN { exit !(l <= m) }'; then
	pass systemd-exposure "$level (at most $EXPOSURE_MAX)"
else
	fail systemd-exposure "$level, more than $EXPOSURE_MAX: $(echo "$out" | grep -c '✗') findings"
fi
# verify: the binaries and man pages it names are not installed here; anything else is a finding
out=$(systemd-analyze verify --man=no "$unit" 2>&1 | grep -v 'is not executable: No such file')
[ -z "$out" ] && pass systemd-verify || fail systemd-verify "$(echo "$out" | head -2 | tr '\n' ' ')"
grep -q '^WatchdogSec=' "$unit" && pass systemd-watchdog || fail systemd-watchdog "no WatchdogSec="

# --- dkms.conf against kcompat.h -------------------------------------------------
kc=$ROOT/include/pvlock/kcompat.h
read -r min_a min_b < <(sed -n 's/.*PVLOCK_KERNEL_MIN.*KERNEL_VERSION(\([0-9]*\), *\([0-9]*\).*/\1 \2/p' "$kc")
read -r max_a max_b < <(sed -n 's/.*PVLOCK_KERNEL_MAX.*KERNEL_VERSION(\([0-9]*\), *\([0-9]*\).*/\1 \2/p' "$kc")
BUILD_EXCLUSIVE_KERNEL= BUILD_EXCLUSIVE_ARCH=
eval "$(grep -E '^BUILD_EXCLUSIVE_(KERNEL|ARCH)=' "$ROOT/dkms.conf")"
bad=
# the boundaries and a few of each side, in dkms's form (uname -r)
for v in "$min_a.$min_b.0-1-amd64:y" "$max_a.$max_b.13+deb14-amd64:y" "6.12.118+deb12-amd64:y" \
	 "$min_a.$((min_b - 1)).9-amd64:n" "$max_a.$((max_b + 1)).0-amd64:n" "$((max_a + 1)).0.0-amd64:n" \
	 "5.10.0-35-amd64:n" "10.1.0:n" "4.19.0:n"; do
	r=${v%:*} want=${v##*:}
	[[ $r =~ $BUILD_EXCLUSIVE_KERNEL ]] && got=y || got=n
	[ "$got" = "$want" ] || bad="$bad $r(got $got)"
done
[ -z "$bad" ] && pass dkms-range "kernels $min_a.$min_b..$max_a.$max_b" || fail dkms-range "wrong for:$bad"
[ "$BUILD_EXCLUSIVE_ARCH" = '^x86_64$' ] && pass dkms-arch || fail dkms-arch "BUILD_EXCLUSIVE_ARCH='$BUILD_EXCLUSIVE_ARCH'"

# --- build flags -------------------------------------------------------------------
# one object with dpkg-buildflags' hardening on top of the project's flags
o=$tmp/daemon
if ! command -v dpkg-buildflags >/dev/null; then
	fail buildflags-fortify "dpkg-buildflags missing (dpkg-dev; scripts/deps.sh installs it)"
else
	cf=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS)
	cpf=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CPPFLAGS)
	if make -s -C "$ROOT/daemon" O="$o" CFLAGS="$cf" CPPFLAGS="$cpf" PVLOCK_BPF=0 "$o/out.o" \
		>"$tmp/build.log" 2>&1 && nm "$o/out.o" | grep -q '_chk$'; then
		pass buildflags-fortify "$(nm "$o/out.o" | grep -c '_chk$') fortified calls in out.o"
	else
		fail buildflags-fortify "$(grep -m2 -E 'error|FORTIFY' "$tmp/build.log" | tr '\n' ' ')"
	fi
fi
# a bare CFLAGS on the command line keeps the include paths and -Werror
if make -s -C "$ROOT/daemon" O="$o" CFLAGS=-O0 PVLOCK_BPF=0 "$o/table.o" >"$tmp/b2.log" 2>&1; then
	pass buildflags-cflags "make CFLAGS=-O0 keeps the project's flags"
else
	fail buildflags-cflags "$(head -2 "$tmp/b2.log" | tr '\n' ' ')"
fi
# LDFLAGS reach both links
links=$(make -n -B -C "$ROOT/daemon" O="$o" LDFLAGS=-Wl,-z,pvlocktest PVLOCK_BPF=0 2>/dev/null |
	grep -c -- '-o .*pvlock\(ctl\|d\) .*-Wl,-z,pvlocktest\|-Wl,-z,pvlocktest.*-o .*pvlock\(ctl\|d\) ')
[ "$links" = 2 ] && pass buildflags-ldflags || fail buildflags-ldflags "LDFLAGS in $links of 2 links"
exit 0
