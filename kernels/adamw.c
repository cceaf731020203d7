/* adamw.c: AdamW, gradient clipping, schedules (see adamw.h). The order of operations follows
 * torch 1.13's _single_tensor_adamw so float results agree to rounding:
 *   p *= 1 - lr wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
#include "adamw.h"
#include "threads.h"
#include "err.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void adamw_init(AdamW *o, size_t n, float beta1, float beta2, float eps, float weight_decay)
{
	memset(o, 0, sizeof(*o));
	o->beta1 = beta1;
	o->beta2 = beta2;
	o->eps = eps;
	o->weight_decay = weight_decay;
	o->n = n;
	o->m = xcalloc(2 * (n ? n : 1), sizeof(float));
	o->v = o->m + n;
}

void adamw_free(AdamW *o)
{
	if (!o)
		return;
	free(o->m);
	memset(o, 0, sizeof(*o));
}

typedef struct {
	float *p, *m, *v;
	const float *g;
	float decay, b1, b2, step_size, bc2_sqrt, eps;
} AdamCtx;

static void adam_range(void *ctx, long i0, long i1)
{
	AdamCtx *c = ctx;
	float b1 = c->b1, b2 = c->b2;
	for (long i = i0; i < i1; i++) {
		float g = c->g[i];
		c->p[i] *= c->decay;
		c->m[i] = c->m[i] * b1 + g * (1.0f - b1);
		c->v[i] = c->v[i] * b2 + g * g * (1.0f - b2);
		float denom = sqrtf(c->v[i]) / c->bc2_sqrt + c->eps;
		c->p[i] += -c->step_size * (c->m[i] / denom);
	}
}

void adamw_update(float *params, const float *grads, float *m, float *v, size_t n, float lr,
		  float beta1, float beta2, float eps, float weight_decay, long t)
{
	double bc1 = 1.0 - pow(beta1, (double)t), bc2 = 1.0 - pow(beta2, (double)t);
	AdamCtx c = { .p = params, .m = m, .v = v, .g = grads,
		      .decay = 1.0f - lr * weight_decay, .b1 = beta1, .b2 = beta2,
		      .step_size = (float)(lr / bc1), .bc2_sqrt = (float)sqrt(bc2), .eps = eps };
	threads_for(adam_range, &c, (long)n, 1 << 14);
}

void adamw_step(AdamW *o, float *params, const float *grads, float lr)
{
	o->t++;
	adamw_update(params, grads, o->m, o->v, o->n, lr, o->beta1, o->beta2, o->eps,
		     o->weight_decay, o->t);
}

/* The norm is summed in at most 256 blocks whose bounds depend only on n, each block in double
 * on one thread, then the block sums in order: the same bits for any thread count. */
#define NORM_BLOCKS 256

typedef struct {
	float *g;
	size_t n, block;
	double *part;
	float coef;
} NormCtx;

static void norm_blocks(void *ctx, long b0, long b1)
{
	NormCtx *c = ctx;
	for (long b = b0; b < b1; b++) {
		size_t i0 = (size_t)b * c->block, i1 = i0 + c->block < c->n ? i0 + c->block : c->n;
		double s = 0;
		for (size_t i = i0; i < i1; i++)
			s += (double)c->g[i] * c->g[i];
		c->part[b] = s;
	}
}

static void scale_range(void *ctx, long i0, long i1)
{
	NormCtx *c = ctx;
	for (long i = i0; i < i1; i++)
		c->g[i] *= c->coef;
}

double grad_norm(const float *g, size_t n)
{
	double part[NORM_BLOCKS];
	size_t block = (n + NORM_BLOCKS - 1) / NORM_BLOCKS;
	if (block < 4096)
		block = 4096;
	long nb = (long)((n + block - 1) / block);
	NormCtx c = { .g = (float *)g, .n = n, .block = block, .part = part };
	threads_for(norm_blocks, &c, nb, 1);
	double s = 0;
	for (long b = 0; b < nb; b++)
		s += part[b];
	return sqrt(s);
}

double grad_clip(float *g, size_t n, float max_norm)
{
	double norm = grad_norm(g, n);
	if (max_norm <= 0)
		return norm;
	float coef = (float)(max_norm / (norm + 1e-6));
	if (coef < 1.0f) {
		NormCtx c = { .g = g, .coef = coef };
		threads_for(scale_range, &c, (long)n, 1 << 14);
	}
	return norm;
}

float lr_at(const LrSchedule *s, long step)
{
	if (s->warmup > 0 && step < s->warmup)
		return (float)(s->lr * ((double)step / (double)s->warmup));
	switch (s->kind) {
	case LR_STEP: {
		long epoch = s->steps_per_epoch > 0 ? step / s->steps_per_epoch : 0;
		return (float)(s->lr * pow(s->gamma, (double)epoch));
	}
	case LR_COSINE: {
		long span = s->total - s->warmup;
		double prog = (double)(step - s->warmup) / (double)(span > 1 ? span : 1);
		if (prog > 1)
			prog = 1;   /* transformers' curve would rise again after total steps */
		double f = 0.5 * (1.0 + cos(M_PI * prog));
		return (float)(s->lr * (f > 0 ? f : 0));
	}
	default:
		return s->lr;
	}
}

int lr_kind_parse(const char *name)
{
	if (!strcmp(name, "constant"))
		return LR_CONSTANT;
	if (!strcmp(name, "step"))
		return LR_STEP;
	if (!strcmp(name, "cosine"))
		return LR_COSINE;
	return -1;
}
