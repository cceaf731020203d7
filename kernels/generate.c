/* generate.c: KV-cache inference and sampling (see generate.h). The layer maths is the same
 * ops.c kernels as the training forward; only attention is different (queries against the
 * cache, with each row's pad slots excluded), and only the last slot of each row goes through
 * the final norm and lm_head. */
#include "generate.h"
#include "ops.h"
#include "threads.h"
#include "err.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GEN_ROWS 1024   /* token rows per forward chunk (bounds scratch memory) */

void gen_params_default(GenParams *p)
{
	memset(p, 0, sizeof(*p));
	p->max_new = 64;
	p->top_p = 1.0f;
}

void gen_free(Generator *g)
{
	if (!g)
		return;
	free(g->rng);
	free(g->imem);
	free(g->mem);
	memset(g, 0, sizeof(*g));
}

int gen_init(Generator *g, Model *m, int B_max, int T_max)
{
	memset(g, 0, sizeof(*g));
	if (B_max < 1 || T_max < 1)
		return err_set("generate: %d rows of %d slots", B_max, T_max);
	if (m->cfg.max_position_embeddings > 0 && T_max > m->cfg.max_position_embeddings)
		return err_set("generate: %d positions (prompt + new tokens) exceed "
			       "max_position_embeddings %d", T_max, m->cfg.max_position_embeddings);
	if (m->cfg.sliding_window > 0 && T_max > m->cfg.sliding_window)
		return err_set("generate: %d positions exceed the sliding_window %d (sliding window "
			       "attention is not implemented)", T_max, m->cfg.sliding_window);
	g->m = m;
	g->B_max = B_max;
	g->T_max = T_max;
	g->chunk = GEN_ROWS / B_max;
	if (g->chunk < 1)
		g->chunk = 1;
	if (g->chunk > T_max)
		g->chunk = T_max;
	size_t M = (size_t)B_max * g->chunk, d = m->d, V = m->V, F = m->F;
	g->Ts = (T_max + 7) & ~7;
	size_t cache = (size_t)m->L * B_max * m->KV * g->Ts * m->hd;
	int r = m->lora ? m->lora->r : 0;
	g->M_max = (int)M;
	g->lora_r = r;
	struct { float **p; size_t n; } f[] = {
		{ &g->kcache, cache }, { &g->vcache, cache }, { &g->x, M * d }, { &g->xn, M * d },
		{ &g->rstd, M }, { &g->qkv, M * m->qkvd }, { &g->atty, M * m->qd },
		{ &g->tmp, M * d }, { &g->gu, M * 2 * F }, { &g->hmid, M * F },
		{ &g->lora_u, M * (size_t)r }, { &g->xl, B_max * d }, { &g->logits, B_max * V },
		{ &g->scores, (size_t)B_max * m->H * g->Ts }, { &g->probs, B_max * V },
	};
	size_t total = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		total += f[i].n;
	g->mem = xmalloc(sizeof(float) * total);
	memset(g->mem, 0, sizeof(float) * total);   /* slots past a row's end are read, unused */
	float *p = g->mem;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		*f[i].p = f[i].n ? p : NULL;
		p += f[i].n;
	}
	size_t ni = (size_t)B_max * T_max + 2 * M + B_max + (size_t)B_max * V;
	g->imem = xmalloc(sizeof(int) * ni);
	g->tok = g->imem;
	g->pos = g->tok + (size_t)B_max * T_max;
	g->rows_b = g->pos + M;
	g->pad = g->rows_b + M;
	g->order = g->pad + B_max;
	g->rng = xcalloc(B_max, sizeof(Rng));
	model_rope_reserve(m, T_max);
	return 0;
}

/* ------------------------------------------------------------ attention over the cache
 *
 * Memory-bound: every decode step reads each row's whole K and V cache once per layer. The
 * cache keeps K per (row, kv head) in blocks of 8 slots, (Ts/8, hd, 8): slot s, component i
 * at ((s/8) hd + i) 8 + s%8, so the scores of 8 consecutive slots are one vector accumulated
 * over the hd components in registers (no horizontal sums) reading one contiguous block; V
 * as (Ts, hd) rows, so the weighted sum streams V in order with the output in registers. One
 * item is a (row, kv head) pair and does all the query heads of the group, so a K or V block is
 * brought in from memory once for them. Slots are computed in aligned blocks of 8 (Ts is T_max
 * rounded up to 8, and gen_init zeroes the cache), and only [pad_b, t] enter the softmax. */

typedef struct {
	Generator *g;
	float *kc, *vc;   /* layer's cache */
} AttnCtx;

typedef float v8f __attribute__((vector_size(32)));

/* sc[s] = scale * sum_i q[i] K[s][i] for s in [sa, se) (multiples of 8), K in blocks of 8
 * slots (see attn_items): a block's hd x 8 floats are contiguous, so K streams in order; four
 * partial sums over i keep the additions independent. */
static void att_scores(float *sc, const float *q, const float *Kb, int hd, int sa, int se,
		       float scale)
{
	for (int s = sa; s < se; s += 8) {
		const float *kb = Kb + (size_t)s * hd;
		v8f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
		int i = 0;
		for (; i + 4 <= hd; i += 4) {
			v8f x0, x1, x2, x3;
			memcpy(&x0, kb + 8 * i, sizeof(x0));
			memcpy(&x1, kb + 8 * i + 8, sizeof(x1));
			memcpy(&x2, kb + 8 * i + 16, sizeof(x2));
			memcpy(&x3, kb + 8 * i + 24, sizeof(x3));
			a0 += q[i] * x0;
			a1 += q[i + 1] * x1;
			a2 += q[i + 2] * x2;
			a3 += q[i + 3] * x3;
		}
		for (; i < hd; i++) {
			v8f x0;
			memcpy(&x0, kb + 8 * i, sizeof(x0));
			a0 += q[i] * x0;
		}
		v8f acc = ((a0 + a1) + (a2 + a3)) * scale;
		memcpy(sc + s, &acc, sizeof(acc));
	}
}

/* o (hd) = inv * sum_{s in [s0, s1]} p[s] V[s] (V rows of hd). */
static void att_values(float *o, const float *p, const float *V, int hd, int s0, int s1,
		       float inv)
{
	int c = 0;
	for (; c + 32 <= hd; c += 32) {
		v8f a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
		for (int s = s0; s <= s1; s++) {
			const float *v = V + (size_t)s * hd + c;
			v8f x0, x1, x2, x3;
			memcpy(&x0, v, sizeof(x0));
			memcpy(&x1, v + 8, sizeof(x1));
			memcpy(&x2, v + 16, sizeof(x2));
			memcpy(&x3, v + 24, sizeof(x3));
			a0 += p[s] * x0;
			a1 += p[s] * x1;
			a2 += p[s] * x2;
			a3 += p[s] * x3;
		}
		a0 *= inv;
		a1 *= inv;
		a2 *= inv;
		a3 *= inv;
		memcpy(o + c, &a0, sizeof(a0));
		memcpy(o + c + 8, &a1, sizeof(a1));
		memcpy(o + c + 16, &a2, sizeof(a2));
		memcpy(o + c + 24, &a3, sizeof(a3));
	}
	for (; c + 8 <= hd; c += 8) {
		v8f a = { 0 };
		for (int s = s0; s <= s1; s++) {
			v8f x;
			memcpy(&x, V + (size_t)s * hd + c, sizeof(x));
			a += p[s] * x;
		}
		a *= inv;
		memcpy(o + c, &a, sizeof(a));
	}
	for (; c < hd; c++) {
		float a = 0;
		for (int s = s0; s <= s1; s++)
			a += p[s] * V[(size_t)s * hd + c];
		o[c] = a * inv;
	}
}

/* item = b * KV + kvh: the step's n queries of row b, for the query heads of kv head kvh,
 * against slots [pad_b, t]. */
static void attn_items(void *ctx, long i0, long i1)
{
	AttnCtx *c = ctx;
	Generator *g = c->g;
	const Model *m = g->m;
	int H = m->H, KV = m->KV, hd = m->hd, rep = H / KV, n = g->n, Ts = g->Ts;
	float scale = 1.0f / sqrtf((float)hd);
	for (long it = i0; it < i1; it++) {
		int b = (int)(it / KV), kvh = (int)(it % KV), s0 = g->pad[b];
		const float *Kb = c->kc + (size_t)it * hd * Ts;
		const float *Vc = c->vc + (size_t)it * Ts * hd;
		if (it + 1 < i1) {      /* the next item's slots, while this one computes */
			size_t e = (size_t)(g->t0 + n) * hd;
			for (size_t k = 0; k < e; k += 16) {
				__builtin_prefetch(Kb + (size_t)hd * Ts + k);
				__builtin_prefetch(Vc + (size_t)Ts * hd + k);
			}
		}
		for (int j = 0; j < n; j++) {
			int row = b * n + j, t = g->t0 + j;
			for (int h = kvh * rep; h < (kvh + 1) * rep; h++) {
				const float *q = g->qkv + (size_t)row * m->qkvd + (size_t)h * hd;
				float *o = g->atty + (size_t)row * m->qd + (size_t)h * hd;
				float *sc = g->scores + ((size_t)b * H + h) * Ts;
				if (t < s0) {
					memset(o, 0, sizeof(float) * hd);
					continue;   /* a pad slot: its output is never used */
				}
				att_scores(sc, q, Kb, hd, s0 & ~7, (t + 8) & ~7, scale);
				float mx = sc[s0];
				for (int s = s0 + 1; s <= t; s++)
					if (sc[s] > mx)
						mx = sc[s];
				float sum = vexp_shift_sum(sc + s0, sc + s0, t + 1 - s0, mx);
				att_values(o, sc, Vc, hd, s0, t, 1.0f / sum);
			}
		}
	}
}

/* ------------------------------------------------------------ matmuls split over the pool
 *
 * A decode product is small (B rows), too small for OpenBLAS to split well: its threads spin
 * between the many calls. gen_run holds OpenBLAS to one thread and splits each product's
 * output columns (weight rows) into fixed blocks of GEN_COLS, one cblas_sgemm each, spread over
 * the pool. The blocks do not depend on the thread count, so neither do the bits. */
#define GEN_COLS 128

typedef struct {
	float *out;
	const float *inp, *w, *bias;
	int N, C, OC;
} GemmCtx;

static void gemm_cols(void *ctx, long j0, long j1)
{
	GemmCtx *c = ctx;
	for (long j = j0; j < j1; j++) {
		int o0 = (int)j * GEN_COLS, no = c->OC - o0 < GEN_COLS ? c->OC - o0 : GEN_COLS;
		float *out = c->out + o0;
		if (c->bias)
			for (int r = 0; r < c->N; r++)
				memcpy(out + (size_t)r * c->OC, c->bias + o0, sizeof(float) * no);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c->N, no, c->C, 1, c->inp, c->C,
			    c->w + (size_t)o0 * c->C, c->C, c->bias ? 1 : 0, out, c->OC);
	}
}

/* out (N,OC) = inp (N,C) @ w (OC,C)^T + bias, as matmul_forward. */
static void gen_matmul(float *out, const float *inp, const float *w, const float *bias, int N,
		       int C, int OC)
{
	GemmCtx c = { out, inp, w, bias, N, C, OC };
	threads_for(gemm_cols, &c, (OC + GEN_COLS - 1) / GEN_COLS, 1);
}

/* ------------------------------------------------------------ one forward step */

static void lora_inf(Generator *g, int mod, int l, float *out, int ldo, int col, const float *x,
		     int M)
{
	const Model *m = g->m;
	const Lora *lo = m->lora;
	if (!lo || lo->merged || !(lo->targets & LORA_BIT(mod)))
		return;
	int in = lo->in[mod], r = lo->r;
	lora_forward(out + col, ldo, g->lora_u, x, lo->A[mod] + (size_t)l * r * in,
		     lo->B[mod] + (size_t)l * lo->out[mod] * r, M, in, lo->out[mod], r, lo->scale);
}

/* Runs slots [t0, t0 + n) of B rows; leaves the logits of slot t0 + n - 1 in g->logits. */
static void gen_forward(Generator *g, int B, int t0, int n)
{
	Model *m = g->m;
	const ParamTensors *w = &m->w;
	int M = B * n, d = m->d, qkvd = m->qkvd, F = m->F, hd = m->hd, KV = m->KV;
	float eps = (float)m->cfg.rms_norm_eps;
	g->B = B;
	g->t0 = t0;
	g->n = n;
	int *ids = g->rows_b;   /* the step's token ids, row-major (b, j) */
	for (int b = 0; b < B; b++)
		for (int j = 0; j < n; j++) {
			int t = t0 + j, p = t - g->pad[b];
			ids[b * n + j] = g->tok[(size_t)b * g->T_max + t];
			g->pos[b * n + j] = p > 0 ? p : 0;
		}
	embedding_forward(g->x, ids, w->embed, M, d);
	for (int l = 0; l < m->L; l++) {
		rmsnorm_forward(g->xn, g->rstd, g->x, w->ln1 + (size_t)l * d, M, d, eps);
		gen_matmul(g->qkv, g->xn, w->wqkv + (size_t)l * qkvd * d,
			       w->bqkv ? w->bqkv + (size_t)l * qkvd : NULL, M, d, qkvd);
		lora_inf(g, LORA_Q, l, g->qkv, qkvd, 0, g->xn, M);
		lora_inf(g, LORA_K, l, g->qkv, qkvd, m->qd, g->xn, M);
		lora_inf(g, LORA_V, l, g->qkv, qkvd, m->qd + m->kvd, g->xn, M);
		rope_forward(g->qkv, g->pos, m->rope_cos, m->rope_sin, M, qkvd, m->H + KV, hd);
		size_t lay = (size_t)l * g->B_max * KV * g->Ts * hd;
		for (int b = 0; b < B; b++)
			for (int j = 0; j < n; j++) {
				const float *k = g->qkv + (size_t)(b * n + j) * qkvd + m->qd;
				for (int kh = 0; kh < KV; kh++) {
					size_t at = lay + ((size_t)b * KV + kh) * g->Ts * hd;
					int sl = t0 + j;
					float *kb = g->kcache + at + (size_t)(sl & ~7) * hd + (sl & 7);
					for (int i = 0; i < hd; i++)
						kb[(size_t)i * 8] = k[(size_t)kh * hd + i];
					memcpy(g->vcache + at + (size_t)(t0 + j) * hd,
					       k + m->kvd + (size_t)kh * hd, sizeof(float) * hd);
				}
			}
		AttnCtx ac = { g, g->kcache + lay, g->vcache + lay };
		threads_for(attn_items, &ac, (long)B * KV, 1);
		gen_matmul(g->tmp, g->atty, w->wo + (size_t)l * d * m->qd,
			       w->bo ? w->bo + (size_t)l * d : NULL, M, m->qd, d);
		lora_inf(g, LORA_O, l, g->tmp, d, 0, g->atty, M);
		residual_forward(g->x, g->x, g->tmp, (size_t)M * d);
		rmsnorm_forward(g->xn, g->rstd, g->x, w->ln2 + (size_t)l * d, M, d, eps);
		gen_matmul(g->gu, g->xn, w->wgu + (size_t)l * 2 * F * d, NULL, M, d, 2 * F);
		lora_inf(g, LORA_GATE, l, g->gu, 2 * F, 0, g->xn, M);
		lora_inf(g, LORA_UP, l, g->gu, 2 * F, F, g->xn, M);
		swiglu_forward(g->hmid, g->gu, M, F);
		gen_matmul(g->tmp, g->hmid, w->wdown + (size_t)l * d * F, NULL, M, F, d);
		lora_inf(g, LORA_DOWN, l, g->tmp, d, 0, g->hmid, M);
		residual_forward(g->x, g->x, g->tmp, (size_t)M * d);
	}
	for (int b = 0; b < B; b++)
		memcpy(g->xl + (size_t)b * d, g->x + (size_t)(b * n + n - 1) * d, sizeof(float) * d);
	rmsnorm_forward(g->xn, g->rstd, g->xl, w->norm, B, d, eps);
	gen_matmul(g->logits, g->xn, w->lm_head, NULL, B, d, m->V);
}

/* ------------------------------------------------------------ sampling */

static int cmp_desc(const void *a, const void *b, void *ctx)
{
	const float *v = ctx;
	int i = *(const int *)a, j = *(const int *)b;
	if (v[i] != v[j])
		return v[i] > v[j] ? -1 : 1;
	return i - j;
}

int gen_pick(const float *logits, int V, const GenParams *p, Rng *rng, float *probs, int *order)
{
	if (!(p->temperature > 0)) {
		int best = 0;
		for (int v = 1; v < V; v++)
			if (logits[v] > logits[best])
				best = v;
		return best;
	}
	for (int v = 0; v < V; v++) {
		probs[v] = logits[v] / p->temperature;
		order[v] = v;
	}
	qsort_r(order, V, sizeof(int), cmp_desc, probs);
	/* top-k: keep scores >= the k-th largest (ties at the threshold kept, as HF) */
	int keep = V;
	if (p->top_k > 0 && p->top_k < V) {
		float thr = probs[order[p->top_k - 1]];
		keep = p->top_k;
		while (keep < V && probs[order[keep]] >= thr)
			keep++;
	}
	/* softmax over the kept tokens, in descending order */
	float mx = probs[order[0]];
	double sum = 0;
	for (int i = 0; i < keep; i++)
		sum += exp((double)(probs[order[i]] - mx));
	/* top-p: HF sorts ascending and drops tokens while the cumulative mass <= 1 - top_p;
	 * descending, that keeps the shortest prefix whose mass reaches top_p (at least one) */
	if (p->top_p < 1.0f) {
		double cum = 0;
		int k = 0;
		while (k < keep) {
			cum += exp((double)(probs[order[k]] - mx)) / sum;
			k++;
			if (cum >= p->top_p)
				break;
		}
		keep = k;
		sum = 0;
		for (int i = 0; i < keep; i++)
			sum += exp((double)(probs[order[i]] - mx));
	}
	double u = rng_uniform(rng) * sum, acc = 0;
	for (int i = 0; i < keep; i++) {
		acc += exp((double)(probs[order[i]] - mx));
		if (u < acc)
			return order[i];
	}
	return order[keep - 1];
}

static int is_eos(const ModelConfig *c, int tok)
{
	for (int i = 0; i < c->n_eos; i++)
		if (c->eos_token_ids[i] == tok)
			return 1;
	return 0;
}

int gen_run(Generator *g, const int *const *prompts, const int *lens, int B,
	    const GenParams *p, int *out, int *out_len)
{
	Model *m = g->m;
	if (B < 1 || B > g->B_max)
		return err_set("generate: %d prompts, the generator holds 1..%d", B, g->B_max);
	if (p->max_new < 1)
		return err_set("generate: max_new %d, expected >= 1", p->max_new);
	if (!(p->temperature >= 0) || p->top_k < 0 || !(p->top_p > 0 && p->top_p <= 1))
		return err_set("generate: temperature %g (>= 0), top_k %d (>= 0), top_p %g (in (0, 1])",
			       p->temperature, p->top_k, p->top_p);
	if (m->lora && !m->lora->merged && m->lora->r > g->lora_r)
		return err_set("generate: the adapter (r %d) was attached after gen_init", m->lora->r);
	int Tp = 0;
	for (int b = 0; b < B; b++) {
		if (lens[b] < 1)
			return err_set("generate: prompt %d is empty", b);
		if (lens[b] > Tp)
			Tp = lens[b];
		for (int i = 0; i < lens[b]; i++)
			if (prompts[b][i] < 0 || prompts[b][i] >= m->V)
				return err_set("generate: prompt %d: token %d at %d is outside the "
					       "vocabulary [0, %d)", b, prompts[b][i], i, m->V);
	}
	if (Tp + p->max_new > g->T_max)
		return err_set("generate: longest prompt %d + max_new %d exceeds %d slots", Tp,
			       p->max_new, g->T_max);
	int T = g->T_max;
	for (int b = 0; b < B; b++) {
		g->pad[b] = Tp - lens[b];
		for (int t = 0; t < g->pad[b]; t++)
			g->tok[(size_t)b * T + t] = 0;
		memcpy(g->tok + (size_t)b * T + g->pad[b], prompts[b], sizeof(int) * lens[b]);
		memcpy(out + (size_t)b * T, prompts[b], sizeof(int) * lens[b]);
		out_len[b] = lens[b];
		rng_init(&g->rng[b], p->seed, (uint64_t)b);
	}
	threads_blas_serial(1);     /* the products are split over the pool instead */
	for (int t0 = 0; t0 < Tp; t0 += g->chunk) {
		int n = Tp - t0 < g->chunk ? Tp - t0 : g->chunk;
		gen_forward(g, B, t0, n);
	}
	unsigned char done[B];
	memset(done, 0, sizeof(done));
	int live = B;
	for (int step = 0; step < p->max_new && live > 0; step++) {
		if (step > 0)
			gen_forward(g, B, Tp + step - 1, 1);
		for (int b = 0; b < B; b++) {
			int tok = 0;
			if (!done[b]) {
				tok = gen_pick(g->logits + (size_t)b * m->V, m->V, p, &g->rng[b],
					       g->probs + (size_t)b * m->V,
					       g->order + (size_t)b * m->V);
				out[(size_t)b * T + out_len[b]++] = tok;
				if (!p->ignore_eos && is_eos(&m->cfg, tok)) {
					done[b] = 1;
					live--;
				}
			}
			g->tok[(size_t)b * T + Tp + step] = tok;
		}
	}
	threads_blas_serial(0);
	return 0;
}
