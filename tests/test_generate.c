/* test_generate.c: batched KV-cache generation.
 *
 * Greedy outputs equal torch's (tests/ref_engine.py: per-row full recomputation, EOS stop per
 * row) for prompts of different lengths in one left-padded batch; at every step of every row the
 * generated token equals the argmax of a full re-computation of the row alone with the training
 * forward (also with an unmerged LoRA adapter); chunked prefill, thread count and batch
 * composition change nothing; sampling is seeded per row, top-k = 1 and tiny top-p are greedy,
 * and the sampler's frequencies follow the filtered softmax. Bad arguments fail cleanly. */
#include "checkpoint.h"
#include "generate.h"
#include "harness.h"
#include "model.h"
#include "threads.h"
#include "util.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#define FIXDIR "tests/fixtures/engine"

typedef struct {
	int B;
	int lens[8];
	int *rows[8];
	int max_new;
} Prompts;

static cJSON *load_ref(const char *name)
{
	char *p = xasprintf("%s/%s/ref.json", FIXDIR, name);
	char *text = file_read_all(p, NULL);
	free(p);
	cJSON *j = text ? cJSON_Parse(text) : NULL;
	free(text);
	return j;
}

static void prompts_from(Prompts *pr, const cJSON *gen)
{
	const cJSON *ps = cJSON_GetObjectItem(gen, "prompts");
	pr->B = cJSON_GetArraySize(ps);
	pr->max_new = cJSON_GetObjectItem(gen, "max_new")->valueint;
	for (int b = 0; b < pr->B; b++) {
		const cJSON *row = cJSON_GetArrayItem(ps, b);
		pr->lens[b] = cJSON_GetArraySize(row);
		pr->rows[b] = xmalloc(sizeof(int) * pr->lens[b]);
		for (int i = 0; i < pr->lens[b]; i++)
			pr->rows[b][i] = cJSON_GetArrayItem(row, i)->valueint;
	}
}

static void prompts_free(Prompts *pr)
{
	for (int b = 0; b < pr->B; b++)
		free(pr->rows[b]);
}

/* 1 if out row b equals the JSON array want. */
static int row_equals(const int *out, int len, const cJSON *want)
{
	if (cJSON_GetArraySize(want) != len)
		return 0;
	for (int i = 0; i < len; i++)
		if (out[i] != cJSON_GetArrayItem(want, i)->valueint)
			return 0;
	return 1;
}

static void print_row(const char *what, const int *out, int len)
{
	fprintf(stderr, "     %s:", what);
	for (int i = 0; i < len; i++)
		fprintf(stderr, " %d", out[i]);
	fprintf(stderr, "\n");
}

/* 1 if rows [0, B) of a and b (stride T) have the same lengths and tokens. */
static int same_rows(const int *a, const int *alen, const int *b, const int *blen, int B, int T)
{
	for (int r = 0; r < B; r++)
		if (alen[r] != blen[r] || memcmp(a + (size_t)r * T, b + (size_t)r * T,
						 sizeof(int) * alen[r]))
			return 0;
	return 1;
}

/* Every generated token of every row is the argmax of the full forward of the row so far. */
static int check_recompute(Model *m, const Prompts *pr, const int *out, const int *out_len, int T)
{
	int bad = 0;
	for (int b = 0; b < pr->B; b++)
		for (int k = pr->lens[b]; k < out_len[b]; k++) {
			model_forward(m, out + (size_t)b * T, NULL, 1, k);
			const float *lg = m->a.logits + (size_t)(k - 1) * m->V;
			int best = 0;
			for (int v = 1; v < m->V; v++)
				if (lg[v] > lg[best])
					best = v;
			bad += best != out[(size_t)b * T + k];
		}
	return bad;
}

static void test_fixture(const char *name)
{
	cJSON *ref = load_ref(name);
	if (!CHECK(ref != NULL))
		return;
	char *dir = xasprintf("%s/%s", FIXDIR, name);
	Model m;
	if (!CHECK(checkpoint_load(&m, dir) == 0)) {
		fprintf(stderr, "  %s\n", err_msg());
		free(dir);
		cJSON_Delete(ref);
		return;
	}
	const cJSON *gen = cJSON_GetObjectItem(ref, "gen");
	Prompts pr;
	prompts_from(&pr, gen);
	Generator g;
	int T = 24;
	CHECK_INT(gen_init(&g, &m, 4, T), 0);
	int *out = xmalloc(sizeof(int) * 4 * T), out_len[4];
	GenParams p;
	gen_params_default(&p);
	p.max_new = pr.max_new;
	const int *const *rows = (const int *const *)pr.rows;

	for (int ign = 0; ign < 2; ign++) {
		p.ignore_eos = ign;
		const cJSON *want = cJSON_GetObjectItem(gen, ign ? "outputs_ignore_eos" : "outputs");
		for (int chunked = 0; chunked < 2; chunked++) {
			g.chunk = chunked ? 2 : T;          /* prefill in pieces of 2 slots */
			CHECK_INT(gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len), 0);
			for (int b = 0; b < pr.B; b++) {
				int ok = row_equals(out + (size_t)b * T, out_len[b],
						    cJSON_GetArrayItem(want, b));
				char msg[160];
				snprintf(msg, sizeof(msg), "%s greedy row %d (ignore_eos %d, chunked %d)"
					 " equals torch", name, b, ign, chunked);
				harness_report(ok, __FILE__, __LINE__, msg);
				if (!ok)
					print_row("got", out + (size_t)b * T, out_len[b]);
			}
			CHECK_INT(check_recompute(&m, &pr, out, out_len, T), 0);
		}
	}
	/* the EOS row stopped early, the others ran to max_new */
	p.ignore_eos = 0;
	gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len);
	CHECK(out_len[0] < pr.lens[0] + pr.max_new);
	CHECK_INT(out[out_len[0] - 1], cJSON_GetObjectItem(gen, "eos")->valueint);

	/* a row alone gives what it gave in the batch (greedy and seeded sampling) */
	p.temperature = 0.9f;
	p.top_k = 20;
	p.top_p = 0.95f;
	p.seed = 77;
	p.ignore_eos = 1;
	int *batch = xmalloc(sizeof(int) * 4 * T), blen[4];
	gen_run(&g, rows, pr.lens, pr.B, &p, batch, blen);
	/* row 0 alone samples what it sampled in the batch (its stream is rng(seed, 0)) */
	gen_run(&g, rows, pr.lens, 1, &p, out, out_len);
	CHECK_INT(out_len[0], blen[0]);
	CHECK(memcmp(out, batch, sizeof(int) * blen[0]) == 0);
	/* greedy: row 1 alone equals row 1 of the left-padded batch */
	GenParams gr = p;
	gr.temperature = 0;
	gen_run(&g, rows, pr.lens, pr.B, &gr, batch + 0, blen);
	int keep1[32], keep1_len = blen[1];
	memcpy(keep1, batch + T, sizeof(int) * blen[1]);
	gen_run(&g, rows + 1, pr.lens + 1, 1, &gr, out, out_len);
	CHECK_INT(out_len[0], keep1_len);
	CHECK(memcmp(out, keep1, sizeof(int) * keep1_len) == 0);
	gen_run(&g, rows, pr.lens, pr.B, &p, batch, blen);
	p.seed = 78;
	gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len);
	int differs = 0;
	for (int b = 0; b < pr.B; b++)
		differs |= memcmp(out + (size_t)b * T, batch + (size_t)b * T, sizeof(int) * blen[b]);
	CHECK(differs);         /* another seed, another sample */
	p.seed = 77;
	gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len);
	CHECK(same_rows(out, out_len, batch, blen, pr.B, T));    /* same seed, same sample */
	threads_set(2);
	gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len);
	CHECK(same_rows(out, out_len, batch, blen, pr.B, T));    /* threads change nothing */
	threads_set(1);
	/* top_k = 1 and a tiny top_p are greedy */
	GenParams gp = p;
	gp.top_k = 1;
	gen_run(&g, rows, pr.lens, pr.B, &gp, batch, blen);
	p.temperature = 0;
	gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len);
	CHECK(same_rows(out, out_len, batch, blen, pr.B, T));
	gp.top_k = 0;
	gp.top_p = 1e-6f;
	gen_run(&g, rows, pr.lens, pr.B, &gp, batch, blen);
	CHECK(same_rows(out, out_len, batch, blen, pr.B, T));
	free(batch);

	/* with an unmerged LoRA adapter attached: still the argmax of the full forward */
	gen_free(&g);
	Lora lo;
	char *ad = xasprintf("%s/adapter", dir);
	CHECK_INT(checkpoint_load_adapter(&lo, &m, ad), 0);
	model_set_lora(&m, &lo);
	CHECK_INT(gen_init(&g, &m, 4, T), 0);
	p.ignore_eos = 1;
	CHECK_INT(gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len), 0);
	CHECK_INT(check_recompute(&m, &pr, out, out_len, T), 0);
	int *lout = xmalloc(sizeof(int) * 4 * T), llen[4];
	memcpy(lout, out, sizeof(int) * 4 * T);
	memcpy(llen, out_len, sizeof(llen));
	model_lora_merge(&m, &lo);      /* merged weights: same tokens */
	gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len);
	CHECK(same_rows(out, out_len, lout, llen, pr.B, T));
	model_lora_unmerge(&m, &lo);
	free(lout);
	model_set_lora(&m, NULL);
	lora_free(&lo);
	free(ad);

	/* errors */
	int bad[2] = { 1, m.V };
	const int *brow[1] = { bad };
	int blen1 = 2, zero = 0;
	CHECK_INT(gen_run(&g, brow, &blen1, 1, &p, out, out_len), -1);
	CHECK_CONTAINS(err_msg(), "outside the vocabulary");
	CHECK_INT(gen_run(&g, brow, &zero, 1, &p, out, out_len), -1);
	CHECK_CONTAINS(err_msg(), "empty");
	CHECK_INT(gen_run(&g, rows, pr.lens, 5, &p, out, out_len), -1);
	p.max_new = T;
	CHECK_INT(gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len), -1);
	CHECK_CONTAINS(err_msg(), "exceeds");
	p.max_new = 2;
	p.top_p = 0;
	CHECK_INT(gen_run(&g, rows, pr.lens, pr.B, &p, out, out_len), -1);
	CHECK_CONTAINS(err_msg(), "top_p");
	Generator g2;
	CHECK_INT(gen_init(&g2, &m, 1, 1000), -1);
	CHECK_CONTAINS(err_msg(), "max_position_embeddings");

	free(out);
	gen_free(&g);
	prompts_free(&pr);
	model_free(&m);
	free(dir);
	cJSON_Delete(ref);
}

/* The sampler's frequencies against the filtered, renormalized softmax. */
static void test_sampler(void)
{
	float logits[4] = { logf(0.5f), logf(0.3f), logf(0.15f), logf(0.05f) };
	float probs[4];
	int order[4];
	GenParams p;
	gen_params_default(&p);
	Rng r;
	rng_init(&r, 5, 0);
	CHECK_INT(gen_pick(logits, 4, &p, &r, probs, order), 0);
	int n = 20000;
	struct { int k; float top_p; double want[4]; } cases[] = {
		{ 0, 1.0f, { 0.5, 0.3, 0.15, 0.05 } },
		{ 2, 1.0f, { 0.625, 0.375, 0, 0 } },
		{ 0, 0.6f, { 0.625, 0.375, 0, 0 } },      /* 0.5 < 0.6 <= 0.8: two kept */
		{ 0, 0.5f, { 1, 0, 0, 0 } },              /* mass 0.5 reaches 0.5: one kept */
		{ 3, 0.9f, { 0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0 } },
	};
	p.temperature = 1.0f;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		p.top_k = cases[c].k;
		p.top_p = cases[c].top_p;
		int cnt[4] = { 0 };
		for (int i = 0; i < n; i++)
			cnt[gen_pick(logits, 4, &p, &r, probs, order)]++;
		for (int v = 0; v < 4; v++)
			CHECK_CLOSE((double)cnt[v] / n, cases[c].want[v], 0.012, 0);
	}
	/* temperature: T = 0.5 squares and renormalizes the probabilities */
	p.top_k = 0;
	p.top_p = 1;
	p.temperature = 0.5f;
	int cnt0 = 0;
	for (int i = 0; i < n; i++)
		cnt0 += gen_pick(logits, 4, &p, &r, probs, order) == 0;
	CHECK_CLOSE((double)cnt0 / n, 0.25 / (0.25 + 0.09 + 0.0225 + 0.0025), 0.012, 0);
}

int main(void)
{
	threads_set(1);
	test_fixture("mha_untied_f32");
	test_fixture("gqa_tied_bf16");
	test_fixture("qwen2_bias_f32");
	test_sampler();
	threads_shutdown();
	return test_summary();
}
