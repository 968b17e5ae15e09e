#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build locktorture out of tree for a fetched kernel: Debian has
# CONFIG_LOCK_TORTURE_TEST off, so torture.ko and locktorture.ko are built
# from kernel/torture.c and kernel/locking/locktorture.c of the matching
# linux-source package. Prints the two .ko paths.
#   build-locktorture.sh ID
. "$(dirname "$0")/lib.sh"

id=${1:?usage: build-locktorture.sh ID}
# the source of the kernel fetched last (kernels.sh fetch -s), else fetch it
# shellcheck disable=SC1090
. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$id" 2>/dev/null)
if [ -z "${LTSRC:-}" ] || [ ! -f "$LTSRC/kernel/locking/locktorture.c" ]; then
	"$PVLOCK_ROOT/scripts/kernels.sh" fetch -s "$id" >/dev/null || die "fetch $id"
	# shellcheck disable=SC1090
	. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$id")
fi
[ -n "$LTSRC" ] && [ -f "$LTSRC/kernel/locking/locktorture.c" ] || die "no locktorture source for $id"

out=$PVLOCK_ROOT/build/locktorture/$id
# built before from the same source for the same kernel tree and compiler:
# that build stands (make test asks once per stage)
key="$LTSRC $KDIR $KCC $KCHROOT $(sha256sum < "$0")"
if [ "$(cat "$out/.build-key" 2>/dev/null)" = "$key" ] &&
   [ -f "$out/torture.ko" ] && [ -f "$out/locktorture.ko" ]; then
	echo "$out/torture.ko"
	echo "$out/locktorture.ko"
	exit 0
fi
rm -rf "$out"
mkdir -p "$out/rcu"
cp "$LTSRC/kernel/torture.c" "$LTSRC/kernel/locking/locktorture.c" "$out/"
cp "$LTSRC/kernel/rcu/rcu.h" "$out/rcu/"
cat > "$out/Kbuild" <<'KB'
obj-m := torture.o locktorture.o
ccflags-y := -I$(src)
KB
# 6.12 calls torture_sched_setaffinity(), which lives in kernel/rcu/update.c
# only when an RCU torture test is built in (not on Debian). A stand-in that
# refuses keeps the module loadable; bind_readers/bind_writers are then
# unsupported (we never use them).
if grep -q 'torture_sched_setaffinity' "$out/locktorture.c" &&
   ! grep -qw 'torture_sched_setaffinity' "$KDIR/Module.symvers"; then
	cat > "$out/lt_compat.c" <<'C'
// SPDX-License-Identifier: GPL-2.0
#include <linux/cpumask.h>
#include <linux/errno.h>
#include <linux/types.h>

long torture_sched_setaffinity(pid_t pid, const struct cpumask *in_mask)
{
	return -EOPNOTSUPP;
}
C
	printf 'locktorture-y := locktorture_main.o lt_compat.o\n' >> "$out/Kbuild"
	mv "$out/locktorture.c" "$out/locktorture_main.c"
fi
cd "$out" || exit 1
"$PVLOCK_ROOT/scripts/kernels.sh" make "$id" -C "$KDIR" M="$out" modules > "$out/build.log" 2>&1 ||
	{ grep -E 'error|Error' "$out/build.log" | head -5 >&2; die "locktorture build for $id failed"; }
echo "$key" > "$out/.build-key"
echo "$out/torture.ko"
echo "$out/locktorture.ko"
