# SPDX-License-Identifier: GPL-2.0
# Shared helpers for pvlock's scripts. Source it; do not run it.
#
# Everything fetched lives under $PVLOCK_CACHE (default ~/.cache/pvlock):
#   apt/<suites>/    private APT_CONFIG trees (the machine's sources are never touched)
#   debs/            downloaded .deb files
#   kernels/<id>/    extracted kernels: root/ (headers, image, modules), env (see kernels.sh)
#   chroot/<suite>/  debootstrapped build roots for compilers the machine lacks
#   src/<ver>/       files taken from linux-source-<ver> (locktorture)

set -o pipefail

PVLOCK_ROOT=${PVLOCK_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
PVLOCK_CACHE=${PVLOCK_CACHE:-${HOME:-/root}/.cache/pvlock}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
export PVLOCK_ROOT PVLOCK_CACHE

msg() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }
die() { printf '[%s] error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

need_root() {
	[ "$(id -u)" = 0 ] || die "$1 needs root (debootstrap/chroot/apt-get)"
}

# Install Debian packages on the build machine if any is missing. Only the
# machine's own suites are used here; other suites go through apt_priv.
ensure_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	need_root "installing ${missing[*]}"
	msg "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
		apt-get update -qq >/dev/null || true
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
			die "apt-get install ${missing[*]} failed"
	fi
}

# apt_priv_setup NAME "deb-line" ... : create a private APT tree NAME with the given
# sources lines and update it at most once per $PVLOCK_APT_MAX_AGE seconds.
apt_priv_setup() {
	local name=$1; shift
	local d=$PVLOCK_CACHE/apt/$name
	mkdir -p "$d"/etc/preferences.d "$d"/state/lists/partial "$d"/cache/archives/partial
	printf '%s\n' "$@" > "$d/etc/sources.list.new"
	if ! cmp -s "$d/etc/sources.list.new" "$d/etc/sources.list" 2>/dev/null; then
		mv "$d/etc/sources.list.new" "$d/etc/sources.list"
		rm -f "$d/stamp"
	else
		rm -f "$d/etc/sources.list.new"
	fi
	touch "$d/state/status"
	cat > "$d/apt.conf" <<EOF
Dir::Etc::SourceList "$d/etc/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::Etc::Preferences "$d/etc/preferences";
Dir::Etc::PreferencesParts "$d/etc/preferences.d";
Dir::State "$d/state";
Dir::State::status "$d/state/status";
Dir::Cache "$d/cache";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
Acquire::Retries "3";
EOF
	local age=${PVLOCK_APT_MAX_AGE:-21600}
	if [ ! -f "$d/stamp" ] || [ $(( $(date +%s) - $(stat -c %Y "$d/stamp") )) -gt "$age" ]; then
		msg "apt update ($name)"
		APT_CONFIG=$d/apt.conf apt-get update -qq >/dev/null 2>"$d/update.err" ||
			die "apt-get update for $name failed: $(tail -3 "$d/update.err")"
		touch "$d/stamp"
	fi
}

apt_priv() {
	local name=$1; shift
	APT_CONFIG=$PVLOCK_CACHE/apt/$name/apt.conf "$@"
}

# Suite name -> sources lines.
suite_sources() {
	case $1 in
	sid|unstable)
		echo "deb $DEBIAN_MIRROR sid main" ;;
	*)
		echo "deb $DEBIAN_MIRROR $1 main"
		echo "deb $DEBIAN_MIRROR $1-updates main"
		echo "deb $DEBIAN_SECURITY_MIRROR $1-security main"
		[ "$1" = bookworm ] && echo "deb $DEBIAN_MIRROR $1-backports main"
		;;
	esac
}

# The commit a benchmark measured, "-dirty" when files other than the
# benchmarks' own outputs (bench/results) differ from it: a report written
# by one benchmark must not mark the next one's.
pvlock_rev() {
	local r
	r=$(git -C "$PVLOCK_ROOT" rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
	[ -n "$(git -C "$PVLOCK_ROOT" status --porcelain -- . ':!bench/results' 2>/dev/null)" ] &&
		r=$r-dirty
	echo "$r"
}

# pool_with_earlier LIST CSV: a section for a benchmark's report, on
# standard output: the rounds of this run's CSV pooled with the earlier runs
# LIST names (scripts/bench-pool.sh --list; bench/results/pool-*.list). Only
# for a run written to bench/results itself, not the demo's or an
# exploratory directory; a clone without those commits (a shallow one) gets
# a line saying so, not a failure.
pool_with_earlier() {
	local list=$1 csv=$2 dir pooled
	dir=$(cd "$(dirname "$csv")" && pwd)
	[ -f "$list" ] && [ "$dir" = "$PVLOCK_ROOT/bench/results" ] || return 0
	echo
	if pooled=$(cd "$PVLOCK_ROOT" && scripts/bench-pool.sh --list "$list" "bench/results/${csv##*/}" 2>&1); then
		echo "$pooled" | sed 's/^## Rounds pooled over benchmark runs$/## This run pooled with the earlier ones/'
	else
		echo "Not pooled with the earlier runs: ${pooled##*$'\n'}"
	fi
}

# Seconds since the epoch with a fraction, for stage timings.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
