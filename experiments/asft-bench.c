/* asft-bench: our side of the engine benchmark (`make bench`, experiments/mk/bench-engine.sh).
 *
 *   asft-bench --mode train|lora|gen|sgemm [model and batch flags]    one measurement, JSON line
 *   asft-bench --mode report --in RUNS.jsonl --out ENGINE.h5          the table and the HDF5 file
 *   asft-bench --mode profile|profile-lora [--cpu-clock]               where a step's time goes
 *
 * A measurement builds a random model of the given size with the engine (or of the architecture
 * in --model DIR/config.json; the weights are random either way: speed does not depend on them)
 * and times, after --warmup untimed repetitions, --steps repetitions of:
 *   train  one full fine-tuning step: zero grads, forward with loss, backward, AdamW on every
 *          parameter (B sequences of T random tokens, next-token targets);
 *   lora   the same with a LoRA adapter (--lora-r, --lora-targets; base frozen), AdamW on the
 *          adapter only;
 *   gen    batched greedy generation with the KV cache: --prompts prompts of --prompt-len random
 *          ids, --max-new new tokens each (EOS ignored, so every row makes all of them); the time
 *          includes the prefill, tokens/s counts the new tokens;
 *   sgemm  cblas_sgemm C = A B on --sgemm-n square float matrices (the machine's matmul peak).
 * It prints one JSON line: {"side":"asft","label":..,"what":..,"times":[seconds per step],
 * "cpu":[CPU seconds of all threads per step],"tokens":tokens per step,"flops":FLOPs per step,
 * settings...}. bench_engine.py prints the
 * same lines for PyTorch. The report mode reads all lines (several rounds of both sides, which
 * the script interleaves), takes the median time of every (label, what, side), prints the table
 * of tokens/s, ratios and shares of the sgemm peak, and writes one scalar dataset per number.
 *
 * FLOPs of a training step (the usual model-FLOPs count, PaLM appendix B): with P the matrix
 * parameters (q,k,v,o,gate,up,down of every layer and lm_head; not the embedding lookup, norms
 * or biases) and N = B*T tokens, full fine-tuning does 6 P N + 12 L T qd N (the attention
 * products QK^T and PV over the full T x T square, forward 4 and backward 8 L T qd per token,
 * which is what the engine computes). A LoRA step does no weight gradient for the frozen base,
 * so it counts 4 P N (forward and input gradients) + the same attention term + the adapter's
 * 6 r (in + out) N per adapted matrix; the input gradient of layer 0's q/k/v (not needed
 * without an embedding gradient, and skipped by the engine) is subtracted. Generation FLOPs are
 * not counted. The tool does not read OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE; the script unsets
 * them before running either side. */
#include "adamw.h"
#include "cli.h"
#include "config.h"
#include "generate.h"
#include "h5store.h"
#include "hfconfig.h"
#include "lora.h"
#include "model.h"
#include "ops.h"
#include "rng.h"
#include "threads.h"
#include "util.h"

#include <cblas.h>
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"usage: asft-bench --mode train|lora|gen|sgemm [options]\n"
	"       asft-bench --mode report --in RUNS.jsonl [--out ENGINE.h5]\n"
	"       asft-bench --mode profile|profile-lora [--cpu-clock] [options]\n"
	"\n"
	"Times the engine on a random model (training step full and LoRA, batched greedy generation\n"
	"with the KV cache) and the machine's cblas_sgemm, printing one JSON line per measurement;\n"
	"--mode report turns the lines of both sides (ours and experiments/mk/bench_engine.py) into\n"
	"the table of ratios and an HDF5 file. Run by experiments/mk/bench-engine.sh (make bench).";

typedef struct {
	const char *mode, *label, *model_dir, *lora_targets, *in, *out, *note;
	long hidden, layers, heads, kv_heads, ffn, vocab;
	int cpu_clock;
	long blas_threads;
	long batch, seq, warmup, steps, lora_r, prompts, prompt_len, max_new, sgemm_n, threads, seed;
	double lora_alpha, lr;
} Opts;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* median: of n values (sorted in place). */
static double median(double *v, int n)
{
	if (n <= 0)
		return NAN;
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void bench_config(ModelConfig *cfg, const Opts *o)
{
	if (o->model_dir) {
		if (config_load_dir(cfg, o->model_dir) < 0)
			die_err();
		return;
	}
	config_default(cfg);
	cfg->hidden_size = (int)o->hidden;
	cfg->num_hidden_layers = (int)o->layers;
	cfg->num_attention_heads = (int)o->heads;
	cfg->num_key_value_heads = (int)(o->kv_heads > 0 ? o->kv_heads : o->heads);
	cfg->head_dim = (int)(o->hidden / o->heads);
	cfg->intermediate_size = (int)o->ffn;
	cfg->vocab_size = (int)o->vocab;
	cfg->max_position_embeddings = 4096;
	char why[256];
	if (config_validate(cfg, why, sizeof(why)) < 0)
		die("model size: %s", why);
}

/* matrix_params: P, the parameters that take part in matmuls (see the file comment). */
static double matrix_params(const Model *m)
{
	double per_layer = (double)m->qkvd * m->d + (double)m->d * m->qd + 3.0 * m->F * m->d;
	return m->L * per_layer + (double)m->V * m->d;
}

static double attention_flops(const Model *m, int B, int T)
{
	return 12.0 * m->L * (double)T * m->qd * (double)B * T;
}

static double lora_flops(const Model *m, const Lora *lo, int B, int T)
{
	double N = (double)B * T, f = 4 * matrix_params(m) * N + attention_flops(m, B, T);
	f -= 2.0 * m->qkvd * m->d * N;  /* layer 0 needs no input gradient */
	for (int mod = 0; mod < LORA_NMOD; mod++)
		if (lo->targets & LORA_BIT(mod))
			f += 6.0 * lo->r * (lo->in[mod] + lo->out[mod]) * N * m->L;
	return f;
}

static void print_settings(const Opts *o, const Model *m)
{
	printf("\"label\":\"%s\",\"threads\":%ld,\"hidden\":%d,\"layers\":%d,\"heads\":%d,"
	       "\"kv_heads\":%d,\"ffn\":%d,\"vocab\":%d,\"warmup\":%ld",
	       o->label, o->threads, m->d, m->L, m->H, m->KV, m->F, m->V, o->warmup);
}

/* cpu_now: seconds of CPU time of the whole process (all threads): a step whose CPU time is
 * well below threads x wall time spent it waiting (for a core, or threads for each other). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static void print_cpu(const double *t, int n)
{
	printf(",\"cpu\":[");
	for (int i = 0; i < n; i++)
		printf("%s%.6f", i ? "," : "", t[i]);
	printf("]");
}

static void print_times(const double *t, int n)
{
	printf("\"times\":[");
	for (int i = 0; i < n; i++)
		printf("%s%.6f", i ? "," : "", t[i]);
	printf("]");
}

static void random_ids(int *ids, size_t n, int V, uint64_t seed, uint64_t stream)
{
	Rng r;
	rng_init(&r, seed, stream);
	for (size_t i = 0; i < n; i++)
		ids[i] = (int)rng_below(&r, (uint32_t)V);
}

/* TrainBench: what --mode train/lora and profile/profile-lora both step: a model initialised
 * from the seed (with a LoRA adapter when use_lora), its AdamW and one random batch of ids.
 * When the preset's context is shorter than --seq, T shrinks and B grows so a step keeps its
 * B*T tokens. Stays where it is once set up (m points at lo). */
typedef struct {
	Model m;
	Lora lo;
	float *params, *grads;   /* the trainable tensors: lo's with LoRA, else m's */
	size_t n;                /* their count */
	int B, T;
	AdamW opt;
	int *ids, *targets;      /* (B,T) */
} TrainBench;

static void train_bench_init(TrainBench *tb, const Opts *o, int use_lora)
{
	ModelConfig cfg;
	bench_config(&cfg, o);
	memset(tb, 0, sizeof(*tb));
	Model *m = &tb->m;
	if (model_init(m, &cfg) < 0)
		die_err();
	model_init_weights(m, (uint64_t)o->seed, 0.02f);
	int B = (int)o->batch, T = (int)o->seq;
	if (cfg.max_position_embeddings > 0 && T > cfg.max_position_embeddings) {
		T = cfg.max_position_embeddings;
		B = (int)((o->batch * o->seq + T - 1) / T);
	}
	if (use_lora) {
		unsigned targets = lora_targets_parse(o->lora_targets);
		if (!targets)
			die_err();
		if (lora_init(&tb->lo, &cfg, (int)o->lora_r, (float)o->lora_alpha, 0.0f, targets,
			      (uint64_t)o->seed + 1) < 0)
			die_err();
		model_set_lora(m, &tb->lo);
		tb->params = tb->lo.params, tb->grads = tb->lo.grads, tb->n = tb->lo.n_params;
	} else {
		model_enable_grads(m);
		tb->params = m->params, tb->grads = m->grads, tb->n = m->n_params;
	}
	if (model_reserve(m, B, T) < 0)
		die_err();
	adamw_init(&tb->opt, tb->n, 0.9f, 0.999f, 1e-8f, 0.01f);
	tb->ids = xmalloc(sizeof(int) * B * T);
	tb->targets = xmalloc(sizeof(int) * B * T);
	random_ids(tb->ids, (size_t)B * T, m->V, (uint64_t)o->seed, 7);
	model_targets_shift(tb->targets, tb->ids, NULL, B, T);
	tb->B = B;
	tb->T = T;
}

static void train_bench_free(TrainBench *tb)
{
	free(tb->targets);
	free(tb->ids);
	adamw_free(&tb->opt);
	model_set_lora(&tb->m, NULL);
	lora_free(&tb->lo);
	model_free(&tb->m);
}

static void bench_train(const Opts *o, int use_lora)
{
	TrainBench tb;
	train_bench_init(&tb, o, use_lora);
	int B = tb.B, T = tb.T;
	double flops = use_lora ? lora_flops(&tb.m, &tb.lo, B, T)
				: 6 * matrix_params(&tb.m) * B * T + attention_flops(&tb.m, B, T);
	tb.m.training = 1;
	int total = (int)(o->warmup + o->steps);
	double *times = xmalloc(sizeof(double) * 2 * (o->steps + 1)), *cpu = times + o->steps + 1;
	float loss = 0;
	for (int s = 0; s < total; s++) {
		double t0 = time_now(), c0 = cpu_now();
		model_zero_grad(&tb.m);
		loss = model_forward(&tb.m, tb.ids, tb.targets, B, T);
		model_backward(&tb.m);
		adamw_step(&tb.opt, tb.params, tb.grads, (float)o->lr);
		double dt = time_now() - t0, dc = cpu_now() - c0;
		if (s >= o->warmup) {
			times[s - o->warmup] = dt;
			cpu[s - o->warmup] = dc;
		}
	}
	printf("{\"side\":\"asft\",\"what\":\"%s\",", use_lora ? "lora" : "train");
	print_settings(o, &tb.m);
	printf(",\"batch\":%d,\"seq\":%d,\"tokens\":%d,\"flops\":%.6g,\"params\":%zu,"
	       "\"trainable\":%zu,\"last_loss\":%.6f",
	       B, T, B * T, flops, tb.m.n_params, tb.n, loss);
	if (use_lora)
		printf(",\"lora_r\":%d,\"lora_alpha\":%g,\"lora_targets\":\"%s\"", tb.lo.r,
		       tb.lo.alpha, o->lora_targets);
	printf(",");
	print_times(times, (int)o->steps);
	print_cpu(cpu, (int)o->steps);
	printf("}\n");
	free(times);
	train_bench_free(&tb);
}

static void bench_gen(const Opts *o)
{
	ModelConfig cfg;
	bench_config(&cfg, o);
	Model m;
	if (model_init(&m, &cfg) < 0)
		die_err();
	model_init_weights(&m, (uint64_t)o->seed, 0.02f);
	int B = (int)o->prompts, Tp = (int)o->prompt_len, slots = (int)(o->prompt_len + o->max_new);
	Generator g;
	if (gen_init(&g, &m, B, slots) < 0)
		die_err();
	int *ids = xmalloc(sizeof(int) * B * Tp), **rows = xmalloc(sizeof(int *) * B);
	int *lens = xmalloc(sizeof(int) * B), *out = xmalloc(sizeof(int) * B * slots);
	int *out_len = xmalloc(sizeof(int) * B);
	random_ids(ids, (size_t)B * Tp, m.V, (uint64_t)o->seed, 11);
	for (int b = 0; b < B; b++) {
		rows[b] = ids + (size_t)b * Tp;
		lens[b] = Tp;
	}
	GenParams p;
	gen_params_default(&p);
	p.max_new = (int)o->max_new;
	p.ignore_eos = 1;
	int total = (int)(o->warmup + o->steps);
	double *times = xmalloc(sizeof(double) * 2 * (o->steps + 1)), *cpu = times + o->steps + 1;
	long made = 0;
	for (int s = 0; s < total; s++) {
		double t0 = time_now(), c0 = cpu_now();
		if (gen_run(&g, (const int *const *)rows, lens, B, &p, out, out_len) < 0)
			die_err();
		double dt = time_now() - t0, dc = cpu_now() - c0;
		if (s >= o->warmup) {
			times[s - o->warmup] = dt;
			cpu[s - o->warmup] = dc;
		}
		made = 0;
		for (int b = 0; b < B; b++)
			made += out_len[b] - Tp;
	}
	printf("{\"side\":\"asft\",\"what\":\"gen\",");
	print_settings(o, &m);
	printf(",\"prompts\":%d,\"prompt_len\":%d,\"max_new\":%ld,\"tokens\":%ld,\"flops\":0,",
	       B, Tp, o->max_new, made);
	/* a checksum of the first row, so the two sides' greedy outputs can be eyeballed */
	printf("\"first_row\":[");
	for (int i = Tp; i < out_len[0] && i < Tp + 8; i++)
		printf("%s%d", i > Tp ? "," : "", out[i]);
	printf("],");
	print_times(times, (int)o->steps);
	print_cpu(cpu, (int)o->steps);
	printf("}\n");
	free(times);
	free(out_len);
	free(out);
	free(lens);
	free(rows);
	free(ids);
	gen_free(&g);
	model_free(&m);
}

static void bench_sgemm(const Opts *o)
{
	int n = (int)o->sgemm_n;
	size_t nn = (size_t)n * n;
	float *a = xmalloc(sizeof(float) * nn * 3), *b = a + nn, *c = b + nn;
	Rng r;
	rng_init(&r, (uint64_t)o->seed, 3);
	rng_fill_normal(&r, a, nn * 2, 0.0f, 1.0f);
	memset(c, 0, sizeof(float) * nn);
	int total = (int)(o->warmup + o->steps);
	double *times = xmalloc(sizeof(double) * (o->steps + 1));
	double *cpu = xmalloc(sizeof(double) * (o->steps + 1));
	for (int s = 0; s < total; s++) {
		double t0 = time_now(), c0 = cpu_now();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f,
			    c, n);
		double dt = time_now() - t0, dc = cpu_now() - c0;
		if (s >= o->warmup) {
			times[s - o->warmup] = dt;
			cpu[s - o->warmup] = dc;
		}
	}
	printf("{\"side\":\"asft\",\"what\":\"sgemm\",\"label\":\"%s\",\"threads\":%ld,\"n\":%d,"
	       "\"tokens\":0,\"flops\":%.6g,\"openblas\":\"%s\",",
	       o->label, o->threads, n, 2.0 * n * nn, openblas_get_config());
	print_times(times, (int)o->steps);
	print_cpu(cpu, (int)o->steps);
	printf("}\n");
	free(cpu);
	free(times);
	free(a);
}

/* ---------------------------------------------------------------- profile */

/* The profile mode replays one training step's kernel calls (the order of model_forward /
 * model_backward in kernels/model.c, through the public kernels of ops.h on the model's own
 * buffers) with a timer around each, to say where a step's time goes. It is a measuring aid for
 * this tool only: the timed step of --mode train / lora is the engine's own model_forward /
 * model_backward, and the profile's total is printed next to it to show the replay is faithful.
 * LoRA profiles support q/k/v targets (the benchmark's q_proj,v_proj). */
enum {
	K_EMBED, K_NORM_F, K_QKV_F, K_LORA_F, K_ROPE_F, K_ATT_F, K_O_F, K_RESID, K_GU_F,
	K_SWIGLU_F, K_DOWN_F, K_HEAD_F, K_XENT_F, K_XENT_B, K_HEAD_B, K_NORM_B, K_DOWN_B,
	K_SWIGLU_B, K_GU_B, K_O_B, K_ATT_B, K_ROPE_B, K_QKV_B, K_LORA_B, K_EMBED_B, K_MEMSET,
	K_ADAMW, K_ATT_MM_F, K_ATT_MM_B, K_N
};
static const char *const kname[K_N] = {
	"embedding_forward", "rmsnorm_forward", "matmul q/k/v fwd", "lora_forward",
	"rope_forward", "attention_forward", "matmul o_proj fwd", "residual_forward",
	"matmul gate/up fwd", "swiglu_forward", "matmul down fwd", "matmul lm_head fwd",
	"crossentropy_forward", "crossentropy_backward", "matmul lm_head bwd", "rmsnorm_backward",
	"matmul down bwd", "swiglu_backward", "matmul gate/up bwd", "matmul o_proj bwd",
	"attention_backward", "rope_backward", "matmul q/k/v bwd", "lora_backward",
	"embedding_backward", "memset (grad zeroing)", "adamw_step",
	"  of which QK^T, PV sgemms", "  of which 4 sgemms",
};

typedef struct {
	double t[K_N], flops[K_N];
} Prof;

/* the profile's clock: wall (time_now) or, with --cpu-clock, the process's CPU time, which
 * with --threads 1 is immune to other load on the machine */
static double (*prof_clock)(void) = time_now;

#define TIMED(P, k, call) do { double t_ = prof_clock(); call; (P)->t[k] += prof_clock() - t_; } \
	while (0)

/* the attention sgemms alone (same shapes and calls as attention_forward / _backward) */
static void att_sgemms(Prof *P, Model *m, int l, int B, int T, int backward)
{
	int H = m->H, KV = m->KV, hd = m->hd, qd = m->qd, ld = m->qkvd, rep = H / KV;
	const float *qkv = m->a.qkv + (size_t)l * B * T * ld;
	float *att = m->a.att + (size_t)l * B * H * T * T;
	double t0 = prof_clock();
	for (int b = 0; b < B; b++)
		for (int h = 0; h < H; h++) {
			const float *q = qkv + (size_t)b * T * ld + h * hd;
			const float *k = qkv + (size_t)b * T * ld + qd + (h / rep) * hd;
			const float *v = k + KV * hd;
			float *a = (backward ? m->a.datt : att) + ((size_t)b * H + h) * T * T;
			float *o = m->a.datty + (size_t)b * T * qd + h * hd;
			if (!backward) {
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, 1, q, ld, k,
					    ld, 0, a, T);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1, a, T, v,
					    ld, 0, o, qd);
				continue;
			}
			float *dq = m->a.dqkv + (size_t)b * T * ld + h * hd;
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, 1, o, qd, v, ld, 0,
				    a, T);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, 1, a, T, o, qd, 1,
				    dq + qd + KV * hd, ld);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1, a, T, k, ld, 1,
				    dq, ld);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, 1, a, T, q, ld, 1,
				    dq + qd, ld);
		}
	P->t[backward ? K_ATT_MM_B : K_ATT_MM_F] += prof_clock() - t0;
}

static void lora_cols(const Model *m, int mod, int *col)
{
	*col = mod == LORA_Q ? 0 : mod == LORA_K ? m->qd : m->qd + m->kvd;
}

static void profile_step(Prof *P, Model *m, AdamW *opt, float *params, float *grads,
			 const int *ids, const int *targets, int B, int T, float lr)
{
	int N = B * T, d = m->d, L = m->L, qkvd = m->qkvd, F = m->F, qd = m->qd;
	const ParamTensors *w = &m->w;
	ActTensors *a = &m->a;
	Lora *lo = m->lora;
	float eps = (float)m->cfg.rms_norm_eps;
	double mm = 2.0 * N;    /* FLOPs per weight of a matmul, forward */

	TIMED(P, K_MEMSET, model_zero_grad(m));
	m->B = B;
	m->T = T;
	for (int n = 0; n < N; n++) {
		m->pos[n] = n % T;
		m->targets[n] = targets[n];
	}
	TIMED(P, K_EMBED, embedding_forward(a->resid, ids, w->embed, N, d));
	for (int l = 0; l < L; l++) {
		float *x = a->resid + (size_t)l * N * d;
		float *ln1 = a->ln1 + (size_t)l * N * d, *qkv = a->qkv + (size_t)l * N * qkvd;
		float *atty = a->atty + (size_t)l * N * qd, *mid = a->resid_mid + (size_t)l * N * d;
		float *ln2 = a->ln2 + (size_t)l * N * d, *gu = a->gu + (size_t)l * N * 2 * F;
		float *hmid = a->hmid + (size_t)l * N * F, *out = a->resid + (size_t)(l + 1) * N * d;
		TIMED(P, K_NORM_F, rmsnorm_forward(ln1, a->ln1_rstd + (size_t)l * N, x,
						   w->ln1 + (size_t)l * d, N, d, eps));
		TIMED(P, K_QKV_F, matmul_forward(qkv, ln1, w->wqkv + (size_t)l * qkvd * d, NULL, N, d,
						 qkvd));
		P->flops[K_QKV_F] += mm * qkvd * d;
		for (int mod = LORA_Q; lo && mod <= LORA_V; mod++) {
			if (!(lo->targets & LORA_BIT(mod)))
				continue;
			int col, in = lo->in[mod], r = lo->r, o = lo->out[mod];
			lora_cols(m, mod, &col);
			TIMED(P, K_LORA_F, lora_forward(qkv + col, qkvd, a->lora_u[mod] + (size_t)l * N * r,
							ln1, lo->A[mod] + (size_t)l * r * in,
							lo->B[mod] + (size_t)l * o * r, N, in, o, r,
							lo->scale));
			P->flops[K_LORA_F] += mm * r * (in + o);
		}
		TIMED(P, K_ROPE_F, rope_forward(qkv, m->pos, m->rope_cos, m->rope_sin, N, qkvd,
						m->H + m->KV, m->hd));
		TIMED(P, K_ATT_F, attention_forward(atty, a->att + (size_t)l * B * m->H * T * T, qkv, B,
						    T, m->H, m->KV, m->hd));
		P->flops[K_ATT_F] += 4.0 * T * qd * N;
		TIMED(P, K_O_F, matmul_forward(mid, atty, w->wo + (size_t)l * d * qd, NULL, N, qd, d));
		P->flops[K_O_F] += mm * d * qd;
		TIMED(P, K_RESID, residual_forward(mid, mid, x, (size_t)N * d));
		TIMED(P, K_NORM_F, rmsnorm_forward(ln2, a->ln2_rstd + (size_t)l * N, mid,
						   w->ln2 + (size_t)l * d, N, d, eps));
		TIMED(P, K_GU_F, matmul_forward(gu, ln2, w->wgu + (size_t)l * 2 * F * d, NULL, N, d,
						2 * F));
		P->flops[K_GU_F] += mm * 2 * F * d;
		TIMED(P, K_SWIGLU_F, swiglu_forward(hmid, gu, N, F));
		TIMED(P, K_DOWN_F, matmul_forward(out, hmid, w->wdown + (size_t)l * d * F, NULL, N, F,
						  d));
		P->flops[K_DOWN_F] += mm * d * F;
		TIMED(P, K_RESID, residual_forward(out, out, mid, (size_t)N * d));
	}
	TIMED(P, K_NORM_F, rmsnorm_forward(a->lnf, a->lnf_rstd, a->resid + (size_t)L * N * d,
					   w->norm, N, d, eps));
	TIMED(P, K_HEAD_F, matmul_forward(a->logits, a->lnf, w->lm_head, NULL, N, d, m->V));
	P->flops[K_HEAD_F] += mm * m->V * d;
	TIMED(P, K_XENT_F, crossentropy_forward(a->losses, a->logits, targets, N, m->V));
	int nt = 0;
	for (int n = 0; n < N; n++)
		nt += targets[n] >= 0;

	/* backward */
	double bw = m->g.wqkv ? 2 * mm : mm;    /* input and (full) weight gradients */
	TIMED(P, K_XENT_B, crossentropy_backward(a->logits, a->logits, targets, 1.0f / (float)nt, N,
						 m->V));
	TIMED(P, K_MEMSET, memset(a->dln, 0, sizeof(float) * N * d));
	TIMED(P, K_HEAD_B, matmul_backward(a->dln, m->g.lm_head, NULL, a->logits, a->lnf,
					   w->lm_head, N, d, m->V));
	P->flops[K_HEAD_B] += bw * m->V * d;
	TIMED(P, K_MEMSET, memset(a->dres, 0, sizeof(float) * N * d));
	TIMED(P, K_NORM_B, rmsnorm_backward(a->dres, m->g.norm, a->dln, a->resid + (size_t)L * N * d,
					    w->norm, a->lnf_rstd, N, d));
	for (int l = L - 1; l >= 0; l--) {
		float *x = a->resid + (size_t)l * N * d;
		float *ln1 = a->ln1 + (size_t)l * N * d, *qkv = a->qkv + (size_t)l * N * qkvd;
		float *atty = a->atty + (size_t)l * N * qd, *mid = a->resid_mid + (size_t)l * N * d;
		float *ln2 = a->ln2 + (size_t)l * N * d, *gu = a->gu + (size_t)l * N * 2 * F;
		float *hmid = a->hmid + (size_t)l * N * F;
#define G(field, off) (m->g.field ? m->g.field + (off) : NULL)
		TIMED(P, K_MEMSET, memset(a->dhmid, 0, sizeof(float) * N * F));
		TIMED(P, K_DOWN_B, matmul_backward(a->dhmid, G(wdown, (size_t)l * d * F), NULL, a->dres,
						   hmid, w->wdown + (size_t)l * d * F, N, F, d));
		P->flops[K_DOWN_B] += bw * d * F;
		TIMED(P, K_MEMSET, memset(a->dgu, 0, sizeof(float) * N * 2 * F));
		TIMED(P, K_SWIGLU_B, swiglu_backward(a->dgu, a->dhmid, gu, N, F));
		TIMED(P, K_MEMSET, memset(a->dln, 0, sizeof(float) * N * d));
		TIMED(P, K_GU_B, matmul_backward(a->dln, G(wgu, (size_t)l * 2 * F * d), NULL, a->dgu,
						 ln2, w->wgu + (size_t)l * 2 * F * d, N, d, 2 * F));
		P->flops[K_GU_B] += bw * 2 * F * d;
		TIMED(P, K_NORM_B, rmsnorm_backward(a->dres, G(ln2, (size_t)l * d), a->dln, mid,
						    w->ln2 + (size_t)l * d, a->ln2_rstd + (size_t)l * N,
						    N, d));
		TIMED(P, K_MEMSET, memset(a->datty, 0, sizeof(float) * N * qd));
		TIMED(P, K_O_B, matmul_backward(a->datty, G(wo, (size_t)l * d * qd), NULL, a->dres, atty,
						w->wo + (size_t)l * d * qd, N, qd, d));
		P->flops[K_O_B] += bw * d * qd;
		TIMED(P, K_MEMSET, memset(a->dqkv, 0, sizeof(float) * N * qkvd));
		TIMED(P, K_ATT_B, attention_backward(a->dqkv, a->datt, a->datty, qkv,
						     a->att + (size_t)l * B * m->H * T * T, B, T, m->H,
						     m->KV, m->hd));
		P->flops[K_ATT_B] += 8.0 * T * qd * N;
		TIMED(P, K_ROPE_B, rope_backward(a->dqkv, m->pos, m->rope_cos, m->rope_sin, N, qkvd,
						 m->H + m->KV, m->hd));
		int need_dx = l > 0 || m->g.embed;
		TIMED(P, K_MEMSET, memset(a->dln, 0, sizeof(float) * N * d));
		TIMED(P, K_QKV_B, matmul_backward(need_dx ? a->dln : NULL, G(wqkv, (size_t)l * qkvd * d),
						  NULL, a->dqkv, ln1, w->wqkv + (size_t)l * qkvd * d, N,
						  d, qkvd));
		P->flops[K_QKV_B] += (need_dx ? bw : bw - mm) * qkvd * d;
		for (int mod = LORA_Q; lo && mod <= LORA_V; mod++) {
			if (!(lo->targets & LORA_BIT(mod)))
				continue;
			int col, in = lo->in[mod], r = lo->r, o = lo->out[mod];
			lora_cols(m, mod, &col);
			TIMED(P, K_LORA_B, lora_backward(need_dx ? a->dln : NULL,
							 lo->dA[mod] + (size_t)l * r * in,
							 lo->dB[mod] + (size_t)l * o * r, a->dlora_u,
							 a->dqkv + col, qkvd, ln1,
							 a->lora_u[mod] + (size_t)l * N * r,
							 lo->A[mod] + (size_t)l * r * in,
							 lo->B[mod] + (size_t)l * o * r, N, in, o, r,
							 lo->scale));
			P->flops[K_LORA_B] += 2 * mm * r * (in + o);
		}
		if (need_dx || m->g.ln1)
			TIMED(P, K_NORM_B, rmsnorm_backward(need_dx ? a->dres : NULL,
							    G(ln1, (size_t)l * d), a->dln, x,
							    w->ln1 + (size_t)l * d,
							    a->ln1_rstd + (size_t)l * N, N, d));
#undef G
	}
	if (m->g.embed)
		TIMED(P, K_EMBED_B, embedding_backward(m->g.embed, a->dres, ids, N, d));
	TIMED(P, K_ADAMW, adamw_step(opt, params, grads, lr));
	/* the attention sgemms once more on their own (after the step: they overwrite scratch) */
	for (int l = 0; l < L; l++) {
		att_sgemms(P, m, l, B, T, 0);
		att_sgemms(P, m, l, B, T, 1);
	}
}

static void bench_profile(const Opts *o, int use_lora)
{
	if (use_lora && lora_targets_parse(o->lora_targets) &
			~(LORA_BIT(LORA_Q) | LORA_BIT(LORA_K) | LORA_BIT(LORA_V)))
		die("--mode profile-lora: only q_proj, k_proj, v_proj targets");
	TrainBench tb;
	train_bench_init(&tb, o, use_lora);
	int B = tb.B, T = tb.T;
	double *real = xmalloc(sizeof(double) * (o->steps + 1));
	Prof P;
	memset(&P, 0, sizeof(P));
	for (int s = 0; s < o->warmup + o->steps; s++) {
		/* the engine's own step, then the timed replay */
		double t0 = prof_clock();
		model_zero_grad(&tb.m);
		model_forward(&tb.m, tb.ids, tb.targets, B, T);
		model_backward(&tb.m);
		adamw_step(&tb.opt, tb.params, tb.grads, (float)o->lr);
		double dt = prof_clock() - t0;
		if (s < o->warmup)
			continue;
		real[s - o->warmup] = dt;
		profile_step(&P, &tb.m, &tb.opt, tb.params, tb.grads, tb.ids, tb.targets, B, T,
			     (float)o->lr);
	}
	double steps = (double)o->steps, total = 0, mm_t = 0, mm_f = 0;
	for (int k = 0; k < K_ATT_MM_F; k++)
		total += P.t[k];
	printf("profile of a %s training step (%d x %d tokens, %ld threads, %s time, mean of %ld "
	       "replays):\n", use_lora ? "LoRA" : "full", B, T, o->threads,
	       prof_clock == time_now ? "wall" : "CPU", o->steps);
	printf("%-28s %10s %7s %9s\n", "kernel", "ms/step", "share", "GFLOP/s");
	for (int k = 0; k < K_N; k++) {
		if (P.t[k] == 0)
			continue;
		char gf[32] = "";
		if (P.flops[k] > 0)
			snprintf(gf, sizeof(gf), "%9.1f", P.flops[k] / P.t[k] / 1e9);
		printf("%-28s %10.2f %6.1f%% %9s\n", kname[k], 1e3 * P.t[k] / steps,
		       100 * P.t[k] / total, gf);
		if (P.flops[k] > 0 && k != K_ATT_F && k != K_ATT_B && k != K_LORA_F && k != K_LORA_B) {
			mm_t += P.t[k];
			mm_f += P.flops[k];
		}
	}
	double att_mm = P.t[K_ATT_MM_F] + P.t[K_ATT_MM_B];
	printf("%-28s %10.2f %6.1f%%\n", "replayed step total", 1e3 * total / steps, 100.0);
	printf("%-28s %10.2f %6.1f%% %9.1f\n", "weight matmuls", 1e3 * mm_t / steps,
	       100 * mm_t / total, mm_f / mm_t / 1e9);
	printf("%-28s %10.2f %6.1f%%\n", "attention sgemms", 1e3 * att_mm / steps,
	       100 * att_mm / total);
	printf("%-28s %10.2f (median of the engine's own steps)\n", "model_forward+backward+adamw",
	       1e3 * median(real, (int)o->steps));
	free(real);
	train_bench_free(&tb);
}

/* ---------------------------------------------------------------- report */

#define REP_MAX 64

typedef struct {
	char label[64], what[16], side[16];
	double *times, *cpu;
	int n, n_cpu;
	double tokens, flops;
	cJSON *first;       /* the first line of this kind (settings) */
} Series;

typedef struct {
	Series s[REP_MAX];
	int n;
	cJSON *lines[4096];
	int n_lines;
} Runs;

static Series *series_get(Runs *r, const char *label, const char *what, const char *side)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->s[i].label, label) && !strcmp(r->s[i].what, what) &&
		    !strcmp(r->s[i].side, side))
			return &r->s[i];
	if (r->n == REP_MAX)
		die("report: more than %d kinds of measurement", REP_MAX);
	Series *s = &r->s[r->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->label, sizeof(s->label), "%s", label);
	snprintf(s->what, sizeof(s->what), "%s", what);
	snprintf(s->side, sizeof(s->side), "%s", side);
	return s;
}

static Series *series_find(Runs *r, const char *label, const char *what, const char *side)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->s[i].label, label) && !strcmp(r->s[i].what, what) &&
		    !strcmp(r->s[i].side, side))
			return &r->s[i];
	return NULL;
}

static const char *jstr(const cJSON *o, const char *key, const char *path, int line)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsString(v))
		die("%s: line %d: \"%s\" is not a string", path, line, key);
	return v->valuestring;
}

static double jnum(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void runs_read(Runs *r, const char *path)
{
	size_t len;
	char *text = file_read_all(path, &len);
	if (!text)
		die_err();
	int line = 0;
	for (char *p = text, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		line++;
		if (*p != '{')
			continue;       /* anything else the sides printed */
		cJSON *o = cJSON_Parse(p);
		if (!o)
			die("%s: line %d: not valid JSON", path, line);
		Series *s = series_get(r, jstr(o, "label", path, line), jstr(o, "what", path, line),
				       jstr(o, "side", path, line));
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "times");
		if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) == 0)
			die("%s: line %d: \"times\" is not a non-empty array", path, line);
		const cJSON *e;
		cJSON_ArrayForEach(e, t) {
			if (!cJSON_IsNumber(e) || !(e->valuedouble > 0))
				die("%s: line %d: \"times\" holds a non-positive or non-number", path,
				    line);
			s->times = xrealloc(s->times, sizeof(double) * (s->n + 1));
			s->times[s->n++] = e->valuedouble;
		}
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "cpu");
		cJSON_ArrayForEach(e, c) {
			if (!cJSON_IsNumber(e) || !(e->valuedouble >= 0))
				die("%s: line %d: \"cpu\" holds a negative or non-number", path, line);
			s->cpu = xrealloc(s->cpu, sizeof(double) * (s->n_cpu + 1));
			s->cpu[s->n_cpu++] = e->valuedouble;
		}
		s->tokens = jnum(o, "tokens", 0);
		s->flops = jnum(o, "flops", 0);
		if (!s->first)
			s->first = o;
		if (r->n_lines == (int)(sizeof(r->lines) / sizeof(r->lines[0])))
			die("%s: too many lines", path);
		r->lines[r->n_lines++] = o;
	}
	free(text);
}

static void h5_check(int rc)
{
	if (rc < 0)
		die_err();
}

static void write_num(H5Store *h, const char *path, double v, const char *desc)
{
	if (isfinite(v))
		h5_check(h5s_write_scalar(h, path, v, desc));
}

/* copy the settings of a JSON line as attributes of obj */
static void write_settings(H5Store *h, const char *obj, const cJSON *o)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, o) {
		if (!strcmp(e->string, "times") || !strcmp(e->string, "first_row"))
			continue;
		if (cJSON_IsNumber(e))
			h5_check(h5s_attr_set_f64(h, obj, e->string, e->valuedouble));
		else if (cJSON_IsString(e))
			h5_check(h5s_attr_set_str(h, obj, e->string, e->valuestring));
	}
}

static const char *what_name(const char *what)
{
	if (!strcmp(what, "train"))
		return "training step, full fine-tuning";
	if (!strcmp(what, "lora"))
		return "training step, LoRA";
	if (!strcmp(what, "gen"))
		return "greedy generation, KV cache";
	return what;
}

static void report(const Opts *o, const char *config_json)
{
	if (!o->in)
		die("--mode report needs --in RUNS.jsonl");
	Runs *r = xcalloc(1, sizeof(Runs));
	runs_read(r, o->in);
	Series *peak = NULL;
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->s[i].what, "sgemm") && !strcmp(r->s[i].side, "asft"))
			peak = &r->s[i];
	double peak_gf = peak ? peak->flops / median(peak->times, peak->n) / 1e9 : NAN;
	/* the same per CPU-second of all threads (NaN when the lines have no "cpu") */
	double peak_cgf = peak && peak->n_cpu ? peak->flops / median(peak->cpu, peak->n_cpu) / 1e9 : NAN;

	H5Store *h = NULL;
	if (o->out) {
		h = h5s_create(o->out, "asft-bench", config_json, (uint64_t)o->seed);
		if (!h)
			die_err();
		h5_check(h5s_attr_set_str(h, "/", "openblas_env",
					  "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for both sides"));
		h5_check(h5s_attr_set_str(h, "/", "statistic",
					  "median over all timed steps of all rounds; warm-up excluded"));
		h5_check(h5s_attr_set_str(h, "/", "flops_formula",
					  "train: 6 P N + 12 L T qd N; lora: 4 P N + 12 L T qd N + "
					  "6 r (in+out) L N per adapted matrix - 2 qkvd d N; P = matrix "
					  "params incl. lm_head, N = B T tokens"));
	}
	if (o->note) {
		printf("%s\n", o->note);
		if (h)
			h5_check(h5s_attr_set_str(h, "/", "note", o->note));
	}
	if (peak) {
		printf("cblas_sgemm n=%.0f, %s: %.1f GFLOP/s (median of %d), %.1f GFLOP per CPU-second\n",
		       cbrt(peak->flops / 2), jstr(peak->first, "openblas", o->in, 0), peak_gf,
		       peak->n, peak_cgf);
		if (h) {
			write_num(h, "/sgemm/gflops", peak_gf, "cblas_sgemm GFLOP/s, n x n x n");
			write_num(h, "/sgemm/median_s", median(peak->times, peak->n), "seconds per call");
			write_num(h, "/sgemm/gflops_per_cpu_s", peak_cgf,
				  "cblas_sgemm GFLOP per CPU-second of all threads");
			write_settings(h, "/sgemm/gflops", peak->first);
		}
	}
	printf("%-8s %-34s %10s %10s %7s %7s %7s %7s %9s %9s\n", "model", "measure (tokens/s)",
	       "asft", "torch", "ratio", "target", "% peak", "target", "cpu ratio", "cpu %peak");
	int ok_all = 1;
	for (int i = 0; i < r->n; i++) {
		Series *a = &r->s[i];
		if (strcmp(a->side, "asft") || !strcmp(a->what, "sgemm"))
			continue;
		Series *t = series_find(r, a->label, a->what, "torch");
		int gen = !strcmp(a->what, "gen");
		double ta = median(a->times, a->n), tt = t ? median(t->times, t->n) : NAN;
		double tok_a = a->tokens / ta, tok_t = t ? t->tokens / tt : NAN;
		double ratio = tok_a / tok_t, target = gen ? 3.0 : 2.5;
		double share = gen ? NAN : a->flops / ta / 1e9 / peak_gf;
		double share_t = (gen || !t) ? NAN : t->flops / tt / 1e9 / peak_gf;
		/* tokens per CPU-second of all threads: robust to other load, charges spinning */
		double ca = median(a->cpu, a->n_cpu), ct = t ? median(t->cpu, t->n_cpu) : NAN;
		double cratio = (a->tokens / ca) / (t ? t->tokens / ct : NAN);
		double cshare = gen ? NAN : (a->flops / ca / 1e9) / peak_cgf;
		char rs[16] = "-", ss[16] = "-", cs[16] = "-", css[16] = "-";
		if (isfinite(cshare))
			snprintf(css, sizeof(css), "%.1f%%", 100 * cshare);
		if (isfinite(ratio))
			snprintf(rs, sizeof(rs), "%.2fx", ratio);
		if (isfinite(share))
			snprintf(ss, sizeof(ss), "%.1f%%", 100 * share);
		if (isfinite(cratio))
			snprintf(cs, sizeof(cs), "%.2fx", cratio);
		char ts[32] = "-";
		if (isfinite(tok_t))
			snprintf(ts, sizeof(ts), "%.0f", tok_t);
		printf("%-8s %-34s %10.0f %10s %7s %6.1fx %7s %7s %9s %9s\n", a->label,
		       what_name(a->what), tok_a, ts, rs, target, ss, gen ? "" : "40%", cs, css);
		if (!gen && isfinite(share_t)) {
			double cst = (t->flops / ct / 1e9) / peak_cgf;
			char cts[16] = "-";
			if (isfinite(cst))
				snprintf(cts, sizeof(cts), "%.1f%%", 100 * cst);
			printf("%-8s %-34s %10s %10s %7s %7s %6.1f%% %7s %9s %9s\n", "",
			       "  (torch's % of peak)", "", "", "", "", 100 * share_t, "", "", cts);
		}
		ok_all &= ratio >= target && (gen || share >= 0.4);
		if (!h)
			continue;
		char base[160], path[200];
		snprintf(base, sizeof(base), "/%s/%s", a->label, a->what);
#define W(name, v, d) (snprintf(path, sizeof(path), "%s/%s", base, name), write_num(h, path, v, d))
		W("asft_tokens_per_s", tok_a, gen ? "our new tokens per second" : "our tokens per second");
		W("torch_tokens_per_s", tok_t, "PyTorch tokens per second");
		W("asft_median_s", ta, "our median seconds per step (generation: per batch)");
		W("torch_median_s", tt, "PyTorch median seconds per step");
		W("ratio", ratio, "asft tokens/s over PyTorch tokens/s");
		W("asft_timed_steps", a->n, "timed steps behind our median");
		W("asft_cpu_s", ca, "our median CPU seconds (all threads) per step");
		W("torch_cpu_s", ct, "PyTorch's median CPU seconds (all threads) per step");
		W("cpu_ratio", cratio, "our tokens per CPU-second over PyTorch's");
		if (!gen)
			W("asft_cpu_peak_share", cshare,
			  "our model FLOPs per CPU-second over cblas_sgemm's FLOPs per CPU-second");
		W("torch_timed_steps", t ? t->n : NAN, "timed steps behind PyTorch's median");
		if (!gen) {
			W("flops_per_step", a->flops, "model FLOPs of one step (see /flops_formula)");
			W("asft_gflops", a->flops / ta / 1e9, "our model GFLOP/s");
			W("asft_peak_share", share, "our GFLOP/s over the cblas_sgemm n=2048 GFLOP/s");
			W("torch_peak_share", share_t, "PyTorch's GFLOP/s over the sgemm peak");
		}
#undef W
		snprintf(path, sizeof(path), "%s/asft_tokens_per_s", base);
		write_settings(h, path, a->first);
		if (t) {
			snprintf(path, sizeof(path), "%s/torch_tokens_per_s", base);
			write_settings(h, path, t->first);
		}
	}
	printf("ratio: tokens/s (wall clock); %% peak: model FLOPs/s over cblas_sgemm's; cpu ratio: "
	       "tokens per CPU-second of all threads (less sensitive to other load on the machine); "
	       "cpu %%peak: the same share in CPU time\n");
	printf("targets: training >= 2.5x PyTorch and >= 40%% of the sgemm peak, generation >= 3x: %s\n",
	       ok_all ? "all met" : "NOT all met");
	if (h) {
		h5_check(h5s_attr_set_i64(h, "/", "targets_met", ok_all));
		if (h5s_close(h) < 0)
			die_err();
		printf("results in %s\n", o->out);
	}
	for (int i = 0; i < r->n_lines; i++)
		cJSON_Delete(r->lines[i]);
	for (int i = 0; i < r->n; i++) {
		free(r->s[i].times);
		free(r->s[i].cpu);
	}
	free(r);
}

int main(int argc, char **argv)
{
	Opts o = {
		.mode = NULL, .label = "bench", .lora_targets = "q_proj,v_proj",
		.hidden = 256, .layers = 6, .heads = 8, .kv_heads = 0, .ffn = 688, .vocab = 2048,
		.batch = 8, .seq = 256, .warmup = 2, .steps = 5, .lora_r = 8, .lora_alpha = 16,
		.prompts = 64, .prompt_len = 32, .max_new = 64, .sgemm_n = 2048, .threads = 2,
		.seed = 1, .lr = 1e-4,
	};
	CliOpt opts[] = {
		{"mode", CLI_STR, &o.mode, "MODE", "train, lora, gen, sgemm, profile, profile-lora, report"},
		{"label", CLI_STR, &o.label, "NAME", "name of the model in the table and HDF5 paths"},
		{"model", CLI_STR, &o.model_dir, "DIR", "take the architecture from DIR/config.json"},
		{"hidden", CLI_INT, &o.hidden, "D", "hidden size (without --model)"},
		{"layers", CLI_INT, &o.layers, "L", "layers"},
		{"heads", CLI_INT, &o.heads, "H", "attention heads"},
		{"kv-heads", CLI_INT, &o.kv_heads, "KV", "key/value heads (0: = heads)"},
		{"ffn", CLI_INT, &o.ffn, "F", "intermediate size"},
		{"vocab", CLI_INT, &o.vocab, "V", "vocabulary size"},
		{"batch", CLI_INT, &o.batch, "B", "training sequences per step"},
		{"seq", CLI_INT, &o.seq, "T", "training tokens per sequence"},
		{"warmup", CLI_INT, &o.warmup, "N", "untimed repetitions first"},
		{"steps", CLI_INT, &o.steps, "N", "timed repetitions"},
		{"lora-r", CLI_INT, &o.lora_r, "R", "LoRA rank"},
		{"lora-alpha", CLI_DOUBLE, &o.lora_alpha, "A", "LoRA alpha"},
		{"lora-targets", CLI_STR, &o.lora_targets, "LIST", "LoRA target modules"},
		{"lr", CLI_DOUBLE, &o.lr, "LR", "AdamW learning rate"},
		{"prompts", CLI_INT, &o.prompts, "N", "generation: prompts in the batch"},
		{"prompt-len", CLI_INT, &o.prompt_len, "N", "generation: ids per prompt"},
		{"max-new", CLI_INT, &o.max_new, "N", "generation: new tokens per prompt"},
		{"sgemm-n", CLI_INT, &o.sgemm_n, "N", "size of the square sgemm"},
		{"threads", CLI_INT, &o.threads, "N", "threads for BLAS and the engine's loops"},
		{"seed", CLI_INT, &o.seed, "S", "seed of the random weights and ids"},
		{"blas-threads", CLI_INT, &o.blas_threads, "N",
		 "experiment: OpenBLAS threads after --threads set both (0: same)"},
		{"cpu-clock", CLI_BOOL, &o.cpu_clock, NULL, "profile: time kernels in process CPU time"},
		{"in", CLI_STR, &o.in, "FILE", "report: the JSON lines of both sides"},
		{"out", CLI_STR, &o.out, "FILE", "report: the HDF5 file to write"},
		{"note", CLI_STR, &o.note, "TEXT", "report: a line about the run (load, ...) to keep"},
		{NULL, 0, NULL, NULL, NULL},
	};
	cli_parse(argc, argv, opts, usage, NULL);
	if (!o.mode)
		die("--mode is required (see --help)");
	if (o.threads < 1 || o.threads > 64)
		die("--threads %ld: expected 1..64", o.threads);
	if (o.hidden < 1 || o.layers < 1 || o.heads < 1 || o.kv_heads < 0 || o.ffn < 1 ||
	    o.vocab < 1 || o.hidden % o.heads)
		die("model size: hidden, layers, heads, ffn, vocab must be >= 1, heads divide hidden");
	if (o.batch < 1 || o.seq < 2 || o.warmup < 0 || o.steps < 1 || o.lora_r < 1 ||
	    o.prompts < 1 || o.prompt_len < 1 || o.max_new < 1 || o.sgemm_n < 1 ||
	    o.batch * o.seq > 1L << 24 || o.steps > 100000)
		die("--batch, --steps, --lora-r, --prompts, --prompt-len, --max-new, --sgemm-n >= 1, "
		    "--seq >= 2, --warmup >= 0");
	threads_set((int)o.threads);
	if (o.blas_threads > 0)
		openblas_set_num_threads((int)o.blas_threads);
	if (o.cpu_clock)
		prof_clock = cpu_now;
	if (!strcmp(o.mode, "train"))
		bench_train(&o, 0);
	else if (!strcmp(o.mode, "lora"))
		bench_train(&o, 1);
	else if (!strcmp(o.mode, "gen"))
		bench_gen(&o);
	else if (!strcmp(o.mode, "sgemm"))
		bench_sgemm(&o);
	else if (!strcmp(o.mode, "profile"))
		bench_profile(&o, 0);
	else if (!strcmp(o.mode, "profile-lora"))
		bench_profile(&o, 1);
	else if (!strcmp(o.mode, "report")) {
		char *cj = cli_config_json(opts);
		report(&o, cj);
		free(cj);
	} else
		die("--mode %s: expected train, lora, gen, sgemm, profile, profile-lora or report",
		    o.mode);
	threads_shutdown();
	return fflush(stdout) == 0 ? 0 : 1;
}
