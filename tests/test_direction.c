/* test_direction: asft-direction's library (direction.c) and asft-perturb's (perturb.c) on tiny
 * Hugging Face folders written here with StWriter + config_save: norms and spectra against
 * direct computations, pair checks and truncated files, direction sampling, normalisation,
 * orthogonality and the cosine tables. */
#include "direction.h"
#include "harness.h"
#include "hfconfig.h"
#include "perturb.h"
#include "adapter.h"
#include "rng.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[256];

typedef struct {
	int layers, hidden, ffn, vocab;
	StDtype dtype;
	size_t shard_bytes;     /* 0: one file */
} Shape;

/* A Llama-shaped model with weights drawn from seed; the tensors of layer 0's q_proj get
 * `known` added (a delta with a known spectrum) when known != NULL, every other tensor gets
 * noise * N(0,1) from stream 100 (noise 0: exactly the seed's model). */
static void make_model(const char *dir, const Shape *sh, uint64_t seed, double noise,
		       const float *known)
{
	CHECK_INT(mkdir_p(dir), 0);
	ModelConfig cfg;
	config_default(&cfg);
	cfg.hidden_size = sh->hidden;
	cfg.intermediate_size = sh->ffn;
	cfg.num_hidden_layers = sh->layers;
	cfg.num_attention_heads = 2;
	cfg.num_key_value_heads = 2;
	cfg.head_dim = sh->hidden / 2;
	cfg.vocab_size = sh->vocab;
	cfg.max_position_embeddings = 64;
	CHECK_INT(config_save_dir(&cfg, dir), 0);
	StWriter *w = st_writer_new();
	float *bufs[64];
	char *names[64];
	int nb = 0, nn = 0;
	Rng r, rn;
	rng_init(&rn, seed + 1000, 100);
	char name[128];
#define ADD(nm, nd, d0, d1) do { \
		int64_t shp[2] = {(d0), (d1)}; \
		size_t n_ = (size_t)(d0) * ((nd) == 2 ? (size_t)(d1) : 1); \
		float *buf_ = bufs[nb++] = xmalloc(n_ * sizeof(float)); \
		rng_init(&r, seed, (uint64_t)nb); \
		rng_fill_normal(&r, buf_, n_, 0.0f, 0.1f); \
		for (size_t i_ = 0; i_ < n_ && noise > 0; i_++) \
			buf_[i_] += (float)(noise * rng_normal(&rn)); \
		if (known && !strcmp((nm), "model.layers.0.self_attn.q_proj.weight")) \
			for (size_t i_ = 0; i_ < n_; i_++) buf_[i_] += known[i_]; \
		CHECK_INT(st_writer_add(w, (nm), sh->dtype, buf_, (nd), shp), 0); \
	} while (0)
	ADD("model.embed_tokens.weight", 2, sh->vocab, sh->hidden);
	for (int l = 0; l < sh->layers; l++) {
		const char *mats[] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
				      "self_attn.o_proj"};
		for (int m = 0; m < 4; m++) {
			snprintf(name, sizeof name, "model.layers.%d.%s.weight", l, mats[m]);
			ADD(names[nn++] = xstrdup(name), 2, sh->hidden, sh->hidden);
		}
		snprintf(name, sizeof name, "model.layers.%d.mlp.gate_proj.weight", l);
		ADD(names[nn++] = xstrdup(name), 2, sh->ffn, sh->hidden);
		snprintf(name, sizeof name, "model.layers.%d.mlp.up_proj.weight", l);
		ADD(names[nn++] = xstrdup(name), 2, sh->ffn, sh->hidden);
		snprintf(name, sizeof name, "model.layers.%d.mlp.down_proj.weight", l);
		ADD(names[nn++] = xstrdup(name), 2, sh->hidden, sh->ffn);
		snprintf(name, sizeof name, "model.layers.%d.input_layernorm.weight", l);
		ADD(names[nn++] = xstrdup(name), 1, sh->hidden, 0);
		snprintf(name, sizeof name, "model.layers.%d.post_attention_layernorm.weight", l);
		ADD(names[nn++] = xstrdup(name), 1, sh->hidden, 0);
	}
	ADD("model.norm.weight", 1, sh->hidden, 0);
	ADD("lm_head.weight", 2, sh->vocab, sh->hidden);
#undef ADD
	int rc = sh->shard_bytes ? st_writer_save_dir(w, dir, sh->shard_bytes)
				 : st_writer_save_dir(w, dir, (size_t)1 << 40);
	CHECK_INT(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err_msg());
	st_writer_free(w);
	for (int i = 0; i < nb; i++)
		free(bufs[i]);
	for (int i = 0; i < nn; i++)
		free(names[i]);
}

static char *tpath(const char *name) { return path_join(tmpdir, name); }

/* exact difference of one tensor between two folders, as double */
static double *tensor_diff(const char *da, const char *db, const char *name, size_t *n)
{
	Safetensors a = {0}, b = {0};
	CHECK_INT(st_open_dir(&a, da), 0);
	CHECK_INT(st_open_dir(&b, db), 0);
	const StTensor *ta = st_find(&a, name), *tb = st_find(&b, name);
	*n = ta->numel;
	float *fa = xmalloc(*n * 4), *fb = xmalloc(*n * 4);
	st_read_f32(ta, fa);
	st_read_f32(tb, fb);
	double *d = xmalloc(*n * sizeof(double));
	for (size_t i = 0; i < *n; i++)
		d[i] = (double)(fa[i] - fb[i]);
	free(fa);
	free(fb);
	st_close(&a);
	st_close(&b);
	return d;
}

static const Shape SMALL = {2, 16, 24, 20, ST_F32, 0};

/* every floating dtype, aligned and unaligned BF16, against the reader's own conversions */
static void test_read_f32(void)
{
	float ref[5] = {1.5f, -2.25f, 0.0f, 65504.0f, -0.125f}, got[5];
	unsigned char raw[64];
	StTensor t = {.name = "x", .ndim = 1, .shape = {5}, .numel = 5};
	t.dtype = ST_F16;
	for (int i = 0; i < 5; i++) {
		uint16_t h = st_f32_to_f16(ref[i]);
		memcpy(raw + 2 * i, &h, 2);
	}
	t.data = raw;
	tensor_read_f32(&t, 0, 5, got);
	CHECK_ALLCLOSE(got, ref, 5, 0, 0);
	t.dtype = ST_F64;
	for (int i = 0; i < 5; i++) {
		double d = ref[i];
		memcpy(raw + 8 * i, &d, 8);
	}
	tensor_read_f32(&t, 1, 3, got);
	CHECK_ALLCLOSE(got, ref + 1, 3, 0, 0);
	t.dtype = ST_BF16;
	for (int off = 0; off < 2; off++) {         /* even and odd addresses */
		for (int i = 0; i < 5; i++) {
			uint16_t h = st_f32_to_bf16(ref[i]);
			memcpy(raw + off + 2 * i, &h, 2);
		}
		t.data = raw + off;
		tensor_read_f32(&t, 0, 5, got);
		for (int i = 0; i < 5; i++)
			CHECK_CLOSE(got[i], st_bf16_to_f32(st_f32_to_bf16(ref[i])), 0, 0);
	}
	t.dtype = ST_I32;
	tensor_read_f32(&t, 0, 5, got);
	CHECK(!tensor_is_float(&t));
	CHECK_CLOSE(got[4], 0.0, 0, 0);
}

static void test_names(void)
{
	char buf[32];
	tensor_module("model.layers.3.self_attn.q_proj.weight", buf, sizeof buf);
	CHECK_STR(buf, "q_proj");
	tensor_module("lm_head.weight", buf, sizeof buf);
	CHECK_STR(buf, "lm_head");
	tensor_module("model.layers.3.self_attn.q_proj.lora_A", buf, sizeof buf);
	CHECK_STR(buf, "");
	CHECK_INT(tensor_layer("model.layers.12.mlp.up_proj.weight"), 12);
	CHECK_INT(tensor_layer("model.norm.weight"), -1);
	CHECK_INT(tensor_layer("model.layers.x.mlp"), -1);
	StTensor t = {.name = "model.layers.0.self_attn.v_proj.weight", .dtype = ST_BF16, .ndim = 2};
	CHECK(modules_match(&t, "q_proj,v_proj"));
	CHECK(!modules_match(&t, "q_proj,o_proj"));
	CHECK(modules_match(&t, "all"));
	t.ndim = 1;
	CHECK(!modules_match(&t, "all"));
}

/* The known delta of q_proj in layer 0: U diag(s) V^T with s = 3, 2, 1, 0.5 (rank 4). */
static float *known_delta(int n, const double *s, int q)
{
	Rng r;
	rng_init(&r, 77, 0);
	double *U = xmalloc((size_t)n * q * 8), *V = xmalloc((size_t)n * q * 8);
	for (int i = 0; i < n * q; i++) {
		U[i] = rng_normal(&r);
		V[i] = rng_normal(&r);
	}
	la_orthonormalize(U, n, q);
	la_orthonormalize(V, n, q);
	float *d = xcalloc((size_t)n * n, sizeof(float));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double a = 0;
			for (int t = 0; t < q; t++)
				a += U[i * q + t] * s[t] * V[j * q + t];
			d[i * n + j] = (float)a;
		}
	free(U);
	free(V);
	return d;
}

static void test_direction_compute(void)
{
	double s[4] = {3, 2, 1, 0.5};
	float *kd = known_delta(SMALL.hidden, s, 4);
	char *base = tpath("base"), *al = tpath("aligned"), *out = tpath("align.h5");
	make_model(base, &SMALL, 1, 0, NULL);
	make_model(al, &SMALL, 1, 1e-3, kd);
	DirOpts o = {.base_dir = base, .aligned_dir = al, .modules = "q_proj,v_proj", .topk = 3};
	svd_opts_default(&o.svd);
	H5Store *h = h5s_create(out, "test", NULL, 0);
	DirSummary sum;
	CHECK_INT(direction_compute(h, &o, &sum), 0);
	CHECK_INT(h5s_close(h), 0);
	CHECK_INT(sum.n, 4);
	CHECK_INT(sum.n_tensors, 2 * 9 + 3);
	CHECK_INT(sum.n_layers, 2);

	/* reference numbers computed directly */
	const char *q0 = "model.layers.0.self_attn.q_proj.weight";
	size_t n;
	double *d = tensor_diff(al, base, q0, &n);
	double v2 = 0;
	for (size_t i = 0; i < n; i++)
		v2 += d[i] * d[i];
	double *dc = xmalloc(n * 8), sv[16];
	memcpy(dc, d, n * 8);
	CHECK_INT(la_svd_full(dc, 16, 16, sv, NULL, NULL), 0);
	CHECK_ALLCLOSE(sv, s, 4, 2e-2, 0);      /* the known spectrum, up to the 1e-3 noise */

	h = h5s_open(out, 0);
	CHECK(h != NULL);
	char *g = xasprintf("/delta/%s", q0);
	double x;
	CHECK_INT(h5s_attr_get_f64(h, g, "fro_norm", &x), 0);
	CHECK_CLOSE(x, sqrt(v2), 0, 1e-6);
	double *sf;
	int nd;
	size_t dims[2];
	char *p = xasprintf("%s/s", g);
	CHECK_INT(h5s_read(h, p, H5S_F64, (void **)&sf, &nd, dims), 0);
	CHECK_INT(dims[0], 3);
	CHECK_ALLCLOSE(sf, sv, 3, 0, 1e-5);
	double sr;
	CHECK_INT(h5s_attr_get_f64(h, g, "stable_rank", &sr), 0);
	CHECK_CLOSE(sr, v2 / (sv[0] * sv[0]), 0, 1e-5);
	CHECK_INT(h5s_attr_get_f64(h, g, "energy_topk", &x), 0);
	CHECK_CLOSE(x, (sv[0] * sv[0] + sv[1] * sv[1] + sv[2] * sv[2]) / v2, 0, 1e-5);
	CHECK_INT(h5s_attr_get_f64(h, g, "chat_eig_max", &x), 0);
	CHECK_CLOSE(x, sv[0] * sv[0] / sqrt(v2), 0, 1e-5);
	int64_t cnt;
	CHECK_INT(h5s_attr_get_i64(h, g, "n_eig_gt_one", &cnt), 0);
	int expect1 = 0;
	for (int i = 0; i < 16; i++)
		expect1 += sv[i] * sv[i] / sqrt(v2) > 1;
	CHECK_INT(cnt, expect1);
	CHECK_INT(h5s_attr_get_i64(h, g, "eig_counts_exact", &cnt), 0);
	CHECK_INT(cnt, 1);
	free(p);
	p = xasprintf("%s/U", g);
	double *U;
	CHECK_INT(h5s_read(h, p, H5S_F64, (void **)&U, &nd, dims), 0);
	CHECK_INT(dims[0], 16);
	CHECK_INT(dims[1], 3);
	double uu = 0;
	for (int i = 0; i < 16; i++)
		uu += U[i * 3 + 1] * U[i * 3 + 1];
	CHECK_CLOSE(uu, 1.0, 1e-9, 0);
	/* global norm over every tensor, direct */
	Safetensors sa = {0};
	CHECK_INT(st_open_dir(&sa, base), 0);
	double g2 = 0, l1 = 0;
	for (int i = 0; i < sa.n; i++) {
		double *di = tensor_diff(al, base, sa.tensors[i].name, &n);
		double t2 = 0;
		for (size_t e = 0; e < n; e++)
			t2 += di[e] * di[e];
		g2 += t2;
		if (tensor_layer(sa.tensors[i].name) == 1)
			l1 += t2;
		free(di);
	}
	st_close(&sa);
	CHECK_INT(h5s_attr_get_f64(h, "/", "global_norm", &x), 0);
	CHECK_CLOSE(x, sqrt(g2), 0, 1e-6);
	double *ln;
	CHECK_INT(h5s_read(h, "/layers/delta_norm", H5S_F64, (void **)&ln, &nd, dims), 0);
	CHECK_INT(dims[0], 2);
	CHECK_CLOSE(ln[1], sqrt(l1), 0, 1e-6);
	double *rl;
	CHECK_INT(h5s_read(h, "/layers/rel_norm", H5S_F64, (void **)&rl, &nd, dims), 0);
	double rel1 = rl[1];
	free(rl);
	CHECK(rel1 > 0 && rel1 < 1);
	char *names;
	CHECK_INT(h5s_attr_get_str(h, "/summary", "names", &names), 0);
	CHECK_CONTAINS(names, "model.layers.1.self_attn.v_proj.weight");
	CHECK(!h5s_exists(h, "/delta/model.layers.0.self_attn.k_proj.weight"));
	h5s_close(h);

	/* the same pair sharded and in BF16 streams to the same numbers (BF16: up to rounding) */
	Shape sh = SMALL;
	sh.shard_bytes = 4096;
	char *al2 = tpath("aligned_sharded"), *out2 = tpath("align2.h5");
	make_model(al2, &sh, 1, 1e-3, kd);
	o.aligned_dir = al2;
	h = h5s_create(out2, "test", NULL, 0);
	DirSummary sum2;
	CHECK_INT(direction_compute(h, &o, &sum2), 0);
	CHECK_INT(h5s_close(h), 0);
	CHECK(access(al2, F_OK) == 0);
	char *idx = path_join(al2, "model.safetensors.index.json");
	CHECK(access(idx, F_OK) == 0);
	CHECK_CLOSE(sum2.global_norm, sum.global_norm, 0, 1e-12);
	CHECK_CLOSE(sum2.t[0].chat_eig_max, sum.t[0].chat_eig_max, 0, 1e-9);
	direction_summary_free(&sum2);

	/* all modules without SVD */
	o.aligned_dir = al;
	o.modules = "all";
	o.topk = 0;
	h = h5s_create(out2, "test", NULL, 0);
	CHECK_INT(direction_compute(h, &o, &sum2), 0);
	CHECK_INT(h5s_close(h), 0);
	CHECK_INT(sum2.n, 2 * 7 + 2);
	CHECK(isnan(sum2.t[0].stable_rank));
	FILE *f = tmpfile();
	direction_summary_print(f, &sum);
	direction_summary_print(f, &sum2);
	rewind(f);
	char text[4096] = {0};
	CHECK(fread(text, 1, sizeof text - 1, f) > 0);
	fclose(f);
	CHECK_CONTAINS(text, "q_proj");
	CHECK_CONTAINS(text, "verdict:");
	CHECK_CONTAINS(text, "not examined");
	CHECK_CONTAINS(text, "per layer ||d||/||W|| (C_hat eig1):\n L0  ");
	CHECK_CLOSE(sum.layer_rel[1], rel1, 0, 1e-12);
	direction_summary_free(&sum2);
	direction_summary_free(&sum);

	free(idx); free(al2); free(out2); free(names); free(ln); free(U); free(p); free(g);
	free(sf); free(dc); free(d); free(base); free(al); free(out); free(kd);
}

static void expect_error(const char *base, const char *al, const char *modules, const char *what,
			 const char *what2)
{
	DirOpts o = {.base_dir = base, .aligned_dir = al, .modules = modules, .topk = 2};
	svd_opts_default(&o.svd);
	char *out = tpath("bad.h5");
	H5Store *h = h5s_create(out, "test", NULL, 0);
	DirSummary sum;
	CHECK_INT(direction_compute(h, &o, &sum), -1);
	CHECK_CONTAINS(err_msg(), what);
	CHECK_CONTAINS(err_msg(), what2);
	h5s_abort(h);
	CHECK(access(out, F_OK) != 0);
	free(out);
}

static void test_direction_errors(void)
{
	char *base = tpath("base"), *other = tpath("other"), *wide = tpath("wide");
	Shape s3 = SMALL;
	s3.layers = 3;
	make_model(other, &s3, 1, 0, NULL);
	expect_error(base, other, "q_proj", "num_hidden_layers", other);
	/* same config, one tensor reshaped: write config of SMALL, tensors of a wider ffn */
	Shape sw = SMALL;
	sw.ffn = 32;
	make_model(wide, &sw, 1, 0, NULL);
	ModelConfig cfg;
	CHECK_INT(config_load_dir(&cfg, base), 0);
	CHECK_INT(config_save_dir(&cfg, wide), 0);
	expect_error(base, wide, "q_proj", "model.layers.0.mlp.down_proj.weight: shape [16, 24]", "[16, 32]");
	/* a missing tensor: the wide model without its config check but fewer layers */
	expect_error(base, other, "q_proj", "num_hidden_layers", "3");
	char *cfgp = path_join(other, "config.json");
	CHECK_INT(config_save_dir(&cfg, other), 0);
	expect_error(base, other, "q_proj", "tensor model.layers.2.", "but not in");
	/* module typo */
	expect_error(base, base, "q_prj", "q_prj", "no 2-D tensor");
	/* truncated safetensors */
	char *tr = tpath("trunc"), *src = path_join(base, "model.safetensors");
	char *dst = path_join(tr, "model.safetensors");
	CHECK_INT(mkdir_p(tr), 0);
	CHECK_INT(config_save_dir(&cfg, tr), 0);
	size_t len;
	char *bytes = file_read_all(src, &len);
	CHECK_INT(file_write_atomic(dst, bytes, len - 100), 0);
	expect_error(base, tr, "q_proj", "trunc/model.safetensors: tensor model.layers.1.self_attn.v_proj.weight", "past the end");
	free(bytes); free(tr); free(src); free(dst); free(cfgp);
	free(base); free(other); free(wide);
}


/* reads /<dir>/<tensor> as float (caller frees); n = element count */
static float *read_dir(H5Store *h, const char *dir, const char *tensor, size_t *n)
{
	char *p = xasprintf("/%s/%s", dir, tensor);
	float *v = NULL;
	int nd = 0;
	size_t dims[8] = {0};
	if (h5s_read(h, p, H5S_F32, (void **)&v, &nd, dims) < 0) {
		fprintf(stderr, "%s\n", err_msg());
		free(p);
		return NULL;
	}
	free(p);
	*n = 1;
	for (int i = 0; i < nd; i++)
		*n *= dims[i];
	return v;
}

static float *read_weight(const char *dir, const char *name, size_t *n)
{
	Safetensors st = {0};
	CHECK_INT(st_open_dir(&st, dir), 0);
	const StTensor *t = st_find(&st, name);
	*n = t->numel;
	float *w = xmalloc(*n * 4);
	st_read_f32(t, w);
	st_close(&st);
	return w;
}

static double dotf(const float *a, const float *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)a[i] * b[i];
	return s;
}

static void test_normalize(void)
{
	Rng r;
	rng_init(&r, 9, 0);
	float d[35], w[35], d0[35];
	rng_fill_normal(&r, d, 35, 0, 1);
	rng_fill_normal(&r, w, 35, 0, 3);
	memset(w + 14, 0, 7 * sizeof(float));      /* a zero row of W zeroes the direction row */
	memcpy(d0, d, sizeof d);
	dir_normalize_filter(d, w, 5, 7);
	for (int i = 0; i < 5; i++) {
		double dn = sqrt(dotf(d + 7 * i, d + 7 * i, 7)), wn = sqrt(dotf(w + 7 * i, w + 7 * i, 7));
		double d0n = sqrt(dotf(d0 + 7 * i, d0 + 7 * i, 7));
		CHECK_CLOSE(dn, wn, 1e-6, 1e-6);
		if (i != 2)     /* same direction as before: cosine 1 */
			CHECK_CLOSE(dotf(d + 7 * i, d0 + 7 * i, 7) / (dn * d0n), 1.0, 1e-6, 0);
	}
	memcpy(d, d0, sizeof d);
	dir_normalize_layer(d, w, 35);
	CHECK_CLOSE(sqrt(dotf(d, d, 35)), sqrt(dotf(w, w, 35)), 0, 1e-6);
	CHECK_CLOSE(d[3] / d0[3], sqrt(dotf(w, w, 35) / dotf(d0, d0, 35)), 0, 1e-6);
	DirNorm nm;
	CHECK_INT(dir_norm_parse("layer", &nm), 0);
	CHECK_INT(nm, NORM_LAYER);
	CHECK_INT(dir_norm_parse("row", &nm), -1);
	CHECK_CONTAINS(err_msg(), "filter, layer, none, unit");
}

static int run_perturb(PerturbOpts *o, const char *out, PerturbSummary *sum)
{
	H5Store *h = h5s_create(out, "test", NULL, o->seed);
	int rc = perturb_compute(h, o, sum);
	if (rc < 0) {
		char *m = xstrdup(err_msg());
		h5s_abort(h);
		err_set("%s", m);
		free(m);
		return -1;
	}
	CHECK_INT(h5s_close(h), 0);
	return 0;
}

static const char *Q0 = "model.layers.0.self_attn.q_proj.weight";
static const char *D1 = "model.layers.1.mlp.down_proj.weight";

static void test_perturb_layer(void)
{
	char *base = tpath("base"), *al = tpath("aligned"), *out = tpath("dirs.h5");
	PerturbOpts o = {.model_dir = al, .kinds = "aligned,random,orthogonal", .base_dir = base,
			 .aligned_dir = al, .modules = "all", .norm = NORM_LAYER, .seed = 5, .count = 2};
	PerturbSummary sum;
	CHECK_INT(run_perturb(&o, out, &sum), 0);
	CHECK_INT(sum.n, 5);
	CHECK_STR(sum.names[3], "orth0");
	/* orthogonality, global: aligned vs orth, orth vs orth */
	CHECK(fabs(sum.cosines[0 * 5 + 3]) < 1e-6);
	CHECK(fabs(sum.cosines[0 * 5 + 4]) < 1e-6);
	CHECK(fabs(sum.cosines[3 * 5 + 4]) < 1e-6);
	CHECK(fabs(sum.cosines[1 * 5 + 2]) > 1e-5);     /* plain randoms are not orthogonalised */
	CHECK_CLOSE(sum.cosines[1 * 5 + 1], 1.0, 1e-12, 0);
	H5Store *h = h5s_open(out, 0);
	char *names;
	CHECK_INT(h5s_attr_get_str(h, "/cosines", "names", &names), 0);
	CHECK_STR(names, "aligned,random0,random1,orth0,orth1");
	free(names);
	/* per-tensor norms equal ||W|| (layer), embed and 1-D are zero */
	size_t n, nw;
	float *w = read_weight(al, Q0, &nw);
	const char *dirs[] = {"aligned", "random0", "orth0", "orth1"};
	for (int k = 0; k < 4; k++) {
		float *d = read_dir(h, dirs[k], Q0, &n);
		CHECK_INT(n, nw);
		CHECK_CLOSE(sqrt(dotf(d, d, n)), sqrt(dotf(w, w, nw)), 0, 1e-5);
		free(d);
	}
	float *a = read_dir(h, "aligned", Q0, &n), *o0 = read_dir(h, "orth0", Q0, &n);
	CHECK(fabs(dotf(a, o0, n)) / sqrt(dotf(a, a, n) * dotf(o0, o0, n)) < 1e-6);  /* per tensor too */
	/* aligned = (al - base) scaled to ||W||, direct */
	size_t nd;
	double *df = tensor_diff(al, base, Q0, &nd);
	double dn = 0;
	for (size_t i = 0; i < nd; i++)
		dn += df[i] * df[i];
	double sc = sqrt(dotf(w, w, nw) / dn);
	double worst = 0;
	for (size_t i = 0; i < nd; i++)
		worst = fmax(worst, fabs(a[i] - df[i] * sc));
	CHECK(worst < 1e-5 * sqrt(dotf(w, w, nw) / nd) * 10);
	float *e = read_dir(h, "random0", "model.embed_tokens.weight", &n);
	CHECK_CLOSE(dotf(e, e, n), 0.0, 0, 0);
	free(e);
	e = read_dir(h, "orth1", "model.layers.0.input_layernorm.weight", &n);
	CHECK_CLOSE(dotf(e, e, n), 0.0, 0, 0);
	free(e);
	double *cpt;
	int ndim;
	size_t dims[2];
	char *p = xasprintf("/cosines_per_tensor/%s", Q0);
	CHECK_INT(h5s_read(h, p, H5S_F64, (void **)&cpt, &ndim, dims), 0);
	CHECK_INT(dims[0], 5);
	CHECK(fabs(cpt[3]) < 1e-6);
	free(cpt);
	free(p);
	p = xasprintf("/cosines_per_tensor/%s", "model.norm.weight");
	CHECK_INT(h5s_read(h, p, H5S_F64, (void **)&cpt, &ndim, dims), 0);
	CHECK(isnan(cpt[1]));
	free(cpt);
	free(p);
	char *kind;
	CHECK_INT(h5s_attr_get_str(h, "/orth1", "kind", &kind), 0);
	CHECK_STR(kind, "orthogonal");
	free(kind);
	CHECK_INT(h5s_attr_get_str(h, "/orth1", "orth_scope", &kind), 0);
	CHECK_STR(kind, "tensor");
	free(kind);
	float *r0 = read_dir(h, "random0", D1, &n);
	h5s_close(h);
	perturb_summary_free(&sum);

	/* the same seed reproduces bitwise; another seed differs; a different kind list leaves
	 * random0 unchanged (streams are keyed by tensor and slot) */
	o.kinds = "random";
	o.count = 1;
	CHECK_INT(run_perturb(&o, out, &sum), 0);
	perturb_summary_free(&sum);
	h = h5s_open(out, 0);
	float *r1 = read_dir(h, "random0", D1, &n);
	CHECK(memcmp(r0, r1, n * sizeof(float)) == 0);
	h5s_close(h);
	free(r1);
	o.seed = 6;
	CHECK_INT(run_perturb(&o, out, &sum), 0);
	perturb_summary_free(&sum);
	h = h5s_open(out, 0);
	r1 = read_dir(h, "random0", D1, &n);
	CHECK(memcmp(r0, r1, n * sizeof(float)) != 0);
	h5s_close(h);
	free(r1);
	free(r0); free(a); free(o0); free(w); free(df);
	free(base); free(al); free(out);
}

static void test_perturb_filter_unit(void)
{
	char *base = tpath("base"), *al = tpath("aligned"), *out = tpath("dirs_f.h5");
	PerturbOpts o = {.model_dir = al, .kinds = "aligned,orthogonal,random", .base_dir = base,
			 .aligned_dir = al, .modules = "all", .norm = NORM_FILTER, .seed = 5,
			 .count = 2, .include_1d = 1, .include_embed = 1};
	PerturbSummary sum;
	CHECK_INT(run_perturb(&o, out, &sum), 0);
	CHECK(fabs(sum.cosines[0 * 5 + 1]) < 1e-6);
	CHECK(fabs(sum.cosines[0 * 5 + 2]) < 1e-6);
	CHECK(fabs(sum.cosines[1 * 5 + 2]) < 1e-6);
	perturb_summary_free(&sum);
	H5Store *h = h5s_open(out, 0);
	size_t n, nw;
	float *w = read_weight(al, D1, &nw);         /* (16, 24) */
	const char *dirs[] = {"orth1", "random1"};
	for (int k = 0; k < 2; k++) {
		float *d = read_dir(h, dirs[k], D1, &n);
		double worst = 0;
		for (int r = 0; r < 16; r++)
			worst = fmax(worst, fabs(sqrt(dotf(d + 24 * r, d + 24 * r, 24)) /
						 sqrt(dotf(w + 24 * r, w + 24 * r, 24)) - 1));
		CHECK(worst < 1e-5);
		free(d);
	}
	/* 1-D included: one row scaled to ||w|| */
	free(w);
	w = read_weight(al, "model.norm.weight", &nw);
	float *d = read_dir(h, "random0", "model.norm.weight", &n);
	CHECK_CLOSE(sqrt(dotf(d, d, n)), sqrt(dotf(w, w, nw)), 0, 1e-5);
	free(d);
	d = read_dir(h, "orth0", "model.embed_tokens.weight", &n);
	CHECK(dotf(d, d, n) > 0);
	free(d);
	h5s_close(h);
	free(w);

	/* unit: global norm 1, orthogonal (global scope) */
	o.norm = NORM_UNIT;
	o.include_1d = o.include_embed = 0;
	CHECK_INT(run_perturb(&o, out, &sum), 0);
	for (int k = 0; k < 5; k++)
		CHECK_CLOSE(sum.norms[k], 1.0, 0, 1e-6);
	CHECK(fabs(sum.cosines[0 * 5 + 1]) < 1e-6);
	CHECK(fabs(sum.cosines[1 * 5 + 2]) < 1e-6);
	perturb_summary_free(&sum);
	/* layer normalisation with global scope: orthogonal, norms only approximately ||W|| */
	o.norm = NORM_LAYER;
	o.scope = ORTH_GLOBAL;
	CHECK_INT(run_perturb(&o, out, &sum), 0);
	CHECK(fabs(sum.cosines[0 * 5 + 1]) < 1e-6);
	CHECK(fabs(sum.cosines[0 * 5 + 2]) < 1e-6);
	CHECK(fabs(sum.cosines[1 * 5 + 2]) < 1e-6);
	perturb_summary_free(&sum);
	/* --direction FILE: the base and aligned recorded by asft-direction */
	char *af = tpath("align.h5");
	PerturbOpts o2 = {.model_dir = al, .kinds = "aligned", .direction_file = af,
			  .modules = "all", .norm = NORM_NONE, .seed = 5, .count = 1};
	CHECK_INT(run_perturb(&o2, out, &sum), 0);
	h = h5s_open(out, 0);
	d = read_dir(h, "aligned", Q0, &n);
	size_t nd;
	double *df = tensor_diff(al, base, Q0, &nd);
	CHECK_ALLCLOSE(d, df, n, 1e-7, 0);
	free(df);
	free(d);
	h5s_close(h);
	perturb_summary_free(&sum);
	free(af); free(base); free(al); free(out);
}

static void test_perturb_harm(void)
{
	char *base = tpath("base"), *al = tpath("aligned"), *out = tpath("dirs_h.h5");
	char *atk = tpath("attacked"), *adp = tpath("adapter");
	make_model(atk, &SMALL, 1, 5e-3, NULL);
	PerturbOpts o = {.model_dir = al, .kinds = "harm,interp,aligned", .base_dir = base,
			 .aligned_dir = al, .from_dir = al, .to_dir = atk, .modules = "all",
			 .norm = NORM_LAYER, .seed = 1, .count = 1};
	PerturbSummary sum;
	CHECK_INT(run_perturb(&o, out, &sum), 0);
	CHECK_STR(sum.names[0], "harm");
	perturb_summary_free(&sum);
	H5Store *h = h5s_open(out, 0);
	size_t n, nd;
	float *it = read_dir(h, "interp", "model.layers.1.input_layernorm.weight", &n);
	double *df = tensor_diff(atk, al, "model.layers.1.input_layernorm.weight", &nd);
	CHECK_ALLCLOSE(it, df, n, 1e-7, 0);         /* interp: to - from, not normalised, 1-D too */
	free(it);
	free(df);
	float *hm = read_dir(h, "harm", Q0, &n), *w = read_weight(al, Q0, &nd);
	CHECK_CLOSE(sqrt(dotf(hm, hm, n)), sqrt(dotf(w, w, nd)), 0, 1e-5);
	free(hm);
	free(w);
	char *src;
	CHECK_INT(h5s_attr_get_str(h, "/interp", "normalisation", &src), 0);
	CHECK_STR(src, "none");
	free(src);
	h5s_close(h);

	/* harm from a PEFT adapter: scale * B A on its modules, zero elsewhere */
	Adapter ad = {0};
	adapter_config_init(&ad.cfg, 2, 8.0);
	const char *tg[] = {"q_proj"};
	CHECK_INT(adapter_config_set_list(&ad.cfg, tg, 1), 0);
	AdapterModule *am = adapter_add(&ad, "model.layers.0.self_attn.q_proj", 16, 16);
	CHECK(am != NULL);
	Rng r;
	rng_init(&r, 4, 0);
	rng_fill_normal(&r, am->A, 32, 0, 1);
	rng_fill_normal(&r, am->B, 32, 0, 1);
	CHECK_INT(adapter_save(&ad, adp, ST_F32), 0);
	float ref[256];
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			ref[i * 16 + j] = 4.0f * (am->B[i * 2] * am->A[j] + am->B[i * 2 + 1] * am->A[16 + j]);
	PerturbOpts oa = {.model_dir = al, .kinds = "harm", .adapter_dir = adp, .modules = "all",
			  .norm = NORM_NONE, .seed = 1, .count = 1};
	CHECK_INT(run_perturb(&oa, out, &sum), 0);
	perturb_summary_free(&sum);
	h = h5s_open(out, 0);
	hm = read_dir(h, "harm", Q0, &n);
	CHECK_ALLCLOSE(hm, ref, 256, 1e-5, 1e-5);
	free(hm);
	hm = read_dir(h, "harm", "model.layers.0.self_attn.v_proj.weight", &n);
	CHECK_CLOSE(dotf(hm, hm, n), 0, 0, 0);
	free(hm);
	h5s_close(h);
	/* an adapter whose module does not fit the model */
	adapter_free(&ad);
	adapter_config_init(&ad.cfg, 2, 8.0);
	CHECK_INT(adapter_config_set_list(&ad.cfg, tg, 1), 0);
	CHECK(adapter_add(&ad, "model.layers.0.self_attn.q_proj", 16, 8) != NULL);
	char *adp2 = tpath("adapter_bad");
	CHECK_INT(adapter_save(&ad, adp2, ST_F32), 0);
	oa.adapter_dir = adp2;
	CHECK_INT(run_perturb(&oa, out, &sum), -1);
	CHECK_CONTAINS(err_msg(), "module model.layers.0.self_attn.q_proj is 8 x 16");
	adapter_free(&ad);
	free(adp2); free(base); free(al); free(out); free(atk); free(adp);
}

static void test_perturb_errors(void)
{
	char *base = tpath("base"), *al = tpath("aligned"), *other = tpath("other");
	char *wide = tpath("wide"), *out = tpath("dirs_e.h5");
	PerturbOpts o = {.model_dir = al, .kinds = "orthogonal", .modules = "all",
			 .norm = NORM_LAYER, .seed = 1, .count = 1};
	PerturbSummary sum;
	CHECK_INT(run_perturb(&o, out, &sum), -1);
	CHECK_CONTAINS(err_msg(), "--base and --aligned");
	o.kinds = "random,walk";
	CHECK_INT(run_perturb(&o, out, &sum), -1);
	CHECK_CONTAINS(err_msg(), "kind 'walk'");
	o.kinds = "random,random";
	CHECK_INT(run_perturb(&o, out, &sum), -1);
	CHECK_CONTAINS(err_msg(), "listed twice");
	o.kinds = "harm";
	CHECK_INT(run_perturb(&o, out, &sum), -1);
	CHECK_CONTAINS(err_msg(), "--from and --to");
	o.kinds = "aligned";
	o.base_dir = wide;
	o.aligned_dir = al;
	CHECK_INT(run_perturb(&o, out, &sum), -1);
	CHECK_CONTAINS(err_msg(), "down_proj.weight: shape");
	o.base_dir = base;
	o.count = 0;
	CHECK_INT(run_perturb(&o, out, &sum), -1);
	CHECK_CONTAINS(err_msg(), "--count 0");
	free(base); free(al); free(other); free(wide); free(out);
}

static void test_perturb(void)
{
	test_normalize();
	test_perturb_layer();
	test_perturb_filter_unit();
	test_perturb_harm();
	test_perturb_errors();
}

int main(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/asft-test-direction.%d", (int)getpid());
	CHECK_INT(mkdir_p(tmpdir), 0);
	setenv("ASFT_QUIET", "1", 1);
	test_names();
	test_read_f32();
	test_direction_compute();
	test_direction_errors();
	test_perturb();
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	return test_summary();
}
