/* linalg.c: top-k SVD (dgesdd or randomized), Gram-Schmidt, AsFT projector algebra.
 * See linalg.h for the contracts. Deliberately no file I/O and no float/double templates: model
 * weights come in as float, everything that is accumulated or factored is double. */
#include "linalg.h"
#include "rng.h"
#include "util.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int la_orthonormalize(double *Q, int m, int n)
{
	if (m < n || n <= 0)
		return err_set("la_orthonormalize: need m >= n > 0 (got %d x %d)", m, n);
	double *tau = xmalloc((size_t)n * sizeof(double));
	int ret = -1;
	lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, m, n, Q, n, tau);
	if (info != 0) {
		err_set("la_orthonormalize: dgeqrf failed (info %d) on a %d x %d matrix", (int)info, m, n);
		goto out_free;
	}
	info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, m, n, n, Q, n, tau);
	if (info != 0) {
		err_set("la_orthonormalize: dorgqr failed (info %d) on a %d x %d matrix", (int)info, m, n);
		goto out_free;
	}
	ret = 0;
out_free:
	free(tau);
	return ret;
}

int la_svd_full(double *A, int m, int n, double *s, double *U, double *Vt)
{
	if (m <= 0 || n <= 0)
		return err_set("la_svd_full: empty matrix (%d x %d)", m, n);
	int mn = m < n ? m : n;
	char jobz = (U || Vt) ? 'S' : 'N';
	double *u = U, *vt = Vt, *tmp_u = NULL, *tmp_vt = NULL;
	if (jobz == 'S' && !u)
		u = tmp_u = xmalloc((size_t)m * mn * sizeof(double));
	if (jobz == 'S' && !vt)
		vt = tmp_vt = xmalloc((size_t)mn * n * sizeof(double));
	/* LAPACKE wants valid leading dimensions even when the factors are not referenced. */
	double dummy = 0;
	lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, jobz, m, n, A, n, s,
					 u ? u : &dummy, u ? mn : 1, vt ? vt : &dummy, n);
	free(tmp_u);
	free(tmp_vt);
	if (info != 0)
		return err_set("la_svd_full: dgesdd failed (info %d) on a %d x %d matrix", (int)info, m, n);
	return 0;
}

void svd_opts_default(SvdOpts *o)
{
	o->method = SVD_AUTO;
	o->oversample = 10;
	o->power_iters = 4;
	o->exact_max = 512;
	o->seed = 1234;
}

const char *svd_method_name(SvdMethod m)
{
	switch (m) {
	case SVD_AUTO: return "auto";
	case SVD_EXACT: return "exact";
	case SVD_RANDOMIZED: return "randomized";
	}
	return "?";
}

int svd_method_parse(const char *s, SvdMethod *m)
{
	for (int i = SVD_AUTO; i <= SVD_RANDOMIZED; i++)
		if (!strcmp(s, svd_method_name((SvdMethod)i))) {
			*m = (SvdMethod)i;
			return 0;
		}
	return err_set("svd method '%s': expected auto, exact or randomized", s);
}

/* Fixes the sign of each singular pair so the largest-|.| entry of U's column is positive. */
static void svd_fix_signs(double *U, double *V, int m, int n, int k)
{
	if (!U)
		return;
	for (int i = 0; i < k; i++) {
		double best = 0;
		for (int r = 0; r < m; r++)
			if (fabs(U[(size_t)r * k + i]) > fabs(best))
				best = U[(size_t)r * k + i];
		if (best >= 0)
			continue;
		for (int r = 0; r < m; r++)
			U[(size_t)r * k + i] = -U[(size_t)r * k + i];
		if (V)
			for (int c = 0; c < n; c++)
				V[(size_t)c * k + i] = -V[(size_t)c * k + i];
	}
}

static int svd_exact(const float *A, int m, int n, int k, double *s, double *U, double *V,
		     double *s_all)
{
	int mn = m < n ? m : n, ret = -1;
	double *a = xmalloc((size_t)m * n * sizeof(double));
	double *sv = xmalloc((size_t)mn * sizeof(double));
	double *u = U ? xmalloc((size_t)m * mn * sizeof(double)) : NULL;
	double *vt = V ? xmalloc((size_t)mn * n * sizeof(double)) : NULL;
	for (size_t i = 0; i < (size_t)m * n; i++)
		a[i] = A[i];
	if (la_svd_full(a, m, n, sv, u, vt) < 0)
		goto out_free;
	memcpy(s, sv, (size_t)k * sizeof(double));
	if (s_all)
		memcpy(s_all, sv, (size_t)mn * sizeof(double));
	if (U)
		for (int r = 0; r < m; r++)
			memcpy(U + (size_t)r * k, u + (size_t)r * mn, (size_t)k * sizeof(double));
	if (V)
		for (int c = 0; c < n; c++)
			for (int i = 0; i < k; i++)
				V[(size_t)c * k + i] = vt[(size_t)i * n + c];
	ret = 0;
out_free:
	free(a);
	free(sv);
	free(u);
	free(vt);
	return ret;
}

static void to_float(float *dst, const double *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (float)src[i];
}

static void to_double(double *dst, const float *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
}

/* Randomized SVD (Halko et al. 2011, Alg. 4.4 + 5.1): Q spans A's dominant range, then the
 * small l x n matrix Q^T A is decomposed exactly. The sgemm products keep A in float; each
 * basis is re-orthonormalised in double so power iterations do not lose the small directions. */
static int svd_randomized(const float *A, int m, int n, int k, const SvdOpts *o, double *s,
			  double *U, double *V)
{
	int mn = m < n ? m : n;
	int l = k + (o->oversample > 0 ? o->oversample : 0);
	if (l > mn)
		l = mn;
	int ret = -1;
	size_t big = (size_t)(m > n ? m : n) * l;
	float *xf = xmalloc(big * sizeof(float));       /* Omega / Q / Z in float */
	float *yf = xmalloc(big * sizeof(float));       /* products in float */
	double *qm = xmalloc((size_t)m * l * sizeof(double));
	double *qn = xmalloc((size_t)n * l * sizeof(double));
	double *b = xmalloc((size_t)l * n * sizeof(double));
	double *sb = xmalloc((size_t)l * sizeof(double));
	double *ub = xmalloc((size_t)l * l * sizeof(double));
	double *vt = xmalloc((size_t)l * n * sizeof(double));

	Rng rng;
	rng_init(&rng, o->seed, 0);
	rng_fill_normal(&rng, xf, (size_t)n * l, 0.0f, 1.0f);      /* Omega (n, l) */
	/* Y (m,l) = A Omega */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, l, n, 1.0f, A, n, xf, l, 0.0f, yf, l);
	to_double(qm, yf, (size_t)m * l);
	if (la_orthonormalize(qm, m, l) < 0)
		goto out_free;
	for (int it = 0; it < o->power_iters; it++) {
		to_float(xf, qm, (size_t)m * l);
		/* Z (n,l) = A^T Q */
		cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n, l, m, 1.0f, A, n, xf, l, 0.0f, yf, l);
		to_double(qn, yf, (size_t)n * l);
		if (la_orthonormalize(qn, n, l) < 0)
			goto out_free;
		to_float(xf, qn, (size_t)n * l);
		/* Y (m,l) = A Z */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, l, n, 1.0f, A, n, xf, l, 0.0f, yf, l);
		to_double(qm, yf, (size_t)m * l);
		if (la_orthonormalize(qm, m, l) < 0)
			goto out_free;
	}
	/* B (l,n) = Q^T A */
	to_float(xf, qm, (size_t)m * l);
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, l, n, m, 1.0f, xf, l, A, n, 0.0f, yf, n);
	to_double(b, yf, (size_t)l * n);
	if (la_svd_full(b, l, n, sb, ub, vt) < 0)
		goto out_free;
	memcpy(s, sb, (size_t)k * sizeof(double));
	if (U)      /* U (m,k) = Q (m,l) Ub[:, :k] */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, k, l, 1.0, qm, l, ub, l, 0.0, U, k);
	if (V)
		for (int c = 0; c < n; c++)
			for (int i = 0; i < k; i++)
				V[(size_t)c * k + i] = vt[(size_t)i * n + c];
	ret = 0;
out_free:
	free(xf);
	free(yf);
	free(qm);
	free(qn);
	free(b);
	free(sb);
	free(ub);
	free(vt);
	return ret;
}

int svd_topk(const float *A, int m, int n, int k, const SvdOpts *o, double *s, double *U,
	     double *V, double *s_all)
{
	SvdOpts def;
	if (!o) {
		svd_opts_default(&def);
		o = &def;
	}
	int mn = m < n ? m : n;
	if (m <= 0 || n <= 0 || k <= 0 || k > mn)
		return err_set("svd_topk: need 0 < k <= min(m, n) (k %d, matrix %d x %d)", k, m, n);
	SvdMethod method = o->method;
	if (method == SVD_AUTO)
		method = (mn <= o->exact_max || 2 * (k + o->oversample) > mn) ? SVD_EXACT : SVD_RANDOMIZED;
	int rc = method == SVD_EXACT ? svd_exact(A, m, n, k, s, U, V, s_all)
				     : svd_randomized(A, m, n, k, o, s, U, V);
	if (rc < 0)
		return -1;
	svd_fix_signs(U, V, m, n, k);
	return method;
}

void gs_orthogonalize(double *x, const double *const *basis, int n, size_t len)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < n; i++) {
			double dx = 0, bb = 0;
			for (size_t e = 0; e < len; e++) {
				dx += x[e] * basis[i][e];
				bb += basis[i][e] * basis[i][e];
			}
			if (bb <= 0)
				continue;
			double a = dx / bb;
			for (size_t e = 0; e < len; e++)
				x[e] -= a * basis[i][e];
		}
}

/* a^T G b over the first n coefficients */
static double gram_dot(const double *G, int n, const double *a, const double *b)
{
	double s = 0;
	for (int i = 0; i < n; i++) {
		if (a[i] == 0)
			continue;
		double gi = 0;
		for (int j = 0; j < n; j++)
			gi += G[(size_t)i * n + j] * b[j];
		s += a[i] * gi;
	}
	return s;
}

int gs_coefficients(const double *G, int n, double *T, double *qnorm2)
{
	int first_dep = n;
	double *c = xmalloc((size_t)n * sizeof(double));
	double *q = xmalloc((size_t)n * sizeof(double));
	double *qq = xmalloc((size_t)n * sizeof(double));
	double *alpha = xmalloc((size_t)n * sizeof(double));
	memset(T, 0, (size_t)n * n * sizeof(double));
	for (int j = 0; j < n; j++) {
		memset(c, 0, (size_t)n * sizeof(double));
		c[j] = 1;
		for (int pass = 0; pass < 2; pass++) {
			/* classical GS: all coefficients against the same c, then subtract */
			for (int i = 0; i < j; i++) {
				alpha[i] = 0;
				if (qq[i] <= 0)
					continue;
				for (int r = 0; r < n; r++)
					q[r] = T[(size_t)r * n + i];
				alpha[i] = gram_dot(G, n, c, q) / qq[i];
			}
			for (int i = 0; i < j; i++)
				for (int r = 0; r <= i; r++)
					c[r] -= alpha[i] * T[(size_t)r * n + i];
		}
		for (int r = 0; r < n; r++)
			T[(size_t)r * n + j] = c[r];
		qq[j] = gram_dot(G, n, c, c);
		if (qq[j] <= 1e-12 * G[(size_t)j * n + j] || qq[j] <= 0) {
			if (first_dep == n)
				first_dep = j;
			qq[j] = 0;
		}
		if (qnorm2)
			qnorm2[j] = qq[j];
	}
	free(c);
	free(q);
	free(qq);
	free(alpha);
	return first_dep;
}

void proj_chat_residual(double *X, const double *V, double vnorm, const double *B, int out,
			int in, int r, double *work)
{
	memcpy(X, B, (size_t)out * r * sizeof(double));
	if (vnorm <= 0)
		return;
	/* work (in,r) = V^T B; X -= V work / vnorm */
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, r, out, 1.0, V, in, B, r, 0.0, work, r);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, r, in, -1.0 / vnorm, V, in, work, r,
		    1.0, X, r);
}

void proj_chat_lowrank_residual(double *X, const double *U, const double *s, int k,
				double vnorm, const double *B, int out, int r, double *work)
{
	memcpy(X, B, (size_t)out * r * sizeof(double));
	if (vnorm <= 0 || k <= 0)
		return;
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, r, out, 1.0, U, k, B, r, 0.0, work, r);
	for (int i = 0; i < k; i++) {
		double e = s[i] * s[i] / vnorm;
		for (int j = 0; j < r; j++)
			work[(size_t)i * r + j] *= e;
	}
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, r, k, -1.0, U, k, work, r, 1.0, X, r);
}

void proj_topk_residual(double *X, const double *U, int k, const double *B, int out, int r,
			double *work)
{
	memcpy(X, B, (size_t)out * r * sizeof(double));
	if (k <= 0)
		return;
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, r, out, 1.0, U, k, B, r, 0.0, work, r);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, r, k, -1.0, U, k, work, r, 1.0, X, r);
}

double proj_penalty(const double *X, const double *A, int out, int r, int in)
{
	double *xtx = xmalloc((size_t)r * r * sizeof(double));
	double *aat = xmalloc((size_t)r * r * sizeof(double));
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, r, out, 1.0, X, r, X, r, 0.0, xtx, r);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, r, in, 1.0, A, in, A, in, 0.0, aat, r);
	double t = 0;   /* trace(P Q) = sum_ij P_ij Q_ji; both symmetric */
	for (size_t i = 0; i < (size_t)r * r; i++)
		t += xtx[i] * aat[i];
	free(xtx);
	free(aat);
	return t;
}

void proj_penalty_grad(double *gA, double *M, const double *X, const double *A, int out, int r,
		       int in)
{
	double *xtx = xmalloc((size_t)r * r * sizeof(double));
	double *aat = xmalloc((size_t)r * r * sizeof(double));
	cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, r, out, 1.0, X, r, X, r, 0.0, xtx, r);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r, r, in, 1.0, A, in, A, in, 0.0, aat, r);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, in, r, 1.0, xtx, r, A, in, 0.0, gA, in);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, r, r, 1.0, X, r, aat, r, 0.0, M, r);
	free(xtx);
	free(aat);
}

void proj_chat_residual_f32(float *X, const float *V, float vnorm, const float *B, int out,
			    int in, int r, float *work)
{
	memcpy(X, B, (size_t)out * r * sizeof(float));
	if (vnorm <= 0)
		return;
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, r, out, 1.0f, V, in, B, r, 0.0f, work, r);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, r, in, -1.0f / vnorm, V, in, work, r,
		    1.0f, X, r);
}

void proj_topk_residual_f32(float *X, const float *U, int k, const float *B, int out, int r,
			    float *work)
{
	memcpy(X, B, (size_t)out * r * sizeof(float));
	if (k <= 0)
		return;
	cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, r, out, 1.0f, U, k, B, r, 0.0f, work, r);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, out, r, k, -1.0f, U, k, work, r, 1.0f, X, r);
}

int chat_eig_counts(const double *s, int k, double vnorm, double thr, int *exact)
{
	int count = 0;
	double seen = 0;
	if (vnorm <= 0) {
		*exact = 1;
		return 0;
	}
	for (int i = 0; i < k; i++) {
		if (s[i] * s[i] / vnorm > thr)
			count++;
		seen += s[i] * s[i];
	}
	double rest = vnorm * vnorm - seen;
	if (rest < 0)
		rest = 0;
	if (k > 0 && s[k - 1] * s[k - 1] < rest)
		rest = s[k - 1] * s[k - 1];
	*exact = rest / vnorm <= thr;
	return count;
}
