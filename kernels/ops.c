/* ops.c: the engine's layers (see ops.h for the contracts and conventions).
 *
 * Written on `real` so the same text compiles twice: as float for the library, and as double
 * (with OPS_DOUBLE defined, names suffixed _d, cblas_dgemm) inside tests/test_gradcheck.c for
 * finite-difference checks. <tgmath.h> picks expf/sqrtf or exp/sqrt from the argument type, so
 * every constant below is cast to real to keep float arithmetic in float. Loops that are not
 * matmuls run through threads_for with one item per row (or column block): the work on an item
 * never depends on how items are split, so results are the same bits for any thread count. */
#include "ops.h"
#include "threads.h"

#include <cblas.h>
#include <string.h>
#include <tgmath.h>

#ifdef OPS_DOUBLE
typedef double real;
#define OPS(name) name##_d
#define GEMM cblas_dgemm
#else
typedef float real;
#define OPS(name) name
#define GEMM cblas_sgemm
#endif

/* ---------------------------------------------------------------- exp over arrays
 *
 * exp is most of the non-matmul time (softmax, SiLU, cross-entropy). The float build evaluates
 * it 8 lanes at a time with GCC vector extensions (no intrinsics): x = n ln2 + r with
 * |r| <= ln2/2, exp(r) by its Taylor polynomial of degree 7 (truncation 7e-9 relative, below
 * float rounding), times 2^n built in the exponent bits; inputs are clamped to [-87.3, 88] so
 * 2^n stays a normal float. The tail of an array goes through the same lanes (zero padded), so
 * every element gets the same arithmetic wherever it sits. The double build (gradient checks)
 * uses libm's exp. */
#ifndef OPS_DOUBLE
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

static inline v8f v8_exp(v8f x)
{
	const v8f lo = { -87.3f, -87.3f, -87.3f, -87.3f, -87.3f, -87.3f, -87.3f, -87.3f };
	const v8f hi = { 88.0f, 88.0f, 88.0f, 88.0f, 88.0f, 88.0f, 88.0f, 88.0f };
	v8i mlo = x < lo, mhi = x > hi;
	x = (v8f)(((v8i)x & ~mlo) | ((v8i)lo & mlo));
	x = (v8f)(((v8i)x & ~mhi) | ((v8i)hi & mhi));
	const float magic = 12582912.0f;        /* 1.5 * 2^23: adding it rounds to an integer */
	v8f n = (x * 1.44269504088896341f + magic) - magic;
	v8f r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
	v8f p = r * (1.0f / 5040) + 1.0f / 720;
	p = p * r + 1.0f / 120;
	p = p * r + 1.0f / 24;
	p = p * r + 1.0f / 6;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	v8i e = (__builtin_convertvector(n, v8i) + 127) << 23;
	return p * (v8f)e;
}

/* y[i] = exp(x[i] - shift) (y may be x, or NULL to only sum); returns the sum (float lanes,
 * added in a fixed order). */
static float exp_shift_sum(float *y, const float *x, int n, float shift)
{
	v8f acc = { 0 }, e;
	int i = 0;
	for (; i + 8 <= n; i += 8) {
		v8f v;
		memcpy(&v, x + i, sizeof(v));   /* fixed size: one unaligned vector load */
		e = v8_exp(v - shift);
		acc += e;
		if (y)
			memcpy(y + i, &e, sizeof(e));
	}
	if (i < n) {                            /* the tail through the same lanes */
		float t[8] = { 0 };
		int k = n - i;
		memcpy(t, x + i, sizeof(float) * k);
		v8f v;
		memcpy(&v, t, sizeof(v));
		e = v8_exp(v - shift);
		memcpy(t, &e, sizeof(t));
		for (int j = k; j < 8; j++)
			t[j] = 0;
		memcpy(&e, t, sizeof(e));
		acc += e;
		if (y)
			memcpy(y + i, t, sizeof(float) * k);
	}
	return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

float vexp_shift_sum(float *y, const float *x, int n, float shift)
{
	return exp_shift_sum(y, x, n, shift);
}

/* s[i] = sigmoid(g[i]) = 1 / (1 + exp(-g[i])) for n values. */
static void sigmoid_arr(float *s, const float *g, int n)
{
	int i = 0;
	for (; i + 8 <= n; i += 8) {
		v8f v;
		memcpy(&v, g + i, sizeof(v));
		v8f e = 1.0f / (1.0f + v8_exp(-v));
		memcpy(s + i, &e, sizeof(e));
	}
	if (i < n) {
		float t[8] = { 0 };
		int k = n - i;
		memcpy(t, g + i, sizeof(float) * k);
		v8f v;
		memcpy(&v, t, sizeof(v));
		v8f e = 1.0f / (1.0f + v8_exp(-v));
		memcpy(t, &e, sizeof(t));
		memcpy(s + i, t, sizeof(float) * k);
	}
}
#else
static double exp_shift_sum(double *y, const double *x, int n, double shift)
{
	double sum = 0;
	for (int i = 0; i < n; i++) {
		double e = exp(x[i] - shift);
		if (y)
			y[i] = e;
		sum += e;
	}
	return sum;
}

static void sigmoid_arr(double *s, const double *g, int n)
{
	for (int i = 0; i < n; i++)
		s[i] = 1 / (1 + exp(-g[i]));
}
#endif

/* ---------------------------------------------------------------- vector lanes
 *
 * Elementwise loops run VL lanes at a time (GCC vector extensions; -O2 does not vectorize them
 * itself). An element gets exactly the scalar arithmetic (no contraction, same operation
 * order), so these loops give the same bits as scalar code. Reductions (vsum_dot) add lanes in
 * a fixed order, so a row's result does not depend on where the row sits. */
#ifdef OPS_DOUBLE
#define VL 4
typedef double vreal __attribute__((vector_size(32)));
typedef long long vmask __attribute__((vector_size(32)));
#else
#define VL 8
typedef float vreal __attribute__((vector_size(32)));
typedef int vmask __attribute__((vector_size(32)));
#endif

static inline vreal vld(const real *p)
{
	vreal v;
	memcpy(&v, p, sizeof(v));      /* fixed size: one unaligned vector load */
	return v;
}

static inline void vst(real *p, vreal v)
{
	memcpy(p, &v, sizeof(v));
}

/* max of x[0..n), n >= 1 (exact in any order) */
static real OPS(vmax)(const real *x, int n)
{
	real mx = x[0];
	int i = 0;
	if (n >= VL) {
		vreal m = vld(x);
		for (i = VL; i + VL <= n; i += VL) {
			vreal v = vld(x + i);
			vmask gt = v > m;
			m = (vreal)(((vmask)v & gt) | ((vmask)m & ~gt));
		}
		for (int k = 0; k < VL; k++)
			if (m[k] > mx)
				mx = m[k];
	}
	for (; i < n; i++)
		if (x[i] > mx)
			mx = x[i];
	return mx;
}

/* sum_i a[i] b[i] in VL lanes, the lanes then the tail added in a fixed order */
static real OPS(vdot)(const real *a, const real *b, int n)
{
	vreal acc = { 0 };
	int i = 0;
	for (; i + VL <= n; i += VL)
		acc += vld(a + i) * vld(b + i);
	real s = 0;
	for (int k = 0; k < VL; k++)
		s += acc[k];
	for (; i < n; i++)
		s += a[i] * b[i];
	return s;
}

#define ROW_CHUNK 8     /* rows per thread below which a loop stays on one thread */
/* cheap loops (norms, RoPE, adds): elements per thread below which waking a second thread
 * costs more than it saves (a decode step's 64 rows of d = 256 stay on one thread) */
#define WORK_CHUNK 16384

static long rows_min(long per_row)
{
	return per_row >= WORK_CHUNK ? 1 : WORK_CHUNK / (per_row > 0 ? per_row : 1);
}
#define COL_CHUNK 64

/* ---------------------------------------------------------------- embedding */

void OPS(embedding_forward)(real *out, const int *ids, const real *wte, int N, int C)
{
	for (int n = 0; n < N; n++)
		memcpy(out + (size_t)n * C, wte + (size_t)ids[n] * C, sizeof(real) * C);
}

void OPS(embedding_backward)(real *dwte, const real *dout, const int *ids, int N, int C)
{
	for (int n = 0; n < N; n++) {
		real *d = dwte + (size_t)ids[n] * C;
		const real *g = dout + (size_t)n * C;
		for (int c = 0; c < C; c++)
			d[c] += g[c];
	}
}

/* ---------------------------------------------------------------- rmsnorm */

typedef struct {
	real *out, *rstd, *dinp, *dw;
	const real *inp, *w, *dout;
	int N, C;
	real eps;
} OPS(NormCtx);

static void OPS(rmsnorm_fwd_rows)(void *p, long n0, long n1)
{
	OPS(NormCtx) *c = p;
	int C = c->C;
	for (long n = n0; n < n1; n++) {
		const real *x = c->inp + n * C;
		real *o = c->out + n * C;
		double ss = 0;
		for (int i = 0; i < C; i++)
			ss += (double)x[i] * x[i];
		/* mean in double, then the float rsqrt transformers takes of (mean + eps) */
		real r = (real)1 / sqrt((real)(ss / C) + c->eps);
		c->rstd[n] = r;
		int i = 0;
		for (; i + VL <= C; i += VL)
			vst(o + i, vld(c->w + i) * (vld(x + i) * r));
		for (; i < C; i++)
			o[i] = c->w[i] * (x[i] * r);
	}
}

void OPS(rmsnorm_forward)(real *out, real *rstd, const real *inp, const real *w, int N, int C,
			  real eps)
{
	OPS(NormCtx) c = { .out = out, .rstd = rstd, .inp = inp, .w = w, .N = N, .C = C,
			   .eps = eps };
	threads_for(OPS(rmsnorm_fwd_rows), &c, N, rows_min(C));
}

/* y = w * x * r with r = (mean(x^2) + eps)^-1/2:
 * dx_i = r * (w_i dy_i) - x_i * r^3 / C * sum_j (w_j dy_j x_j). */
static void OPS(rmsnorm_bwd_rows)(void *p, long n0, long n1)
{
	OPS(NormCtx) *c = p;
	int C = c->C;
	for (long n = n0; n < n1; n++) {
		const real *x = c->inp + n * C, *dy = c->dout + n * C;
		real *dx = c->dinp + n * C;
		real r = c->rstd[n];
		double dot = 0;
		for (int i = 0; i < C; i++)
			dot += (double)(c->w[i] * dy[i]) * x[i];
		real k = (real)(dot * r * r * r / C);
		int i = 0;
		for (; i + VL <= C; i += VL)
			vst(dx + i, vld(dx + i) + (r * (vld(c->w + i) * vld(dy + i)) - vld(x + i) * k));
		for (; i < C; i++)
			dx[i] += r * (c->w[i] * dy[i]) - x[i] * k;
	}
}

static void OPS(rmsnorm_bwd_cols)(void *p, long i0, long i1)
{
	OPS(NormCtx) *c = p;
	int C = c->C;
	for (int n = 0; n < c->N; n++) {
		const real *x = c->inp + (size_t)n * C, *dy = c->dout + (size_t)n * C;
		real r = c->rstd[n];
		long i = i0;
		for (; i + VL <= i1; i += VL)
			vst(c->dw + i, vld(c->dw + i) + vld(dy + i) * (vld(x + i) * r));
		for (; i < i1; i++)
			c->dw[i] += dy[i] * (x[i] * r);
	}
}

void OPS(rmsnorm_backward)(real *dinp, real *dw, const real *dout, const real *inp,
			   const real *w, const real *rstd, int N, int C)
{
	OPS(NormCtx) c = { .dinp = dinp, .dw = dw, .rstd = (real *)rstd, .inp = inp, .w = w,
			   .dout = dout, .N = N, .C = C };
	if (dinp)
		threads_for(OPS(rmsnorm_bwd_rows), &c, N, rows_min(C));
	if (dw)
		threads_for(OPS(rmsnorm_bwd_cols), &c, C, COL_CHUNK);
}

/* ---------------------------------------------------------------- matmul */

typedef struct {
	real *out;
	const real *bias;
	int N, OC;
} OPS(BiasCtx);

static void OPS(bias_fill_rows)(void *p, long n0, long n1)
{
	OPS(BiasCtx) *c = p;
	for (long n = n0; n < n1; n++)
		memcpy(c->out + n * c->OC, c->bias, sizeof(real) * c->OC);
}

static void OPS(bias_grad_cols)(void *p, long o0, long o1)
{
	OPS(BiasCtx) *c = p;
	const real *d = c->bias;      /* here: dout */
	for (int n = 0; n < c->N; n++)
		for (long o = o0; o < o1; o++)
			c->out[o] += d[(size_t)n * c->OC + o];
}

/* The weight matmuls are split over the pool in fixed blocks, each one single-threaded
 * sgemm call (OpenBLAS held to one thread meanwhile): OpenBLAS's own threads spin between calls
 * and, on a loaded machine, burned ~30% more CPU for no faster step. Forward and input gradient
 * in blocks of MM_ROWS token rows (the weights packed once per block), the weight gradient in
 * blocks of MM_COLS weight rows (the sum over all N tokens inside one call). The blocks do not
 * depend on the thread count, and no sum is split, so neither do the bits. */
#define MM_ROWS 512
#define MM_COLS 128

/* One cblas_sgemm C (M,N) = alpha op(A) op(B) + beta C, done as blocks of C: rows [j blk, ...)
 * (by_cols = 0) or columns (by_cols = 1); the sum over K is never split. */
typedef struct {
	CBLAS_TRANSPOSE ta, tb;
	int M, N, K, lda, ldb, ldc, by_cols, blk;
	real alpha, beta;
	const real *A, *B;
	real *C;
} OPS(GemmSplit);

static void OPS(gemm_blocks)(void *p, long j0, long j1)
{
	OPS(GemmSplit) *g = p;
	for (long j = j0; j < j1; j++) {
		int o = (int)j * g->blk;
		if (g->by_cols) {
			int n = g->N - o < g->blk ? g->N - o : g->blk;
			const real *B = g->B + (g->tb == CblasNoTrans ? (size_t)o : (size_t)o * g->ldb);
			GEMM(CblasRowMajor, g->ta, g->tb, g->M, n, g->K, g->alpha, g->A, g->lda, B,
			     g->ldb, g->beta, g->C + o, g->ldc);
		} else {
			int m = g->M - o < g->blk ? g->M - o : g->blk;
			const real *A = g->A + (g->ta == CblasNoTrans ? (size_t)o * g->lda : (size_t)o);
			GEMM(CblasRowMajor, g->ta, g->tb, m, g->N, g->K, g->alpha, A, g->lda, g->B,
			     g->ldb, g->beta, g->C + (size_t)o * g->ldc, g->ldc);
		}
	}
}

static void OPS(gemm_split)(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K,
			    real alpha, const real *A, int lda, const real *B, int ldb, real beta,
			    real *C, int ldc, int by_cols, int blk)
{
	OPS(GemmSplit) g = { ta, tb, M, N, K, lda, ldb, ldc, by_cols, blk, alpha, beta, A, B, C };
	long n = ((by_cols ? N : M) + blk - 1) / blk;
	threads_blas_serial(1);
	threads_for(OPS(gemm_blocks), &g, n, 1);
	threads_blas_serial(0);
}

void OPS(matmul_forward)(real *out, const real *inp, const real *w, const real *bias, int N,
			 int C, int OC)
{
	if (bias) {
		OPS(BiasCtx) c = { .out = out, .bias = bias, .N = N, .OC = OC };
		threads_for(OPS(bias_fill_rows), &c, N, rows_min(OC));
	}
	OPS(gemm_split)(CblasNoTrans, CblasTrans, N, OC, C, 1, inp, C, w, C, bias ? 1 : 0, out, OC,
			0, MM_ROWS);
}

/* dinp = beta dinp + dout @ w; dw += ...; dbias += ... */
static void OPS(matmul_bwd)(real *dinp, real *dw, real *dbias, const real *dout, const real *inp,
			    const real *w, int N, int C, int OC, real beta)
{
	if (dinp)
		OPS(gemm_split)(CblasNoTrans, CblasNoTrans, N, C, OC, 1, dout, OC, w, C, beta, dinp,
				C, 0, MM_ROWS);
	if (dw)
		OPS(gemm_split)(CblasTrans, CblasNoTrans, OC, C, N, 1, dout, OC, inp, C, 1, dw, C, 0,
				MM_COLS);
	if (dbias) {
		OPS(BiasCtx) c = { .out = dbias, .bias = dout, .N = N, .OC = OC };
		threads_for(OPS(bias_grad_cols), &c, OC, COL_CHUNK);
	}
}

void OPS(matmul_backward)(real *dinp, real *dw, real *dbias, const real *dout, const real *inp,
			  const real *w, int N, int C, int OC)
{
	OPS(matmul_bwd)(dinp, dw, dbias, dout, inp, w, N, C, OC, 1);
}

void OPS(matmul_backward_set)(real *dinp, real *dw, real *dbias, const real *dout,
			      const real *inp, const real *w, int N, int C, int OC)
{
	OPS(matmul_bwd)(dinp, dw, dbias, dout, inp, w, N, C, OC, 0);
}

/* ---------------------------------------------------------------- rope */

void OPS(rope_table)(real *cos_t, real *sin_t, int P, int hd, double theta)
{
	int half = hd / 2;
	for (int i = 0; i < half; i++) {
		/* torch: 1.0 / (base ** (arange(0, hd, 2).float() / hd)), all in the tensor dtype */
		real e = (real)(2 * i) / (real)hd;
		real inv = (real)1 / pow((real)theta, e);
		for (int p = 0; p < P; p++) {
			real a = (real)p * inv;
			cos_t[(size_t)p * half + i] = cos(a);
			sin_t[(size_t)p * half + i] = sin(a);
		}
	}
}

typedef struct {
	real *x;
	const int *pos;
	const real *cos_t, *sin_t;
	int ld, n_heads, hd;
	real sign;          /* +1 forward rotation, -1 its transpose */
} OPS(RopeCtx);

static void OPS(rope_rows)(void *p, long n0, long n1)
{
	OPS(RopeCtx) *c = p;
	int half = c->hd / 2;
	for (long n = n0; n < n1; n++) {
		const real *cs = c->cos_t + (size_t)c->pos[n] * half;
		const real *sn = c->sin_t + (size_t)c->pos[n] * half;
		for (int h = 0; h < c->n_heads; h++) {
			real *x1 = c->x + n * c->ld + (size_t)h * c->hd, *x2 = x1 + half;
			int i = 0;
			for (; i + VL <= half; i += VL) {
				vreal a = vld(x1 + i), b = vld(x2 + i), cv = vld(cs + i);
				vreal s = c->sign * vld(sn + i);
				vst(x1 + i, a * cv - b * s);
				vst(x2 + i, b * cv + a * s);
			}
			for (; i < half; i++) {
				real a = x1[i], b = x2[i], s = c->sign * sn[i];
				x1[i] = a * cs[i] - b * s;
				x2[i] = b * cs[i] + a * s;
			}
		}
	}
}

void OPS(rope_forward)(real *x, const int *pos, const real *cos_t, const real *sin_t, int N,
		       int ld, int n_heads, int hd)
{
	OPS(RopeCtx) c = { x, pos, cos_t, sin_t, ld, n_heads, hd, 1 };
	threads_for(OPS(rope_rows), &c, N, rows_min((long)n_heads * hd));
}

void OPS(rope_backward)(real *dx, const int *pos, const real *cos_t, const real *sin_t, int N,
			int ld, int n_heads, int hd)
{
	OPS(RopeCtx) c = { dx, pos, cos_t, sin_t, ld, n_heads, hd, -1 };
	threads_for(OPS(rope_rows), &c, N, rows_min((long)n_heads * hd));
}

/* ---------------------------------------------------------------- attention */

/* Row t of a causal softmax: a[0..t] = softmax(a[0..t]) (the scores were scaled by the
 * matmul), a[t+1..T) = 0. */
static void OPS(causal_softmax_row)(real *a, int t, int T)
{
	real mx = OPS(vmax)(a, t + 1);
	real sum = exp_shift_sum(a, a, t + 1, mx);
	real inv = (real)1 / sum;
	int s = 0;
	for (; s + VL <= t + 1; s += VL)
		vst(a + s, vld(a + s) * inv);
	for (; s <= t; s++)
		a[s] *= inv;
	if (t + 1 < T)
		memset(a + t + 1, 0, sizeof(real) * (T - t - 1));
}

/* dS = P * (dP - sum_s P dP) on row t, in place on d; d[t+1..n) = 0 (n: the columns the
 * following matmuls read). */
static void OPS(softmax_bwd_row)(real *d, const real *a, int t, int n)
{
	real dot = OPS(vdot)(a, d, t + 1);
	int s = 0;
	for (; s + VL <= t + 1; s += VL)
		vst(d + s, vld(a + s) * (vld(d + s) - dot));
	for (; s <= t; s++)
		d[s] = a[s] * (d[s] - dot);
	if (t + 1 < n)
		memset(d + t + 1, 0, sizeof(real) * (n - t - 1));
}

/* Causal blocking: queries in blocks of ATT_QB rows; block [r0, r1) only needs keys [0, r1),
 * so the matmuls skip most of the masked upper triangle.
 *
 * One item per (sequence, kv head) does everything for the query heads that share that kv
 * head (they accumulate into the same dK / dV, so they stay on one thread), block by block:
 * forward scores, softmax of the block's rows and P V while the block is still in cache;
 * backward dP, dV, the softmax backward of the block's rows, dQ and dK. The per-head matmuls
 * are too small for OpenBLAS to split, so it is held to one thread meanwhile
 * (threads_blas_serial) and the items are spread over the pool. Each item is done whole by one
 * thread, so the bits do not depend on the thread count. */
#define ATT_QB 64

typedef struct {
	real *out, *att, *dqkv, *datt;
	const real *qkv, *dout;
	int T, H, KV, hd;
	int set;        /* backward: set = 1 overwrites dqkv instead of adding */
} OPS(AttCtx);

static void OPS(att_fwd_items)(void *p, long i0, long i1)
{
	OPS(AttCtx) *c = p;
	int T = c->T, H = c->H, KV = c->KV, hd = c->hd, qd = H * hd, ld = (H + 2 * KV) * hd;
	int rep = H / KV;
	real scale = (real)1 / sqrt((real)hd);
	for (long it = i0; it < i1; it++) {
		int b = (int)(it / KV), g = (int)(it % KV);
		const real *k = c->qkv + (size_t)b * T * ld + qd + g * hd;
		const real *v = k + KV * hd;
		for (int h = g * rep; h < (g + 1) * rep; h++) {
			const real *q = c->qkv + (size_t)b * T * ld + h * hd;
			real *a = c->att + ((size_t)b * H + h) * T * T;
			real *o = c->out + (size_t)b * T * qd + h * hd;
			for (int r0 = 0; r0 < T; r0 += ATT_QB) {
				int r1 = r0 + ATT_QB < T ? r0 + ATT_QB : T;
				GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, r1, hd, scale,
				     q + (size_t)r0 * ld, ld, k, ld, 0, a + (size_t)r0 * T, T);
				for (int t = r0; t < r1; t++)
					OPS(causal_softmax_row)(a + (size_t)t * T, t, T);
				GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, hd, r1, 1,
				     a + (size_t)r0 * T, T, v, ld, 0, o + (size_t)r0 * qd, qd);
			}
		}
	}
}

void OPS(attention_forward)(real *out, real *att, const real *qkv, int B, int T, int H, int KV,
			    int hd)
{
	OPS(AttCtx) c = { .out = out, .att = att, .qkv = qkv, .T = T, .H = H, .KV = KV, .hd = hd };
	threads_blas_serial(1);
	threads_for(OPS(att_fwd_items), &c, (long)B * KV, 1);
	threads_blas_serial(0);
}

static void OPS(att_bwd_items)(void *p, long i0, long i1)
{
	OPS(AttCtx) *c = p;
	int T = c->T, H = c->H, KV = c->KV, hd = c->hd, qd = H * hd, ld = (H + 2 * KV) * hd;
	int rep = H / KV;
	real scale = (real)1 / sqrt((real)hd);
	for (long it = i0; it < i1; it++) {
		int b = (int)(it / KV), g = (int)(it % KV);
		size_t base = (size_t)b * T * ld;
		const real *k = c->qkv + base + qd + g * hd, *v = k + KV * hd;
		real *dk = c->dqkv + base + qd + g * hd, *dv = dk + KV * hd;
		for (int h = g * rep; h < (g + 1) * rep; h++) {
			const real *q = c->qkv + base + h * hd;
			const real *a = c->att + ((size_t)b * H + h) * T * T;
			const real *dO = c->dout + (size_t)b * T * qd + h * hd;
			real *dS = c->datt + ((size_t)b * H + h) * T * T;
			real *dq = c->dqkv + base + h * hd;
			/* the last block first: it covers every row of dK and dV, so with set the
			 * group's first head overwrites them there and everything after adds */
			int last = (T - 1) / ATT_QB * ATT_QB;
			for (int r0 = last; r0 >= 0; r0 -= ATT_QB) {
				int r1 = r0 + ATT_QB < T ? r0 + ATT_QB : T, nr = r1 - r0;
				real bkv = c->set && h == g * rep && r0 == last ? 0 : 1;
				real bq = c->set ? 0 : 1;
				const real *ab = a + (size_t)r0 * T;
				real *db = dS + (size_t)r0 * T;
				/* dP = dO V^T ; dV += P^T dO */
				GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, nr, r1, hd, 1,
				     dO + (size_t)r0 * qd, qd, v, ld, 0, db, T);
				GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hd, nr, 1, ab, T,
				     dO + (size_t)r0 * qd, qd, bkv, dv, ld);
				for (int t = r0; t < r1; t++)
					OPS(softmax_bwd_row)(dS + (size_t)t * T, a + (size_t)t * T, t, r1);
				/* dQ += scale dS K ; dK += scale dS^T Q */
				GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, nr, hd, r1, scale, db, T,
				     k, ld, bq, dq + (size_t)r0 * ld, ld);
				GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, r1, hd, nr, scale, db, T,
				     q + (size_t)r0 * ld, ld, bkv, dk, ld);
			}
		}
	}
}

static void OPS(att_bwd)(real *dqkv, real *datt, const real *dout, const real *qkv,
			 const real *att, int B, int T, int H, int KV, int hd, int set)
{
	OPS(AttCtx) c = { .att = (real *)att, .dqkv = dqkv, .datt = datt, .qkv = qkv, .dout = dout,
			  .T = T, .H = H, .KV = KV, .hd = hd, .set = set };
	threads_blas_serial(1);
	threads_for(OPS(att_bwd_items), &c, (long)B * KV, 1);
	threads_blas_serial(0);
}

void OPS(attention_backward_set)(real *dqkv, real *datt, const real *dout, const real *qkv,
				 const real *att, int B, int T, int H, int KV, int hd)
{
	OPS(att_bwd)(dqkv, datt, dout, qkv, att, B, T, H, KV, hd, 1);
}

void OPS(attention_backward)(real *dqkv, real *datt, const real *dout, const real *qkv,
			     const real *att, int B, int T, int H, int KV, int hd)
{
	OPS(att_bwd)(dqkv, datt, dout, qkv, att, B, T, H, KV, hd, 0);
}

/* ---------------------------------------------------------------- swiglu */

typedef struct {
	real *out;
	const real *gu, *dout;
	int F, set;     /* backward: set = 1 overwrites dgu instead of adding */
} OPS(SwigluCtx);

static void OPS(swiglu_fwd_rows)(void *p, long n0, long n1)
{
	OPS(SwigluCtx) *c = p;
	int F = c->F;
	for (long n = n0; n < n1; n++) {
		const real *g = c->gu + n * 2 * F, *u = g + F;
		real *o = c->out + n * F;
		sigmoid_arr(o, g, F);
		int i = 0;
		for (; i + VL <= F; i += VL)
			vst(o + i, vld(g + i) * vld(o + i) * vld(u + i));
		for (; i < F; i++)
			o[i] = g[i] * o[i] * u[i];
	}
}

/* silu(g) = g s, s = sigmoid(g); silu'(g) = s (1 + g (1 - s)). */
static void OPS(swiglu_bwd_rows)(void *p, long n0, long n1)
{
	OPS(SwigluCtx) *c = p;
	int F = c->F;
	real sg[64];
	for (long n = n0; n < n1; n++) {
		const real *g = c->gu + n * 2 * F, *u = g + F, *dy = c->dout + n * F;
		real *dg = c->out + n * 2 * F, *du = dg + F;
		for (int i0 = 0; i0 < F; i0 += 64) {
			int k = F - i0 < 64 ? F - i0 : 64;
			sigmoid_arr(sg, g + i0, k);
			int j = 0;
			for (; j + VL <= k; j += VL) {
				int i = i0 + j;
				vreal sv = vld(sg + j), gv = vld(g + i), dyv = vld(dy + i);
				vreal vu = dyv * (gv * sv);
				vreal vg = dyv * vld(u + i) * sv * ((real)1 + gv * ((real)1 - sv));
				vst(du + i, c->set ? vu : vld(du + i) + vu);
				vst(dg + i, c->set ? vg : vld(dg + i) + vg);
			}
			for (; j < k; j++) {
				int i = i0 + j;
				real s = sg[j];
				real vu = dy[i] * (g[i] * s);
				real vg = dy[i] * u[i] * s * ((real)1 + g[i] * ((real)1 - s));
				du[i] = c->set ? vu : du[i] + vu;
				dg[i] = c->set ? vg : dg[i] + vg;
			}
		}
	}
}

void OPS(swiglu_forward)(real *out, const real *gu, int N, int F)
{
	OPS(SwigluCtx) c = { .out = out, .gu = gu, .F = F };
	threads_for(OPS(swiglu_fwd_rows), &c, N, ROW_CHUNK);
}

void OPS(swiglu_backward)(real *dgu, const real *dout, const real *gu, int N, int F)
{
	OPS(SwigluCtx) c = { .out = dgu, .gu = gu, .dout = dout, .F = F };
	threads_for(OPS(swiglu_bwd_rows), &c, N, ROW_CHUNK);
}

void OPS(swiglu_backward_set)(real *dgu, const real *dout, const real *gu, int N, int F)
{
	OPS(SwigluCtx) c = { .out = dgu, .gu = gu, .dout = dout, .F = F, .set = 1 };
	threads_for(OPS(swiglu_bwd_rows), &c, N, ROW_CHUNK);
}

/* ---------------------------------------------------------------- cross-entropy */

typedef struct {
	real *out;          /* losses or dlogits */
	const real *logits;
	const int *targets;
	real dloss;
	int V;
} OPS(XentCtx);

static double OPS(row_logsumexp)(const real *x, int V, real *mx_out)
{
	real mx = OPS(vmax)(x, V);
	double sum = exp_shift_sum(NULL, x, V, mx);
	*mx_out = mx;
	return mx + log(sum);
}

static void OPS(xent_fwd_rows)(void *p, long n0, long n1)
{
	OPS(XentCtx) *c = p;
	for (long n = n0; n < n1; n++) {
		int t = c->targets[n];
		if (t < 0) {
			c->out[n] = 0;
			continue;
		}
		const real *x = c->logits + n * c->V;
		real mx;
		c->out[n] = (real)(OPS(row_logsumexp)(x, c->V, &mx) - x[t]);
	}
}

static void OPS(xent_bwd_rows)(void *p, long n0, long n1)
{
	OPS(XentCtx) *c = p;
	int V = c->V;
	for (long n = n0; n < n1; n++) {
		int t = c->targets[n];
		const real *x = c->logits + n * V;
		real *d = c->out + n * V;
		if (t < 0) {
			memset(d, 0, sizeof(real) * V);
			continue;
		}
		real mx;
		double lse = OPS(row_logsumexp)(x, V, &mx);
		/* softmax = exp(x - mx) * exp(mx - lse): the shift by mx is exact in real, and
		 * mx - lse = -log(sum) is small, so no large float lse rounds the probabilities */
		exp_shift_sum(d, x, V, mx);
		real k = (real)(exp((double)mx - lse) * c->dloss);
		int v = 0;
		for (; v + VL <= V; v += VL)
			vst(d + v, vld(d + v) * k);
		for (; v < V; v++)
			d[v] *= k;
		d[t] -= c->dloss;
	}
}

void OPS(crossentropy_forward)(real *losses, const real *logits, const int *targets, int N, int V)
{
	OPS(XentCtx) c = { .out = losses, .logits = logits, .targets = targets, .V = V };
	threads_for(OPS(xent_fwd_rows), &c, N, 1);
}

void OPS(crossentropy_backward)(real *dlogits, const real *logits, const int *targets,
				real dloss, int N, int V)
{
	OPS(XentCtx) c = { .out = dlogits, .logits = logits, .targets = targets, .dloss = dloss,
			   .V = V };
	threads_for(OPS(xent_bwd_rows), &c, N, 1);
}

/* ---------------------------------------------------------------- residual */

typedef struct {
	real *out;
	const real *a, *b;
} OPS(AddCtx);

static void OPS(add_range)(void *p, long i0, long i1)
{
	OPS(AddCtx) *c = p;
	long i = i0;
	for (; i + VL <= i1; i += VL)
		vst(c->out + i, vld(c->a + i) + vld(c->b + i));
	for (; i < i1; i++)
		c->out[i] = c->a[i] + c->b[i];
}

void OPS(residual_forward)(real *out, const real *a, const real *b, size_t n)
{
	OPS(AddCtx) c = { out, a, b };
	threads_for(OPS(add_range), &c, (long)n, WORK_CHUNK);
}

/* ---------------------------------------------------------------- lora */

void OPS(lora_forward)(real *out, int ldo, real *u, const real *x, const real *A, const real *B,
		       int N, int C, int OC, int R, real s)
{
	OPS(gemm_split)(CblasNoTrans, CblasTrans, N, R, C, 1, x, C, A, C, 0, u, R, 0, MM_ROWS);
	OPS(gemm_split)(CblasNoTrans, CblasTrans, N, OC, R, s, u, R, B, R, 1, out, ldo, 0, MM_ROWS);
}

void OPS(lora_backward)(real *dx, real *dA, real *dB, real *du, const real *dout, int ldo,
			const real *x, const real *u, const real *A, const real *B, int N, int C,
			int OC, int R, real s)
{
	OPS(gemm_split)(CblasTrans, CblasNoTrans, OC, R, N, s, dout, ldo, u, R, 1, dB, R, 0,
			MM_COLS);
	OPS(gemm_split)(CblasNoTrans, CblasNoTrans, N, R, OC, s, dout, ldo, B, R, 0, du, R, 0,
			MM_ROWS);
	OPS(gemm_split)(CblasTrans, CblasNoTrans, R, C, N, 1, du, R, x, C, 1, dA, C, 1, MM_COLS);
	if (dx)
		OPS(gemm_split)(CblasNoTrans, CblasNoTrans, N, C, R, 1, du, R, A, C, 1, dx, C, 0,
				MM_ROWS);
}

/* ---------------------------------------------------------------- dropout */

typedef struct {
	real *out, *mask;
	const real *x;
	int C;
	real p;
	uint64_t seed;
} OPS(DropCtx);

static void OPS(dropout_rows)(void *ctx, long n0, long n1)
{
	OPS(DropCtx) *c = ctx;
	real keep = (real)1 / ((real)1 - c->p);
	for (long n = n0; n < n1; n++) {
		Rng rng;
		rng_init(&rng, c->seed, (uint64_t)n);
		size_t o = (size_t)n * c->C;
		for (int i = 0; i < c->C; i++) {
			c->mask[o + i] = rng_uniformf(&rng) < c->p ? 0 : keep;
			c->out[o + i] = c->x[o + i] * c->mask[o + i];
		}
	}
}

void OPS(dropout_forward)(real *out, real *mask, const real *x, int N, int C, real p,
			  uint64_t seed)
{
	OPS(DropCtx) c = { out, mask, x, C, p, seed };
	threads_for(OPS(dropout_rows), &c, N, ROW_CHUNK);
}

void OPS(dropout_backward)(real *dx, const real *dout, const real *mask, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dx[i] += dout[i] * mask[i];
}
