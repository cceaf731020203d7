/* ops.h: the engine's layers as forward/backward pairs on raw float buffers (llm.c style).
 *
 * Conventions: outputs first, then inputs, then dimensions; the shape of every buffer is in its
 * comment; row-major throughout. Backward functions ACCUMULATE (+=) into their gradient outputs
 * so the caller zeroes once; a NULL gradient output is skipped (frozen weights). Matmuls are
 * cblas_sgemm calls with transposes chosen so a weight is never copied, split in fixed blocks
 * over the pool of threads.h with OpenBLAS held to one thread; the other loops run on the pool
 * too, and everything gives the same bits for any thread count.
 *
 * The maths is that of Hugging Face transformers' modeling_llama / modeling_qwen2: RMSNorm
 * w * x / sqrt(mean(x^2) + eps), rotate-half RoPE (pairs i and i + hd/2), causal softmax
 * attention with scale 1/sqrt(head_dim) and query head h reading kv head h / (H/KV) (repeat_kv),
 * SwiGLU silu(gate) * up, next-token cross-entropy ignoring targets < 0.
 *
 * ops.c is written on a `real` type; tests/test_gradcheck.c compiles the same source a second
 * time with real = double (names suffixed _d) to check every backward against central
 * differences of its forward in double precision. No I/O, no allocation. */
#ifndef ASFT_OPS_H
#define ASFT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

/* embedding_forward: out (N,C) = wte (V,C) rows ids[n]; ids are trusted to be in [0, V). */
void embedding_forward(float *out, const int *ids, const float *wte, int N, int C);
/* embedding_backward: dwte (V,C) row ids[n] += dout (N,C) row n (serial: ids may repeat). */
void embedding_backward(float *dwte, const float *dout, const int *ids, int N, int C);

/* rmsnorm_forward: out (N,C) = w (C) * inp (N,C) * rstd; rstd (N) = 1/sqrt(mean(inp^2) + eps). */
void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, int N, int C,
		     float eps);
/* rmsnorm_backward: dinp (N,C) += ..., dw (C) += sum_n dout * inp * rstd (dw may be NULL). */
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp,
		      const float *w, const float *rstd, int N, int C);

/* matmul_forward: out (N,OC) = inp (N,C) @ w (OC,C)^T + bias (OC; NULL = none). */
void matmul_forward(float *out, const float *inp, const float *w, const float *bias, int N,
		    int C, int OC);
/* matmul_backward: dinp (N,C) += dout @ w; dw (OC,C) += dout^T @ inp; dbias (OC) += column
 * sums of dout (N,OC). Each of dinp, dw, dbias may be NULL. */
void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
		     const float *w, int N, int C, int OC);

/* matmul_backward_set: as matmul_backward but dinp (N,C) = dout @ w is OVERWRITTEN (dw and dbias
 * still accumulate): for callers that own dinp and would otherwise zero it first. */
void matmul_backward_set(float *dinp, float *dw, float *dbias, const float *dout,
			 const float *inp, const float *w, int N, int C, int OC);

/* rope_table: cos, sin (P, hd/2) for positions 0..P-1 as transformers computes them in float32:
 * inv_freq[i] = 1 / theta^((2i)/hd), angle = pos * inv_freq[i] (one float product). */
void rope_table(float *cos_t, float *sin_t, int P, int hd, double theta);
/* rope_forward: rotates in place the first n_heads heads (hd wide) of each of the N rows of x
 * (row stride ld) by position pos[n] (< P of the table): x1' = x1 cos - x2 sin,
 * x2' = x2 cos + x1 sin, where x1, x2 are the two halves of a head (rotate_half). */
void rope_forward(float *x, const int *pos, const float *cos_t, const float *sin_t, int N,
		  int ld, int n_heads, int hd);
/* rope_backward: the transpose rotation, in place on the gradient dx (same layout). */
void rope_backward(float *dx, const int *pos, const float *cos_t, const float *sin_t, int N,
		   int ld, int n_heads, int hd);

/* attention_forward: causal grouped-query attention for B sequences of T tokens.
 * qkv (B,T,(H+2KV)*hd) holds per token q (H heads), k (KV heads), v (KV heads), q and k rotated;
 * att (B,H,T,T) receives the probabilities (zero above the diagonal); out (B,T,H*hd). */
void attention_forward(float *out, float *att, const float *qkv, int B, int T, int H, int KV,
		       int hd);
/* attention_backward: dqkv (B,T,(H+2KV)*hd) += ...; datt (B,H,T,T) is scratch. */
void attention_backward(float *dqkv, float *datt, const float *dout, const float *qkv,
			const float *att, int B, int T, int H, int KV, int hd);

/* attention_backward_set: as attention_backward but dqkv is OVERWRITTEN (every column of it is
 * written: no need to zero it first). */
void attention_backward_set(float *dqkv, float *datt, const float *dout, const float *qkv,
			    const float *att, int B, int T, int H, int KV, int hd);

/* swiglu_forward: out (N,F) = silu(gu[:, :F]) * gu[:, F:], gu (N,2F) = [gate | up]. */
void swiglu_forward(float *out, const float *gu, int N, int F);
/* swiglu_backward: dgu (N,2F) += ... */
void swiglu_backward(float *dgu, const float *dout, const float *gu, int N, int F);

/* swiglu_backward_set: as swiglu_backward but dgu is OVERWRITTEN. */
void swiglu_backward_set(float *dgu, const float *dout, const float *gu, int N, int F);

/* crossentropy_forward: losses (N) = logsumexp(logits[n]) - logits[n, targets[n]] for
 * targets[n] >= 0, 0 where targets[n] < 0 (ignored, as HF's -100). logits (N,V). */
void crossentropy_forward(float *losses, const float *logits, const int *targets, int N, int V);
/* crossentropy_backward: dlogits (N,V) = dloss * (softmax(logits) - onehot(target)) on rows
 * with a target, 0 on ignored rows. OVERWRITES dlogits (not +=) and may alias logits, so the
 * training step reuses the logits buffer. dloss is d(total)/d(losses[n]) (e.g. 1/count). */
void crossentropy_backward(float *dlogits, const float *logits, const int *targets, float dloss,
			   int N, int V);

/* residual_forward: out (n) = a + b (out may alias a). */
void residual_forward(float *out, const float *a, const float *b, size_t n);

/* lora_forward: out (N, rows of stride ldo, first OC columns) += s * u @ B^T where
 * u (N,R) = x (N,C) @ A (R,C)^T is saved for the backward; B is (OC,R). */
void lora_forward(float *out, int ldo, float *u, const float *x, const float *A, const float *B,
		  int N, int C, int OC, int R, float s);
/* lora_backward: dB (OC,R) += s * dout^T @ u; du (N,R) = s * dout @ B (scratch, overwritten);
 * dA (R,C) += du^T @ x; dx (N,C) += du @ A (dx may be NULL). dout has row stride ldo. */
void lora_backward(float *dx, float *dA, float *dB, float *du, const float *dout, int ldo,
		   const float *x, const float *u, const float *A, const float *B, int N, int C,
		   int OC, int R, float s);

/* vexp_shift_sum: y[i] = exp(x[i] - shift) for n values in 8 float lanes (y may be x, or NULL
 * to only sum); returns the sum of the y (float only: the kernel softmax and SiLU use). */
float vexp_shift_sum(float *y, const float *x, int n, float shift);

/* dropout_forward: out (N,C) = x * mask, mask (N,C) = 0 (dropped, when rng_uniformf < p) or
 * 1/(1-p), as torch.nn.Dropout in training. Row n draws from rng_init(seed, n), so a seed fixes
 * the mask whatever the thread count. */
void dropout_forward(float *out, float *mask, const float *x, int N, int C, float p,
		     uint64_t seed);
/* dropout_backward: dx (n) += dout * mask. */
void dropout_backward(float *dx, const float *dout, const float *mask, size_t n);

#endif
