/* test_engine.c: the engine against the torch fixtures of tests/ref_engine.py.
 *
 * For each fixture model (MHA untied F32, GQA tied BF16 with attention_bias and head_dim*H != d,
 * Qwen2 q/k/v biases), loaded through data/checkpoint (so the safetensors / config / adapter
 * readers are exercised end to end): logits and loss (max relative error <= 1e-4), every
 * parameter gradient (<= 1e-3, the worst tensor printed), a response-only masked loss, LoRA
 * logits / loss / A and B gradients with the base frozen, merge / unmerge, checkpoint and
 * adapter save / load round trips, 10 AdamW steps (full and LoRA, cosine schedule with warmup,
 * clipping) against torch.optim.AdamW, and bitwise determinism across runs and thread counts. */
#include "adamw.h"
#include "checkpoint.h"
#include "harness.h"
#include "model.h"
#include "threads.h"
#include "util.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIXDIR "tests/fixtures/engine"

typedef struct {
	const char *name;
	char *dir;
	cJSON *ref;
	Safetensors st;
	int B, T;
	int *ids;
} Fixture;

static int fixture_open(Fixture *f, const char *name)
{
	memset(f, 0, sizeof(*f));
	f->name = name;
	f->dir = xasprintf("%s/%s", FIXDIR, name);
	char *p = xasprintf("%s/ref.json", f->dir);
	char *text = file_read_all(p, NULL);
	free(p);
	if (!text)
		return -1;
	f->ref = cJSON_Parse(text);
	free(text);
	p = xasprintf("%s/ref.safetensors", f->dir);
	int rc = st_open(&f->st, p);
	free(p);
	if (!f->ref || rc < 0)
		return -1;
	cJSON *ids = cJSON_GetObjectItem(f->ref, "ids");
	f->B = cJSON_GetArraySize(ids);
	f->T = cJSON_GetArraySize(cJSON_GetArrayItem(ids, 0));
	f->ids = xmalloc(sizeof(int) * f->B * f->T);
	for (int b = 0; b < f->B; b++)
		for (int t = 0; t < f->T; t++)
			f->ids[b * f->T + t] =
				cJSON_GetArrayItem(cJSON_GetArrayItem(ids, b), t)->valueint;
	return 0;
}

static void fixture_close(Fixture *f)
{
	cJSON_Delete(f->ref);
	st_close(&f->st);
	free(f->ids);
	free(f->dir);
}

static double jnum(const cJSON *o, const char *path)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	const cJSON *j = o;
	for (char *tok = strtok(buf, "."); tok && j; tok = strtok(NULL, "."))
		j = cJSON_GetObjectItem(j, tok);
	return j ? j->valuedouble : NAN;
}

/* The reference tensor name (converted to f32; caller frees). */
static float *ref_tensor(Fixture *f, const char *name, size_t *n)
{
	const StTensor *t = st_find(&f->st, name);
	if (!t) {
		fprintf(stderr, "%s: reference tensor %s missing\n", f->name, name);
		return NULL;
	}
	float *out = xmalloc(sizeof(float) * t->numel);
	st_read_f32(t, out);
	*n = t->numel;
	return out;
}

static void check_rel(const char *what, const char *fix, const float *got, const float *want,
		      size_t n, double tol)
{
	double e = harness_max_rel(got, want, n);
	char msg[256];
	snprintf(msg, sizeof(msg), "%s %s: max relative error %.3g <= %.0e", fix, what, e, tol);
	harness_report(e <= tol, __FILE__, __LINE__, msg);
	if (getenv("ENGINE_VERBOSE"))
		printf("  %s %s: %.3g\n", fix, what, e);
}

/* Every gradient in grads (laid out by table tensors) against prefix+name references; reports
 * the worst tensor. */
static void check_grads(Fixture *f, const char *prefix, const float *grads, int n_tensors,
			const char *(*name_of)(const void *, int), size_t (*off_of)(const void *, int),
			const void *table)
{
	double worst = 0;
	const char *worst_name = "";
	int missing = 0;
	for (int i = 0; i < n_tensors; i++) {
		char key[256];
		snprintf(key, sizeof(key), "%s%s", prefix, name_of(table, i));
		size_t n;
		float *want = ref_tensor(f, key, &n);
		if (!want) {
			missing++;
			continue;
		}
		double e = harness_max_rel(grads + off_of(table, i), want, n);
		if (e > worst) {
			worst = e;
			worst_name = name_of(table, i);
		}
		free(want);
	}
	CHECK_INT(missing, 0);
	char msg[320];
	snprintf(msg, sizeof(msg), "%s %sgradients: worst tensor %s, max relative error %.3g <= 1e-3",
		 f->name, prefix, worst_name, worst);
	harness_report(worst <= 1e-3 && n_tensors > 0, __FILE__, __LINE__, msg);
	if (getenv("ENGINE_VERBOSE"))
		printf("  %s\n", msg);
}

static const char *mt_name(const void *t, int i) { return ((const ModelTensor *)t)[i].name; }
static size_t mt_off(const void *t, int i) { return ((const ModelTensor *)t)[i].offset; }
static const char *lt_name(const void *t, int i) { return ((const LoraTensor *)t)[i].name; }
static size_t lt_off(const void *t, int i) { return ((const LoraTensor *)t)[i].offset; }

static void test_forward_backward(Fixture *f)
{
	Model m;
	if (!CHECK(checkpoint_load(&m, f->dir) == 0)) {
		fprintf(stderr, "  %s\n", err_msg());
		return;
	}
	int B = f->B, T = f->T, N = B * T;
	int *targets = xmalloc(sizeof(int) * N);
	CHECK_INT(model_targets_shift(targets, f->ids, NULL, B, T), B * (T - 1));
	model_enable_grads(&m);
	model_zero_grad(&m);
	float loss = model_forward(&m, f->ids, targets, B, T);
	size_t n;
	float *want = ref_tensor(f, "logits", &n);
	CHECK_INT(n, (size_t)N * m.V);
	if (want)
		check_rel("logits", f->name, m.a.logits, want, n, 1e-4);
	free(want);
	CHECK_CLOSE(loss, jnum(f->ref, "loss"), 0, 1e-4);
	model_backward(&m);
	check_grads(f, "grad.", m.grads, m.n_tensors, mt_name, mt_off, m.tensors);

	/* response-only loss: HF labels = -100 before mask_from, shifted */
	int from = (int)jnum(f->ref, "mask_from");
	unsigned char *mask = xmalloc(N);
	for (int i = 0; i < N; i++)
		mask[i] = i % T >= from;
	CHECK_INT(model_targets_shift(targets, f->ids, mask, B, T), B * (T - from));
	float ml = model_forward(&m, f->ids, targets, B, T);
	CHECK_CLOSE(ml, jnum(f->ref, "masked_loss"), 0, 1e-4);
	/* a bad id: NAN and a message, nothing computed */
	int keep_id = f->ids[5];
	f->ids[5] = m.V;
	CHECK(isnan(model_forward(&m, f->ids, targets, B, T)));
	CHECK_CONTAINS(err_msg(), "position 5 is outside the vocabulary");
	f->ids[5] = keep_id;
	/* no targets at all: loss 0, backward a no-op */
	for (int i = 0; i < N; i++)
		targets[i] = -1;
	CHECK_CLOSE(model_forward(&m, f->ids, targets, B, T), 0.0, 0, 0);
	model_zero_grad(&m);
	model_backward(&m);
	CHECK_CLOSE(grad_norm(m.grads, m.n_params), 0.0, 0, 0);
	free(mask);
	free(targets);
	model_free(&m);
}

static void test_lora(Fixture *f)
{
	Model m;
	Lora lo;
	if (!CHECK(checkpoint_load(&m, f->dir) == 0))
		return;
	char *ad = xasprintf("%s/adapter", f->dir);
	if (!CHECK(checkpoint_load_adapter(&lo, &m, ad) == 0)) {
		fprintf(stderr, "  %s\n", err_msg());
		free(ad);
		model_free(&m);
		return;
	}
	CHECK_INT(lo.r, (int)jnum(f->ref, "lora.r"));
	int B = f->B, T = f->T, N = B * T;
	int *targets = xmalloc(sizeof(int) * N);
	model_targets_shift(targets, f->ids, NULL, B, T);
	model_set_lora(&m, &lo);
	model_zero_grad(&m);
	float loss = model_forward(&m, f->ids, targets, B, T);
	size_t n;
	float *want = ref_tensor(f, "lora_logits", &n);
	if (want)
		check_rel("LoRA logits", f->name, m.a.logits, want, n, 1e-4);
	CHECK_CLOSE(loss, jnum(f->ref, "lora_loss"), 0, 1e-4);
	model_backward(&m);
	CHECK(m.grads == NULL);     /* base frozen: no gradient memory at all */
	check_grads(f, "lora_grad.", lo.grads, lo.n_tensors, lt_name, lt_off, lo.tensors);

	/* merge: the same logits without the branch; unmerge: the base back */
	float *base = xmalloc(sizeof(float) * m.n_params);
	memcpy(base, m.params, sizeof(float) * m.n_params);
	model_lora_merge(&m, &lo);
	CHECK(lo.merged);
	model_forward(&m, f->ids, NULL, B, T);
	if (want)
		check_rel("merged LoRA logits", f->name, m.a.logits, want, n, 1e-4);
	model_lora_merge(&m, &lo);   /* a second merge is a no-op */
	model_lora_unmerge(&m, &lo);
	CHECK(!lo.merged);
	double worst = 0;
	for (size_t i = 0; i < m.n_params; i++) {
		double e = fabs((double)m.params[i] - base[i]);
		if (e > worst)
			worst = e;
	}
	CHECK(worst < 1e-6);
	free(want);
	want = ref_tensor(f, "logits", &n);
	model_set_lora(&m, NULL);
	model_forward(&m, f->ids, NULL, B, T);
	if (want)
		check_rel("logits after unmerge", f->name, m.a.logits, want, n, 1e-4);
	free(want);

	/* adapter round trip through the PEFT folder */
	char tmp[] = "/tmp/asft-engine-XXXXXX";
	CHECK(mkdtemp(tmp) != NULL);
	char *out = xasprintf("%s/adapter", tmp);
	CHECK_INT(checkpoint_save_adapter(&lo, out, "fixture", ST_F32), 0);
	Lora lo2;
	CHECK_INT(checkpoint_load_adapter(&lo2, &m, out), 0);
	CHECK_INT(lo2.targets, lo.targets);
	CHECK_INT(lo2.n_params, lo.n_params);
	CHECK_CLOSE(lo2.scale, lo.scale, 0, 0);
	if (lo2.n_params == lo.n_params)
		CHECK(memcmp(lo2.params, lo.params, sizeof(float) * lo.n_params) == 0);
	lora_free(&lo2);
	/* alpha and dropout come back exactly and are written as short decimals */
	Lora lo3;
	CHECK_INT(lora_init(&lo3, &m.cfg, 3, 16.0f, 0.05f, LORA_BIT(LORA_UP), 9), 0);
	CHECK_INT(checkpoint_save_adapter(&lo3, out, NULL, ST_F32), 0);
	CHECK_INT(checkpoint_load_adapter(&lo2, &m, out), 0);
	CHECK_CLOSE(lo2.alpha, 16.0, 0, 0);
	CHECK_CLOSE(lo2.dropout, 0.05f, 0, 0);
	CHECK_CLOSE(lo2.scale, lo3.scale, 0, 0);
	CHECK_INT(lo2.targets, LORA_BIT(LORA_UP));
	char *acfg = xasprintf("%s/adapter_config.json", out);
	char *atext = file_read_all(acfg, NULL);
	CHECK_CONTAINS(atext, "0.05,");
	free(atext);
	free(acfg);
	lora_free(&lo2);
	lora_free(&lo3);
	/* checkpoint round trip: F32 exact, BF16 rounded */
	char *ck = xasprintf("%s/ck", tmp);
	CHECK_INT(checkpoint_save(&m, ck, ST_F32), 0);
	Model m2;
	CHECK_INT(checkpoint_load(&m2, ck), 0);
	CHECK_INT(m2.n_params, m.n_params);
	if (m2.n_params == m.n_params)
		CHECK(memcmp(m2.params, m.params, sizeof(float) * m.n_params) == 0);
	CHECK_INT(m2.cfg.tie_word_embeddings, m.cfg.tie_word_embeddings);
	model_free(&m2);
	CHECK_INT(checkpoint_save(&m, ck, ST_BF16), 0);
	CHECK_INT(checkpoint_load(&m2, ck), 0);
	int bf_ok = m2.n_params == m.n_params;
	for (size_t i = 0; bf_ok && i < m.n_params; i++)
		bf_ok = m2.params[i] == st_bf16_to_f32(st_f32_to_bf16(m.params[i]));
	CHECK(bf_ok);
	model_free(&m2);
	char *cmd = xasprintf("rm -rf '%s'", tmp);
	CHECK_INT(system(cmd), 0);
	free(cmd);
	free(ck);
	free(out);
	free(base);
	free(targets);
	lora_free(&lo);
	free(ad);
	model_free(&m);
}

/* 10 AdamW steps with the fixture's schedule; losses and gradient norms into the arrays. */
static void run_adamw(Fixture *f, int use_lora, float *losses, double *norms, int steps)
{
	Model m;
	Lora lo;
	if (checkpoint_load(&m, f->dir) < 0)
		return;
	char *ad = xasprintf("%s/adapter", f->dir);
	float *params, *grads;
	size_t n;
	if (use_lora) {
		checkpoint_load_adapter(&lo, &m, ad);
		model_set_lora(&m, &lo);
		params = lo.params;
		grads = lo.grads;
		n = lo.n_params;
	} else {
		model_enable_grads(&m);
		params = m.params;
		grads = m.grads;
		n = m.n_params;
	}
	cJSON *aw = cJSON_GetObjectItem(f->ref, "adamw");
	AdamW opt;
	adamw_init(&opt, n, 0.9f, 0.999f, (float)jnum(aw, "eps"), (float)jnum(aw, "weight_decay"));
	LrSchedule s = { .kind = LR_COSINE, .lr = (float)jnum(aw, "lr"),
			 .warmup = (long)jnum(aw, "warmup"), .total = (long)jnum(aw, "steps") };
	float max_norm = (float)jnum(aw, use_lora ? "lora_max_norm" : "max_norm");
	int B = f->B, T = f->T;
	int *targets = xmalloc(sizeof(int) * B * T);
	model_targets_shift(targets, f->ids, NULL, B, T);
	model_reserve(&m, B, T);
	for (int k = 0; k < steps; k++) {
		model_zero_grad(&m);
		losses[k] = model_forward(&m, f->ids, targets, B, T);
		model_backward(&m);
		norms[k] = grad_clip(grads, n, max_norm);
		adamw_step(&opt, params, grads, lr_at(&s, k));
	}
	free(targets);
	adamw_free(&opt);
	if (use_lora)
		lora_free(&lo);
	free(ad);
	model_free(&m);
}

static void test_adamw(Fixture *f)
{
	cJSON *aw = cJSON_GetObjectItem(f->ref, "adamw");
	int steps = (int)jnum(aw, "steps");
	float losses[16];
	double norms[16];
	for (int use_lora = 0; use_lora < 2; use_lora++) {
		cJSON *wl = cJSON_GetObjectItem(aw, use_lora ? "lora_losses" : "losses");
		cJSON *wn = cJSON_GetObjectItem(aw, use_lora ? "lora_grad_norms" : "grad_norms");
		run_adamw(f, use_lora, losses, norms, steps);
		double worst = 0, worst_n = 0;
		for (int k = 0; k < steps; k++) {
			double w = cJSON_GetArrayItem(wl, k)->valuedouble;
			double wnv = cJSON_GetArrayItem(wn, k)->valuedouble;
			worst = fmax(worst, fabs(losses[k] - w) / fabs(w));
			worst_n = fmax(worst_n, fabs(norms[k] - wnv) / fabs(wnv));
		}
		char msg[200];
		snprintf(msg, sizeof(msg), "%s AdamW %s: 10 losses max rel error %.3g, grad norms %.3g",
			 f->name, use_lora ? "LoRA" : "full", worst, worst_n);
		harness_report(worst <= 1e-4 && worst_n <= 1e-3, __FILE__, __LINE__, msg);
		if (getenv("ENGINE_VERBOSE"))
			printf("  %s\n", msg);
	}
	/* training lowers the loss on the batch */
	CHECK(losses[steps - 1] < losses[0]);
}

/* Same seed, 1 thread: bitwise identical losses; 2 threads: still identical (every threaded
 * loop computes each item independently). Uses LoRA dropout so the RNG path is included. */
static void test_determinism(Fixture *f)
{
	float runs[3][6];
	for (int run = 0; run < 3; run++) {
		threads_set(run == 2 ? 2 : 1);
		Model m;
		Lora lo;
		checkpoint_load(&m, f->dir);
		model_enable_grads(&m);
		lora_init(&lo, &m.cfg, 4, 8.0f, 0.1f, LORA_BIT(LORA_Q) | LORA_BIT(LORA_DOWN), 42);
		model_set_lora(&m, &lo);
		m.training = 1;
		rng_init(&m.rng, 42, 1);
		AdamW opt;
		adamw_init(&opt, m.n_params, 0.9f, 0.999f, 1e-8f, 0.0f);
		AdamW lopt;
		adamw_init(&lopt, lo.n_params, 0.9f, 0.999f, 1e-8f, 0.0f);
		int B = f->B, T = f->T;
		int targets[64];
		model_targets_shift(targets, f->ids, NULL, B, T);
		for (int k = 0; k < 6; k++) {
			model_zero_grad(&m);
			runs[run][k] = model_forward(&m, f->ids, targets, B, T);
			model_backward(&m);
			adamw_step(&opt, m.params, m.grads, 1e-3f);
			adamw_step(&lopt, lo.params, lo.grads, 1e-2f);
		}
		adamw_free(&lopt);
		adamw_free(&opt);
		lora_free(&lo);
		model_free(&m);
	}
	threads_set(1);
	CHECK(memcmp(runs[0], runs[1], sizeof(runs[0])) == 0);
	CHECK(memcmp(runs[0], runs[2], sizeof(runs[0])) == 0);
	CHECK(runs[0][5] < runs[0][0]);
}

static void test_errors(void)
{
	Model m;
	CHECK_INT(checkpoint_load(&m, "/nonexistent/model"), -1);
	CHECK_CONTAINS(err_msg(), "/nonexistent/model");
	ModelConfig cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.hidden_size = 8;
	cfg.intermediate_size = 8;
	cfg.num_hidden_layers = 1;
	cfg.num_attention_heads = 3;
	cfg.num_key_value_heads = 2;
	cfg.head_dim = 4;
	cfg.vocab_size = 10;
	cfg.rms_norm_eps = 1e-5;
	cfg.rope_theta = 1e4;
	CHECK_INT(model_init(&m, &cfg), -1);
	CHECK_CONTAINS(err_msg(), "does not divide");
	cfg.num_key_value_heads = 1;
	cfg.head_dim = 3;
	CHECK_INT(model_init(&m, &cfg), -1);
	CHECK_CONTAINS(err_msg(), "odd");
	cfg.head_dim = 4;
	CHECK_INT(model_init(&m, &cfg), 0);
	cfg.max_position_embeddings = 4;
	m.cfg.max_position_embeddings = 4;
	CHECK_INT(model_reserve(&m, 1, 5), -1);
	CHECK_CONTAINS(err_msg(), "max_position_embeddings");
	Lora lo;
	CHECK_INT(lora_init(&lo, &cfg, 0, 8, 0, LORA_BIT(LORA_Q), 1), -1);
	CHECK_CONTAINS(err_msg(), "rank");
	CHECK_INT(lora_init(&lo, &cfg, 2, 8, 1.0f, LORA_BIT(LORA_Q), 1), -1);
	CHECK_CONTAINS(err_msg(), "dropout");
	CHECK_INT(lora_init(&lo, &cfg, 2, 8, 0, 0, 1), -1);
	CHECK_INT(lora_targets_parse("q_proj,v_proj"), LORA_BIT(LORA_Q) | LORA_BIT(LORA_V));
	CHECK_INT(lora_targets_parse("all"), (1 << LORA_NMOD) - 1);
	CHECK_INT(lora_targets_parse("q_proj,lm_head"), 0);
	CHECK_CONTAINS(err_msg(), "lm_head");
	/* a checkpoint whose weights do not fit its config */
	char tmp[] = "/tmp/asft-engine-XXXXXX";
	CHECK(mkdtemp(tmp) != NULL);
	model_init_weights(&m, 1, 0.02f);
	CHECK_INT(checkpoint_save(&m, tmp, ST_F32), 0);
	model_free(&m);
	cfg.hidden_size = 12;
	char *cpath = xasprintf("%s/config.json", tmp);
	char *text = file_read_all(cpath, NULL);
	char *p = text ? strstr(text, "\"hidden_size\": 8") : NULL;
	CHECK(p != NULL);
	if (p) {
		memcpy(p, "\"hidden_size\": 4", 16);
		file_write_atomic(cpath, text, strlen(text));
		CHECK_INT(checkpoint_load(&m, tmp), -1);
		CHECK_CONTAINS(err_msg(), "model.embed_tokens.weight: shape [10, 8] in the file");
	}
	free(text);
	free(cpath);
	char *cmd = xasprintf("rm -rf '%s'", tmp);
	CHECK_INT(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	static const char *const names[] = { "mha_untied_f32", "gqa_tied_bf16", "qwen2_bias_f32" };
	threads_set(1);
	for (int i = 0; i < 3; i++) {
		Fixture f;
		if (!CHECK(fixture_open(&f, names[i]) == 0)) {
			fprintf(stderr, "  %s: %s\n", names[i], err_msg());
			fixture_close(&f);
			continue;
		}
		test_forward_backward(&f);
		test_lora(&f);
		test_adamw(&f);
		if (i == 0)
			test_determinism(&f);
		fixture_close(&f);
	}
	test_errors();
	threads_shutdown();
	return test_summary();
}
