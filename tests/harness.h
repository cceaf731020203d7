/* harness.h: the tiny test harness every tests/test_*.c uses.
 *
 * Each CHECK_* counts one check. A failing check prints file:line, the expression and both
 * values; the program keeps going so one run shows every failure. main() ends with
 * `return test_summary();`, which prints "N passed, M failed" and returns non-zero when M > 0.
 * Closeness is |a-b| <= atol + rtol*|b| (b is the reference), as numpy.allclose.
 * Header-only on purpose: nothing to link, and each test binary is self-contained. */
#ifndef ASFT_HARNESS_H
#define ASFT_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stddef.h>

static int harness_pass, harness_fail;

static inline int harness_report(int ok, const char *file, int line, const char *what)
{
	if (ok) {
		harness_pass++;
	} else {
		harness_fail++;
		fprintf(stderr, "FAIL %s:%d: %s\n", file, line, what);
	}
	return ok;
}

#define CHECK(cond) harness_report(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_INT(a, b) do { \
	long long a_ = (long long)(a), b_ = (long long)(b); \
	if (!harness_report(a_ == b_, __FILE__, __LINE__, #a " == " #b)) \
		fprintf(stderr, "     got %lld, expected %lld\n", a_, b_); \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *a_ = (a), *b_ = (b); \
	int ok_ = a_ && b_ && strcmp(a_, b_) == 0; \
	if (!harness_report(ok_, __FILE__, __LINE__, #a " == " #b)) \
		fprintf(stderr, "     got \"%s\", expected \"%s\"\n", a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
} while (0)

/* hay contains needle: used to assert that an error message names the right fact. */
#define CHECK_CONTAINS(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	int ok_ = h_ && n_ && strstr(h_, n_) != NULL; \
	if (!harness_report(ok_, __FILE__, __LINE__, #hay " contains " #needle)) \
		fprintf(stderr, "     \"%s\" does not contain \"%s\"\n", h_ ? h_ : "(null)", n_ ? n_ : "(null)"); \
} while (0)

#define CHECK_CLOSE(a, b, atol, rtol) do { \
	double a_ = (double)(a), b_ = (double)(b); \
	int ok_ = fabs(a_ - b_) <= (atol) + (rtol) * fabs(b_) || (isnan(a_) && isnan(b_)); \
	if (!harness_report(ok_, __FILE__, __LINE__, #a " ~ " #b)) \
		fprintf(stderr, "     got %.9g, expected %.9g (diff %.3g)\n", a_, b_, fabs(a_ - b_)); \
} while (0)

/* Compares n floats or doubles (any element type convertible to double); one check for the
 * whole array, reporting the worst element by excess over its tolerance. Returns nothing. */
#define CHECK_ALLCLOSE(a, b, n, atol, rtol) do { \
	size_t n_ = (n), worst_ = 0, bad_ = 0; \
	double excess_ = -1.0; \
	for (size_t i_ = 0; i_ < n_; i_++) { \
		double x_ = (double)(a)[i_], y_ = (double)(b)[i_]; \
		double e_ = fabs(x_ - y_) - ((atol) + (rtol) * fabs(y_)); \
		if (isnan(x_) != isnan(y_)) e_ = INFINITY; \
		if (e_ > 0) bad_++; \
		if (e_ > excess_ || i_ == 0) { excess_ = e_; worst_ = i_; } \
	} \
	if (!harness_report(bad_ == 0, __FILE__, __LINE__, #a " ~ " #b " (allclose)")) \
		fprintf(stderr, "     %zu of %zu differ; worst [%zu]: got %.9g, expected %.9g\n", \
			bad_, n_, worst_, (double)(a)[worst_], (double)(b)[worst_]); \
} while (0)

/* Max relative error max|a-b| / max|b| over n elements: the figure engine tests report. */
static inline double harness_max_rel(const float *a, const float *b, size_t n)
{
	double num = 0, den = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]), m = fabs((double)b[i]);
		if (d > num) num = d;
		if (m > den) den = m;
	}
	return den > 0 ? num / den : num;
}

static inline int test_summary(void)
{
	printf("%d passed, %d failed\n", harness_pass, harness_fail);
	return harness_fail > 0;
}

#endif
