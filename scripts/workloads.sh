#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Stage the real workloads of the workload benchmark (bench-workloads.sh) as a
# file tree for an L2 initramfs; prints its path. Every program comes from a
# Debian package of the machine's own suite, none is written here:
#   build     make -j of Lua 5.4 (source package lua5.4) with the Tiny C
#             Compiler (tcc) and make: only the files a build opens (traced
#             once here). Not gcc: under nested emulation cc1 takes seconds
#             per object, too few objects per run to measure anything
#             (about 14x the CPU time of tcc for the same build)
#   redis     redis-server + redis-benchmark (redis-tools) over loopback
#   sysbench  sysbench threads (mutexes + sched_yield)
#   hackbench hackbench (rt-tests): groups of tasks messaging over pipes
#
#   workloads.sh [OUTDIR]   (default build/workloads)
. "$(dirname "$0")/lib.sh"

out=${1:-$PVLOCK_ROOT/build/workloads}
root=$out/root
stamp=$out/stamp
LUA_PKG=lua5.4
PKGS=(tcc make libc6-dev strace sysbench rt-tests redis-tools)

# rebuilt when this script changes
sum=$(sha1sum "$0" | cut -c1-12)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && [ -d "$root" ]; then
	echo "$root"
	exit 0
fi
ensure_pkgs "${PKGS[@]}"
rm -rf "$out"
mkdir -p "$root/wl" "$out/src"

# the Lua source, from Debian's archive (a private APT tree with deb-src)
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
apt_priv_setup "src-$suite" "deb-src $DEBIAN_MIRROR $suite main"
(cd "$out/src" && apt_priv "src-$suite" apt-get source -qq --download-only "$LUA_PKG" >/dev/null) ||
	die "apt-get source $LUA_PKG failed"
tar -xzf "$out"/src/"${LUA_PKG}"_*.orig.tar.gz -C "$out/src" || die "unpacking $LUA_PKG"
lsrc=$(find "$out/src" -maxdepth 1 -type d -name 'lua-*' | head -1)
[ -f "$lsrc/src/Makefile" ] || die "no Lua source tree in $out/src"
cp -a "$lsrc" "$root/wl/lua"

# copy PATH [DST]: a file (symlinks followed) and, for an ELF file, every
# shared library it needs
copy() {
	local f=$1 dst=${2:-$1} l
	[ -e "$root$dst" ] && return 0
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$f" "$root$dst" || die "copying $f"
	ldd "$f" 2>/dev/null | awk '/=>/ { print $3 } /^[ \t]*\// { print $1 }' |
	while read -r l; do
		[ -n "$l" ] && [ -f "$l" ] && copy "$l"
	done
}

# One build of Lua from clean with tcc, the unit of work of "build" (the same
# script runs here for the trace and in the guests). Lua's "linux" target
# adds -Wl,-E, which tcc does not take: the inner target is called directly.
cat > "$root/wl/build-lua.sh" <<'EOF'
#!/bin/sh
# build-lua.sh JOBS DIR [CC]: make clean, then make -jJOBS of Lua in DIR
# with tcc (or CC, a command that runs tcc)
make -s -C "$2" clean > /dev/null
exec make -s -j"$1" -C "$2" all CC="${3:-tcc}" SYSCFLAGS=-DLUA_USE_LINUX SYSLIBS=-ldl \
	AR="tcc -ar rcs" RANLIB=true CFLAGS='-DLUA_COMPAT_5_3 $(SYSCFLAGS)'
EOF
chmod +x "$root/wl/build-lua.sh"

# The toolchain: what a build of Lua opens, found by tracing one here. ar
# and ranlib also open every linker plugin installed (LLVM's gold plugin
# pulls in 100 MB of libraries): plugins are left out, and so are the
# libraries only they need; a build needs none of them.
libs_of() { ldd "$@" 2>/dev/null | awk '/=>/ { print $3 }' | sort -u; }
strace -f -qq -e trace=execve,openat,open,stat,newfstatat -e signal=none -o "$out/trace" \
	sh "$root/wl/build-lua.sh" 2 "$lsrc/src" > "$out/build.log" 2>&1 || die "tracing a Lua build failed"
# (every path named, opened or not: only those that exist are kept)
grep -oE '"/[^"]+"' "$out/trace" | tr -d '"' |
	grep -vE '^/(proc|dev|sys|tmp|etc|run)/|^(/usr)?/bin/(sh|dash)$|/locale/|gconv' | grep -v "^$lsrc" |
	while read -r f; do [ -f "$f" ] && echo "$f"; done | sort -u > "$out/traced"
grep 'bfd-plugins' "$out/traced" > "$out/plugins" || true
grep -v 'bfd-plugins' "$out/traced" > "$out/kept"
# shellcheck disable=SC2046
comm -23 <(libs_of $(cat "$out/plugins")) <(libs_of $(grep -v '\.so' "$out/kept")) > "$out/plugin-only"
grep -vxF -f "$out/plugin-only" "$out/kept" > "$out/files"
n=0
while read -r f; do
	copy "$f"
	n=$((n + 1))
done < "$out/files"
[ -x "$root/usr/bin/tcc" ] && [ -x "$root/usr/bin/make" ] || die "the traced toolchain lacks tcc or make"

# the other programs, with their libraries
copy /usr/bin/sysbench
copy /usr/bin/hackbench
copy /usr/bin/redis-benchmark
# one binary in Debian: it acts as the server when called redis-server
copy /usr/bin/redis-check-rdb /usr/bin/redis-server

echo "$sum" > "$stamp"
msg "workloads staged in $root ($n toolchain files, $(du -sh "$root" | cut -f1))"
echo "$root"
