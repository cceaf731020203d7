/* model.c: the transformer's forward and backward over ops.c kernels (see model.h).
 *
 * Layer l, as transformers' LlamaDecoderLayer (Qwen2 / Mistral are the same maths):
 *   h   = x + o_proj(attn(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))),  n1 = rmsnorm1(x)
 *   out = h + down_proj(silu(gate_proj(n2)) * up_proj(n2)),                  n2 = rmsnorm2(h)
 * then logits = lm_head(rmsnorm(x_L)). LoRA branches add s * B A drop(input) into the slice of
 * the fused projection output that the adapted projection owns. Not here: file I/O, sliding
 * window attention (Mistral/Qwen2 windows are larger than any sequence we run), rope scaling. */
#include "model.h"
#include "ops.h"
#include "threads.h"
#include "err.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ parameters */

static void add_tensor(Model *m, int *cap, const char *name, size_t off, int ndim, int64_t s0,
		       int64_t s1)
{
	if (m->n_tensors == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		m->tensors = xrealloc(m->tensors, sizeof(ModelTensor) * *cap);
	}
	ModelTensor *t = &m->tensors[m->n_tensors++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->offset = off;
	t->ndim = ndim;
	t->shape[0] = s0;
	t->shape[1] = ndim > 1 ? s1 : 1;
	t->numel = (size_t)s0 * (ndim > 1 ? (size_t)s1 : 1);
}

/* Sizes of the ParamTensors fields in declaration order. */
static void param_sizes(const Model *m, size_t *sz)
{
	size_t d = m->d, L = m->L;
	int qkv_b = m->cfg.attention_bias || m->cfg.qkv_bias;
	sz[0] = (size_t)m->V * d;
	sz[1] = L * d;
	sz[2] = L * m->qkvd * d;
	sz[3] = qkv_b ? L * m->qkvd : 0;
	sz[4] = L * d * m->qd;
	sz[5] = m->cfg.attention_bias ? L * d : 0;
	sz[6] = L * d;
	sz[7] = L * 2 * m->F * d;
	sz[8] = L * d * m->F;
	sz[9] = d;
	sz[10] = m->cfg.tie_word_embeddings ? 0 : (size_t)m->V * d;
}

/* Points the named tensors into base (params or grads). */
static void param_point(const Model *m, ParamTensors *p, float *base)
{
	size_t sz[11];
	param_sizes(m, sz);
	float **f[11] = { &p->embed, &p->ln1, &p->wqkv, &p->bqkv, &p->wo, &p->bo, &p->ln2,
			  &p->wgu, &p->wdown, &p->norm, &p->lm_head };
	for (int i = 0; i < 11; i++) {
		*f[i] = sz[i] ? base : NULL;
		base += sz[i];
	}
	if (!p->lm_head)
		p->lm_head = p->embed;
}

static void build_tensor_table(Model *m)
{
	int cap = 0;
	char name[MODEL_NAME_MAX];
	const ParamTensors *w = &m->w;
#define OFF(ptr) ((size_t)((ptr) - m->params))
	add_tensor(m, &cap, "model.embed_tokens.weight", OFF(w->embed), 2, m->V, m->d);
	static const char *const qkv_names[3] = { "q_proj", "k_proj", "v_proj" };
	for (int l = 0; l < m->L; l++) {
		snprintf(name, sizeof(name), "model.layers.%d.input_layernorm.weight", l);
		add_tensor(m, &cap, name, OFF(w->ln1) + (size_t)l * m->d, 1, m->d, 0);
		int rows[3] = { m->qd, m->kvd, m->kvd }, r0 = 0;
		for (int j = 0; j < 3; j++) {
			snprintf(name, sizeof(name), "model.layers.%d.self_attn.%s.weight", l,
				 qkv_names[j]);
			add_tensor(m, &cap, name, OFF(w->wqkv) + ((size_t)l * m->qkvd + r0) * m->d, 2,
				   rows[j], m->d);
			if (w->bqkv) {
				snprintf(name, sizeof(name), "model.layers.%d.self_attn.%s.bias", l,
					 qkv_names[j]);
				add_tensor(m, &cap, name, OFF(w->bqkv) + (size_t)l * m->qkvd + r0, 1,
					   rows[j], 0);
			}
			r0 += rows[j];
		}
		snprintf(name, sizeof(name), "model.layers.%d.self_attn.o_proj.weight", l);
		add_tensor(m, &cap, name, OFF(w->wo) + (size_t)l * m->d * m->qd, 2, m->d, m->qd);
		if (w->bo) {
			snprintf(name, sizeof(name), "model.layers.%d.self_attn.o_proj.bias", l);
			add_tensor(m, &cap, name, OFF(w->bo) + (size_t)l * m->d, 1, m->d, 0);
		}
		snprintf(name, sizeof(name), "model.layers.%d.post_attention_layernorm.weight", l);
		add_tensor(m, &cap, name, OFF(w->ln2) + (size_t)l * m->d, 1, m->d, 0);
		size_t gu = OFF(w->wgu) + (size_t)l * 2 * m->F * m->d;
		snprintf(name, sizeof(name), "model.layers.%d.mlp.gate_proj.weight", l);
		add_tensor(m, &cap, name, gu, 2, m->F, m->d);
		snprintf(name, sizeof(name), "model.layers.%d.mlp.up_proj.weight", l);
		add_tensor(m, &cap, name, gu + (size_t)m->F * m->d, 2, m->F, m->d);
		snprintf(name, sizeof(name), "model.layers.%d.mlp.down_proj.weight", l);
		add_tensor(m, &cap, name, OFF(w->wdown) + (size_t)l * m->d * m->F, 2, m->d, m->F);
	}
	add_tensor(m, &cap, "model.norm.weight", OFF(w->norm), 1, m->d, 0);
	if (!m->cfg.tie_word_embeddings)
		add_tensor(m, &cap, "lm_head.weight", OFF(w->lm_head), 2, m->V, m->d);
#undef OFF
}

int model_init(Model *m, const ModelConfig *cfg)
{
	memset(m, 0, sizeof(*m));
	const ModelConfig *c = cfg;
	if (c->hidden_size <= 0 || c->intermediate_size <= 0 || c->num_hidden_layers <= 0 ||
	    c->num_attention_heads <= 0 || c->num_key_value_heads <= 0 || c->head_dim <= 0 ||
	    c->vocab_size <= 0)
		return err_set("model: config sizes must be positive (hidden %d, ffn %d, layers %d, "
			       "heads %d, kv heads %d, head_dim %d, vocab %d)", c->hidden_size,
			       c->intermediate_size, c->num_hidden_layers, c->num_attention_heads,
			       c->num_key_value_heads, c->head_dim, c->vocab_size);
	if (c->num_attention_heads % c->num_key_value_heads)
		return err_set("model: num_key_value_heads %d does not divide num_attention_heads %d",
			       c->num_key_value_heads, c->num_attention_heads);
	if (c->head_dim % 2)
		return err_set("model: head_dim %d is odd (RoPE rotates halves)", c->head_dim);
	if (!(c->rms_norm_eps > 0) || !(c->rope_theta > 0))
		return err_set("model: rms_norm_eps and rope_theta must be positive");
	m->cfg = *cfg;
	m->d = c->hidden_size;
	m->L = c->num_hidden_layers;
	m->H = c->num_attention_heads;
	m->KV = c->num_key_value_heads;
	m->hd = c->head_dim;
	m->qd = m->H * m->hd;
	m->kvd = m->KV * m->hd;
	m->qkvd = m->qd + 2 * m->kvd;
	m->F = c->intermediate_size;
	m->V = c->vocab_size;
	size_t sz[11];
	param_sizes(m, sz);
	for (int i = 0; i < 11; i++)
		m->n_params += sz[i];
	m->params = xcalloc(m->n_params, sizeof(float));
	param_point(m, &m->w, m->params);
	build_tensor_table(m);
	rng_init(&m->rng, 0, 0x10aa);
	m->loss_scale = 1.0f;
	return 0;
}

void model_free(Model *m)
{
	if (!m)
		return;
	free(m->rope_sin);
	free(m->rope_cos);
	free(m->ids);
	free(m->acts);
	free(m->tensors);
	free(m->grads);
	free(m->params);
	memset(m, 0, sizeof(*m));
}

const ModelTensor *model_find(const Model *m, const char *name)
{
	for (int i = 0; i < m->n_tensors; i++)
		if (!strcmp(m->tensors[i].name, name))
			return &m->tensors[i];
	return NULL;
}

void model_init_weights(Model *m, uint64_t seed, float std)
{
	for (int i = 0; i < m->n_tensors; i++) {
		const ModelTensor *t = &m->tensors[i];
		float *p = m->params + t->offset;
		size_t len = strlen(t->name);
		if (strstr(t->name, "norm.weight")) {
			for (size_t k = 0; k < t->numel; k++)
				p[k] = 1.0f;
		} else if (len > 5 && !strcmp(t->name + len - 5, ".bias")) {
			memset(p, 0, sizeof(float) * t->numel);
		} else {
			Rng r;
			rng_init(&r, seed, (uint64_t)i);
			rng_fill_normal(&r, p, t->numel, 0.0f, std);
		}
	}
}

void model_enable_grads(Model *m)
{
	if (m->grads)
		return;
	m->grads = xcalloc(m->n_params, sizeof(float));
	param_point(m, &m->g, m->grads);
}

void model_zero_grad(Model *m)
{
	if (m->grads)
		memset(m->grads, 0, sizeof(float) * m->n_params);
	if (m->lora)
		lora_zero_grad(m->lora);
}

/* ------------------------------------------------------------ LoRA plumbing */

/* Where projection mod of layer l lives: its weight block (out, in) and, in the fused forward
 * output, the column offset and row stride. */
static float *proj_weight(const Model *m, int mod, int l)
{
	size_t d = m->d;
	switch (mod) {
	case LORA_Q: return m->w.wqkv + (size_t)l * m->qkvd * d;
	case LORA_K: return m->w.wqkv + ((size_t)l * m->qkvd + m->qd) * d;
	case LORA_V: return m->w.wqkv + ((size_t)l * m->qkvd + m->qd + m->kvd) * d;
	case LORA_O: return m->w.wo + (size_t)l * d * m->qd;
	case LORA_GATE: return m->w.wgu + (size_t)l * 2 * m->F * d;
	case LORA_UP: return m->w.wgu + ((size_t)l * 2 * m->F + m->F) * d;
	default: return m->w.wdown + (size_t)l * d * m->F;
	}
}

static int proj_col(const Model *m, int mod)
{
	switch (mod) {
	case LORA_K: return m->qd;
	case LORA_V: return m->qd + m->kvd;
	case LORA_UP: return m->F;
	default: return 0;
	}
}

static int proj_ld(const Model *m, int mod)
{
	switch (mod) {
	case LORA_Q: case LORA_K: case LORA_V: return m->qkvd;
	case LORA_GATE: case LORA_UP: return 2 * m->F;
	default: return m->d;
	}
}

void model_set_lora(Model *m, Lora *lo)
{
	m->lora = lo;
}

static void lora_merge_sign(Model *m, Lora *lo, float sign)
{
	for (int mod = 0; mod < LORA_NMOD; mod++) {
		if (!(lo->targets & LORA_BIT(mod)))
			continue;
		int in = lo->in[mod], out = lo->out[mod], r = lo->r;
		for (int l = 0; l < m->L; l++)
			/* W (out, in) += s * B (out, r) @ A (r, in) */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, in, r,
				    sign * lo->scale, lo->B[mod] + (size_t)l * out * r, r,
				    lo->A[mod] + (size_t)l * r * in, in, 1.0f,
				    proj_weight(m, mod, l), in);
	}
}

void model_lora_merge(Model *m, Lora *lo)
{
	if (lo->merged)
		return;
	lora_merge_sign(m, lo, 1.0f);
	lo->merged = 1;
}

void model_lora_unmerge(Model *m, Lora *lo)
{
	if (!lo->merged)
		return;
	lora_merge_sign(m, lo, -1.0f);
	lo->merged = 0;
}

static int lora_active(const Model *m, int mod)
{
	return m->lora && !m->lora->merged && (m->lora->targets & LORA_BIT(mod));
}

static int lora_dropping(const Model *m)
{
	return m->training && m->lora && m->lora->dropout > 0;
}

/* ------------------------------------------------------------ activations */

void model_rope_reserve(Model *m, int P)
{
	if (P <= m->rope_len)
		return;
	int half = m->hd / 2;
	m->rope_cos = xrealloc(m->rope_cos, sizeof(float) * (size_t)P * half);
	m->rope_sin = xrealloc(m->rope_sin, sizeof(float) * (size_t)P * half);
	rope_table(m->rope_cos, m->rope_sin, P, m->hd, m->cfg.rope_theta);
	m->rope_len = P;
}

int model_reserve(Model *m, int B, int T)
{
	if (B < 1 || T < 1)
		return err_set("model: batch of %d x %d tokens", B, T);
	if (m->cfg.max_position_embeddings > 0 && T > m->cfg.max_position_embeddings)
		return err_set("model: sequence of %d tokens exceeds max_position_embeddings %d", T,
			       m->cfg.max_position_embeddings);
	if (m->cfg.sliding_window > 0 && T > m->cfg.sliding_window)
		return err_set("model: sequence of %d tokens exceeds the sliding_window %d (sliding "
			       "window attention is not implemented)", T, m->cfg.sliding_window);
	int r = m->lora ? m->lora->r : 0;
	int drop = m->lora && m->lora->dropout > 0;
	unsigned targets = m->lora ? m->lora->targets : 0;
	if (m->acts && B <= m->B_max && T <= m->T_max && r <= m->acts_r &&
	    (targets & ~m->acts_lora) == 0 && (!drop || m->acts_drop))
		return 0;
	targets |= m->acts_lora;
	drop |= m->acts_drop;
	if (B < m->B_max)
		B = m->B_max;
	if (T < m->T_max)
		T = m->T_max;
	if (r < m->acts_r)
		r = m->acts_r;
	size_t N = (size_t)B * T, L = m->L, d = m->d, F = m->F;
	size_t att = (size_t)B * m->H * T * T;
	int ins[LORA_NMOD] = { m->d, m->d, m->d, m->qd, m->d, m->d, m->F };
	size_t max_in = F > (size_t)m->qd ? F : (size_t)m->qd;
	if (max_in < d)
		max_in = d;
	ActTensors *a = &m->a;
	/* sizes in the order of the fields of ActTensors */
	struct { float **p; size_t n; } f[] = {
		{ &a->resid, (L + 1) * N * d }, { &a->resid_mid, L * N * d },
		{ &a->ln1, L * N * d }, { &a->ln1_rstd, L * N }, { &a->qkv, L * N * m->qkvd },
		{ &a->att, L * att }, { &a->atty, L * N * m->qd }, { &a->ln2, L * N * d },
		{ &a->ln2_rstd, L * N }, { &a->gu, L * N * 2 * F }, { &a->hmid, L * N * F },
		{ &a->lnf, N * d }, { &a->lnf_rstd, N }, { &a->logits, N * m->V },
		{ &a->losses, N },
		{ &a->lora_u[0], 0 }, { &a->lora_u[1], 0 }, { &a->lora_u[2], 0 },
		{ &a->lora_u[3], 0 }, { &a->lora_u[4], 0 }, { &a->lora_u[5], 0 },
		{ &a->lora_u[6], 0 },
		{ &a->lora_x[0], 0 }, { &a->lora_x[1], 0 }, { &a->lora_x[2], 0 },
		{ &a->lora_x[3], 0 }, { &a->lora_x[4], 0 }, { &a->lora_x[5], 0 },
		{ &a->lora_x[6], 0 },
		{ &a->lora_mask[0], 0 }, { &a->lora_mask[1], 0 }, { &a->lora_mask[2], 0 },
		{ &a->lora_mask[3], 0 }, { &a->lora_mask[4], 0 }, { &a->lora_mask[5], 0 },
		{ &a->lora_mask[6], 0 },
		{ &a->dres, N * d }, { &a->dln, N * d }, { &a->dqkv, N * m->qkvd },
		{ &a->datty, N * m->qd }, { &a->datt, att }, { &a->dgu, N * 2 * F },
		{ &a->dhmid, N * F }, { &a->dlora_u, N * r }, { &a->dlora_x, drop ? N * max_in : 0 },
	};
	int nf = (int)(sizeof(f) / sizeof(f[0]));
	for (int mod = 0; mod < LORA_NMOD; mod++) {
		if (!(targets & LORA_BIT(mod)))
			continue;
		f[15 + mod].n = L * N * r;
		if (drop) {
			f[22 + mod].n = L * N * ins[mod];
			f[29 + mod].n = L * N * ins[mod];
		}
	}
	size_t total = 0;
	for (int i = 0; i < nf; i++)
		total += f[i].n;
	free(m->acts);
	m->acts = xmalloc(sizeof(float) * (total ? total : 1));
	float *p = m->acts;
	for (int i = 0; i < nf; i++) {
		*f[i].p = f[i].n ? p : NULL;
		p += f[i].n;
	}
	m->n_acts = total;
	free(m->ids);
	m->ids = xmalloc(sizeof(int) * 3 * N);
	m->targets = m->ids + N;
	m->pos = m->ids + 2 * N;
	m->B_max = B;
	m->T_max = T;
	m->acts_r = r;
	m->acts_lora = targets;
	m->acts_drop = drop;
	model_rope_reserve(m, T);
	return 0;
}

/* ------------------------------------------------------------ forward */

/* The LoRA branch of projection mod at layer l: out slice += s B A drop(x). */
static void lora_fwd(Model *m, int mod, int l, float *out, const float *x, int N)
{
	Lora *lo = m->lora;
	int in = lo->in[mod], r = lo->r;
	const float *xin = x;
	if (lora_dropping(m)) {
		float *xd = m->a.lora_x[mod] + (size_t)l * N * in;
		/* one draw from the model's stream seeds this mask; rows draw from sub-streams */
		dropout_forward(xd, m->a.lora_mask[mod] + (size_t)l * N * in, x, N, in, lo->dropout,
				rng_u64(&m->rng));
		xin = xd;
	}
	lora_forward(out + proj_col(m, mod), proj_ld(m, mod), m->a.lora_u[mod] + (size_t)l * N * r,
		     xin, lo->A[mod] + (size_t)l * r * in, lo->B[mod] + (size_t)l * lo->out[mod] * r,
		     N, in, lo->out[mod], r, lo->scale);
}

float model_forward(Model *m, const int *ids, const int *targets, int B, int T)
{
	for (int n = 0; n < B * T; n++)
		if (ids[n] < 0 || ids[n] >= m->V) {
			err_set("model: token id %d at row %d, position %d is outside the vocabulary "
				"[0, %d)", ids[n], n / T, n % T, m->V);
			m->n_targets = 0;
			return NAN;
		}
	if (model_reserve(m, B, T) < 0) {
		m->n_targets = 0;
		return NAN;
	}
	int N = B * T, d = m->d, L = m->L, qkvd = m->qkvd, F = m->F;
	const ParamTensors *w = &m->w;
	ActTensors *a = &m->a;
	m->B = B;
	m->T = T;
	memcpy(m->ids, ids, sizeof(int) * N);
	for (int n = 0; n < N; n++)
		m->pos[n] = n % T;
	float eps = (float)m->cfg.rms_norm_eps;

	embedding_forward(a->resid, ids, w->embed, N, d);
	for (int l = 0; l < L; l++) {
		float *x = a->resid + (size_t)l * N * d;
		float *ln1 = a->ln1 + (size_t)l * N * d, *qkv = a->qkv + (size_t)l * N * qkvd;
		float *atty = a->atty + (size_t)l * N * m->qd, *mid = a->resid_mid + (size_t)l * N * d;
		float *ln2 = a->ln2 + (size_t)l * N * d, *gu = a->gu + (size_t)l * N * 2 * F;
		float *hmid = a->hmid + (size_t)l * N * F, *out = a->resid + (size_t)(l + 1) * N * d;

		rmsnorm_forward(ln1, a->ln1_rstd + (size_t)l * N, x, w->ln1 + (size_t)l * d, N, d, eps);
		matmul_forward(qkv, ln1, w->wqkv + (size_t)l * qkvd * d,
			       w->bqkv ? w->bqkv + (size_t)l * qkvd : NULL, N, d, qkvd);
		for (int mod = LORA_Q; mod <= LORA_V; mod++)
			if (lora_active(m, mod))
				lora_fwd(m, mod, l, qkv, ln1, N);
		rope_forward(qkv, m->pos, m->rope_cos, m->rope_sin, N, qkvd, m->H + m->KV, m->hd);
		attention_forward(atty, a->att + (size_t)l * B * m->H * T * T, qkv, B, T, m->H, m->KV,
				  m->hd);
		matmul_forward(mid, atty, w->wo + (size_t)l * d * m->qd,
			       w->bo ? w->bo + (size_t)l * d : NULL, N, m->qd, d);
		if (lora_active(m, LORA_O))
			lora_fwd(m, LORA_O, l, mid, atty, N);
		residual_forward(mid, mid, x, (size_t)N * d);

		rmsnorm_forward(ln2, a->ln2_rstd + (size_t)l * N, mid, w->ln2 + (size_t)l * d, N, d, eps);
		matmul_forward(gu, ln2, w->wgu + (size_t)l * 2 * F * d, NULL, N, d, 2 * F);
		for (int mod = LORA_GATE; mod <= LORA_UP; mod++)
			if (lora_active(m, mod))
				lora_fwd(m, mod, l, gu, ln2, N);
		swiglu_forward(hmid, gu, N, F);
		matmul_forward(out, hmid, w->wdown + (size_t)l * d * F, NULL, N, F, d);
		if (lora_active(m, LORA_DOWN))
			lora_fwd(m, LORA_DOWN, l, out, hmid, N);
		residual_forward(out, out, mid, (size_t)N * d);
	}
	rmsnorm_forward(a->lnf, a->lnf_rstd, a->resid + (size_t)L * N * d, w->norm, N, d, eps);
	matmul_forward(a->logits, a->lnf, w->lm_head, NULL, N, d, m->V);

	m->n_targets = 0;
	if (!targets) {
		for (int n = 0; n < N; n++)
			m->targets[n] = -1;
		return 0;
	}
	for (int n = 0; n < N; n++) {
		m->targets[n] = targets[n] < m->V ? targets[n] : -1;
		m->n_targets += m->targets[n] >= 0;
	}
	crossentropy_forward(a->losses, a->logits, m->targets, N, m->V);
	double sum = 0;
	for (int n = 0; n < N; n++)
		sum += a->losses[n];
	return m->n_targets ? (float)(sum / m->n_targets) : 0.0f;
}

/* ------------------------------------------------------------ backward */

#define GRAD(field, off) (m->g.field ? m->g.field + (off) : NULL)

/* Backward of the LoRA branch of projection mod at layer l; dout is the fused output gradient,
 * dx the gradient of the branch input (accumulated). */
static void lora_bwd(Model *m, int mod, int l, const float *dout, float *dx, const float *x,
		     int N)
{
	Lora *lo = m->lora;
	ActTensors *a = &m->a;
	int in = lo->in[mod], r = lo->r, out = lo->out[mod];
	const float *xin = x;
	float *dxin = dx;
	int drop = lora_dropping(m);
	if (drop) {
		xin = a->lora_x[mod] + (size_t)l * N * in;
		dxin = dx ? a->dlora_x : NULL;
		if (dxin)
			memset(dxin, 0, sizeof(float) * (size_t)N * in);
	}
	lora_backward(dxin, lo->dA[mod] + (size_t)l * r * in, lo->dB[mod] + (size_t)l * out * r,
		      a->dlora_u, dout + proj_col(m, mod), proj_ld(m, mod), xin,
		      a->lora_u[mod] + (size_t)l * N * r, lo->A[mod] + (size_t)l * r * in,
		      lo->B[mod] + (size_t)l * out * r, N, in, out, r, lo->scale);
	if (drop && dx)
		dropout_backward(dx, dxin, a->lora_mask[mod] + (size_t)l * N * in, (size_t)N * in);
}

void model_backward(Model *m)
{
	int B = m->B, T = m->T, N = B * T, d = m->d, L = m->L, qkvd = m->qkvd, F = m->F;
	const ParamTensors *w = &m->w;
	ActTensors *a = &m->a;
	if (m->n_targets == 0)
		return;
	int any_lora = m->lora && !m->lora->merged;

	/* dlogits in place of the logits */
	crossentropy_backward(a->logits, a->logits, m->targets,
			      m->loss_scale / (float)m->n_targets, N, m->V);
	matmul_backward_set(a->dln, GRAD(lm_head, 0), NULL, a->logits, a->lnf, w->lm_head, N, d, m->V);
	memset(a->dres, 0, sizeof(float) * N * d);
	rmsnorm_backward(a->dres, GRAD(norm, 0), a->dln, a->resid + (size_t)L * N * d, w->norm,
			 a->lnf_rstd, N, d);

	for (int l = L - 1; l >= 0; l--) {
		float *x = a->resid + (size_t)l * N * d;
		float *ln1 = a->ln1 + (size_t)l * N * d, *qkv = a->qkv + (size_t)l * N * qkvd;
		float *atty = a->atty + (size_t)l * N * m->qd, *mid = a->resid_mid + (size_t)l * N * d;
		float *ln2 = a->ln2 + (size_t)l * N * d, *gu = a->gu + (size_t)l * N * 2 * F;
		float *hmid = a->hmid + (size_t)l * N * F;

		/* MLP: out = mid + down(hmid); dres is d out */
		matmul_backward_set(a->dhmid, GRAD(wdown, (size_t)l * d * F), NULL, a->dres, hmid,
				w->wdown + (size_t)l * d * F, N, F, d);
		if (any_lora && lora_active(m, LORA_DOWN))
			lora_bwd(m, LORA_DOWN, l, a->dres, a->dhmid, hmid, N);
		swiglu_backward_set(a->dgu, a->dhmid, gu, N, F);
		matmul_backward_set(a->dln, GRAD(wgu, (size_t)l * 2 * F * d), NULL, a->dgu, ln2,
				w->wgu + (size_t)l * 2 * F * d, N, d, 2 * F);
		for (int mod = LORA_GATE; mod <= LORA_UP; mod++)
			if (any_lora && lora_active(m, mod))
				lora_bwd(m, mod, l, a->dgu, a->dln, ln2, N);
		rmsnorm_backward(a->dres, GRAD(ln2, (size_t)l * d), a->dln, mid,
				 w->ln2 + (size_t)l * d, a->ln2_rstd + (size_t)l * N, N, d);

		/* attention: mid = x + o(atty); dres is now d mid */
		matmul_backward_set(a->datty, GRAD(wo, (size_t)l * d * m->qd), GRAD(bo, (size_t)l * d),
				a->dres, atty, w->wo + (size_t)l * d * m->qd, N, m->qd, d);
		if (any_lora && lora_active(m, LORA_O))
			lora_bwd(m, LORA_O, l, a->dres, a->datty, atty, N);
		attention_backward_set(a->dqkv, a->datt, a->datty, qkv, a->att + (size_t)l * B * m->H * T * T,
				   B, T, m->H, m->KV, m->hd);
		rope_backward(a->dqkv, m->pos, m->rope_cos, m->rope_sin, N, qkvd, m->H + m->KV, m->hd);
		/* the gradient of the input of layer 0 is only needed for the embedding */
		int need_dx = l > 0 || m->g.embed;
		if (!need_dx)
			memset(a->dln, 0, sizeof(float) * N * d);  /* ln1's weight grad reads it */
		matmul_backward_set(need_dx ? a->dln : NULL, GRAD(wqkv, (size_t)l * qkvd * d),
				GRAD(bqkv, (size_t)l * qkvd), a->dqkv, ln1,
				w->wqkv + (size_t)l * qkvd * d, N, d, qkvd);
		for (int mod = LORA_Q; mod <= LORA_V; mod++)
			if (any_lora && lora_active(m, mod))
				lora_bwd(m, mod, l, a->dqkv, need_dx ? a->dln : NULL, ln1, N);
		if (need_dx || m->g.ln1)
			rmsnorm_backward(need_dx ? a->dres : NULL, GRAD(ln1, (size_t)l * d), a->dln, x,
					 w->ln1 + (size_t)l * d, a->ln1_rstd + (size_t)l * N, N, d);
	}
	if (m->g.embed)
		embedding_backward(m->g.embed, a->dres, m->ids, N, d);
}

int model_targets_shift(int *targets, const int *ids, const unsigned char *mask, int B, int T)
{
	int kept = 0;
	for (int b = 0; b < B; b++)
		for (int t = 0; t < T; t++) {
			size_t n = (size_t)b * T + t;
			int ok = t + 1 < T && (!mask || mask[n + 1]);
			targets[n] = ok ? ids[n + 1] : -1;
			kept += ok;
		}
	return kept;
}
