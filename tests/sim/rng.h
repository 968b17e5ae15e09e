/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulator's own PRNG (xoshiro256**, seeded through splitmix64), so a
 * run depends on its seed only, never on the C library's rand().
 * Each guest thread draws from its own stream: two policies run on the same
 * seed see the same sequence of lock choices, hold and think times
 * (common random numbers), which is what makes their ratio meaningful.
 */
#ifndef _PVLOCK_SIM_RNG_H
#define _PVLOCK_SIM_RNG_H

#include <math.h>
#include <stdint.h>

struct sim_rng {
	uint64_t s[4];
};

static inline uint64_t sim_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ull);

	for (int i = 0; i < 4; i++)
		r->s[i] = sim_splitmix64(&x);
}

static inline uint64_t sim_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = sim_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sim_rotl(s[3], 45);
	return out;
}

/* uniform in [0, n) */
static inline uint32_t sim_rng_below(struct sim_rng *r, uint32_t n)
{
	return n ? (uint32_t)(((sim_rng_next(r) >> 32) * n) >> 32) : 0;
}

/* uniform in (0, 1] */
static inline double sim_rng_unit(struct sim_rng *r)
{
	return ((sim_rng_next(r) >> 11) + 1) * (1.0 / 9007199254740992.0);
}

/* exponential with the given mean, in ns; 0 for a zero mean */
static inline uint64_t sim_rng_exp(struct sim_rng *r, uint64_t mean)
{
	return mean ? (uint64_t)(-log(sim_rng_unit(r)) * (double)mean) : 0;
}

#endif /* _PVLOCK_SIM_RNG_H */
