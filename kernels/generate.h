/* generate.h: batched autoregressive generation with a KV cache.
 *
 * Prompts of different lengths share one batch by LEFT padding: row b's prompt occupies cache
 * slots [pad_b, Tp) with pad_b = Tp - len_b; its positions start at 0 at its first real token
 * (as transformers derives position_ids from the attention mask) and its queries never see the
 * pad slots, so every row computes exactly what it would alone. The prompt is run through the
 * model in chunks that fill the cache; each further step feeds one token per row. Greedy
 * decoding takes the first maximal logit (torch.argmax); sampling applies temperature, then
 * top-k, then top-p (nucleus) as transformers' logits warpers do, and draws from row b's own
 * stream rng_init(seed, b), so a row's tokens do not depend on the other rows. A row stops
 * after it emits one of the config's EOS ids (unless ignore_eos); the batch stops when every
 * row has stopped or max_new tokens were made.
 *
 * An attached, unmerged LoRA adapter is applied (dropout off). All memory (cache, scratch,
 * samplers) is allocated by gen_init; a decode step allocates nothing. */
#ifndef ASFT_GENERATE_H
#define ASFT_GENERATE_H

#include <stdint.h>

#include "model.h"
#include "rng.h"

typedef struct {
	int max_new;            /* new tokens per row, >= 1 */
	float temperature;      /* 0 = greedy */
	int top_k;              /* 0 = off */
	float top_p;            /* 1 = off */
	uint64_t seed;
	int ignore_eos;
} GenParams;

void gen_params_default(GenParams *p);  /* greedy, max_new 64, top_k 0, top_p 1, seed 0 */

typedef struct {
	Model *m;
	int B_max, T_max;       /* rows; cache slots (longest prompt + max_new) */
	int chunk;              /* prompt slots per forward chunk */
	int lora_r;             /* LoRA rank the scratch holds (adapter attached at gen_init) */
	int M_max;              /* token rows per forward = B_max * chunk */
	float *mem;             /* one allocation for everything below */
	int Ts;                 /* cache slots per row: T_max rounded up to a multiple of 8 */
	float *kcache;          /* (L, B_max, KV, Ts/8, hd, 8): K in blocks of 8 slots */
	float *vcache;          /* (L, B_max, KV, Ts, hd) */
	float *x, *xn, *rstd, *qkv, *atty, *tmp, *gu, *hmid, *lora_u;  /* (M_max, ...) */
	float *xl, *logits;     /* (B_max, d), (B_max, V) */
	float *scores;          /* (B_max * H, Ts) attention scratch */
	float *probs;           /* (B_max, V) sampling scratch */
	int *imem;
	int *tok;               /* (B_max, T_max) the padded token layout */
	int *pos, *rows_b;      /* (M_max) */
	int *pad;               /* (B_max) */
	int *order;             /* (B_max, V) sampling scratch */
	Rng *rng;               /* (B_max) */
	/* the step being run */
	int B, t0, n;
} Generator;

/* gen_init: a generator for up to B_max prompts and T_max slots (prompt + new tokens) on m
 * (which must outlive it). 0 ok; -1 with err_set when B_max or T_max < 1 or T_max exceeds the
 * model's max_position_embeddings. */
int gen_init(Generator *g, Model *m, int B_max, int T_max);
void gen_free(Generator *g);    /* safe on a zeroed struct */

/* gen_run: generates for B prompts (prompts[b] has lens[b] >= 1 ids in [0, V)). out (B, T_max)
 * receives each prompt followed by its new tokens (EOS included when it stopped the row);
 * out_len[b] is the filled length. 0 ok; -1 with err_set on a bad argument (B > B_max, empty
 * or too long prompt, id out of range, bad sampling parameters), nothing generated. */
int gen_run(Generator *g, const int *const *prompts, const int *lens, int B,
	    const GenParams *p, int *out, int *out_len);

/* gen_pick: the next token from logits (V) under p with rng (greedy ignores rng); probs (V) and
 * order (V) are scratch. Exposed for tests. */
int gen_pick(const float *logits, int V, const GenParams *p, Rng *rng, float *probs, int *order);

#endif
