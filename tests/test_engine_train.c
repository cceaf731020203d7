/* test_engine_train.c: the training step as a whole, beyond the torch fixtures.
 *
 * - LoRA dropout (which torch cannot replay): the gradient of the whole model with dropout on,
 *   base and adapter both trainable, against central differences of the loss along random
 *   directions, the dropout mask held fixed by reseeding (a directional check in f32: the
 *   kernels themselves are checked in double by test_gradcheck);
 * - dropout is off outside training and changes the loss inside it;
 * - a training step and a decode step allocate nothing once sized (glibc's heap counters);
 * - schedules: warmup, StepLR per epoch, cosine end points; clipping by global norm;
 * - lora_init's ranges agree with the adapter writer's (a bad alpha fails at the start). */
#include "adamw.h"
#include "checkpoint.h"
#include "generate.h"
#include "harness.h"
#include "model.h"
#include "threads.h"
#include "util.h"

#include <malloc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIX "tests/fixtures/engine/qwen2_bias_f32"

static int ids[2 * 12], targets[2 * 12];

static float loss_at(Model *m, uint64_t seed)
{
	rng_init(&m->rng, seed, 9);     /* the same dropout masks every call */
	return model_forward(m, ids, targets, 2, 12);
}

/* <grad, u> against (L(p + h u) - L(p - h u)) / 2h for a random unit direction u over p. */
static void directional(Model *m, float *p, const float *g, size_t n, const char *what)
{
	Rng r;
	rng_init(&r, 11, n);
	float *u = xmalloc(sizeof(float) * n), *keep = xmalloc(sizeof(float) * n);
	rng_fill_normal(&r, u, n, 0, 1);
	double nu = 0, dot = 0;
	for (size_t i = 0; i < n; i++)
		nu += (double)u[i] * u[i];
	for (size_t i = 0; i < n; i++) {
		u[i] /= (float)sqrt(nu);
		dot += (double)u[i] * g[i];
	}
	memcpy(keep, p, sizeof(float) * n);
	double h = 1e-2, lp, lm;
	for (size_t i = 0; i < n; i++)
		p[i] = keep[i] + (float)h * u[i];
	lp = loss_at(m, 5);
	for (size_t i = 0; i < n; i++)
		p[i] = keep[i] - (float)h * u[i];
	lm = loss_at(m, 5);
	memcpy(p, keep, sizeof(float) * n);
	double num = (lp - lm) / (2 * h);
	char msg[200];
	snprintf(msg, sizeof(msg), "%s: directional derivative %.6g vs finite difference %.6g", what,
		 dot, num);
	harness_report(fabs(num - dot) <= 1e-2 * fabs(dot) + 1e-5, __FILE__, __LINE__, msg);
	if (getenv("ENGINE_VERBOSE"))
		printf("  %s\n", msg);
	free(keep);
	free(u);
}

static void test_dropout_gradient(void)
{
	Model m;
	Lora lo;
	if (!CHECK(checkpoint_load(&m, FIX) == 0))
		return;
	model_enable_grads(&m);
	lora_init(&lo, &m.cfg, 3, 6.0f, 0.3f, (1u << LORA_NMOD) - 1, 4);
	/* PEFT starts B at zero; make it nonzero so every path carries gradient */
	Rng r;
	rng_init(&r, 3, 3);
	for (int i = 0; i < lo.n_tensors; i++)
		if (lo.tensors[i].is_b)
			rng_fill_normal(&r, lo.params + lo.tensors[i].offset, lo.tensors[i].numel, 0, 0.3f);
	model_set_lora(&m, &lo);
	m.training = 1;
	model_zero_grad(&m);
	float l0 = loss_at(&m, 5);
	model_backward(&m);
	directional(&m, lo.params, lo.grads, lo.n_params, "LoRA (all modules, dropout 0.3) params");
	directional(&m, m.params, m.grads, m.n_params, "base params under LoRA dropout");
	/* loss_scale scales every gradient (gradient accumulation over micro-batches) */
	float *g1 = xmalloc(sizeof(float) * lo.n_params);
	memcpy(g1, lo.grads, sizeof(float) * lo.n_params);
	m.loss_scale = 0.25f;
	model_zero_grad(&m);
	loss_at(&m, 5);
	model_backward(&m);
	m.loss_scale = 1.0f;
	for (size_t i = 0; i < lo.n_params; i++)
		g1[i] *= 0.25f;
	CHECK_ALLCLOSE(lo.grads, g1, lo.n_params, 1e-9, 1e-5);
	free(g1);
	/* masks: another seed, another loss; training off, the deterministic branch */
	float l1 = loss_at(&m, 6);
	CHECK(l1 != l0);
	CHECK(loss_at(&m, 5) == l0);
	m.training = 0;
	float e0 = loss_at(&m, 5), e1 = loss_at(&m, 6);
	CHECK(e0 == e1);
	CHECK(e0 != l0);
	lora_free(&lo);
	model_free(&m);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void test_no_alloc(void)
{
	Model m;
	Lora lo;
	if (!CHECK(checkpoint_load(&m, FIX) == 0))
		return;
	model_enable_grads(&m);
	lora_init(&lo, &m.cfg, 4, 8.0f, 0.1f, LORA_BIT(LORA_Q) | LORA_BIT(LORA_V), 1);
	model_set_lora(&m, &lo);
	m.training = 1;
	AdamW opt;
	adamw_init(&opt, lo.n_params, 0.9f, 0.999f, 1e-8f, 0.01f);
	model_reserve(&m, 2, 12);
	model_zero_grad(&m);
	model_forward(&m, ids, targets, 2, 12);
	model_backward(&m);
	size_t before = heap_in_use();
	for (int k = 0; k < 3; k++) {
		model_zero_grad(&m);
		model_forward(&m, ids, targets, 2, 12);
		model_forward(&m, ids, targets, 1, 7);      /* a smaller batch fits too */
		model_backward(&m);
		grad_clip(lo.grads, lo.n_params, 1.0f);
		adamw_step(&opt, lo.params, lo.grads, 1e-3f);
	}
	CHECK_INT(heap_in_use(), before);
	Generator g;
	CHECK_INT(gen_init(&g, &m, 2, 20), 0);
	GenParams p;
	gen_params_default(&p);
	p.max_new = 6;
	p.temperature = 0.7f;
	p.top_k = 5;
	p.top_p = 0.9f;
	const int *rows[2] = { ids, ids + 12 };
	int lens[2] = { 5, 9 }, out[40], out_len[2];
	gen_run(&g, rows, lens, 2, &p, out, out_len);
	before = heap_in_use();
	for (int k = 0; k < 2; k++)
		gen_run(&g, rows, lens, 2, &p, out, out_len);
	CHECK_INT(heap_in_use(), before);
	gen_free(&g);
	adamw_free(&opt);
	lora_free(&lo);
	model_free(&m);
}

static void test_schedules(void)
{
	LrSchedule s = { .kind = LR_CONSTANT, .lr = 1.0f, .warmup = 4 };
	CHECK_CLOSE(lr_at(&s, 0), 0.0, 0, 0);
	CHECK_CLOSE(lr_at(&s, 2), 0.5, 1e-7, 0);
	CHECK_CLOSE(lr_at(&s, 4), 1.0, 0, 0);
	CHECK_CLOSE(lr_at(&s, 1000), 1.0, 0, 0);
	LrSchedule st = { .kind = LR_STEP, .lr = 2e-5f, .gamma = 0.85f, .steps_per_epoch = 10 };
	CHECK_CLOSE(lr_at(&st, 9), 2e-5, 1e-12, 1e-6);
	CHECK_CLOSE(lr_at(&st, 10), 2e-5 * 0.85, 1e-12, 1e-6);
	CHECK_CLOSE(lr_at(&st, 35), 2e-5 * 0.85 * 0.85 * 0.85, 1e-12, 1e-6);
	LrSchedule c = { .kind = LR_COSINE, .lr = 1.0f, .warmup = 10, .total = 110 };
	CHECK_CLOSE(lr_at(&c, 10), 1.0, 1e-7, 0);
	CHECK_CLOSE(lr_at(&c, 60), 0.5, 1e-6, 0);
	CHECK_CLOSE(lr_at(&c, 110), 0.0, 1e-7, 0);
	CHECK_CLOSE(lr_at(&c, 200), 0.0, 1e-7, 0);
	CHECK_INT(lr_kind_parse("cosine"), LR_COSINE);
	CHECK_INT(lr_kind_parse("step"), LR_STEP);
	CHECK_INT(lr_kind_parse("linear"), -1);
	/* clipping: torch's max_norm / (norm + 1e-6), only when below 1 */
	float g[2] = { 3, 4 };
	CHECK_CLOSE(grad_clip(g, 2, 1.0f), 5.0, 1e-12, 0);
	CHECK_CLOSE(g[0], 3 / (5 + 1e-6), 1e-7, 0);
	float h[2] = { 0.3f, 0.4f };
	grad_clip(h, 2, 1.0f);
	CHECK_CLOSE(h[0], 0.3f, 0, 0);
	/* the global norm does not depend on the thread count, and matches a plain double sum */
	size_t big = 3000017;
	float *gb = xmalloc(sizeof(float) * big);
	Rng rr;
	rng_init(&rr, 8, 8);
	rng_fill_normal(&rr, gb, big, 0, 1);
	double plain = 0;
	for (size_t i = 0; i < big; i++)
		plain += (double)gb[i] * gb[i];
	threads_set(2);
	double n2 = grad_norm(gb, big);
	threads_set(1);
	double n1 = grad_norm(gb, big);
	CHECK(n1 == n2);
	CHECK_CLOSE(n1, sqrt(plain), 0, 1e-12);
	free(gb);
	/* one AdamW step by hand: t = 1, m = (1-b1) g, v = (1-b2) g^2 -> p -= lr * sign(g) (ish) */
	float p[1] = { 1.0f }, gr[1] = { 0.5f };
	AdamW o;
	adamw_init(&o, 1, 0.9f, 0.999f, 1e-8f, 0.1f);
	adamw_step(&o, p, gr, 0.01f);
	double want = 1.0 * (1 - 0.01 * 0.1) - 0.01 * (0.05 / 0.1) / (sqrt(0.00025) / sqrt(0.001) + 1e-8);
	CHECK_CLOSE(p[0], want, 1e-7, 0);
	adamw_free(&o);
}

/* lora_init refuses what the adapter writer would refuse at the end of a run (the same bounds,
 * LORA_R_MAX and LORA_ALPHA_MAX), and the edge values it accepts save and load back. */
static void test_lora_bounds(void)
{
	Model m;
	Lora lo;
	if (!CHECK(checkpoint_load(&m, FIX) == 0))
		return;
	unsigned tg = LORA_BIT(LORA_Q);
	float above = nextafterf((float)LORA_ALPHA_MAX, INFINITY);
	CHECK_INT(lora_init(&lo, &m.cfg, 2, above, 0, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "lora_alpha = 1000000.06 is outside (0, 1e+06]");
	CHECK_INT(lora_init(&lo, &m.cfg, 2, INFINITY, 0, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "lora_alpha = inf is outside");
	CHECK_INT(lora_init(&lo, &m.cfg, 2, NAN, 0, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "lora_alpha = nan is outside");
	CHECK_INT(lora_init(&lo, &m.cfg, 2, 0, 0, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "lora_alpha = 0 is outside (0, 1e+06]");
	CHECK_INT(lora_init(&lo, &m.cfg, 2, -8, 0, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "lora_alpha = -8 is outside");
	CHECK_INT(lora_init(&lo, &m.cfg, LORA_R_MAX + 1, 8, 0, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "rank r = 65537 is outside [1, 65536]");
	CHECK_INT(lora_init(&lo, &m.cfg, 0, 8, 0, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "rank r = 0 is outside [1, 65536]");
	CHECK_INT(lora_init(&lo, &m.cfg, 2, 8, 1.0f, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "lora_dropout = 1 is outside [0, 1)");
	CHECK_INT(lora_init(&lo, &m.cfg, 2, 8, -0.25f, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "lora_dropout = -0.25 is outside [0, 1)");
	CHECK_INT(lora_init(&lo, &m.cfg, 2, 8, NAN, tg, 1), -1);
	CHECK_CONTAINS(err_msg(), "lora_dropout = nan");
	/* the largest alpha and dropout lora_init takes are ones the adapter files take too */
	char tmp[] = "/tmp/asft-lora-bounds-XXXXXX";
	if (CHECK(mkdtemp(tmp) != NULL) &&
	    CHECK(lora_init(&lo, &m.cfg, 1, (float)LORA_ALPHA_MAX, 0.99f, tg, 1) == 0)) {
		CHECK(lo.scale == 1e6f);
		CHECK_INT(checkpoint_save_adapter(&lo, tmp, "fixture", ST_F32), 0);
		Lora back;
		memset(&back, 0, sizeof(back));
		if (CHECK(checkpoint_load_adapter(&back, &m, tmp) == 0)) {
			CHECK_INT(back.r, 1);
			CHECK(back.alpha == (float)LORA_ALPHA_MAX);
			CHECK(back.dropout == 0.99f);
		}
		lora_free(&back);
		lora_free(&lo);
	}
	char *cmd = xasprintf("rm -rf '%s'", tmp);
	CHECK_INT(system(cmd), 0);
	free(cmd);
	model_free(&m);
}

int main(void)
{
	threads_set(1);
	Rng r;
	rng_init(&r, 1, 1);
	for (int i = 0; i < 24; i++)
		ids[i] = (int)rng_below(&r, 72);
	model_targets_shift(targets, ids, NULL, 2, 12);
	test_dropout_gradient();
	test_no_alloc();
	test_schedules();
	test_lora_bounds();
	threads_shutdown();
	return test_summary();
}
