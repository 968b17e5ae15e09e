/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel compatibility shared by both modules: the supported range and the
 * few kernel API differences both modules meet (netlink). Module-specific
 * shims live in each module's compat.h. Every shim names the kernel release
 * whose change made it necessary.
 *
 * Supported: Debian's bookworm 6.1, bookworm-security/backports and trixie
 * 6.12, sid 7.x up to PVLOCK_KERNEL_MAX. Below 6.1 the livepatch and KVM
 * internals pvlock relies on differ too much (see README); above the newest
 * tested release the build stops until someone has checked the new kernel.
 */
#ifndef _PVLOCK_KCOMPAT_H
#define _PVLOCK_KCOMPAT_H

#include <linux/version.h>
#include <linux/netlink.h>
#include <net/genetlink.h>

/* Keep in sync with scripts/matrix.sh, which reads these two lines. */
#define PVLOCK_KERNEL_MIN	KERNEL_VERSION(6, 1, 0)
#define PVLOCK_KERNEL_MAX	KERNEL_VERSION(7, 2, 255)

#if LINUX_VERSION_CODE < PVLOCK_KERNEL_MIN
#error "pvlock supports Linux 6.1 and newer; this kernel is older (see README: supported kernels)"
#endif
#if LINUX_VERSION_CODE > PVLOCK_KERNEL_MAX
#error "pvlock is tested up to Linux 7.2; this kernel is newer: check it and raise PVLOCK_KERNEL_MAX"
#endif

#ifndef CONFIG_X86_64
#error "pvlock supports x86-64 only"
#endif

/*
 * 6.2: the dump info carries a full struct genl_info (genl_info_dump());
 * 6.1 has only genl_dumpit_info()->attrs.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define pvlock_dump_attrs(cb)	(genl_info_dump(cb)->attrs)
#else
#define pvlock_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

/*
 * 6.2: formatted extack messages (NL_SET_ERR_MSG_ATTR_FMT); 6.1 gets the
 * fixed text @plain.
 */
#ifdef NL_SET_ERR_MSG_ATTR_FMT
#define PVLOCK_NL_ERR_ATTR(extack, attr, plain, fmt, ...) \
	NL_SET_ERR_MSG_ATTR_FMT(extack, attr, fmt, ##__VA_ARGS__)
#else
#define PVLOCK_NL_ERR_ATTR(extack, attr, plain, fmt, ...) \
	NL_SET_ERR_MSG_ATTR(extack, attr, plain)
#endif

#endif /* _PVLOCK_KCOMPAT_H */
