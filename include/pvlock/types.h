/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where pvlock's pure code meets its environment. The policy
 * headers in this folder include only this file and the uapi header; they
 * compile unchanged into the kernel modules, pvlockd/pvlockctl, the unit
 * tests and the simulator.
 */
#ifndef _PVLOCK_TYPES_H
#define _PVLOCK_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/compiler.h>
#include <asm/barrier.h>

#define pvlock_read_once(x)		READ_ONCE(x)
#define pvlock_write_once(x, v)		WRITE_ONCE(x, v)
#define pvlock_smp_rmb()		smp_rmb()
#define pvlock_smp_wmb()		smp_wmb()
#else
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#define pvlock_read_once(x)		(*(const volatile __typeof__(x) *)&(x))
#define pvlock_write_once(x, v)		(*(volatile __typeof__(x) *)&(x) = (v))
#define pvlock_smp_rmb()		__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define pvlock_smp_wmb()		__atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#include <linux/pvlock.h>

#define PVLOCK_NSEC_PER_MSEC		1000000ull

static inline u32 pvlock_clamp_u32(u32 v, u32 lo, u32 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static inline u32 pvlock_min_u32(u32 a, u32 b)
{
	return a < b ? a : b;
}

static inline u32 pvlock_max_u32(u32 a, u32 b)
{
	return a > b ? a : b;
}

static inline u64 pvlock_min_u64(u64 a, u64 b)
{
	return a < b ? a : b;
}

/* floor(log2(v)), 0 for v == 0: the histogram bucket of a duration. */
static inline unsigned int pvlock_hist_bucket(u64 v)
{
	unsigned int b = v ? 63 - (unsigned int)__builtin_clzll(v) : 0;

	return b < PVLOCK_HIST_BUCKETS ? b : PVLOCK_HIST_BUCKETS - 1;
}

#endif /* _PVLOCK_TYPES_H */
