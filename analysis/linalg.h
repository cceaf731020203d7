/* linalg.h: the dense linear algebra of alignment directions and AsFT projectors.
 *
 * - Top-k SVD of a weight delta V (out x in): LAPACKE dgesdd for small matrices, a randomized
 *   range finder (Halko, Martinsson & Tropp 2011, Alg. 4.4: Gaussian test matrix, oversampling,
 *   power iterations with re-orthonormalisation) for large ones, chosen automatically.
 * - Gram-Schmidt in double, directly on vectors or in "coefficient form" from a Gram matrix (so
 *   directions spread over many tensors can be orthogonalised in a streaming pass).
 * - The projectors of PAPER.md section 2, applied without ever forming an out x out matrix:
 *     C_hat = V V^T / ||V||_F   (the authors' code; eigenvalues sigma_i^2 / ||V||_F)
 *     C_k   = U_k U_k^T         (exact projector onto the top-k left singular vectors)
 *   and the AsFT penalty ||(I - C) B A||_F^2 = trace((X^T X)(A A^T)) with X = (I - C) B.
 *
 * All matrices are row-major. Factor outputs are double. Inputs that are model weights are float
 * (the toolkit's storage type); their products go through sgemm, everything else through dgemm.
 * Nothing here reads files; errors (only LAPACK failures and bad sizes) return -1 with err_set. */
#ifndef ASFT_LINALG_H
#define ASFT_LINALG_H

#include <stddef.h>
#include <stdint.h>

/* ---- dense helpers (double) ---- */

/* la_orthonormalize: replaces the columns of Q (m x n, m >= n) by an orthonormal basis of their
 * span (Householder QR, LAPACKE dgeqrf + dorgqr). 0 ok, -1 with err_set. */
int la_orthonormalize(double *Q, int m, int n);

/* la_svd_full: thin SVD A = U diag(s) Vt of A (m x n) by LAPACKE dgesdd; A is destroyed.
 * s is (min(m,n)) descending, U (m x min) and Vt (min x n); U or Vt may be NULL to skip them
 * (both NULL: values only). 0 ok, -1 with err_set. */
int la_svd_full(double *A, int m, int n, double *s, double *U, double *Vt);

/* ---- top-k SVD of a float matrix ---- */

typedef enum {
	SVD_AUTO,           /* exact when min(m,n) <= exact_max or k + oversample > min(m,n) / 2 */
	SVD_EXACT,          /* dgesdd on a double copy */
	SVD_RANDOMIZED,     /* randomized range finder + dgesdd of the small projected matrix */
} SvdMethod;

typedef struct {
	SvdMethod method;
	int oversample;     /* extra columns of the test matrix (default 10) */
	int power_iters;    /* subspace iterations (default 4) */
	int exact_max;      /* AUTO uses dgesdd up to this min(m,n) (default 512) */
	uint64_t seed;      /* seed of the Gaussian test matrix (rng stream 0) */
} SvdOpts;

void svd_opts_default(SvdOpts *o);
const char *svd_method_name(SvdMethod m);   /* "auto", "exact", "randomized" */
int svd_method_parse(const char *s, SvdMethod *m);   /* 0 ok, -1 with err_set */

/* svd_topk: the top k singular triplets of A (m x n float): s (k) descending, U (m x k) and
 * V (n x k) (right singular vectors as columns; U or V may be NULL). k <= min(m,n). Signs are
 * fixed so that the largest-magnitude entry of each column of U is positive (results do not
 * depend on the method's arbitrary signs). s_all (may be NULL; min(m,n) entries) receives the
 * whole spectrum when the exact method ran, and is untouched otherwise. Returns the method
 * used (SVD_EXACT or SVD_RANDOMIZED) or -1 with err_set. Uses O((m + n) (k + oversample))
 * doubles beyond A for the randomized method, and a double copy of A for the exact one. */
int svd_topk(const float *A, int m, int n, int k, const SvdOpts *o, double *s, double *U,
	     double *V, double *s_all);

/* ---- Gram-Schmidt in double ---- */

/* gs_orthogonalize: removes from x (len) its components along the n mutually orthogonal
 * vectors basis[i] (each len, nonzero), twice ("twice is enough", Giraud et al. 2005). */
void gs_orthogonalize(double *x, const double *const *basis, int n, size_t len);

/* gs_coefficients: Gram-Schmidt in coefficient form. G (n x n) is the Gram matrix <x_i, x_j>
 * of n vectors. Fills T (n x n, upper triangular, T[j][j] = 1) so that the vectors
 * q_j = sum_i T[i*n + j] x_i are mutually orthogonal and q_j - x_j lies in span(x_0..x_{j-1}):
 * classical Gram-Schmidt with one re-orthogonalisation, done on coefficients in the metric G.
 * qnorm2 (n, may be NULL) receives ||q_j||^2. Returns the index of the first vector that is
 * (numerically) dependent on the previous ones (||q_j||^2 <= 1e-12 ||x_j||^2, below what
 * arithmetic on a Gram matrix resolves; its ||q_j||^2 is reported as 0), or n if none. */
int gs_coefficients(const double *G, int n, double *T, double *qnorm2);

/* ---- AsFT projectors (PAPER.md section 2), never forming out x out matrices ---- */

/* proj_chat_residual: X (out,r) = (I - C_hat) B = B - V (V^T B) / vnorm, with V the full delta
 * (out,in), vnorm = ||V||_F, B (out,r). work is (in,r). vnorm <= 0 gives X = B. */
void proj_chat_residual(double *X, const double *V, double vnorm, const double *B, int out,
			int in, int r, double *work);
/* proj_chat_lowrank_residual: the same with C_hat truncated to the stored top-k factors:
 * C_hat_k = U diag(s^2 / vnorm) U^T, U (out,k). work is (k,r). */
void proj_chat_lowrank_residual(double *X, const double *U, const double *s, int k,
				double vnorm, const double *B, int out, int r, double *work);
/* proj_topk_residual: X (out,r) = (I - C_k) B = B - U (U^T B), U (out,k) orthonormal columns.
 * work is (k,r). */
void proj_topk_residual(double *X, const double *U, int k, const double *B, int out, int r,
			double *work);
/* proj_penalty: ||X A||_F^2 = trace((X^T X)(A A^T)) for X (out,r), A (r,in), in
 * O((out + in) r^2) (the paper's cheap evaluation). */
double proj_penalty(const double *X, const double *A, int out, int r, int in);

/* proj_penalty_grad: the parts of the penalty's gradient, for P = ||(I - C) B A||_F^2 with
 * X = (I - C) B (C symmetric, as C_hat and C_k are):
 *   dP/dA = 2 (X^T X) A           -> gA (r,in) = (X^T X) A
 *   dP/dB = 2 (I - C) X (A A^T)   -> M (out,r) = X (A A^T); apply the same residual function
 *                                    to M for (I - C) M.
 * The caller multiplies by 2 lambda. Cost O((out + in) r^2). */
void proj_penalty_grad(double *gA, double *M, const double *X, const double *A, int out, int r,
		       int in);

/* Float versions for training steps (sgemm; the full-V C_hat of a 7B model does not fit in
 * double). Same contracts as the double functions; work is (in,r) and (k,r). */
void proj_chat_residual_f32(float *X, const float *V, float vnorm, const float *B, int out,
			    int in, int r, float *work);
void proj_topk_residual_f32(float *X, const float *U, int k, const float *B, int out, int r,
			    float *work);

/* ---- spectrum summaries of a delta ---- */

/* chat_eig_counts: how many eigenvalues sigma_i^2 / vnorm of C_hat exceed thr, from the top k
 * singular values s and the total energy vnorm^2. *exact = 1 when no eigenvalue beyond the k
 * known ones can exceed thr (the rest of the energy, vnorm^2 - sum s_i^2, bounds every unseen
 * sigma^2, and so does s_k^2); else the count is a lower bound and *exact = 0. */
int chat_eig_counts(const double *s, int k, double vnorm, double thr, int *exact);

#endif
