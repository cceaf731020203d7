/* test_gradcheck.c: every kernel's backward against central differences of its forward, in
 * double precision.
 *
 * kernels/ops.c is compiled here a second time with real = double (OPS_DOUBLE; names end in
 * _d), so the code checked is the same text the float engine runs. For each kernel the scalar
 * is L = sum(out * G) for a fixed random G; the analytic gradient is the backward with dout = G
 * and the numeric one (L(x + h) - L(x - h)) / 2h with h = 1e-6, which in double is accurate to
 * ~1e-9 relative: a tolerance of 1e-6 catches any wrong term. The float kernels' rounding is
 * checked separately against torch (test_engine). */
#define OPS_DOUBLE 1
#include "ops.c"

#include "harness.h"
#include "rng.h"
#include "threads.h"

#include <stdlib.h>

typedef double (*LossFn)(void *ctx);

static double *dvec(size_t n, Rng *r, double scale)
{
	double *v = calloc(n ? n : 1, sizeof(double));
	for (size_t i = 0; i < n; i++)
		v[i] = rng_normal(r) * scale;
	return v;
}

static double dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* Compares grad (n) with central differences of fn over x (n); prints the worst element. */
static void check_grad(const char *what, double *x, const double *grad, size_t n, LossFn fn,
		       void *ctx)
{
	double worst = 0, scale = 0;
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		if (fabs(grad[i]) > scale)
			scale = fabs(grad[i]);
	for (size_t i = 0; i < n; i++) {
		double keep = x[i], h = 1e-6;
		x[i] = keep + h;
		double lp = fn(ctx);
		x[i] = keep - h;
		double lm = fn(ctx);
		x[i] = keep;
		double num = (lp - lm) / (2 * h);
		double err = fabs(num - grad[i]) / (scale > 1e-12 ? scale : 1);
		if (err > worst) {
			worst = err;
			at = i;
		}
	}
	int ok = worst <= 1e-6 && scale > 0;
	harness_report(ok, __FILE__, __LINE__, what);
	if (!ok || getenv("GRADCHECK_VERBOSE"))
		fprintf(stderr, "     %s: worst relative error %.3g at [%zu] (max |grad| %.3g)\n",
			what, worst, at, scale);
}

/* ------------------------------------------------------------ rmsnorm */
typedef struct { double *x, *w, *G, *out, *rstd; int N, C; } NormT;
static double norm_loss(void *p)
{
	NormT *t = p;
	rmsnorm_forward_d(t->out, t->rstd, t->x, t->w, t->N, t->C, 1e-5);
	return dot(t->out, t->G, (size_t)t->N * t->C);
}

static void test_rmsnorm(Rng *r)
{
	int N = 5, C = 12;
	NormT t = { dvec(N * C, r, 1), dvec(C, r, 1), dvec(N * C, r, 1), dvec(N * C, r, 0),
		    dvec(N, r, 0), N, C };
	double *dx = dvec(N * C, r, 0), *dw = dvec(C, r, 0);
	norm_loss(&t);
	rmsnorm_backward_d(dx, dw, t.G, t.x, t.w, t.rstd, N, C);
	check_grad("rmsnorm dinp", t.x, dx, N * C, norm_loss, &t);
	check_grad("rmsnorm dw", t.w, dw, C, norm_loss, &t);
	/* accumulation: a second backward doubles the gradient */
	rmsnorm_backward_d(dx, NULL, t.G, t.x, t.w, t.rstd, N, C);
	double *dx1 = dvec(N * C, r, 0);
	rmsnorm_backward_d(dx1, NULL, t.G, t.x, t.w, t.rstd, N, C);
	for (int i = 0; i < N * C; i++)
		dx1[i] *= 2;
	CHECK_ALLCLOSE(dx, dx1, (size_t)N * C, 1e-12, 1e-12);
	free(t.x); free(t.w); free(t.G); free(t.out); free(t.rstd); free(dx); free(dw); free(dx1);
}

/* ------------------------------------------------------------ matmul */
typedef struct { double *x, *w, *b, *G, *out; int N, C, OC; } MmT;
static double mm_loss(void *p)
{
	MmT *t = p;
	matmul_forward_d(t->out, t->x, t->w, t->b, t->N, t->C, t->OC);
	return dot(t->out, t->G, (size_t)t->N * t->OC);
}

static void test_matmul(Rng *r)
{
	int N = 6, C = 7, OC = 5;
	MmT t = { dvec(N * C, r, 1), dvec(OC * C, r, 1), dvec(OC, r, 1), dvec(N * OC, r, 1),
		  dvec(N * OC, r, 0), N, C, OC };
	double *dx = dvec(N * C, r, 0), *dw = dvec(OC * C, r, 0), *db = dvec(OC, r, 0);
	matmul_backward_d(dx, dw, db, t.G, t.x, t.w, N, C, OC);
	check_grad("matmul dinp", t.x, dx, N * C, mm_loss, &t);
	check_grad("matmul dw", t.w, dw, OC * C, mm_loss, &t);
	check_grad("matmul dbias", t.b, db, OC, mm_loss, &t);
	free(t.x); free(t.w); free(t.b); free(t.G); free(t.out); free(dx); free(dw); free(db);
}

/* ------------------------------------------------------------ rope */
typedef struct { double *x, *y, *G, *cs, *sn; int *pos; int N, ld, nh, hd; } RopeT;
static double rope_loss(void *p)
{
	RopeT *t = p;
	memcpy(t->y, t->x, sizeof(double) * t->N * t->ld);
	rope_forward_d(t->y, t->pos, t->cs, t->sn, t->N, t->ld, t->nh, t->hd);
	return dot(t->y, t->G, (size_t)t->N * t->ld);
}

static void test_rope(Rng *r)
{
	int N = 4, hd = 8, nh = 3, ld = 4 * hd, P = 16;   /* the 4th head is not rotated */
	int pos[4] = { 0, 3, 7, 15 };
	RopeT t = { dvec(N * ld, r, 1), dvec(N * ld, r, 0), dvec(N * ld, r, 1), dvec(P * hd / 2, r, 0),
		    dvec(P * hd / 2, r, 0), pos, N, ld, nh, hd };
	rope_table_d(t.cs, t.sn, P, hd, 10000.0);
	double *dx = dvec(N * ld, r, 0);
	memcpy(dx, t.G, sizeof(double) * N * ld);
	rope_backward_d(dx, pos, t.cs, t.sn, N, ld, nh, hd);
	check_grad("rope dx", t.x, dx, N * ld, rope_loss, &t);
	/* position 0 is the identity; the unrotated head passes through */
	rope_loss(&t);
	CHECK_CLOSE(t.y[0], t.x[0], 0, 0);
	CHECK_CLOSE(t.y[ld + 3 * hd + 1], t.x[ld + 3 * hd + 1], 0, 0);
	/* pairs (i, i + hd/2) keep their norm */
	double a = t.x[ld + 1], b = t.x[ld + 1 + hd / 2], c = t.y[ld + 1], d = t.y[ld + 1 + hd / 2];
	CHECK_CLOSE(a * a + b * b, c * c + d * d, 1e-12, 1e-12);
	free(t.x); free(t.y); free(t.G); free(t.cs); free(t.sn); free(dx);
}

/* ------------------------------------------------------------ attention */
typedef struct { double *qkv, *att, *out, *G; int B, T, H, KV, hd; } AttT;
static double att_loss(void *p)
{
	AttT *t = p;
	attention_forward_d(t->out, t->att, t->qkv, t->B, t->T, t->H, t->KV, t->hd);
	return dot(t->out, t->G, (size_t)t->B * t->T * t->H * t->hd);
}

static void test_attention(Rng *r, int H, int KV, int T)
{
	int B = T > 64 ? 1 : 2, hd = 4, ld = (H + 2 * KV) * hd;
	AttT t = { dvec(B * T * ld, r, 1), dvec(B * H * T * T, r, 0), dvec(B * T * H * hd, r, 0),
		   dvec(B * T * H * hd, r, 1), B, T, H, KV, hd };
	double *dq = dvec(B * T * ld, r, 0), *datt = dvec(B * H * T * T, r, 0);
	att_loss(&t);
	attention_backward_d(dq, datt, t.G, t.qkv, t.att, B, T, H, KV, hd);
	check_grad(T > 64 ? "attention (GQA, T > one query block) dqkv" :
		   KV == H ? "attention (MHA) dqkv" : "attention (GQA) dqkv", t.qkv, dq,
		   (size_t)B * T * ld, att_loss, &t);
	/* causality: the first query sees only itself, rows sum to one */
	CHECK_CLOSE(t.att[0], 1.0, 1e-12, 0);
	CHECK_CLOSE(t.att[1], 0.0, 0, 0);
	double s = 0;
	for (int j = 0; j < T; j++)
		s += t.att[(T - 1) * T + j];
	CHECK_CLOSE(s, 1.0, 1e-12, 0);
	free(t.qkv); free(t.att); free(t.out); free(t.G); free(dq); free(datt);
}

/* ------------------------------------------------------------ swiglu */
typedef struct { double *gu, *out, *G; int N, F; } SwT;
static double sw_loss(void *p)
{
	SwT *t = p;
	swiglu_forward_d(t->out, t->gu, t->N, t->F);
	return dot(t->out, t->G, (size_t)t->N * t->F);
}

static void test_swiglu(Rng *r)
{
	int N = 3, F = 6;
	SwT t = { dvec(N * 2 * F, r, 2), dvec(N * F, r, 0), dvec(N * F, r, 1), N, F };
	double *d = dvec(N * 2 * F, r, 0);
	swiglu_backward_d(d, t.G, t.gu, N, F);
	check_grad("swiglu dgu", t.gu, d, N * 2 * F, sw_loss, &t);
	free(t.gu); free(t.out); free(t.G); free(d);
}

/* ------------------------------------------------------------ cross-entropy */
typedef struct { double *logits, *losses; int *tg; int N, V; } XeT;
static double xe_loss(void *p)
{
	XeT *t = p;
	crossentropy_forward_d(t->losses, t->logits, t->tg, t->N, t->V);
	double s = 0;
	for (int n = 0; n < t->N; n++)
		s += t->losses[n];
	return s / 3;   /* three rows have targets */
}

static void test_xent(Rng *r)
{
	int N = 4, V = 9;
	int tg[4] = { 2, -100, 8, 0 };
	XeT t = { dvec(N * V, r, 2), dvec(N, r, 0), tg, N, V };
	double *d = dvec(N * V, r, 0);
	crossentropy_backward_d(d, t.logits, tg, 1.0 / 3, N, V);
	check_grad("crossentropy dlogits", t.logits, d, N * V, xe_loss, &t);
	xe_loss(&t);
	CHECK_CLOSE(t.losses[1], 0.0, 0, 0);
	/* uniform logits give log V */
	double u[9] = { 0 }, l;
	int tg1 = 4;
	crossentropy_forward_d(&l, u, &tg1, 1, 9);
	CHECK_CLOSE(l, log(9.0), 1e-12, 0);
	free(t.logits); free(t.losses); free(d);
}

/* ------------------------------------------------------------ lora */
typedef struct { double *x, *A, *B, *u, *out, *G; int N, C, OC, R, ldo; double s; } LoT;
static double lo_loss(void *p)
{
	LoT *t = p;
	memset(t->out, 0, sizeof(double) * t->N * t->ldo);
	lora_forward_d(t->out + 1, t->ldo, t->u, t->x, t->A, t->B, t->N, t->C, t->OC, t->R, t->s);
	return dot(t->out, t->G, (size_t)t->N * t->ldo);
}

static void test_lora(Rng *r)
{
	int N = 5, C = 6, OC = 4, R = 3, ldo = OC + 3;   /* a column slice of a wider output */
	LoT t = { dvec(N * C, r, 1), dvec(R * C, r, 1), dvec(OC * R, r, 1), dvec(N * R, r, 0),
		  dvec(N * ldo, r, 0), dvec(N * ldo, r, 1), N, C, OC, R, ldo, 2.0 };
	double *dx = dvec(N * C, r, 0), *dA = dvec(R * C, r, 0), *dB = dvec(OC * R, r, 0),
	       *du = dvec(N * R, r, 0);
	lo_loss(&t);
	lora_backward_d(dx, dA, dB, du, t.G + 1, ldo, t.x, t.u, t.A, t.B, N, C, OC, R, t.s);
	check_grad("lora dx", t.x, dx, N * C, lo_loss, &t);
	check_grad("lora dA", t.A, dA, R * C, lo_loss, &t);
	check_grad("lora dB", t.B, dB, OC * R, lo_loss, &t);
	free(t.x); free(t.A); free(t.B); free(t.u); free(t.out); free(t.G);
	free(dx); free(dA); free(dB); free(du);
}

/* ------------------------------------------------------------ embedding, dropout */
typedef struct { double *wte, *out, *G; int *ids; int N, C; } EmT;
static double em_loss(void *p)
{
	EmT *t = p;
	embedding_forward_d(t->out, t->ids, t->wte, t->N, t->C);
	return dot(t->out, t->G, (size_t)t->N * t->C);
}

typedef struct { double *x, *out, *mask, *G; size_t n; } DoT;
static double do_loss(void *p)
{
	DoT *t = p;
	/* the same mask every call (seed 7), as the training step stores it */
	dropout_forward_d(t->out, t->mask, t->x, (int)(t->n / 8), 8, 0.25, 7);
	return dot(t->out, t->G, t->n);
}

static void test_embedding_dropout(Rng *r)
{
	int ids[5] = { 3, 0, 3, 2, 1 };
	EmT t = { dvec(4 * 6, r, 1), dvec(5 * 6, r, 0), dvec(5 * 6, r, 1), ids, 5, 6 };
	double *d = dvec(4 * 6, r, 0);
	embedding_backward_d(d, t.G, ids, 5, 6);
	check_grad("embedding dwte (repeated ids)", t.wte, d, 24, em_loss, &t);
	free(t.wte); free(t.out); free(t.G); free(d);

	size_t n = 400;
	DoT u = { dvec(n, r, 1), dvec(n, r, 0), dvec(n, r, 0), dvec(n, r, 1), n };
	double *dx = dvec(n, r, 0);
	do_loss(&u);
	dropout_backward_d(dx, u.G, u.mask, n);
	check_grad("dropout dx", u.x, dx, n, do_loss, &u);
	int dropped = 0;
	for (size_t i = 0; i < n; i++)
		dropped += u.mask[i] == 0;
	CHECK(dropped > 60 && dropped < 140);      /* p = 0.25 of 400 */
	free(u.x); free(u.out); free(u.mask); free(u.G); free(dx);
}

/* ------------------------------------------------------------ float kernels vs double
 * The library's float build evaluates exp in vector lanes with its own polynomial; its softmax,
 * SiLU and cross-entropy must agree with the double build (libm exp) to float precision, for
 * lengths that are not multiples of 8 and for inputs far into exp's tails. */
static double rel_err_fd(const float *f, const double *d, size_t n)
{
	double num = 0, den = 0;
	for (size_t i = 0; i < n; i++) {
		num = fmax(num, fabs(f[i] - d[i]));
		den = fmax(den, fabs(d[i]));
	}
	return num / (den > 0 ? den : 1);
}

static void test_float_vs_double(Rng *r)
{
	enum { N = 3, V = 37, F = 29 };
	double xd[N * V], ld[N], dd[N * V], gd[N * 2 * F], od[N * F], dgd[N * 2 * F];
	float xf[N * V], lf[N], df[N * V], gf[N * 2 * F], of[N * F], dgf[N * 2 * F];
	int tg[N] = { 3, 36, 0 };
	for (int i = 0; i < N * V; i++) {
		xf[i] = (float)(rng_normal(r) * (i < V ? 1 : 30));   /* row 1, 2: wide logits */
		xd[i] = xf[i];
	}
	for (int i = 0; i < N * 2 * F; i++) {
		gf[i] = (float)(rng_normal(r) * (i % 7 == 0 ? 60 : 3));  /* SiLU far into both tails */
		gd[i] = gf[i];
	}
	crossentropy_forward(lf, xf, tg, N, V);
	crossentropy_forward_d(ld, xd, tg, N, V);
	CHECK(rel_err_fd(lf, ld, N) < 1e-6);
	crossentropy_backward(df, xf, tg, 0.5f, N, V);
	crossentropy_backward_d(dd, xd, tg, 0.5, N, V);
	CHECK(rel_err_fd(df, dd, N * V) < 1e-6);
	swiglu_forward(of, gf, N, F);
	swiglu_forward_d(od, gd, N, F);
	CHECK(rel_err_fd(of, od, N * F) < 1e-6);
	float dyf[N * F];
	double dyd[N * F];
	for (int i = 0; i < N * F; i++)
		dyd[i] = dyf[i] = (float)rng_normal(r);
	memset(dgf, 0, sizeof(dgf));
	memset(dgd, 0, sizeof(dgd));
	swiglu_backward(dgf, dyf, gf, N, F);
	swiglu_backward_d(dgd, dyd, gd, N, F);
	CHECK(rel_err_fd(dgf, dgd, N * 2 * F) < 1e-6);
	/* attention probabilities: a row of 70 scores (8-lane blocks and a tail) */
	enum { T = 70, HD = 4 };
	float qf[T * 3 * HD], attf[T * T], outf[T * HD];
	double qdd[T * 3 * HD], attd[T * T], outd[T * HD];
	for (int i = 0; i < T * 3 * HD; i++)
		qdd[i] = qf[i] = (float)(rng_normal(r) * 4);
	attention_forward(outf, attf, qf, 1, T, 1, 1, HD);
	attention_forward_d(outd, attd, qdd, 1, T, 1, 1, HD);
	CHECK(rel_err_fd(attf, attd, T * T) < 1e-6);
	CHECK(rel_err_fd(outf, outd, T * HD) < 1e-5);
}

/* ------------------------------------------------------------ the thread pool */
static void bump(void *ctx, long i0, long i1)
{
	int *a = ctx;
	for (long i = i0; i < i1; i++)
		a[i]++;
}

/* Every item exactly once, for any thread count, across pool restarts (a restarted worker must
 * not re-run the job that was current before it started). */
static void test_pool(void)
{
	enum { N = 1000 };
	static int a[N], b[N], c[N];
	threads_set(2);
	threads_for(bump, a, N, 1);
	threads_set(1);
	threads_set(2);
	threads_for(bump, b, N, 1);
	threads_shutdown();
	threads_for(bump, c, N, 1);     /* restarts the workers */
	threads_for(bump, c, N, 600);   /* one thread: chunks of >= 600 */
	int ok = 1;
	for (int i = 0; i < N; i++)
		ok &= a[i] == 1 && b[i] == 1 && c[i] == 2;
	CHECK(ok);
	CHECK_INT(threads_get(), 2);
	threads_set(1);
}

int main(void)
{
	test_pool();
	Rng r0;
	rng_init(&r0, 99, 0);
	test_float_vs_double(&r0);
	Rng r;
	rng_init(&r, 1234, 0);
	for (int nt = 1; nt <= 2; nt++) {       /* the pool must not change a result */
		threads_set(nt);
		test_rmsnorm(&r);
		test_matmul(&r);
		test_rope(&r);
		test_attention(&r, 4, 4, 5);
		test_attention(&r, 4, 2, 5);
		if (nt == 1)
			test_attention(&r, 2, 1, 70);
		test_swiglu(&r);
		test_xent(&r);
		test_lora(&r);
		test_embedding_dropout(&r);
	}
	threads_shutdown();
	return test_summary();
}
