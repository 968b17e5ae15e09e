#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build both modules against a fetched kernel, in a private copy of the
# sources (build/kbuild/<id>/), so that builds for different kernels never
# share objects. Prints the two .ko paths on success.
#   build-modules.sh ID [extra make args]
. "$(dirname "$0")/lib.sh"

id=${1:?usage: build-modules.sh ID}
shift
out=$PVLOCK_ROOT/build/kbuild/$id
# shellcheck disable=SC1090
. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$id") || exit 1

# make test builds for each kernel in the matrix and again in each QEMU
# stage: the same sources, kernel tree, compiler and arguments as the last
# successful build here leave that build standing
key=$( (cd "$PVLOCK_ROOT" && find Kbuild guest-mod host-mod include -type f \
	\( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) | sort | xargs sha256sum
	echo "$KDIR $KCC $KCHROOT $*") | sha256sum)
if [ "$(cat "$out/.build-key" 2>/dev/null)" = "$key" ] &&
   [ -f "$out/guest-mod/pvlock_guest.ko" ] && [ -f "$out/host-mod/pvlock_host.ko" ]; then
	echo "$out/guest-mod/pvlock_guest.ko"
	echo "$out/host-mod/pvlock_host.ko"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out"
cp -a "$PVLOCK_ROOT/Kbuild" "$PVLOCK_ROOT/guest-mod" "$PVLOCK_ROOT/host-mod" \
	"$PVLOCK_ROOT/include" "$out/"
find "$out" -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' | xargs rm -f
cd "$out" || exit 1
"$PVLOCK_ROOT/scripts/kernels.sh" make "$id" -C "$KDIR" M="$out" PVLOCK_ROOT="$out" \
	modules "$@" > "$out/build.log" 2>&1
rc=$?
if [ $rc -ne 0 ] || [ ! -f "$out/guest-mod/pvlock_guest.ko" ] || [ ! -f "$out/host-mod/pvlock_host.ko" ]; then
	grep -E 'error|#error|Error' "$out/build.log" | head -5 >&2
	exit 1
fi
echo "$key" > "$out/.build-key"
echo "$out/guest-mod/pvlock_guest.ko"
echo "$out/host-mod/pvlock_host.ko"
