#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a test-only kernel module from tests/qemu/kmod/NAME for a fetched
# kernel; prints the .ko path.
#   build-testmod.sh ID NAME
. "$(dirname "$0")/lib.sh"

id=${1:?usage: build-testmod.sh ID NAME}
name=${2:?usage: build-testmod.sh ID NAME}
src=$PVLOCK_ROOT/tests/qemu/kmod/$name
[ -d "$src" ] || die "no test module $name"
# shellcheck disable=SC1090
. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$id") || exit 1
out=$PVLOCK_ROOT/build/testmod/$id/$name
rm -rf "$out"
mkdir -p "$out"
cp -a "$src/." "$out/"
cd "$out" || exit 1
"$PVLOCK_ROOT/scripts/kernels.sh" make "$id" -C "$KDIR" M="$out" PVLOCK_ROOT="$PVLOCK_ROOT" modules \
	> "$out/build.log" 2>&1 ||
	{ grep -E 'error|Error' "$out/build.log" | head -5 >&2; die "$name build for $id failed"; }
echo "$out/$name.ko"
