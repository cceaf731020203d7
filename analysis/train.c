/* train.c: see train.h. */
#include "train.h"

#include "util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void train_options_default(TrainOptions *o)
{
	memset(o, 0, sizeof(*o));
	o->epochs = 1;
	o->batch = 8;
	o->lr = 1e-4f;
	o->sched = LR_CONSTANT;
	o->gamma = 0.85f;
	o->beta1 = 0.9f;
	o->beta2 = 0.999f;
	o->eps = 1e-8f;
	o->clip = 1.0f;
	o->seed = 1;
	o->log_every = 1;
}

/* shuffle: the permutation of source s for its pass-th pass (a function of seed, s, pass only,
 * so a resumed run rebuilds it). */
static void shuffle(Trainer *t, int s)
{
	size_t n = t->src[s].c->n_seq, *a = t->order[s];
	for (size_t i = 0; i < n; i++)
		a[i] = i;
	Rng r;
	rng_init(&r, t->opt.seed, 1000 + 1000 * (uint64_t)s + (uint64_t)t->pass[s]);
	for (size_t i = n; i > 1; i--) {
		size_t j = rng_below(&r, (uint32_t)i);
		size_t tmp = a[i - 1];
		a[i - 1] = a[j];
		a[j] = tmp;
	}
}

int train_init(Trainer *t, Model *m, Lora *lo, const TrainSource *src, int n_src,
	       const TrainOptions *o)
{
	memset(t, 0, sizeof(*t));
	if (n_src < 1 || n_src > TRAIN_MAX_SOURCES)
		return err_set("train: %d data sources (expected 1..%d)", n_src, TRAIN_MAX_SOURCES);
	if (o->batch < 1)
		return err_set("train: batch %d must be >= 1", o->batch);
	if (!(o->lr > 0) || !isfinite(o->lr))
		return err_set("train: lr %g must be > 0", (double)o->lr);
	if (o->steps < 0 || (o->steps == 0 && !(o->epochs > 0)))
		return err_set("train: need steps > 0 or epochs > 0 (got steps %ld, epochs %g)",
			       o->steps, o->epochs);
	if (o->log_every < 1 || o->ckpt_every < 0 || o->warmup < 0)
		return err_set("train: log_every must be >= 1, ckpt_every and warmup >= 0");
	if (o->sched == LR_STEP && !(o->gamma > 0))
		return err_set("train: StepLR gamma %g must be > 0", (double)o->gamma);
	double wsum = 0;
	int T = 2;
	for (int s = 0; s < n_src; s++) {
		if (!src[s].c || src[s].c->n_seq == 0)
			return err_set("train: data source %d is empty", s);
		if (src[s].c->n_seq > UINT32_MAX)
			return err_set("train: data source %d has too many sequences", s);
		for (size_t i = 0; i < src[s].c->n_seq; i++)
			if ((int)corpus_len(src[s].c, i) > T)
				T = (int)corpus_len(src[s].c, i);
		wsum += src[s].weight > 0 ? src[s].weight : (double)src[s].c->n_seq;
		t->cum_w[s] = wsum;
		t->total_seqs += src[s].c->n_seq;
	}
	t->opt = *o;
	t->m = m;
	t->lo = lo;
	t->n_src = n_src;
	t->T = T;
	memcpy(t->src, src, (size_t)n_src * sizeof(*src));
	for (int s = 0; s < n_src; s++) {
		t->order[s] = xmalloc(src[s].c->n_seq * sizeof(size_t));
		shuffle(t, s);
	}
	rng_init(&t->mix, o->seed, 999);
	if (lo) {
		model_set_lora(m, lo);
		t->params = lo->params;
		t->grads = lo->grads;
		t->n = lo->n_params;
	} else {
		model_enable_grads(m);
		t->params = m->params;
		t->grads = m->grads;
		t->n = m->n_params;
	}
	if (model_reserve(m, o->batch, T)) {
		train_free(t);
		return -1;
	}
	size_t N = (size_t)o->batch * (size_t)T;
	t->ids = xcalloc(N, sizeof(int));
	t->targets = xcalloc(N, sizeof(int));
	t->mask = xcalloc(N, 1);
	t->steps_per_epoch = (long)((t->total_seqs + (size_t)o->batch - 1) / (size_t)o->batch);
	t->total_steps = o->steps > 0 ? o->steps : (long)ceil(o->epochs * (double)t->steps_per_epoch);
	if (t->total_steps < 1)
		t->total_steps = 1;
	t->sched = (LrSchedule){ .kind = o->sched, .lr = o->lr, .warmup = o->warmup,
				 .total = t->total_steps, .gamma = o->gamma,
				 .steps_per_epoch = t->steps_per_epoch };
	adamw_init(&t->adam, t->n, o->beta1, o->beta2, o->eps, o->weight_decay);
	return 0;
}

void train_free(Trainer *t)
{
	for (int k = 0; k < TRAIN_N_SERIES; k++)
		free(t->log[k]);
	for (int s = 0; s < TRAIN_MAX_SOURCES; s++)
		free(t->order[s]);
	free(t->ids);
	free(t->targets);
	free(t->mask);
	adamw_free(&t->adam);
	memset(t, 0, sizeof(*t));
}

static size_t next_seq(Trainer *t, int *src_out)
{
	int s = 0;
	if (t->n_src > 1) {
		double u = rng_uniform(&t->mix) * t->cum_w[t->n_src - 1];
		while (s < t->n_src - 1 && u >= t->cum_w[s])
			s++;
	}
	if (t->cursor[s] == t->src[s].c->n_seq) {
		t->pass[s]++;
		shuffle(t, s);
		t->cursor[s] = 0;
	}
	*src_out = s;
	return t->order[s][t->cursor[s]++];
}

double train_step(Trainer *t)
{
	int B = t->opt.batch, Tb = 2;
	int which[1024];
	size_t rows_small[1024], *rows = B <= 1024 ? rows_small : xmalloc((size_t)B * sizeof(size_t));
	int *srcs = B <= 1024 ? which : xmalloc((size_t)B * sizeof(int));
	for (int b = 0; b < B; b++) {
		rows[b] = next_seq(t, &srcs[b]);
		int len = (int)corpus_len(t->src[srcs[b]].c, rows[b]);
		if (len > Tb)
			Tb = len;
	}
	long tokens = 0;
	for (int b = 0; b < B; b++) {
		const Corpus *c = t->src[srcs[b]].c;
		size_t off = c->off[rows[b]];
		int len = (int)corpus_len(c, rows[b]);
		for (int i = 0; i < Tb; i++) {
			t->ids[b * Tb + i] = i < len ? c->ids[off + (size_t)i] : 0;
			t->mask[b * Tb + i] = i < len ? c->mask[off + (size_t)i] : 0;
		}
		tokens += len;
	}
	if (rows != rows_small)
		free(rows);
	if (srcs != which)
		free(srcs);
	t->targets_n = model_targets_shift(t->targets, t->ids, t->mask, B, Tb);
	t->tokens = tokens;
	model_zero_grad(t->m);
	t->m->training = 1;
	double task = 0;
	if (t->targets_n > 0) {
		task = model_forward(t->m, t->ids, t->targets, B, Tb);
		model_backward(t->m);
	}
	double reg = t->hooks.extra_loss ? t->hooks.extra_loss(t, t->hooks.ctx) : 0;
	t->grad_norm = grad_clip(t->grads, t->n, t->opt.clip);
	t->lr = lr_at(&t->sched, t->step);
	adamw_step(&t->adam, t->params, t->grads, (float)t->lr);
	if (t->hooks.post_step)
		t->hooks.post_step(t, t->hooks.ctx);
	t->step++;
	t->task_loss = task;
	t->reg_loss = reg;
	t->loss = task + reg;
	return t->loss;
}

/* ---------------------------------------------------------------- state */

#define STATE_MAGIC "ASFTTRN2"

typedef struct {
	char magic[8];
	uint64_t n;
	int64_t step, adam_t, total_steps;
	int32_t n_src, pad;
	uint64_t n_seq[TRAIN_MAX_SOURCES], cursor[TRAIN_MAX_SOURCES];
	int64_t pass[TRAIN_MAX_SOURCES];
	uint64_t mix[4];
	int64_t lora_seed_state[4];     /* the model's dropout rng */
	uint64_t log_n;                 /* log entries following the moments */
	double time_offset;
} StateHeader;

int train_state_save(const Trainer *t, const char *path)
{
	StateHeader h;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, STATE_MAGIC, 8);
	h.n = t->n;
	h.step = t->step;
	h.adam_t = t->adam.t;
	h.total_steps = t->total_steps;
	h.n_src = t->n_src;
	for (int s = 0; s < t->n_src; s++) {
		h.n_seq[s] = t->src[s].c->n_seq;
		h.cursor[s] = t->cursor[s];
		h.pass[s] = t->pass[s];
	}
	memcpy(h.mix, t->mix.s, sizeof(h.mix));
	memcpy(h.lora_seed_state, t->m->rng.s, sizeof(h.lora_seed_state));
	h.log_n = t->log_n;
	h.time_offset = t->time_offset;
	size_t bytes = sizeof(h) + 3 * t->n * sizeof(float) + TRAIN_N_SERIES * t->log_n * sizeof(double);
	char *buf = xmalloc(bytes), *p = buf;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, t->params, t->n * sizeof(float));
	p += t->n * sizeof(float);
	memcpy(p, t->adam.m, t->n * sizeof(float));
	p += t->n * sizeof(float);
	memcpy(p, t->adam.v, t->n * sizeof(float));
	p += t->n * sizeof(float);
	for (int k = 0; k < TRAIN_N_SERIES; k++) {
		if (t->log_n)
			memcpy(p, t->log[k], t->log_n * sizeof(double));
		p += t->log_n * sizeof(double);
	}
	int rc = file_write_atomic(path, buf, bytes);
	free(buf);
	return rc;
}

int train_state_load(Trainer *t, const char *path)
{
	size_t len;
	char *buf = file_read_all(path, &len);
	if (!buf)
		return -1;
	StateHeader h;
	int rc = -1;
	if (len < sizeof(h)) {
		err_set("%s: truncated training state (%zu bytes)", path, len);
		goto out;
	}
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, STATE_MAGIC, 8)) {
		err_set("%s: not an asft training state (bad magic)", path);
		goto out;
	}
	if (h.n != t->n || h.log_n > (uint64_t)1 << 40 ||
	    len != sizeof(h) + 3 * t->n * sizeof(float) + TRAIN_N_SERIES * h.log_n * sizeof(double)) {
		err_set("%s: state holds %llu trainable parameters, this run has %zu", path,
			(unsigned long long)h.n, t->n);
		goto out;
	}
	if (h.n_src != t->n_src) {
		err_set("%s: state has %d data sources, this run has %d", path, h.n_src, t->n_src);
		goto out;
	}
	for (int s = 0; s < t->n_src; s++) {
		if (h.n_seq[s] != t->src[s].c->n_seq || h.cursor[s] > h.n_seq[s] || h.pass[s] < 0) {
			err_set("%s: data source %d differs from the run that saved the state "
				"(%llu sequences, now %zu)", path, s, (unsigned long long)h.n_seq[s],
				t->src[s].c->n_seq);
			goto out;
		}
	}
	if (h.step < 0 || h.adam_t < 0) {
		err_set("%s: negative step count", path);
		goto out;
	}
	const float *p = (const float *)(buf + sizeof(h));
	memcpy(t->params, p, t->n * sizeof(float));
	memcpy(t->adam.m, p + t->n, t->n * sizeof(float));
	memcpy(t->adam.v, p + 2 * t->n, t->n * sizeof(float));
	const char *q = (const char *)(p + 3 * t->n);
	t->log_cap = h.log_n > 64 ? (size_t)h.log_n : 64;
	for (int k = 0; k < TRAIN_N_SERIES; k++) {
		t->log[k] = xrealloc(t->log[k], t->log_cap * sizeof(double));
		if (h.log_n)
			memcpy(t->log[k], q, (size_t)h.log_n * sizeof(double));
		q += (size_t)h.log_n * sizeof(double);
	}
	t->log_n = (size_t)h.log_n;
	t->time_offset = h.time_offset;
	t->step = h.step;
	t->adam.t = h.adam_t;
	for (int s = 0; s < t->n_src; s++) {
		t->pass[s] = h.pass[s];
		shuffle(t, s);
		t->cursor[s] = h.cursor[s];
	}
	memcpy(t->mix.s, h.mix, sizeof(h.mix));
	t->mix.has_spare = 0;
	memcpy(t->m->rng.s, h.lora_seed_state, sizeof(h.lora_seed_state));
	t->m->rng.has_spare = 0;
	rc = 0;
out:
	free(buf);
	return rc;
}

/* ---------------------------------------------------------------- run */

const char *const train_series_names[TRAIN_N_SERIES] = { "loss", "task_loss", "reg_loss", "lr",
							  "grad_norm", "time", "step" };
static const char *const series_desc[TRAIN_N_SERIES] = {
	"training loss (task + extra terms) of the step", "mean masked next-token loss",
	"extra loss terms (hooks)", "learning rate of the step", "global gradient norm before clipping",
	"seconds of training so far (resumes included)", "steps completed" };

static void log_push(Trainer *t, const double *v)
{
	if (t->log_n == t->log_cap) {
		t->log_cap = t->log_cap ? 2 * t->log_cap : 64;
		for (int k = 0; k < TRAIN_N_SERIES; k++)
			t->log[k] = xrealloc(t->log[k], t->log_cap * sizeof(double));
	}
	for (int k = 0; k < TRAIN_N_SERIES; k++)
		t->log[k][t->log_n] = v[k];
	t->log_n++;
}

int train_log_write(const Trainer *t, H5Store *s)
{
	for (int k = 0; k < TRAIN_N_SERIES; k++) {
		char path[64];
		snprintf(path, sizeof(path), "/train/%s", train_series_names[k]);
		if (t->log_n && h5s_series_append(s, path, t->log[k], t->log_n, series_desc[k]))
			return -1;
	}
	return 0;
}

int train_run(Trainer *t, const char *state_path, const char *label)
{
	if (state_path && path_exists(state_path)) {
		if (train_state_load(t, state_path))
			return -1;
		fprintf(stderr, "%s: resumed at step %ld of %ld from %s\n", label, t->step,
			t->total_steps, state_path);
	}
	Progress pr;
	long step0 = t->step;
	progress_init(&pr, label, (uint64_t)(t->total_steps - step0));
	double t0 = time_now(), tok_sum = 0, loss_ema = NAN;
	while (t->step < t->total_steps) {
		double loss = train_step(t);
		tok_sum += (double)t->tokens;
		loss_ema = isnan(loss_ema) ? loss : 0.95 * loss_ema + 0.05 * loss;
		double el = time_now() - t0;
		if (t->step % t->opt.log_every == 0) {
			double v[TRAIN_N_SERIES] = { t->loss, t->task_loss, t->reg_loss, t->lr, t->grad_norm,
						     t->time_offset + el, (double)t->step };
			log_push(t, v);
		}
		if (!isfinite(loss))
			return err_set("%s: loss is %g at step %ld (lower the learning rate?)", label,
				       loss, t->step);
		char extra[128];
		snprintf(extra, sizeof(extra), "loss %.4f  lr %.2e  %.0f tok/s", loss_ema, t->lr,
			 el > 0 ? tok_sum / el : 0.0);
		progress_update(&pr, (uint64_t)(t->step - step0), extra);
		if (state_path && t->opt.ckpt_every > 0 && t->step % t->opt.ckpt_every == 0 &&
		    t->step < t->total_steps) {
			double keep = t->time_offset;
			t->time_offset += el;
			int rc = train_state_save(t, state_path);
			t->time_offset = keep;
			if (rc)
				return -1;
		}
	}
	double el = time_now() - t0;
	char extra[128];
	snprintf(extra, sizeof(extra), "loss %.4f  %.0f tok/s  %ld steps in %.1f s", t->loss,
		 el > 0 ? tok_sum / el : 0.0, t->step - step0, el);
	progress_finish(&pr, extra);
	t->time_offset += el;
	if (state_path && train_state_save(t, state_path))
		return -1;
	return 0;
}

double train_eval_loss(Model *m, const Corpus *c, int B)
{
	int T = 2;
	for (size_t i = 0; i < c->n_seq; i++)
		if ((int)corpus_len(c, i) > T)
			T = (int)corpus_len(c, i);
	int training = m->training;
	m->training = 0;
	int *ids = xcalloc((size_t)B * (size_t)T, sizeof(int));
	int *tg = xcalloc((size_t)B * (size_t)T, sizeof(int));
	unsigned char *mask = xcalloc((size_t)B * (size_t)T, 1);
	double sum = 0;
	long n = 0;
	for (size_t s0 = 0; s0 < c->n_seq; s0 += (size_t)B) {
		int b_n = (int)(c->n_seq - s0 < (size_t)B ? c->n_seq - s0 : (size_t)B), Tb = 2;
		for (int b = 0; b < b_n; b++)
			if ((int)corpus_len(c, s0 + (size_t)b) > Tb)
				Tb = (int)corpus_len(c, s0 + (size_t)b);
		for (int b = 0; b < b_n; b++) {
			size_t off = c->off[s0 + (size_t)b];
			int len = (int)corpus_len(c, s0 + (size_t)b);
			for (int i = 0; i < Tb; i++) {
				ids[b * Tb + i] = i < len ? c->ids[off + (size_t)i] : 0;
				mask[b * Tb + i] = i < len ? c->mask[off + (size_t)i] : 0;
			}
		}
		int k = model_targets_shift(tg, ids, mask, b_n, Tb);
		if (k == 0)
			continue;
		double l = model_forward(m, ids, tg, b_n, Tb);
		sum += l * k;
		n += k;
	}
	free(ids);
	free(tg);
	free(mask);
	m->training = training;
	return n ? sum / (double)n : NAN;
}
