/* adamw.h: the optimizer: AdamW exactly as torch.optim.AdamW (decoupled weight decay, bias
 * correction, eps added outside the square root), clipping by global gradient norm as
 * torch.nn.utils.clip_grad_norm_, and learning-rate schedules (constant, StepLR per epoch,
 * cosine with linear warmup as transformers' get_cosine_schedule_with_warmup).
 *
 * Works on flat arrays (the model's params/grads, or a Lora's), one allocation for the moment
 * estimates m and v. Element updates are independent and run on the thread pool, so the result
 * does not depend on the thread count. */
#ifndef ASFT_ADAMW_H
#define ASFT_ADAMW_H

#include <stddef.h>

typedef struct {
	float beta1, beta2, eps, weight_decay;
	float *m, *v;       /* (n) each, in one allocation */
	size_t n;
	long t;             /* steps taken */
} AdamW;

/* adamw_init: zeroed moments for n parameters. Torch's defaults are beta1 0.9, beta2 0.999,
 * eps 1e-8, weight_decay 0.01. */
void adamw_init(AdamW *o, size_t n, float beta1, float beta2, float eps, float weight_decay);
void adamw_free(AdamW *o);          /* safe on a zeroed struct */
/* adamw_step: one update of params (n) from grads (n) at learning rate lr (t increments first,
 * as torch counts steps from 1). */
void adamw_step(AdamW *o, float *params, const float *grads, float lr);
/* adamw_update: the kernel: the same update on a sub-range with explicit state, for callers
 * that give parts of a model different weight decay. t >= 1 is the step number. */
void adamw_update(float *params, const float *grads, float *m, float *v, size_t n, float lr,
		  float beta1, float beta2, float eps, float weight_decay, long t);

/* grad_norm: the global L2 norm of g (n), accumulated in double. */
double grad_norm(const float *g, size_t n);
/* grad_clip: scales g by max_norm / (norm + 1e-6) when that is < 1 (torch's rule); returns the
 * norm before clipping. max_norm <= 0 only measures. */
double grad_clip(float *g, size_t n, float max_norm);

typedef enum {
	LR_CONSTANT,        /* lr (after warmup) */
	LR_STEP,            /* lr * gamma^(epoch), epoch = step / steps_per_epoch (StepLR) */
	LR_COSINE,          /* lr * 0.5 (1 + cos(pi * progress)) after warmup, 0 from total on */
} LrKind;

typedef struct {
	LrKind kind;
	float lr;
	long warmup;            /* linear warmup steps from 0 (all kinds); 0 = none */
	long total;             /* LR_COSINE: total steps */
	float gamma;            /* LR_STEP */
	long steps_per_epoch;   /* LR_STEP */
} LrSchedule;

/* lr_at: the learning rate of the step that follows `step` completed steps (step 0 is the
 * first update), as torch's LambdaLR / StepLR give it. */
float lr_at(const LrSchedule *s, long step);
/* lr_kind_parse: "constant", "step", "cosine"; -1 if unknown. */
int lr_kind_parse(const char *name);

#endif
