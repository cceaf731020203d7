/* model.h: the Llama / Mistral / Qwen2 transformer (Hugging Face-exact) for training and
 * evaluation: forward, loss, backward, LoRA branches, merge / unmerge.
 *
 * Shapes: d = hidden_size, L layers, H query heads and KV key/value heads of hd = head_dim,
 * qd = H*hd, kvd = KV*hd, qkvd = qd + 2 kvd, F = intermediate_size, V = vocab_size; a batch is
 * B sequences of T tokens, N = B*T rows.
 *
 * Memory, as llm.c: one allocation per kind of tensor (params, grads, activations) with a struct
 * of named pointers into it. The projections of a layer that read the same input are stored
 * fused so one sgemm computes them: wqkv (L, qkvd, d) holds q_proj, k_proj, v_proj as row blocks
 * and wgu (L, 2F, d) holds gate_proj then up_proj. tensors[] maps every Hugging Face tensor name
 * to its offset in params (the same offset indexes grads), so checkpoints and optimizers walk one
 * flat array. A tied lm_head is embed_tokens itself (no copy; its gradient accumulates both uses).
 *
 * A training step allocates nothing: model_reserve sizes the activations once for the largest
 * (B, T); forward and backward reuse them. No file I/O here (data/checkpoint.h loads and saves). */
#ifndef ASFT_MODEL_H
#define ASFT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lora.h"
#include "rng.h"

typedef struct {
	float *embed;       /* (V, d)       model.embed_tokens.weight */
	float *ln1;         /* (L, d)       input_layernorm.weight */
	float *wqkv;        /* (L, qkvd, d) q_proj, k_proj, v_proj weights as row blocks */
	float *bqkv;        /* (L, qkvd)    their biases (Qwen2, Llama attention_bias), or NULL */
	float *wo;          /* (L, d, qd)   o_proj.weight */
	float *bo;          /* (L, d)       o_proj.bias (Llama attention_bias), or NULL */
	float *ln2;         /* (L, d)       post_attention_layernorm.weight */
	float *wgu;         /* (L, 2F, d)   gate_proj then up_proj weights */
	float *wdown;       /* (L, d, F)    down_proj.weight */
	float *norm;        /* (d)          model.norm.weight */
	float *lm_head;     /* (V, d)       lm_head.weight; == embed when tied */
} ParamTensors;

#define MODEL_NAME_MAX 96

typedef struct {
	char name[MODEL_NAME_MAX];  /* Hugging Face name, e.g. model.layers.0.self_attn.q_proj.weight */
	size_t offset;              /* into params (and grads) */
	int ndim;
	int64_t shape[2];
	size_t numel;
} ModelTensor;

typedef struct {
	float *resid;       /* (L+1, N, d)  residual stream: [0] embeddings, [l+1] after layer l */
	float *resid_mid;   /* (L, N, d)    after the attention residual of layer l */
	float *ln1;         /* (L, N, d) */
	float *ln1_rstd;    /* (L, N) */
	float *qkv;         /* (L, N, qkvd) q, k rotated */
	float *att;         /* (L, B, H, T, T) attention probabilities */
	float *atty;        /* (L, N, qd)   attention output before o_proj */
	float *ln2;         /* (L, N, d) */
	float *ln2_rstd;    /* (L, N) */
	float *gu;          /* (L, N, 2F)   gate and up pre-activations */
	float *hmid;        /* (L, N, F)    silu(gate) * up */
	float *lnf;         /* (N, d) */
	float *lnf_rstd;    /* (N) */
	float *logits;      /* (N, V)       overwritten by dlogits in model_backward */
	float *losses;      /* (N) */
	/* LoRA branch state (only when an adapter is attached): */
	float *lora_u[LORA_NMOD];       /* (L, N, r)  A x */
	float *lora_x[LORA_NMOD];       /* (L, N, in) dropped input (dropout > 0) */
	float *lora_mask[LORA_NMOD];    /* (L, N, in) dropout mask (dropout > 0) */
	/* backward scratch, one layer at a time: */
	float *dres;        /* (N, d) */
	float *dln;         /* (N, d) */
	float *dqkv;        /* (N, qkvd) */
	float *datty;       /* (N, qd) */
	float *datt;        /* (B, H, T, T) */
	float *dgu;         /* (N, 2F) */
	float *dhmid;       /* (N, F) */
	float *dlora_u;     /* (N, r) */
	float *dlora_x;     /* (N, max in) */
} ActTensors;

typedef struct {
	ModelConfig cfg;
	int d, L, H, KV, hd, qd, kvd, qkvd, F, V;
	ParamTensors w;
	float *params;              /* n_params floats */
	size_t n_params;
	ParamTensors g;             /* into grads; all NULL until model_enable_grads */
	float *grads;
	ModelTensor *tensors;
	int n_tensors;
	/* activations for up to B_max sequences of T_max tokens */
	ActTensors a;
	float *acts;
	size_t n_acts;
	int B_max, T_max;
	int acts_r, acts_drop;      /* LoRA rank, dropout and targets the activations hold */
	unsigned acts_lora;
	int *ids, *targets, *pos;   /* (N) copies of the last forward's inputs */
	int B, T;                   /* the last forward's batch */
	int n_targets;              /* targets >= 0 in the last forward */
	float *rope_cos, *rope_sin; /* (rope_len, hd/2) */
	int rope_len;
	Lora *lora;                 /* attached adapter (not owned), or NULL */
	int training;               /* 1: LoRA dropout active */
	float loss_scale;           /* model_backward differentiates loss_scale * loss (default 1;
				     * e.g. 1/k to average k accumulated micro-batches) */
	Rng rng;                    /* dropout masks */
} Model;

/* model_init: checks cfg's sizes (positive, KV divides H, head_dim even; -1 with err_set
 * otherwise) and allocates zeroed params and the tensor table. Nothing else is allocated. */
int model_init(Model *m, const ModelConfig *cfg);
/* model_free: releases everything model_init / model_reserve / model_enable_grads allocated
 * (not an attached Lora). Safe on a zeroed Model. */
void model_free(Model *m);
/* model_init_weights: normal(0, std) for matrices and embeddings, zero biases, 1 for norms, from
 * rng streams of seed (one per tensor, so independent of the layout). */
void model_init_weights(Model *m, uint64_t seed, float std);
/* model_find: the tensor named name (HF name), or NULL. */
const ModelTensor *model_find(const Model *m, const char *name);

/* model_enable_grads: allocates (zeroed) grads for every parameter: full fine-tuning. Without
 * it the base is frozen and model_backward only fills the attached adapter's grads. */
void model_enable_grads(Model *m);
void model_zero_grad(Model *m);         /* zeroes base grads (if any) and the adapter's grads */

/* model_set_lora: attaches lo (not owned; NULL detaches). lo must have been made for m's
 * config. Activations are resized at the next model_reserve. */
void model_set_lora(Model *m, Lora *lo);
/* model_lora_merge / unmerge: W += s B A / W -= s B A for every adapted projection, in place;
 * sets / clears lo->merged so the forward skips / uses the branch. No-op if already so. */
void model_lora_merge(Model *m, Lora *lo);
void model_lora_unmerge(Model *m, Lora *lo);

/* model_reserve: sizes activations for up to B sequences of T tokens (and the RoPE table for T
 * positions). Allocates only when (B, T) or the adapter grew; call it before a training loop so
 * the steps allocate nothing. -1 with err_set if T exceeds max_position_embeddings or an
 * active sliding_window (below the window, full causal attention is exactly the same). */
int model_reserve(Model *m, int B, int T);
/* model_rope_reserve: the RoPE table for positions 0..P-1 (generation uses it too). */
void model_rope_reserve(Model *m, int P);

/* model_forward: logits (B,T,V) into m->a.logits for ids (B,T). With targets (B,T) (the label
 * each position predicts, < 0 or >= V = ignored; see model_targets_shift) also the loss: the
 * mean over positions with a target, returned and kept for model_backward; returns 0 without
 * targets or when none is valid. Calls model_reserve. An id outside [0, V) or a batch that
 * model_reserve refuses returns NAN with err_set and computes nothing (model_backward is then
 * a no-op). */
float model_forward(Model *m, const int *ids, const int *targets, int B, int T);
/* model_backward: gradients of the last forward's loss, ACCUMULATED into grads (base, if
 * enabled) and the attached adapter's grads: call model_zero_grad first. Needs targets in the
 * forward. Overwrites the logits with dlogits. */
void model_backward(Model *m);

/* model_targets_shift: HF causal-LM labels: targets[b,t] = ids[b,t+1] where mask[b,t+1] != 0
 * (mask NULL = all), -1 at t = T-1 and where masked. Returns the number of targets kept. */
int model_targets_shift(int *targets, const int *ids, const unsigned char *mask, int B, int T);

#endif
