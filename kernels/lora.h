/* lora.h: LoRA adapters (Hu et al. 2021, as PEFT implements them) for the engine's projections.
 *
 * For a targeted projection y = W x, the adapted output is y = W x + s * B (A drop(x)) with
 * A (r, in), B (out, r), s = alpha / r, and drop = dropout with probability `dropout` on the
 * LoRA branch input during training (PEFT's lora_dropout). The base W is never copied: the
 * model adds the branch into the slice of its fused output (kernels/model.c), and
 * model_lora_merge / model_lora_unmerge add / subtract s * B A into W in place.
 *
 * Memory (llm.c style): all A and B of all layers in one allocation `params`, their gradients in
 * one allocation `grads`, with named per-module pointers into them:
 *   A[mod] (L, r, in[mod]) and B[mod] (L, out[mod], r), NULL when mod is not targeted.
 * tensors[] lists every A and B under its PEFT name with its offset in params, so an optimizer
 * is one flat loop and an adapter file is one walk of the list. No I/O here (data/adapter.h
 * reads and writes the PEFT folder). */
#ifndef ASFT_LORA_H
#define ASFT_LORA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef enum {
	LORA_Q, LORA_K, LORA_V, LORA_O, LORA_GATE, LORA_UP, LORA_DOWN,
	LORA_NMOD
} LoraModule;

#define LORA_BIT(mod) (1u << (mod))

/* Sane ranges (the PEFT adapter files of data/adapter.c are held to the same): r in
 * [1, LORA_R_MAX], alpha in (0, LORA_ALPHA_MAX], dropout in [0, 1). A rank past 65536 or an
 * alpha past 1e6 is a typo or an attack; an infinite alpha would make every update infinite. */
#define LORA_R_MAX 65536
#define LORA_ALPHA_MAX 1e6
#define LORA_NAME_MAX 112

typedef struct {
	char name[LORA_NAME_MAX];   /* PEFT name, e.g. base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight */
	size_t offset;              /* into params / grads */
	int64_t shape[2];
	size_t numel;
	int layer;
	LoraModule mod;
	int is_b;                   /* 0: lora_A, 1: lora_B */
} LoraTensor;

typedef struct {
	int r;
	float alpha;
	float scale;                /* alpha / r (alpha / sqrt(r) with use_rslora) */
	int use_rslora;             /* set by the adapter loader; lora_init leaves it 0 */
	float dropout;              /* on the branch input, training only */
	unsigned targets;           /* LORA_BIT(mod) set for each adapted projection */
	int L;
	int in[LORA_NMOD], out[LORA_NMOD];
	float *A[LORA_NMOD], *B[LORA_NMOD];     /* into params; NULL if not targeted */
	float *dA[LORA_NMOD], *dB[LORA_NMOD];   /* into grads */
	float *params, *grads;
	size_t n_params;
	LoraTensor *tensors;
	int n_tensors;
	int merged;                 /* set by model_lora_merge: the forward then skips the branch */
} Lora;

/* lora_module_name: "q_proj", ..., "down_proj"; lora_module_parse: the inverse, -1 if unknown. */
const char *lora_module_name(LoraModule mod);
int lora_module_parse(const char *name);
/* lora_targets_parse: "q_proj,v_proj" (also "all") into a target mask; 0 with err_set on an
 * unknown name or an empty list. */
unsigned lora_targets_parse(const char *list);

/* lora_init: allocates A and B for every layer and targeted module of cfg and initializes them
 * as PEFT does: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt(5)), B = 0, drawn
 * from rng stream per tensor of seed. grads are zeroed. 0 ok; -1 with err_set (naming the value
 * and the allowed range) on r outside [1, LORA_R_MAX], alpha outside (0, LORA_ALPHA_MAX] (NaN
 * and inf included), dropout outside [0, 1), or an empty target mask; so a run fails at its
 * start, not when it saves the adapter. lora_free(NULL-zeroed) is safe. */
int lora_init(Lora *lo, const ModelConfig *cfg, int r, float alpha, float dropout,
	      unsigned targets, uint64_t seed);
void lora_free(Lora *lo);
/* lora_find: the tensor with this PEFT name, or NULL. */
const LoraTensor *lora_find(const Lora *lo, const char *name);
void lora_zero_grad(Lora *lo);

#endif
