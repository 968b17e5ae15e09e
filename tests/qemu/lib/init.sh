#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of every pvlock test initramfs: set up a minimal system, run
# /test.sh, dump the kernel log for the console scan, power off.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm /tmp /run /var/tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
ln -sf /proc/self/fd /dev/fd 2>/dev/null
hostname "${PVLOCK_HOSTNAME:-pvlock}"
# A task blocked for a minute is reported ("INFO: task ... blocked for more
# than 60 seconds", a console-scan failure): the kernel's 120 s would let a
# stuck unload or a lost wake-up pass unseen in runs of a few minutes.
echo 60 > /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null
ip link set lo up 2>/dev/null

. /lib/pvtest.sh
echo "PVLOCK-INIT kernel=$(uname -r) cpus=$(ncpus) mem=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)kB"
: > /run/pvlock.tally
if [ -x /test.sh ]; then
	/test.sh
	rc=$?
else
	echo "PVLOCK-RESULT FAIL init: /test.sh missing"
	rc=1
fi
# Kernel messages up to KERN_WARNING, for the console scan: they reach the
# console anyway at loglevel=5, unless the console was too busy to keep up.
echo "PVLOCK-DMESG-BEGIN"
dmesg -r | grep -E '^<[0-4]>' | sed 's/^<[0-9]>//'
echo "PVLOCK-DMESG-END"
echo "PVLOCK-DONE rc=$rc passed=$(grep -c P /run/pvlock.tally) failed=$(grep -c F /run/pvlock.tally)"
sync
# poweroff -f does not wait for the serial line to drain: give it a moment
sleep 1
poweroff -f
sleep 5
