#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian kernels into $PVLOCK_CACHE without installing them, and build
# against them.
#
#   kernels.sh list                       ids in the matrix
#   kernels.sh fetch [-i] [-s] ID...      headers (+ -i image and modules, + -s locktorture source)
#   kernels.sh env ID                     print KDIR= ABI= KVER= CC= ... (after fetch)
#   kernels.sh make ID [make args...]     run make with that kernel's compiler (chroot if needed)
#   kernels.sh chroot SUITE GCC           create the build chroot for SUITE (idempotent)
#   kernels.sh qemu                       print the chroot holding trixie's QEMU (created once)
. "$(dirname "$0")/lib.sh"

LIST=$PVLOCK_ROOT/scripts/kernels.list

kline() {
	awk -v id="$1" '$1 == id { print; found = 1 } END { exit !found }' "$LIST" ||
		die "unknown kernel id '$1' (see: $0 list)"
}

# First "Depends:" of PKG matching REGEX, per the private apt tree of SUITE.
dep_of() {
	apt_priv "$1" apt-cache depends "$2" 2>/dev/null |
		awk -v re="$3" '$1 ~ /Depends:$/ && $2 ~ re { print $2 }' | sort -u
}

download() {
	local suite=$1; shift
	mkdir -p "$PVLOCK_CACHE/debs"
	local p todo=()
	for p in "$@"; do
		ls "$PVLOCK_CACHE/debs/${p}_"*.deb >/dev/null 2>&1 || todo+=("$p")
	done
	[ ${#todo[@]} -eq 0 ] && return 0
	msg "download ${todo[*]}"
	(cd "$PVLOCK_CACHE/debs" && apt_priv "$suite" apt-get download -qq "${todo[@]}" \
		>/dev/null 2>"$PVLOCK_CACHE/debs/.err") ||
		die "apt-get download ${todo[*]}: $(tail -2 "$PVLOCK_CACHE/debs/.err")"
}

extract() {
	local root=$1; shift
	local p f
	for p in "$@"; do
		f=$(ls -t "$PVLOCK_CACHE/debs/${p}_"*.deb | head -1)
		dpkg-deb -x "$f" "$root" || die "dpkg-deb -x $f"
	done
}

cmd_chroot() {
	local suite=$1 gcc=$2
	local ch=$PVLOCK_CACHE/chroot/$suite
	if [ -x "$ch/usr/bin/$gcc" ] && [ -f "$ch/.pvlock-ready" ]; then
		return 0
	fi
	need_root "building the $suite chroot"
	ensure_pkgs debootstrap
	msg "debootstrap $suite with $gcc (once, cached in $ch)"
	rm -rf "$ch"
	mkdir -p "$ch"
	debootstrap --variant=minbase \
		--include="$gcc,make,libc6-dev,libelf-dev,dwarves,ca-certificates" \
		"$suite" "$ch" "$DEBIAN_MIRROR" >"$PVLOCK_CACHE/chroot/$suite.log" 2>&1 ||
		die "debootstrap $suite failed: $(tail -3 "$PVLOCK_CACHE/chroot/$suite.log")"
	touch "$ch/.pvlock-ready"
}

# Trixie's QEMU for the tests (see scripts/qemu-run.sh), installed into the
# trixie build chroot; prints the chroot.
cmd_qemu() {
	local ch=$PVLOCK_CACHE/chroot/trixie
	cmd_chroot trixie gcc-14 >&2
	if [ ! -x "$ch/usr/bin/qemu-system-x86_64" ] || [ ! -f "$ch/.pvlock-qemu" ]; then
		need_root "installing QEMU into the trixie chroot"
		msg "installing qemu-system-x86 into the trixie chroot (once)"
		chroot "$ch" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
			/bin/sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends qemu-system-x86' \
			>"$PVLOCK_CACHE/chroot/trixie-qemu.log" 2>&1 ||
			die "installing QEMU in the trixie chroot failed: $(tail -3 "$PVLOCK_CACHE/chroot/trixie-qemu.log")"
		touch "$ch/.pvlock-qemu"
	fi
	echo "$ch"
}

cmd_fetch() {
	local image=0 source=0 id
	while [ $# -gt 0 ]; do
		case $1 in
		-i) image=1 ;;
		-s) source=1 ;;
		*) break ;;
		esac
		shift
	done
	for id in "$@"; do
		fetch_one "$id" "$image" "$source"
	done
}

fetch_one() {
	local id=$1 image=$2 source=$3
	local line suite hmeta imeta comp
	line=$(kline "$id") || exit 1
	read -r _ suite hmeta imeta comp _ <<<"$line"
	local kd=$PVLOCK_CACHE/kernels/$id
	mkdir -p "$kd"

	# Resolve names once per apt refresh; keep the previous resolution when
	# nothing is newer so that an offline rerun still works.
	# shellcheck disable=SC2046
	apt_priv_setup "$suite" "$(suite_sources "$suite")"
	local hpkg abi
	hpkg=$(dep_of "$suite" "$hmeta" '^linux-headers-') ||:
	[ -n "$hpkg" ] || die "$id: $hmeta has no linux-headers dependency in $suite"
	abi=${hpkg#linux-headers-}
	local root=$kd/root-$abi

	if [ ! -f "$root/.headers" ]; then
		local hdeps
		hdeps=$(dep_of "$suite" "$hpkg" '^linux-(headers-.*-common|kbuild-|base-[0-9])')
		# shellcheck disable=SC2086
		download "$suite" "$hpkg" $hdeps
		# shellcheck disable=SC2086
		extract "$root" "$hpkg" $hdeps
		# The flavour Makefile includes the common tree by absolute path.
		sed -i "s|/usr/src/|$root/usr/src/|g" "$root/usr/src/linux-headers-$abi/Makefile"
		touch "$root/.headers"
	fi

	if [ "$image" = 1 ] && [ ! -f "$root/.image" ]; then
		local ipkg ideps
		ipkg=$(dep_of "$suite" "$imeta" '^linux-image-')
		[ -n "$ipkg" ] || die "$id: $imeta has no linux-image dependency"
		ideps=$(dep_of "$suite" "$ipkg" '^linux-(binary|modules)-')
		# shellcheck disable=SC2086
		download "$suite" "$ipkg" $ideps
		# shellcheck disable=SC2086
		extract "$root" "$ipkg" $ideps
		local mdir
		mdir=$(ls -d "$root"/lib/modules/"$abi" "$root"/usr/lib/modules/"$abi" 2>/dev/null | head -1)
		[ -n "$mdir" ] || die "$id: no modules directory in the image packages"
		depmod -b "${mdir%/lib/modules/$abi}" "$abi" 2>/dev/null ||
			depmod -b "${mdir%/usr/lib/modules/$abi}" "$abi" ||
			die "$id: depmod failed"
		touch "$root/.image"
	fi

	if [ "$source" = 1 ]; then
		fetch_source "$suite" "$abi"
	fi

	local cc=gcc-12 chroot=
	case $comp in
	host) cc=$(grep -o 'gcc-[0-9]*' "$root"/usr/src/linux-headers-"$abi"/.kernelvariables 2>/dev/null | head -1)
	      [ -n "$cc" ] || cc=gcc ;;
	chroot:*) cc=${comp#chroot:}; chroot=$PVLOCK_CACHE/chroot/$suite
		  cmd_chroot "$suite" "$cc" ;;
	esac
	[ "$comp" = host ] && ! command -v "$cc" >/dev/null && cc=gcc

	local vmlinuz moddir
	vmlinuz=$(ls "$root"/boot/vmlinuz-"$abi" "$root"/usr/lib/modules/"$abi"/vmlinuz 2>/dev/null | head -1)
	moddir=$(ls -d "$root"/lib/modules/"$abi" "$root"/usr/lib/modules/"$abi" 2>/dev/null | head -1)
	cat > "$kd/env.new" <<EOF
KID=$id
SUITE=$suite
ABI=$abi
KROOT=$root
KDIR=$root/usr/src/linux-headers-$abi
KCC=$cc
KCHROOT=$chroot
VMLINUZ=$vmlinuz
MODDIR=$moddir
LTSRC=$(cat "$kd/ltsrc" 2>/dev/null)
EOF
	mv "$kd/env.new" "$kd/env"
	msg "$id: $abi ready (${vmlinuz:+image, }compiler $cc${chroot:+ in $suite chroot})"
}

# locktorture is off in Debian's configs: take kernel/torture.c and
# kernel/locking/locktorture.c from the matching linux-source package.
fetch_source() {
	local suite=$1 abi=$2
	local sver
	sver=$(echo "$abi" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
	local out=$PVLOCK_CACHE/src/$sver
	if [ ! -f "$out/.ok" ]; then
		download "$suite" "linux-source-$sver"
		local f tmp
		f=$(ls -t "$PVLOCK_CACHE/debs/linux-source-${sver}_"*.deb | head -1)
		tmp=$(mktemp -d)
		dpkg-deb --fsys-tarfile "$f" | tar -x -C "$tmp" --wildcards '*.tar.*' ||
			die "linux-source-$sver: no tarball"
		mkdir -p "$out"
		tar -x -C "$out" --strip-components=1 -f "$tmp"/usr/src/linux-source-"$sver".tar.* \
			--wildcards '*/kernel/torture.c' '*/kernel/locking/locktorture.c' \
			'*/kernel/locking/lock_events*.h' '*/kernel/rcu/rcu.h' ||
			die "linux-source-$sver: locktorture files missing"
		rm -rf "$tmp"
		touch "$out/.ok"
	fi
	echo "$out" > "$PVLOCK_CACHE/kernels/$id/ltsrc"
}

cmd_env() {
	local f=$PVLOCK_CACHE/kernels/$1/env
	[ -f "$f" ] || die "kernel $1 not fetched (run: $0 fetch $1)"
	cat "$f"
}

# Run make for kernel ID; in a chroot the cache and the source tree are bind
# mounted at their own paths, so every absolute path stays valid inside.
cmd_make() {
	local id=$1; shift
	local envf=$PVLOCK_CACHE/kernels/$id/env
	[ -f "$envf" ] || die "kernel $id not fetched"
	# shellcheck disable=SC1090
	. "$envf"
	if [ -z "$KCHROOT" ]; then
		make CC="$KCC" KDIR="$KDIR" "$@"
		return
	fi
	need_root "building in the $SUITE chroot"
	local src
	src=$(pwd)
	unshare -m --propagation private /bin/bash -c '
		set -e
		ch=$1 cache=$2 src=$3 root=$4; shift 4
		for d in "$cache" "$src" "$root"; do
			mkdir -p "$ch$d"
			mount --bind "$d" "$ch$d"
		done
		mount -t proc proc "$ch/proc"
		exec chroot "$ch" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 /bin/bash -c "cd \"\$0\" && exec make \"\$@\"" \
			"$src" "$@"
	' _ "$KCHROOT" "$PVLOCK_CACHE" "$src" "$PVLOCK_ROOT" CC="$KCC" KDIR="$KDIR" "$@"
}

case ${1:-} in
list) awk '!/^#/ && NF { print $1 }' "$LIST" ;;
fetch) shift; cmd_fetch "$@" ;;
env) cmd_env "$2" ;;
make) shift; cmd_make "$@" ;;
chroot) cmd_chroot "$2" "$3" ;;
qemu) cmd_qemu ;;
*) echo "usage: $0 {list|fetch [-i] [-s] ID...|env ID|make ID ARGS...|chroot SUITE GCC}" >&2; exit 2 ;;
esac
