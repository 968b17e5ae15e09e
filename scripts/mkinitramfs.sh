#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build a busybox-static initramfs for a pvlock test run.
#
#   mkinitramfs.sh -o OUT.cpio.gz -t TEST.sh [-k KERNEL_ID] [-m MODULE]...
#                  [-b BINARY]... [-f SRC=DST]... [-d SRCDIR=DST]... [-q]
#
#   -k   kernel id (scripts/kernels.list) whose modules -m draws from
#   -m   distro kernel module to include with its dependencies (loaded in
#        order by load_kmods); may repeat
#   -b   SRC[=DST]: binary with the shared libraries it needs; DST defaults to
#        SRC for system paths, /usr/bin/NAME for anything else
#   -f   file to copy to DST; -d directory to copy to DST
#   -q   add qemu-system-x86_64 with its libraries and firmware (for an L1
#        that starts L2 guests)
#   -t   the test payload, installed as /test.sh and run by /init
. "$(dirname "$0")/lib.sh"

out= test= kid=
mods=() bins=() files=() dirs=()
qemu=0
while getopts "o:t:k:m:b:f:d:q" o; do
	case $o in
	o) out=$OPTARG ;;
	t) test=$OPTARG ;;
	k) kid=$OPTARG ;;
	m) mods+=("$OPTARG") ;;
	b) bins+=("$OPTARG") ;;
	f) files+=("$OPTARG") ;;
	d) dirs+=("$OPTARG") ;;
	q) qemu=1 ;;
	*) die "bad option (see the header of $0)" ;;
	esac
done
[ -n "$out" ] && [ -n "$test" ] || die "need -o OUT and -t TEST"
[ -f "$test" ] || die "no test script $test"

ensure_pkgs busybox-static cpio
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,kmod,boot,root}

cp /bin/busybox "$root/bin/busybox"
for a in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$a" ] || ln -s busybox "$root/bin/$a"
done
install -m 0755 "$PVLOCK_ROOT/tests/qemu/lib/init.sh" "$root/init"
install -m 0644 "$PVLOCK_ROOT/tests/qemu/lib/pvtest.sh" "$root/lib/pvtest.sh"
install -m 0755 "$test" "$root/test.sh"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"

# copy_with_libs PATH [DST]: the file plus every shared library ldd names for it
copy_with_libs() {
	local f=$1 dst=${2:-$1} l
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$f" "$root$dst"
	ldd "$f" 2>/dev/null | awk '/=>/ { print $3 } /^[ \t]*\// { print $1 }' |
	while read -r l; do
		[ -n "$l" ] && [ -f "$l" ] || continue
		mkdir -p "$root$(dirname "$l")"
		[ -e "$root$l" ] || cp -L "$l" "$root$l"
	done
}
for b in "${bins[@]}"; do
	src=${b%%=*} dst=${b#*=}
	if [ "$dst" = "$b" ]; then
		case $src in
		/usr/*|/bin/*|/sbin/*) dst=$src ;;
		*) dst=/usr/bin/$(basename "$src") ;;
		esac
	fi
	[ -x "$src" ] || die "binary $src missing"
	copy_with_libs "$src" "$dst"
done

for fd in "${files[@]}"; do
	src=${fd%%=*} dst=${fd#*=}
	[ -f "$src" ] || die "file $src missing"
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
done
for fd in "${dirs[@]}"; do
	src=${fd%%=*} dst=${fd#*=}
	[ -d "$src" ] || die "directory $src missing"
	mkdir -p "$root$dst"
	cp -aL "$src/." "$root$dst/"
done

if [ ${#mods[@]} -gt 0 ]; then
	[ -n "$kid" ] || die "-m needs -k"
	# shellcheck disable=SC1090
	. <("$PVLOCK_ROOT/scripts/kernels.sh" env "$kid")
	[ -n "$MODDIR" ] || die "kernel $kid has no modules (fetch it with -i)"
	base=${MODDIR%/lib/modules/*}
	: > "$root/kmod/order"
	for m in "${mods[@]}"; do
		modprobe -d "$base" -S "$ABI" --show-depends "$m" 2>/dev/null |
			awk '$1 == "insmod" { print $2 }' > "$root/kmod/.deps" ||
			die "module $m: not found in $kid"
		[ -s "$root/kmod/.deps" ] || die "module $m: not found in $kid"
		while read -r p; do
			n=$(basename "$p")
			n=${n%.xz}; n=${n%.zst}; n=${n%.gz}
			grep -qx "$n" "$root/kmod/order" && continue
			case $p in
			*.xz) xz -dc "$p" > "$root/kmod/$n" ;;
			*.zst) zstd -qdc "$p" > "$root/kmod/$n" ;;
			*.gz) gzip -dc "$p" > "$root/kmod/$n" ;;
			*) cp "$p" "$root/kmod/$n" ;;
			esac
			echo "$n" >> "$root/kmod/order"
		done < "$root/kmod/.deps"
	done
	rm -f "$root/kmod/.deps"
fi

if [ "$qemu" = 1 ]; then
	ensure_pkgs qemu-system-x86 seabios
	copy_with_libs /usr/bin/qemu-system-x86_64
	mkdir -p "$root/usr/share/qemu"
	for fw in /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin \
		  /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/linuxboot.bin; do
		cp -L "$fw" "$root/usr/share/qemu/"
	done
fi

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$out.tmp" ||
	die "cpio failed"
mv "$out.tmp" "$out"
