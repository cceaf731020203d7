/* train.h: the general training loop (pretraining, alignment, LoRA SFT, and later AsFT and its
 * baselines through hooks).
 *
 * What one step does:
 *   1. draw B sequences from the sources (data mixing: each row picks a source with probability
 *      proportional to its weight, then the next sequence of that source's own shuffled order;
 *      each source reshuffles when it wraps), right-pad them to the longest in the batch (padding
 *      is masked out) and build HF labels with model_targets_shift from the loss masks;
 *   2. forward + backward of the mean masked next-token loss (task_loss);
 *   3. hooks.extra_loss (if any) adds the gradients of extra loss terms to the trainable grads
 *      and returns their value (reg_loss); loss = task_loss + reg_loss;
 *   4. gradient clipping by global norm, AdamW at lr_at(schedule, step);
 *   5. hooks.post_step (if any): e.g. a projection of the update.
 * The trainable parameters are the model's (full fine-tuning) or an attached Lora's (base frozen).
 *
 * Epochs: steps_per_epoch = ceil(total sequences of all sources / B); StepLR counts epochs in
 * those steps. Determinism: the same seed, data and thread count give the same losses.
 *
 * train_run adds checkpoints (every ckpt_every steps: trainable weights, AdamW moments, the
 * sampler state and the log so far in one file written atomically; a rerun with the same state
 * path resumes from it), the log (series loss, task_loss, reg_loss, lr, grad_norm, time and step,
 * one entry per log_every steps, kept in memory and in the state, so a killed run never leaves a
 * half-written HDF5 file: train_log_write puts them into a store as extendible series), and a
 * progress line with loss, tokens/s and ETA. */
#ifndef ASFT_TRAIN_H
#define ASFT_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "adamw.h"
#include "corpus.h"
#include "h5store.h"
#include "lora.h"
#include "model.h"
#include "rng.h"

#define TRAIN_MAX_SOURCES 8
#define TRAIN_N_SERIES 7
/* The log series, in order: loss, task_loss, reg_loss, lr, grad_norm, time, step. */
extern const char *const train_series_names[TRAIN_N_SERIES];

typedef struct {
	long steps;             /* total optimizer steps; 0 = epochs * steps_per_epoch */
	double epochs;          /* used when steps == 0 */
	int batch;              /* sequences per step */
	float lr;
	LrKind sched;           /* constant, step (per epoch, gamma), cosine (to 0 at the end) */
	long warmup;            /* linear warmup steps */
	float gamma;            /* StepLR factor per epoch */
	float beta1, beta2, eps, weight_decay;
	float clip;             /* max global grad norm; <= 0: no clipping (norm still logged) */
	uint64_t seed;          /* sampler order */
	int log_every;          /* log series entry every N steps (>= 1) */
	int ckpt_every;         /* checkpoint every N steps; 0 = only at the end */
} TrainOptions;

/* train_options_default: batch 8, lr 1e-4, constant, no warmup, gamma 0.85, betas (0.9, 0.999),
 * eps 1e-8, weight decay 0, clip 1, seed 1, epochs 1, log_every 1, ckpt_every 0. */
void train_options_default(TrainOptions *o);

typedef struct {
	const Corpus *c;
	double weight;          /* relative sampling weight; <= 0 = proportional to its size */
} TrainSource;

typedef struct Trainer Trainer;

typedef struct {
	/* extra_loss: called after the task loss backward; adds d(extra)/d(param) into t->grads and
	 * returns the extra loss value. NULL = none. */
	double (*extra_loss)(Trainer *t, void *ctx);
	/* post_step: called after each optimizer update. NULL = none. */
	void (*post_step)(Trainer *t, void *ctx);
	void *ctx;
} TrainHooks;

struct Trainer {
	TrainOptions opt;
	Model *m;
	Lora *lo;               /* LoRA mode when not NULL */
	float *params, *grads;  /* the trainable flat arrays */
	size_t n;
	AdamW adam;
	LrSchedule sched;
	TrainHooks hooks;
	/* data */
	TrainSource src[TRAIN_MAX_SOURCES];
	int n_src;
	double cum_w[TRAIN_MAX_SOURCES];
	size_t *order[TRAIN_MAX_SOURCES];       /* per-source permutation */
	size_t cursor[TRAIN_MAX_SOURCES];
	long pass[TRAIN_MAX_SOURCES];           /* reshuffles so far */
	Rng mix;                                /* source choice per row */
	int T;                                  /* longest sequence of any source */
	int *ids, *targets;
	unsigned char *mask;
	/* progress */
	long step, total_steps, steps_per_epoch;
	size_t total_seqs;
	/* last step */
	double loss, task_loss, reg_loss, lr, grad_norm;
	long tokens;            /* tokens in the last batch (without padding) */
	long targets_n;
	/* the log: TRAIN_N_SERIES series of log_n entries */
	double *log[TRAIN_N_SERIES];
	size_t log_n, log_cap;
	double time_offset;     /* seconds run before a resume */
};

/* train_init: a trainer over n_src sources (1..TRAIN_MAX_SOURCES, each non-empty) for m, or for
 * lo attached to m (lo != NULL: model_set_lora is called and only lo is trained; otherwise
 * model_enable_grads). 0 ok; -1 with err_set on empty sources or bad options. */
int train_init(Trainer *t, Model *m, Lora *lo, const TrainSource *src, int n_src,
	       const TrainOptions *o);
void train_free(Trainer *t);
/* train_step: one optimizer step (see the top); returns the loss. */
double train_step(Trainer *t);

/* train_state_save / load: trainable weights, AdamW moments, step and sampler state (one binary
 * file, atomic). load checks that the file matches t (sizes, sources); 0 ok, -1 with err_set. */
int train_state_save(const Trainer *t, const char *path);
int train_state_load(Trainer *t, const char *path);

/* train_run: runs to total_steps from t->step, logging every log_every steps. state_path
 * (NULL = no checkpoints): resumes from it when it exists (log included), saves every
 * ckpt_every steps and at the end. label names the progress line. 0 ok, -1 with err_set. */
int train_run(Trainer *t, const char *state_path, const char *label);
/* train_log_write: the log as extendible float64 series under /train/<name> of s (appended to
 * whatever is there). 0 ok, -1 with err_set. */
int train_log_write(const Trainer *t, H5Store *s);

/* train_eval_loss: mean masked next-token loss of the model (with its attached adapter, no
 * dropout) over the sequences of c, in batches of B. */
double train_eval_loss(Model *m, const Corpus *c, int B);

#endif
