#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian kernels into $PVLOCK_CACHE without installing them, and build
# against them. Each line of kernels.list follows its suite's newest kernel of
# its series (see resolve_abi): a new point release is fetched by itself.
#
#   kernels.sh list                       ids in the matrix
#   kernels.sh fetch [-i] [-s] ID...      headers (+ -i image and modules, + -s locktorture source)
#   kernels.sh env ID                     print KDIR= ABI= KCC= VMLINUZ= ... (after fetch)
#   kernels.sh describe ID                ABI, Debian version and compiler of the fetched kernel
#   kernels.sh make ID [make args...]     run make with that kernel's compiler (chroot if needed)
#   kernels.sh chroot SUITE GCC           create the build chroot for SUITE (idempotent)
#   kernels.sh qemu                       print the chroot holding trixie's QEMU (created once)
. "$(dirname "$0")/lib.sh"

LIST=$PVLOCK_ROOT/scripts/kernels.list

kline() {
	awk -v id="$1" '$1 == id { print; found = 1 } END { exit !found }' "$LIST" ||
		die "unknown kernel id '$1' (see: $0 list)"
}

# Every "Depends:" of PKG matching REGEX, per the private apt tree of SUITE.
dep_of() {
	apt_priv "$1" apt-cache depends "$2" 2>/dev/null |
		awk -v re="$3" '$1 ~ /Depends:$/ && $2 ~ re { print $2 }' | sort -u
}

# The version of PKG that SUITE offers now (empty: none).
cand_of() {
	apt_priv "$1" apt-cache policy "$2" 2>/dev/null |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}

# debfile SUITE PKG [VERSION]: the .deb of VERSION (default: the one SUITE
# offers now), downloaded once. By exact version: a package whose name carries
# no ABI (linux-kbuild-6.1, linux-source-6.12) gets a new version with each
# point release, and an older file of that name must not stand in for it.
# Prints the path.
debfile() {
	local suite=$1 p=$2 ver=${3:-} f tmp
	[ -n "$ver" ] || ver=$(cand_of "$suite" "$p")
	[ -n "$ver" ] || die "$p: not in $suite"
	# apt-get download names the file PKG_VERSION_ARCH.deb, an epoch's ':' as %3a
	f=$(ls "$PVLOCK_CACHE/debs/${p}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1)
	if [ -z "$f" ]; then
		msg "download $p $ver ($suite)"
		# into a private directory first: another checkout may fetch the same
		tmp=$(mktemp -d "$PVLOCK_CACHE/debs/.dl.XXXXXX")
		if ! (cd "$tmp" && apt_priv "$suite" apt-get download -qq "$p=$ver" >/dev/null 2>"$tmp/err"); then
			local err
			err=$(tail -2 "$tmp/err")
			rm -rf "$tmp"
			die "apt-get download $p=$ver: $err"
		fi
		mv "$tmp"/*.deb "$PVLOCK_CACHE/debs/" && rm -rf "$tmp"
		f=$(ls "$PVLOCK_CACHE/debs/${p}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1)
		[ -n "$f" ] || die "apt-get download $p=$ver left no ${p}_*.deb"
	fi
	echo "$f"
}

extract() {	# ROOT SUITE PKG...
	local root=$1 suite=$2 p f
	shift 2
	mkdir -p "$root"
	for p in "$@"; do
		f=$(debfile "$suite" "$p") || exit 1
		dpkg-deb -x "$f" "$root" || die "dpkg-deb -x $f"
	done
}

# The kernel series a line follows is its id up to the first '-' ("6.12" of
# 6.12-trixie, "7" of 7-sid): an ABI of that series.
in_series() {	# ID ABI
	local s=${1%%-*}
	case $2 in "$s".*) return 0 ;; esac
	return 1
}

# The newest amd64 kernel of ID's series in SUITE, by headers package: for a
# meta package that no longer exists or has moved to another series.
newest_in_series() {	# ID SUITE
	local id=$1 suite=$2 a v best='' bestv=''
	for a in $(apt_priv "$suite" apt-cache pkgnames "linux-headers-${id%%-*}." 2>/dev/null |
		   sed -n 's/^linux-headers-//p' |
		   grep -E '^[0-9]+\.[0-9]+[.0-9]*(-[0-9]+)?(\+[a-z0-9]+)?-amd64$'); do
		in_series "$id" "$a" || continue
		v=$(cand_of "$suite" "linux-headers-$a")
		[ -n "$v" ] || continue
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$bestv"; then
			best=$a bestv=$v
		fi
	done
	echo "$best"
}

# The ABI to use for ID: what its headers meta package points at now, as
# long as that is still of the line's series; otherwise the series' newest
# in the suite, said out loud.
resolve_abi() {	# ID SUITE HEADERS-META
	local id=$1 suite=$2 hmeta=$3 hpkg abi
	hpkg=$(dep_of "$suite" "$hmeta" '^linux-headers-[0-9]' | head -1) ||:
	abi=${hpkg#linux-headers-}
	if [ -n "$abi" ] && in_series "$id" "$abi"; then
		echo "$abi"
		return
	fi
	local alt
	alt=$(newest_in_series "$id" "$suite")
	[ -n "$alt" ] || die "$id: $suite has no ${id%%-*}.x kernel any more" \
		"($hmeta points at ${abi:-nothing}): give scripts/kernels.list a line for the new one"
	msg "$id: $hmeta points at ${abi:-nothing}, not a ${id%%-*}.x kernel; taking $suite's newest ${id%%-*}.x, $alt"
	echo "$alt"
}

# The image package for ABI: the one IMETA points at when that is ABI's (a
# signed image can lag its headers in the archive), else linux-image-ABI or
# its -unsigned twin.
image_pkg() {	# ID SUITE IMETA ABI
	local id=$1 suite=$2 imeta=$3 abi=$4 p
	p=$(dep_of "$suite" "$imeta" '^linux-image-[0-9]' | head -1) ||:
	[ "$p" = "linux-image-$abi" ] && { echo "$p"; return; }
	for p in "linux-image-$abi" "linux-image-$abi-unsigned"; do
		if [ -n "$(cand_of "$suite" "$p")" ]; then
			msg "$id: $imeta does not point at $abi's image; taking $p"
			echo "$p"
			return
		fi
	done
	die "$id: $suite has no image for $abi (neither $imeta nor linux-image-${abi}[-unsigned])"
}

# PKG and, transitively, every package it depends on that carries ABI in its
# name: sid splits linux-image-<abi> into linux-binary-<abi> (vmlinuz),
# linux-modules-<abi> and linux-base-<abi>; a later split is followed the same way.
abi_closure() {	# SUITE ABI PKG
	local suite=$1 abi=$2 todo=("$3") seen=' ' p d
	while [ ${#todo[@]} -gt 0 ]; do
		p=${todo[0]}
		todo=("${todo[@]:1}")
		case $seen in *" $p "*) continue ;; esac
		seen+="$p "
		echo "$p"
		for d in $(apt_priv "$suite" apt-cache depends "$p" 2>/dev/null |
			   awk -v abi="$abi" '$1 ~ /Depends:$/ && index($2, abi) && $2 !~ /^linux-headers-/ { print $2 }'); do
			todo+=("$d")
		done
	done
}

cmd_chroot() {
	local suite=$1 gcc=$2
	local ch=$PVLOCK_CACHE/chroot/$suite
	if [ -x "$ch/usr/bin/$gcc" ] && [ -f "$ch/.pvlock-ready" ]; then
		return 0
	fi
	need_root "building the $suite chroot"
	if [ -f "$ch/.pvlock-ready" ]; then
		# the suite's kernel moved to a newer compiler: add it, keep the rest
		# (the trixie chroot also holds the tests' QEMU)
		msg "installing $gcc into the $suite chroot"
		chroot "$ch" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
			/bin/sh -c "apt-get update -qq && apt-get install -y -qq --no-install-recommends $gcc" \
			>"$PVLOCK_CACHE/chroot/$suite-$gcc.log" 2>&1 ||
			die "installing $gcc in the $suite chroot failed: $(tail -3 "$PVLOCK_CACHE/chroot/$suite-$gcc.log")"
		return 0
	fi
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
	mkdir -p "$kd" "$PVLOCK_CACHE/debs"

	# The archive decides the version: names are resolved again after every
	# apt refresh (PVLOCK_APT_MAX_AGE), so a point release is picked up by
	# itself; everything below is keyed by the ABI or the exact version.
	apt_priv_setup "$suite" "$(suite_sources "$suite")"
	local abi
	abi=$(resolve_abi "$id" "$suite" "$hmeta") || exit 1
	local hpkg=linux-headers-$abi
	local root=$kd/root-$abi
	local kdir=$root/usr/src/linux-headers-$abi

	if [ ! -f "$root/.headers" ]; then
		# shellcheck disable=SC2046
		extract "$root" "$suite" "$hpkg" \
			$(dep_of "$suite" "$hpkg" '^linux-(headers-.*-common|kbuild-|base-[0-9])') || exit 1
		# The flavour Makefile includes the common tree by absolute path
		# (only a path not yet rewritten: another checkout may extract too).
		sed -i "s|\([ =:]\)/usr/src/|\1$root/usr/src/|g" "$kdir/Makefile"
		touch "$root/.headers"
	fi

	if [ "$image" = 1 ] && [ ! -f "$root/.image" ]; then
		local ipkg
		ipkg=$(image_pkg "$id" "$suite" "$imeta" "$abi") || exit 1
		# shellcheck disable=SC2046
		extract "$root" "$suite" $(abi_closure "$suite" "$abi" "$ipkg") || exit 1
		local mdir
		mdir=$(ls -d "$root"/lib/modules/"$abi" "$root"/usr/lib/modules/"$abi" 2>/dev/null | head -1)
		[ -n "$mdir" ] && [ -f "$mdir/modules.order" ] ||
			die "$id: the image packages of $abi hold no modules (lib/modules or usr/lib/modules)"
		[ -f "$root/boot/vmlinuz-$abi" ] || [ -f "$mdir/vmlinuz" ] ||
			die "$id: the image packages of $abi hold no vmlinuz (boot/ or $mdir)"
		depmod -b "${mdir%/lib/modules/"$abi"}" "$abi" || die "$id: depmod failed"
		touch "$root/.image"
	fi

	# The compiler the kernel was built with (its headers name it), from
	# the machine or from a chroot of the suite: a suite whose kernel moves
	# to a newer gcc gets that gcc, not a silent mismatch.
	local cc chroot=
	cc=$(grep -o 'gcc-[0-9]*' "$kdir/.kernelvariables" 2>/dev/null | head -1)
	case $comp in
	host)
		[ -n "$cc" ] || cc=gcc
		if ! command -v "$cc" >/dev/null && ! (ensure_pkgs "$cc") 2>/dev/null; then
			# an old kernel (bullseye's gcc-10) only has to be refused
			msg "$id: $cc is not available on this machine; building with gcc"
			cc=gcc
		fi
		;;
	chroot*)
		[ -n "$cc" ] || cc=${comp#chroot:}
		[ "$cc" != chroot ] || die "$id: no gcc-N in $kdir/.kernelvariables and none listed"
		chroot=$PVLOCK_CACHE/chroot/$suite
		cmd_chroot "$suite" "$cc"
		;;
	*) die "$id: compiler column '$comp' is neither host nor chroot[:gcc-N]" ;;
	esac

	[ -f "$root/.version" ] || cand_of "$suite" "$hpkg" > "$root/.version"

	if [ "$source" = 1 ]; then
		fetch_source "$id" "$suite" "$abi" || exit 1
	fi

	local vmlinuz moddir
	vmlinuz=$(ls "$root"/boot/vmlinuz-"$abi" "$root"/usr/lib/modules/"$abi"/vmlinuz 2>/dev/null | head -1)
	moddir=$(ls -d "$root"/lib/modules/"$abi" "$root"/usr/lib/modules/"$abi" 2>/dev/null | head -1)
	cat > "$kd/env.new.$$" <<EOF
KID=$id
SUITE=$suite
ABI=$abi
KROOT=$root
KDIR=$kdir
KCC=$cc
KCHROOT=$chroot
VMLINUZ=$vmlinuz
MODDIR=$moddir
LTSRC=$(cat "$root/.ltsrc" 2>/dev/null)
EOF
	mv "$kd/env.new.$$" "$kd/env"
	msg "$id: $abi ready (${vmlinuz:+image, }compiler $cc${chroot:+ in $suite chroot})"
}

# locktorture is off in Debian's configs: take kernel/torture.c and
# kernel/locking/locktorture.c from linux-source-<major.minor> of the
# kernel's own version (the suite's newest if it no longer has that one),
# kept per version so that a point release gets its own.
fetch_source() {	# ID SUITE ABI
	local id=$1 suite=$2 abi=$3
	local root=$PVLOCK_CACHE/kernels/$id/root-$abi
	local pkg kver ver
	pkg=linux-source-$(echo "$abi" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
	kver=$(cand_of "$suite" "linux-headers-$abi")
	ver=$kver
	if ! apt_priv "$suite" apt-cache show "$pkg=$ver" >/dev/null 2>&1; then
		ver=$(cand_of "$suite" "$pkg")
		[ -n "$ver" ] || die "$id: $suite has no $pkg (locktorture's source)"
		msg "$id: $suite has no $pkg $kver; locktorture from $ver"
	fi
	local out=$PVLOCK_CACHE/src/$pkg-${ver//[:~]/_}
	if [ ! -f "$out/.ok" ]; then
		local f tmp
		f=$(debfile "$suite" "$pkg" "$ver") || exit 1
		tmp=$(mktemp -d)
		dpkg-deb --fsys-tarfile "$f" | tar -x -C "$tmp" --wildcards '*.tar.*' ||
			die "$pkg: no tarball"
		mkdir -p "$out"
		tar -x -C "$out" --strip-components=1 -f "$tmp"/usr/src/"$pkg".tar.* \
			--wildcards '*/kernel/torture.c' '*/kernel/locking/locktorture.c' \
			'*/kernel/locking/lock_events*.h' '*/kernel/rcu/rcu.h' ||
			die "$pkg: locktorture files missing"
		rm -rf "$tmp"
		touch "$out/.ok"
	fi
	echo "$out" > "$root/.ltsrc"
}

cmd_env() {
	local f=$PVLOCK_CACHE/kernels/$1/env
	[ -f "$f" ] || die "kernel $1 not fetched (run: $0 fetch $1)"
	# a cache pruned by hand must not hand out paths that are gone
	grep -q "^KDIR=/" "$f" && [ -d "$(sed -n 's/^KDIR=//p' "$f")" ] ||
		die "kernel $1: $f names a tree that is gone (run: $0 fetch $1)"
	cat "$f"
}

# The version string a bzImage carries (boot protocol: a 16-bit pointer at
# 0x20e, relative to 0x200): exactly what boots.
bzimage_version() {
	local off
	[ "$(dd if="$1" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ] || return 1
	off=$(od -An -tu2 -j526 -N2 "$1" | tr -d ' ')
	dd if="$1" bs=1 skip=$((off + 512)) count=256 2>/dev/null | tr '\0' '\n' | head -1
}

cmd_describe() {
	local f=$PVLOCK_CACHE/kernels/$1/env ver banner cc ko
	[ -f "$f" ] || die "kernel $1 not fetched (run: $0 fetch $1)"
	# shellcheck disable=SC1090
	. "$f"
	[ -f "$VMLINUZ" ] && banner=$(bzimage_version "$VMLINUZ")
	ver=$(echo "$banner" | sed -nE 's/.* Debian ([^ ]+ \([0-9-]+\))$/\1/p')
	[ -n "$ver" ] || ver="$(cat "$KROOT/.version" 2>/dev/null) (headers)"
	cc=$(sed -nE 's/^CONFIG_CC_VERSION_TEXT="(x86_64-linux-gnu-)?(.*)"$/\2/p' "$KDIR/.config")
	# how it ships its modules (the test images carry them decompressed)
	ko=$(find "$MODDIR/kernel/arch/x86/kvm" -name 'kvm.ko*' 2>/dev/null | head -1)
	if [ -n "$ko" ]; then ko="modules .ko${ko##*.ko}"; else ko="no image fetched"; fi
	echo "$ABI, Debian $ver, $ko, built with ${cc:-an unknown compiler}"
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
describe) cmd_describe "$2" ;;
make) shift; cmd_make "$@" ;;
chroot) cmd_chroot "$2" "$3" ;;
qemu) cmd_qemu ;;
*) echo "usage: $0 {list|fetch [-i] [-s] ID...|env ID|describe ID|make ID ARGS...|chroot SUITE GCC|qemu}" >&2; exit 2 ;;
esac
