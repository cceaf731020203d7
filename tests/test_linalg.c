/* test_linalg: SVD (exact and randomized) on matrices with known spectra, Gram-Schmidt, and the
 * AsFT projector identities checked against dense out x out computations in double. */
#include "harness.h"
#include "linalg.h"
#include "rng.h"
#include "util.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

static double *randmat(Rng *r, int m, int n)
{
	double *a = xmalloc((size_t)m * n * sizeof(double));
	for (size_t i = 0; i < (size_t)m * n; i++)
		a[i] = rng_normal(r);
	return a;
}

/* A (m,n) = U diag(s) V^T with random orthonormal U (m,q), V (n,q); returns A as float and,
 * optionally, the factors. */
static float *known_spectrum(Rng *r, int m, int n, const double *s, int q, double **Uo, double **Vo)
{
	double *U = randmat(r, m, q), *V = randmat(r, n, q);
	CHECK_INT(la_orthonormalize(U, m, q), 0);
	CHECK_INT(la_orthonormalize(V, n, q), 0);
	float *A = xmalloc((size_t)m * n * sizeof(float));
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++) {
			double acc = 0;
			for (int t = 0; t < q; t++)
				acc += U[(size_t)i * q + t] * s[t] * V[(size_t)j * q + t];
			A[(size_t)i * n + j] = (float)acc;
		}
	if (Uo) *Uo = U; else free(U);
	if (Vo) *Vo = V; else free(V);
	return A;
}

static double col_dot(const double *a, const double *b, int rows, int k, int i)
{
	double d = 0;
	for (int r = 0; r < rows; r++)
		d += a[(size_t)r * k + i] * b[(size_t)r * k + i];
	return d;
}

static void test_svd_known_spectrum(void)
{
	Rng r;
	rng_init(&r, 7, 0);
	int m = 600, n = 400, q = 400, k = 8;
	double *s = xmalloc(q * sizeof(double));
	for (int i = 0; i < q; i++)
		s[i] = 10.0 * pow(0.85, i);     /* geometric decay, as weight deltas show */
	double *Ut, *Vt;
	float *A = known_spectrum(&r, m, n, s, q, &Ut, &Vt);

	SvdOpts o;
	svd_opts_default(&o);
	double se[8], sr[8], *Ue = xmalloc((size_t)m * k * 8), *Ve = xmalloc((size_t)n * k * 8);
	double *Ur = xmalloc((size_t)m * k * 8), *Vr = xmalloc((size_t)n * k * 8);
	double *sall = xmalloc((size_t)n * sizeof(double));
	o.method = SVD_EXACT;
	CHECK_INT(svd_topk(A, m, n, k, &o, se, Ue, Ve, sall), SVD_EXACT);
	CHECK_ALLCLOSE(se, s, k, 1e-5, 1e-5);
	CHECK_CLOSE(sall[q - 1], s[q - 1], 1e-5, 1e-3);
	o.method = SVD_RANDOMIZED;
	CHECK_INT(svd_topk(A, m, n, k, &o, sr, Ur, Vr, NULL), SVD_RANDOMIZED);
	CHECK_ALLCLOSE(sr, se, k, 0, 1e-4);
	/* singular vectors: the sign convention makes them equal, not just parallel */
	double worst = 1;
	for (int i = 0; i < k; i++) {
		double du = col_dot(Ur, Ue, m, k, i), dv = col_dot(Vr, Ve, n, k, i);
		if (du < worst) worst = du;
		if (dv < worst) worst = dv;
	}
	CHECK(worst > 1 - 1e-4);
	/* U has orthonormal columns */
	double maxoff = 0;
	for (int i = 0; i < k; i++)
		for (int j = 0; j < k; j++) {
			double d = 0;
			for (int t = 0; t < m; t++)
				d += Ur[(size_t)t * k + i] * Ur[(size_t)t * k + j];
			maxoff = fmax(maxoff, fabs(d - (i == j)));
		}
	CHECK(maxoff < 1e-10);
	/* reproducible bitwise for a seed, different for another */
	double s2[8], *U2 = xmalloc((size_t)m * k * 8);
	CHECK_INT(svd_topk(A, m, n, k, &o, s2, U2, NULL, NULL), SVD_RANDOMIZED);
	CHECK(memcmp(s2, sr, sizeof s2) == 0 && memcmp(U2, Ur, (size_t)m * k * 8) == 0);
	o.seed = 99;
	CHECK_INT(svd_topk(A, m, n, k, &o, s2, U2, NULL, NULL), SVD_RANDOMIZED);
	CHECK(memcmp(s2, sr, sizeof s2) != 0);
	CHECK_ALLCLOSE(s2, se, k, 0, 1e-4);

	/* AUTO: exact for small matrices, randomized beyond exact_max */
	svd_opts_default(&o);
	CHECK_INT(svd_topk(A, m, n, k, &o, s2, NULL, NULL, NULL), SVD_EXACT);
	o.exact_max = 100;
	CHECK_INT(svd_topk(A, m, n, k, &o, s2, NULL, NULL, NULL), SVD_RANDOMIZED);
	CHECK_ALLCLOSE(s2, s, k, 0, 1e-4);
	/* wide matrix (m < n) through the randomized path */
	float *At = xmalloc((size_t)m * n * sizeof(float));
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++)
			At[(size_t)j * m + i] = A[(size_t)i * n + j];
	CHECK_INT(svd_topk(At, n, m, k, &o, s2, NULL, NULL, NULL), SVD_RANDOMIZED);
	CHECK_ALLCLOSE(s2, s, k, 0, 1e-4);

	CHECK_INT(svd_topk(A, m, n, n + 1, &o, s2, NULL, NULL, NULL), -1);
	CHECK_CONTAINS(err_msg(), "k <= min(m, n)");
	free(s); free(Ut); free(Vt); free(A); free(Ue); free(Ve); free(Ur); free(Vr); free(U2);
	free(sall); free(At);
}

/* A slowly decaying spectrum with a gap after the 8th value: the randomized method needs its
 * power iterations here; check both the values and the captured energy. */
static void test_svd_gap(void)
{
	Rng r;
	rng_init(&r, 11, 0);
	int m = 700, n = 700, q = 300, k = 8;
	double *s = xmalloc(q * sizeof(double));
	for (int i = 0; i < q; i++)
		s[i] = i < k ? 5.0 - 0.3 * i : 1.0 / (1 + 0.05 * i);
	float *A = known_spectrum(&r, m, n, s, q, NULL, NULL);
	SvdOpts o;
	svd_opts_default(&o);
	o.method = SVD_RANDOMIZED;
	double sr[8];
	CHECK_INT(svd_topk(A, m, n, k, &o, sr, NULL, NULL, NULL), SVD_RANDOMIZED);
	CHECK_ALLCLOSE(sr, s, k, 0, 1e-3);
	free(s);
	free(A);
}

static void test_orthonormalize_errors(void)
{
	double q[6] = {0};
	CHECK_INT(la_orthonormalize(q, 2, 3), -1);
	CHECK_CONTAINS(err_msg(), "m >= n");
	SvdMethod m;
	CHECK_INT(svd_method_parse("randomized", &m), 0);
	CHECK_INT(m, SVD_RANDOMIZED);
	CHECK_INT(svd_method_parse("fast", &m), -1);
	CHECK_CONTAINS(err_msg(), "'fast'");
}

/* dense reference: out (m,n) = a (m,p) b (p,n) */
static void mm(double *out, const double *a, const double *b, int m, int p, int n)
{
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, p, 1.0, a, p, b, n, 0.0, out, n);
}

static double fro2(const double *a, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * a[i];
	return s;
}

static void test_projectors(void)
{
	Rng r;
	rng_init(&r, 3, 0);
	int out = 40, in = 30, rk = 4, k = 5;
	double *V = randmat(&r, out, in), *B = randmat(&r, out, rk), *A = randmat(&r, rk, in);
	for (size_t i = 0; i < (size_t)out * in; i++)
		V[i] *= 0.01;           /* small delta: C_hat's eigenvalues fall below 1 */
	double vnorm = sqrt(fro2(V, (size_t)out * in));
	double *Vc = xmalloc((size_t)out * in * 8), *s = xmalloc(in * 8);
	double *U = xmalloc((size_t)out * in * 8), *Vt = xmalloc((size_t)in * in * 8);
	memcpy(Vc, V, (size_t)out * in * 8);
	CHECK_INT(la_svd_full(Vc, out, in, s, U, Vt), 0);

	/* dense C_hat = V V^T / ||V||_F and its eigenvalues (symmetric PSD: singular values) */
	double *C = xmalloc((size_t)out * out * 8), *C2 = xmalloc((size_t)out * out * 8);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, out, out, in, 1.0 / vnorm, V, in, V, in,
		    0.0, C, out);
	memcpy(C2, C, (size_t)out * out * 8);
	double *eig = xmalloc(out * 8);
	CHECK_INT(la_svd_full(C2, out, out, eig, NULL, NULL), 0);
	double *expect = xmalloc(in * 8);
	for (int i = 0; i < in; i++)
		expect[i] = s[i] * s[i] / vnorm;
	CHECK_ALLCLOSE(eig, expect, in, 1e-13, 1e-10);
	CHECK(eig[0] < 1);
	/* C_hat is not idempotent: C^2 != C */
	mm(C2, C, C, out, out, out);
	double diff = 0;
	for (size_t i = 0; i < (size_t)out * out; i++)
		diff = fmax(diff, fabs(C2[i] - C[i]));
	CHECK(diff > 1e-3);

	/* (I - C_hat) B two ways, and the penalty low-rank vs dense */
	double *X = xmalloc((size_t)out * rk * 8), *Xd = xmalloc((size_t)out * rk * 8);
	double *work = xmalloc((size_t)in * rk * 8);
	proj_chat_residual(X, V, vnorm, B, out, in, rk, work);
	mm(Xd, C, B, out, out, rk);
	for (size_t i = 0; i < (size_t)out * rk; i++)
		Xd[i] = B[i] - Xd[i];
	CHECK_ALLCLOSE(X, Xd, (size_t)out * rk, 1e-13, 1e-11);
	double *BA = xmalloc((size_t)out * in * 8), *R = xmalloc((size_t)out * in * 8);
	mm(BA, B, A, out, rk, in);
	mm(R, C, BA, out, out, in);
	for (size_t i = 0; i < (size_t)out * in; i++)
		R[i] = BA[i] - R[i];
	double dense = fro2(R, (size_t)out * in);
	CHECK_CLOSE(proj_penalty(X, A, out, rk, in), dense, 0, 1e-11);
	/* the full-rank factored C_hat equals the exact one */
	double *Xl = xmalloc((size_t)out * rk * 8);
	proj_chat_lowrank_residual(Xl, U, s, in, vnorm, B, out, rk, work);
	double *Uk = xmalloc((size_t)out * k * 8);
	CHECK_ALLCLOSE(Xl, X, (size_t)out * rk, 1e-12, 1e-10);
	/* a small C_hat makes the penalty close to the plain L2 ||B A||^2 */
	CHECK(dense < fro2(BA, (size_t)out * in) && dense > 0.9 * fro2(BA, (size_t)out * in));

	/* C_k = U_k U_k^T: idempotent, and the residual two ways */
	for (int i = 0; i < out; i++)
		memcpy(Uk + (size_t)i * k, U + (size_t)i * in, (size_t)k * 8);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, out, out, k, 1.0, Uk, k, Uk, k, 0.0, C, out);
	mm(C2, C, C, out, out, out);
	CHECK_ALLCLOSE(C2, C, (size_t)out * out, 1e-14, 1e-12);
	proj_topk_residual(X, Uk, k, B, out, rk, work);
	mm(Xd, C, B, out, out, rk);
	for (size_t i = 0; i < (size_t)out * rk; i++)
		Xd[i] = B[i] - Xd[i];
	CHECK_ALLCLOSE(X, Xd, (size_t)out * rk, 1e-13, 1e-11);
	mm(R, C, BA, out, out, in);
	for (size_t i = 0; i < (size_t)out * in; i++)
		R[i] = BA[i] - R[i];
	CHECK_CLOSE(proj_penalty(X, A, out, rk, in), fro2(R, (size_t)out * in), 0, 1e-11);
	/* (I - C_k) kills U_k: the residual of U_k itself is zero */
	double *Xu = xmalloc((size_t)out * k * 8), *wk = xmalloc((size_t)k * k * 8);
	proj_topk_residual(Xu, Uk, k, Uk, out, k, wk);
	CHECK(sqrt(fro2(Xu, (size_t)out * k)) < 1e-13);

	free(V); free(B); free(A); free(Vc); free(s); free(U); free(Vt); free(C); free(C2); free(eig);
	free(expect); free(X); free(Xd); free(work); free(BA); free(R); free(Xl); free(Uk); free(Xu);
	free(wk);
}

/* penalty gradient against central finite differences, and the float residuals against the
 * double ones */
static void test_penalty_grad(void)
{
	Rng r;
	rng_init(&r, 21, 0);
	int out = 12, in = 9, rk = 3;
	double *V = randmat(&r, out, in), *B = randmat(&r, out, rk), *A = randmat(&r, rk, in);
	double vn = sqrt(fro2(V, (size_t)out * in));
	double *X = xmalloc((size_t)out * rk * 8), *work = xmalloc((size_t)in * rk * 8);
	double *gA = xmalloc((size_t)rk * in * 8), *M = xmalloc((size_t)out * rk * 8);
	double *gB = xmalloc((size_t)out * rk * 8);
	proj_chat_residual(X, V, vn, B, out, in, rk, work);
	proj_penalty_grad(gA, M, X, A, out, rk, in);
	proj_chat_residual(gB, V, vn, M, out, in, rk, work);       /* (I - C) X A A^T */
	double h = 1e-6, worst = 0;
	for (int i = 0; i < rk * in; i++) {
		double keep = A[i];
		A[i] = keep + h;
		double p1 = proj_penalty(X, A, out, rk, in);
		A[i] = keep - h;
		double p0 = proj_penalty(X, A, out, rk, in);
		A[i] = keep;
		worst = fmax(worst, fabs((p1 - p0) / (2 * h) - 2 * gA[i]));
	}
	for (int i = 0; i < out * rk; i++) {
		double keep = B[i];
		B[i] = keep + h;
		proj_chat_residual(X, V, vn, B, out, in, rk, work);
		double p1 = proj_penalty(X, A, out, rk, in);
		B[i] = keep - h;
		proj_chat_residual(X, V, vn, B, out, in, rk, work);
		double p0 = proj_penalty(X, A, out, rk, in);
		B[i] = keep;
		worst = fmax(worst, fabs((p1 - p0) / (2 * h) - 2 * gB[i]));
	}
	CHECK(worst < 1e-5);
	/* float residuals */
	proj_chat_residual(X, V, vn, B, out, in, rk, work);
	float *Vf = xmalloc((size_t)out * in * 4), *Bf = xmalloc((size_t)out * rk * 4);
	float *Xf = xmalloc((size_t)out * rk * 4), *wf = xmalloc((size_t)in * rk * 4);
	for (int i = 0; i < out * in; i++)
		Vf[i] = (float)V[i];
	for (int i = 0; i < out * rk; i++)
		Bf[i] = (float)B[i];
	proj_chat_residual_f32(Xf, Vf, (float)vn, Bf, out, in, rk, wf);
	CHECK_ALLCLOSE(Xf, X, (size_t)out * rk, 1e-5, 1e-5);
	double *U = xmalloc((size_t)out * in * 8), *s = xmalloc((size_t)in * 8), *Vc = xmalloc((size_t)out * in * 8);
	memcpy(Vc, V, (size_t)out * in * 8);
	CHECK_INT(la_svd_full(Vc, out, in, s, U, NULL), 0);
	int k = 4;
	double *Uk = xmalloc((size_t)out * k * 8);
	float *Ukf = xmalloc((size_t)out * k * 4);
	for (int i = 0; i < out; i++)
		for (int j = 0; j < k; j++)
			Ukf[i * k + j] = (float)(Uk[i * k + j] = U[i * in + j]);
	proj_topk_residual(X, Uk, k, B, out, rk, work);
	proj_topk_residual_f32(Xf, Ukf, k, Bf, out, rk, wf);
	CHECK_ALLCLOSE(Xf, X, (size_t)out * rk, 1e-5, 1e-5);
	free(V); free(B); free(A); free(X); free(work); free(gA); free(M); free(gB); free(Vf);
	free(Bf); free(Xf); free(wf); free(U); free(s); free(Vc); free(Uk); free(Ukf);
}

static void test_gram_schmidt(void)
{
	Rng r;
	rng_init(&r, 5, 0);
	int n = 5;
	size_t len = 1000;
	double *X = randmat(&r, n, (int)len);
	for (size_t e = 0; e < len; e++)        /* make them far from orthogonal */
		for (int i = 1; i < n; i++)
			X[i * len + e] += 0.9 * X[e];
	/* direct */
	double *Q = xmalloc(n * len * 8);
	memcpy(Q, X, n * len * 8);
	const double *basis[5];
	for (int j = 0; j < n; j++) {
		gs_orthogonalize(Q + j * len, basis, j, len);
		basis[j] = Q + j * len;
	}
	double worst = 0;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++) {
			double d = 0;
			for (size_t e = 0; e < len; e++)
				d += Q[i * len + e] * Q[j * len + e];
			worst = fmax(worst, fabs(d) / sqrt(fro2(Q + i * len, len) * fro2(Q + j * len, len)));
		}
	CHECK(worst < 1e-14);
	/* coefficient form from the Gram matrix gives the same vectors */
	double G[25], T[25], qn[5];
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, (int)len, 1.0, X, (int)len, X,
		    (int)len, 0.0, G, n);
	CHECK_INT(gs_coefficients(G, n, T, qn), n);
	double *Q2 = xcalloc(n * len, 8);
	for (int j = 0; j < n; j++)
		for (int i = 0; i <= j; i++)
			for (size_t e = 0; e < len; e++)
				Q2[j * len + e] += T[i * n + j] * X[i * len + e];
	CHECK_ALLCLOSE(Q2, Q, n * len, 1e-10, 1e-9);
	CHECK_CLOSE(qn[3], fro2(Q + 3 * len, len), 0, 1e-10);
	CHECK_CLOSE(T[2 * n + 2], 1.0, 0, 0);
	CHECK_CLOSE(T[3 * n + 2], 0.0, 0, 0);
	/* a dependent vector is reported */
	for (size_t e = 0; e < len; e++)
		X[3 * len + e] = X[e] + 2 * X[len + e];
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, (int)len, 1.0, X, (int)len, X,
		    (int)len, 0.0, G, n);
	CHECK_INT(gs_coefficients(G, n, T, qn), 3);
	CHECK_CLOSE(qn[3], 0.0, 0, 0);
	free(X); free(Q); free(Q2);
}

static void test_eig_counts(void)
{
	double s[3] = {3, 2, 1};
	double vn = sqrt(14.0);     /* eigenvalues 2.405, 1.069, 0.267 */
	int exact;
	CHECK_INT(chat_eig_counts(s, 3, vn, 1.0, &exact), 2);
	CHECK_INT(exact, 1);
	CHECK_INT(chat_eig_counts(s, 3, vn, 0.5, &exact), 2);
	CHECK_INT(chat_eig_counts(s, 2, vn, 0.5, &exact), 2);
	CHECK_INT(exact, 1);        /* the unseen energy 1 gives at most 0.267 */
	CHECK_INT(chat_eig_counts(s, 2, vn, 0.2, &exact), 2);
	CHECK_INT(exact, 0);        /* ... which could exceed 0.2 */
	CHECK_INT(chat_eig_counts(s, 0, 0.0, 0.5, &exact), 0);
	CHECK_INT(exact, 1);
}

int main(void)
{
	test_svd_known_spectrum();
	test_svd_gap();
	test_orthonormalize_errors();
	test_projectors();
	test_gram_schmidt();
	test_penalty_grad();
	test_eig_counts();
	return test_summary();
}
