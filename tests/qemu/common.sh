# SPDX-License-Identifier: GPL-2.0
# Host-side helpers for the QEMU test drivers. Source after scripts/lib.sh.

TEST_KERNELS=${TEST_KERNELS:-"6.1-bookworm 6.12-bookworm"}
INITRD_DIR=$PVLOCK_ROOT/build/initramfs

# prepare_kernel ID: image + modules fetched, pvlock modules built for it.
prepare_kernel() {
	"$PVLOCK_ROOT/scripts/kernels.sh" fetch -i "$1" >/dev/null || die "fetch $1 failed"
	"$PVLOCK_ROOT/scripts/build-modules.sh" "$1" >/dev/null || die "building the modules for $1 failed"
	KO_GUEST=$PVLOCK_ROOT/build/kbuild/$1/guest-mod/pvlock_guest.ko
	KO_HOST=$PVLOCK_ROOT/build/kbuild/$1/host-mod/pvlock_host.ko
	# shellcheck disable=SC1090
	. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$1")
}

prepare_tools() {
	ensure_pkgs jq
	make -s -C "$PVLOCK_ROOT/daemon" >/dev/null || die "building the daemon failed"
	make -s -C "$PVLOCK_ROOT/tests/qemu/tools" >/dev/null || die "building the test tools failed"
	PVLOCKCTL=$PVLOCK_ROOT/build/daemon/pvlockctl
	PVLOCK_QUERY=$PVLOCK_ROOT/build/tools/pvlock-query
	PVLOCK_HC_USER=$PVLOCK_ROOT/build/tools/pvlock-hc-user
}

# prepare_locktorture ID: torture.ko and locktorture.ko for that kernel.
prepare_locktorture() {
	"$PVLOCK_ROOT/scripts/build-locktorture.sh" "$1" >/dev/null || die "building locktorture for $1 failed"
	KO_TORTURE=$PVLOCK_ROOT/build/locktorture/$1/torture.ko
	KO_LOCKTORTURE=$PVLOCK_ROOT/build/locktorture/$1/locktorture.ko
}
