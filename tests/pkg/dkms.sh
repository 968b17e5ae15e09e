#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# "make test-dkms": pvlock as a distribution installs it. The sources go
# through "make dkms-src" into a private DKMS tree (nothing under /var/lib/dkms
# or /lib/modules of this machine is touched: --dkmstree, --installtree,
# --no-depmod), then "dkms install" runs for kernels of the cache
# (~/.cache/pvlock/kernels/<id>, scripts/kernels.sh):
#   DKMS_KERNELS (default 6.12-trixie 7-sid): must build and install
#     both modules;
#   DKMS_REFUSED (default 5.10-bullseye): below include/pvlock/kcompat.h's
#     floor: DKMS must skip it cleanly (BUILD_EXCLUSIVE, exit 77, no build);
#   and an arm64 kernel (dkms -a aarch64, BUILD_EXCLUSIVE_ARCH): skipped too.
# Results as PASS/FAIL lines in build/results/test-dkms.txt.
. "$(dirname "$0")/../../scripts/lib.sh"

RESULTS=${RESULTS:-$PVLOCK_ROOT/build/results/test-dkms.txt}
KERNELS=${DKMS_KERNELS:-6.12-trixie 7-sid}
REFUSED=${DKMS_REFUSED:-5.10-bullseye}
mkdir -p "$(dirname "$RESULTS")"
: > "$RESULTS"
pass() { echo "PASS dkms/$1${2:+: $2}" | tee -a "$RESULTS"; }
fail() { echo "FAIL dkms/$1${2:+: $2}" | tee -a "$RESULTS"; }

command -v dkms >/dev/null || die "dkms is not installed (scripts/deps.sh installs it)"
work=$PVLOCK_ROOT/build/dkms
rm -rf "$work"
mkdir -p "$work/tree" "$work/install"
make -s -C "$PVLOCK_ROOT" dkms-src DESTDIR="$work/stage" >/dev/null || die "make dkms-src failed"
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$PVLOCK_ROOT/dkms.conf")
src=$work/stage/usr/src
dk() {	# dk ACTION [ARGS]: dkms on the private trees
	dkms "$1" -m pvlock -v "$VERSION" --dkmstree "$work/tree" --sourcetree "$src" \
		--installtree "$work/install" --no-depmod "${@:2}"
}
if dk add > "$work/add.log" 2>&1; then
	pass add
else
	fail add "$(tail -2 "$work/add.log" | tr '\n' ' ')"
	exit 1
fi

kenv() {	# kenv ID: the cached kernel's env (ABI, KDIR), fetched if need be
	local env=$PVLOCK_CACHE/kernels/$1/env
	[ -f "$env" ] || "$PVLOCK_ROOT/scripts/kernels.sh" fetch "$1" >/dev/null || return 1
	( . "$env" && echo "$ABI $KDIR" )
}

for kid in $KERNELS; do
	read -r abi kdir < <(kenv "$kid") || { fail "install-$kid" "kernel $kid not in the cache"; continue; }
	t0=$(now)
	mkdir -p "$work/install/$abi"	# as /lib/modules/<release> exists for an installed kernel
	if dk install -k "$abi" --kernelsourcedir "$kdir" > "$work/install-$kid.log" 2>&1 &&
		[ -f "$work/install/$abi/updates/dkms/pvlock_guest.ko" ] &&
		[ -f "$work/install/$abi/updates/dkms/pvlock_host.ko" ] &&
		[ "$(modinfo -F vermagic "$work/install/$abi/updates/dkms/pvlock_host.ko" | cut -d' ' -f1)" = "$abi" ]; then
		pass "install-$kid" "$abi, both modules in updates/dkms, $(elapsed "$t0") s"
	else
		fail "install-$kid" "$(grep -m3 -iE 'error|bad exit' "$work/install-$kid.log" | tr '\n' ' ')"
		sed -n '1,200p' "$work"/tree/pvlock/"$VERSION"/build/make.log 2>/dev/null | tail -5
	fi
	dk status -k "$abi" 2>/dev/null | grep -q 'installed' && pass "status-$kid" || fail "status-$kid"
done

for kid in $REFUSED; do
	read -r abi kdir < <(kenv "$kid") || { fail "skip-$kid" "kernel $kid not in the cache"; continue; }
	dk install -k "$abi" --kernelsourcedir "$kdir" > "$work/skip-$kid.log" 2>&1
	rc=$?
	if [ $rc -eq 77 ] && grep -q 'BUILD_EXCLUSIVE directive which does not match' "$work/skip-$kid.log" &&
		[ ! -e "$work/tree/pvlock/$VERSION/$abi" ] && [ ! -d "$work/install/$abi" ]; then
		pass "skip-$kid" "$abi: dkms exit 77, nothing built"
	else
		fail "skip-$kid" "rc=$rc $(tail -2 "$work/skip-$kid.log" | tr '\n' ' ')"
	fi
done

# an arm64 kernel of a supported release: skipped by BUILD_EXCLUSIVE_ARCH
read -r abi kdir < <(kenv "${KERNELS%% *}")
dk build -k "$abi" -a aarch64 --kernelsourcedir "$kdir" > "$work/skip-arm64.log" 2>&1
rc=$?
if [ $rc -eq 77 ] && grep -q 'BUILD_EXCLUSIVE' "$work/skip-arm64.log"; then
	pass skip-arm64 "dkms exit 77"
else
	fail skip-arm64 "rc=$rc $(tail -2 "$work/skip-arm64.log" | tr '\n' ' ')"
fi
dk remove --all > "$work/remove.log" 2>&1 && pass remove || fail remove "$(tail -1 "$work/remove.log")"
! grep -q '^FAIL' "$RESULTS"
