#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Run a command inside a cached chroot with the given host directories bind
# mounted at their own paths (so every absolute path stays valid), plus
# /dev and /proc. Meant to run in a private mount namespace (unshare -m).
#   in-chroot.sh CHROOT DIR... -- COMMAND [ARGS...]
set -e
ch=$1
shift
# a private /tmp first, so that a directory under /tmp bound below stays visible
mkdir -p "$ch/tmp"
mount -t tmpfs tmpfs "$ch/tmp"
while [ "$1" != -- ]; do
	mkdir -p "$ch$1"
	mount --bind "$1" "$ch$1"
	shift
done
shift
mount --rbind /dev "$ch/dev"
mount -t proc proc "$ch/proc"
exec chroot "$ch" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"
