/* rng.h: the one random number generator of asft (xoshiro256**, seeded by splitmix64).
 *
 * Every random choice in the toolkit (weight init, dropout masks, sampling, directions, the
 * synthetic world) draws from an Rng, so a seed reproduces bitwise. rng_init(seed, stream) gives
 * independent streams from one user seed (e.g. stream = tensor index), so results do not depend
 * on the order in which tensors or threads are visited. Not cryptographic. */
#ifndef ASFT_RNG_H
#define ASFT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t s[4];
	int has_spare;      /* Box-Muller makes normals in pairs */
	double spare;
} Rng;

void rng_init(Rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_u64(Rng *r);
uint32_t rng_below(Rng *r, uint32_t n);     /* uniform in [0, n), unbiased; n > 0 */
double rng_uniform(Rng *r);                 /* uniform in [0, 1), 53 random bits */
float rng_uniformf(Rng *r);                 /* uniform in [0, 1), 24 random bits */
double rng_normal(Rng *r);                  /* standard normal (Box-Muller in double) */
void rng_fill_normal(Rng *r, float *out, size_t n, float mean, float std);   /* out is (n) */
void rng_shuffle_int(Rng *r, int *a, size_t n);                              /* Fisher-Yates */

#endif
