/* direction.c: d_aligned per tensor, streamed over two mmapped checkpoints (see direction.h).
 * Memory: two conversion chunks, plus one float copy of V for the tensor being decomposed;
 * the mapped pages of each tensor are released after use. Not here: sampling (perturb.c). */
#include "direction.h"
#include "hfconfig.h"
#include "util.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK 65536     /* elements converted at a time */

int tensor_is_float(const StTensor *t)
{
	return t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16 || t->dtype == ST_F64;
}

void tensor_read_f32(const StTensor *t, size_t first, size_t n, float *dst)
{
	const unsigned char *p = t->data;
	switch (t->dtype) {
	case ST_F32:
		memcpy(dst, p + first * 4, n * 4);
		break;
	case ST_BF16:
		if (((uintptr_t)p & 1) == 0) {      /* the usual case: a vectorisable shift */
			const uint16_t *restrict h = (const uint16_t *)(const void *)p + first;
			uint32_t *restrict u = (uint32_t *)(void *)dst;
			size_t i = 0;
			for (; i + 8 <= n; i += 8)      /* fixed inner count: SLP-vectorised at -O2 */
				for (int l = 0; l < 8; l++)
					u[i + l] = (uint32_t)h[i + l] << 16;
			for (; i < n; i++)
				u[i] = (uint32_t)h[i] << 16;
			break;
		}
		for (size_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + (first + i) * 2, 2);
			uint32_t u = (uint32_t)h << 16;
			memcpy(dst + i, &u, 4);
		}
		break;
	case ST_F16:
		for (size_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + (first + i) * 2, 2);
			dst[i] = st_f16_to_f32(h);
		}
		break;
	case ST_F64:
		for (size_t i = 0; i < n; i++) {
			double d;
			memcpy(&d, p + (first + i) * 8, 8);
			dst[i] = (float)d;
		}
		break;
	default:
		memset(dst, 0, n * sizeof(float));
	}
}

static void tensor_advise(const StTensor *t, int advice)
{
	if (!t->nbytes)
		return;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)t->data & ~(pg - 1), e = (uintptr_t)t->data + t->nbytes;
	madvise((void *)a, e - a, advice);     /* advisory: a failure changes nothing */
}

/* releases the pages of elements [0, upto) of t (the pages already consumed) */
static void tensor_release_range(const StTensor *t, size_t upto)
{
	size_t bytes = t->nbytes / (t->numel ? t->numel : 1) * upto;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)t->data & ~(pg - 1), e = ((uintptr_t)t->data + bytes) & ~(pg - 1);
	if (e > a)
		madvise((void *)a, e - a, MADV_DONTNEED);
}

/* v = a - b over n elements, accumulating into acc (double) ||b||^2, ||a||^2, ||v||^2, <v,a>.
 * Float partial sums over 8 lanes and blocks of 512, added into double per block: the loop
 * vectorises (no reassociation of a double chain is needed) and the rounding stays ~1e-7. */
static void delta_accumulate(float *restrict v, const float *restrict b, const float *restrict a,
			     size_t n, double *restrict acc)
{
	for (size_t s = 0; s < n; s += 512) {
		size_t m = n - s < 512 ? n - s : 512, i = 0;
		float pb[8] = {0}, pa[8] = {0}, pv[8] = {0}, pva[8] = {0};
		for (; i + 8 <= m; i += 8)
			for (int l = 0; l < 8; l++) {
				float x = b[s + i + l], y = a[s + i + l], d = y - x;
				v[s + i + l] = d;
				pb[l] += x * x;
				pa[l] += y * y;
				pv[l] += d * d;
				pva[l] += d * y;
			}
		for (; i < m; i++) {
			float x = b[s + i], y = a[s + i], d = y - x;
			v[s + i] = d;
			pb[0] += x * x;
			pa[0] += y * y;
			pv[0] += d * d;
			pva[0] += d * y;
		}
		for (int l = 0; l < 8; l++) {
			acc[0] += pb[l];
			acc[1] += pa[l];
			acc[2] += pv[l];
			acc[3] += pva[l];
		}
	}
}

void tensor_prefetch(const StTensor *t) { tensor_advise(t, MADV_WILLNEED); }
void tensor_release(const StTensor *t) { tensor_advise(t, MADV_DONTNEED); }

static int cmp_file_order(const void *a, const void *b, void *ctx)
{
	const StTensor *ts = ctx;
	const StTensor *x = &ts[*(const int *)a], *y = &ts[*(const int *)b];
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->data != y->data)
		return (uintptr_t)x->data < (uintptr_t)y->data ? -1 : 1;
	return 0;
}

int *tensor_file_order(const Safetensors *st)
{
	int *idx = xmalloc((size_t)(st->n > 0 ? st->n : 1) * sizeof(int));
	for (int i = 0; i < st->n; i++)
		idx[i] = i;
	qsort_r(idx, (size_t)st->n, sizeof(int), cmp_file_order, st->tensors);
	return idx;
}

void tensor_module(const char *name, char *buf, size_t n)
{
	buf[0] = 0;
	const char *end = strrchr(name, '.');
	if (!end || (strcmp(end, ".weight") && strcmp(end, ".bias")))
		return;
	const char *start = end;
	while (start > name && start[-1] != '.')
		start--;
	size_t len = (size_t)(end - start);
	if (len >= n)
		len = n - 1;
	memcpy(buf, start, len);
	buf[len] = 0;
}

int tensor_layer(const char *name)
{
	const char *p = strstr(name, "layers.");
	if (!p || (p > name && p[-1] != '.'))
		return -1;
	p += 7;
	if (*p < '0' || *p > '9')
		return -1;
	long v = strtol(p, (char **)&p, 10);
	return (*p == '.' && v < 1000000) ? (int)v : -1;
}

int modules_match(const StTensor *t, const char *modules)
{
	if (t->ndim != 2 || !tensor_is_float(t))
		return 0;
	if (!strcmp(modules, "all"))
		return 1;
	char mod[128];
	tensor_module(t->name, mod, sizeof mod);
	if (!mod[0] || strlen(t->name) < 7 || strcmp(t->name + strlen(t->name) - 7, ".weight"))
		return 0;
	size_t ml = strlen(mod);
	for (const char *p = modules; *p;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		if (len == ml && !strncmp(p, mod, ml))
			return 1;
		if (!c)
			break;
		p = c + 1;
	}
	return 0;
}

int ckpt_check_config(const char *dir_a, const char *dir_b)
{
	ModelConfig a, b;
	if (config_load_dir(&a, dir_a) < 0 || config_load_dir(&b, dir_b) < 0) {
		warnf("%s; comparing tensor names and shapes only", err_msg());
		return 0;
	}
#define CMP(field) \
	if (a.field != b.field) \
		return err_set("architecture mismatch: %s is %d in %s but %d in %s", #field, \
			       (int)a.field, dir_a, (int)b.field, dir_b)
	CMP(arch);
	CMP(hidden_size);
	CMP(intermediate_size);
	CMP(num_hidden_layers);
	CMP(num_attention_heads);
	CMP(num_key_value_heads);
	CMP(head_dim);
	CMP(vocab_size);
#undef CMP
	return 0;
}

int ckpt_check_pair(const Safetensors *a, const char *dir_a, const Safetensors *b,
		    const char *dir_b)
{
	int i = 0, j = 0;
	while (i < a->n || j < b->n) {
		int c = i >= a->n ? 1 : j >= b->n ? -1 : strcmp(a->tensors[i].name, b->tensors[j].name);
		if (c < 0)
			return err_set("tensor %s: in %s but not in %s", a->tensors[i].name, dir_a, dir_b);
		if (c > 0)
			return err_set("tensor %s: in %s but not in %s", b->tensors[j].name, dir_b, dir_a);
		const StTensor *x = &a->tensors[i], *y = &b->tensors[j];
		int same = x->ndim == y->ndim;
		for (int d = 0; same && d < x->ndim; d++)
			same = x->shape[d] == y->shape[d];
		if (!same) {
			char sx[128], sy[128];
			st_shape_str(sx, sizeof sx, x->shape, x->ndim);
			st_shape_str(sy, sizeof sy, y->shape, y->ndim);
			return err_set("tensor %s: shape %s in %s but %s in %s", x->name, sx, dir_a, sy, dir_b);
		}
		if (tensor_is_float(x) != tensor_is_float(y))
			return err_set("tensor %s: dtype %s in %s but %s in %s", x->name,
				       st_dtype_name(x->dtype), dir_a, st_dtype_name(y->dtype), dir_b);
		i++;
		j++;
	}
	return 0;
}

static int split_list(char *s, char **items, int max)
{
	int n = 0;
	for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
		if (*tok)
			items[n++] = tok;
	return n;
}

/* every module named in the list must select at least one tensor (catches typos) */
static int check_modules(const Safetensors *st, const char *modules, const char *dir)
{
	if (!strcmp(modules, "all"))
		return 0;
	char *copy = xstrdup(modules), *items[64];
	int n = split_list(copy, items, 64);
	int ret = 0;
	for (int m = 0; m < n && !ret; m++) {
		int found = 0;
		for (int i = 0; i < st->n && !found; i++)
			found = modules_match(&st->tensors[i], items[m]);
		if (!found)
			ret = err_set("--modules: no 2-D tensor *.%s.weight in %s", items[m], dir);
	}
	free(copy);
	return ret;
}

static double median(double *v, int n)
{
	if (n == 0)
		return NAN;
	for (int i = 1; i < n; i++)     /* insertion sort: n is a few dozen */
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;     /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* The SVD part of one selected tensor: s, U, V, chat_eig datasets and the spectral stats. */
static int tensor_spectrum(H5Store *out, const char *grp, const float *V, DirTensorStat *ts,
			   const DirOpts *o)
{
	int m = ts->rows, n = ts->cols, k = ts->k, ret = -1;
	double *s = xcalloc((size_t)k, sizeof(double));
	double *U = xmalloc((size_t)m * k * sizeof(double));
	double *Vr = xmalloc((size_t)n * k * sizeof(double));
	double *eig = xmalloc((size_t)k * sizeof(double));
	SvdOpts so = o->svd;
	so.seed ^= name_hash(ts->name);          /* a test matrix per tensor, reproducible */
	double t0 = time_now();
	int method = svd_topk(V, m, n, k, &so, s, U, Vr, NULL);
	ts->svd_seconds = time_now() - t0;
	if (method < 0) {
		err_prefix("tensor %s", ts->name);
		goto out_free;
	}
	double vn = ts->fro_norm;
	for (int i = 0; i < k; i++)
		eig[i] = vn > 0 ? s[i] * s[i] / vn : 0;
	double e = 0;
	for (int i = 0; i < k; i++)
		e += s[i] * s[i];
	ts->energy_topk = vn > 0 ? e / (vn * vn) : 0;
	ts->stable_rank = s[0] > 0 ? vn * vn / (s[0] * s[0]) : 0;
	ts->chat_eig_max = eig[0];
	int ex1, ex2;
	ts->n_eig_gt_half = chat_eig_counts(s, k, vn, 0.5, &ex1);
	ts->n_eig_gt_one = chat_eig_counts(s, k, vn, 1.0, &ex2);
	ts->eig_exact = ex1 && ex2;
	char *p = xasprintf("%s/s", grp);
	size_t d1[1] = {(size_t)k}, du[2] = {(size_t)m, (size_t)k}, dv[2] = {(size_t)n, (size_t)k};
	int rc = h5s_write_f64(out, p, s, 1, d1, "top-K singular values of V = W_aligned - W_base, descending");
	free(p);
	p = xasprintf("%s/U", grp);
	rc = rc ? rc : h5s_write_f64(out, p, U, 2, du, "left singular vectors of V (out x K), columns");
	free(p);
	p = xasprintf("%s/V", grp);
	rc = rc ? rc : h5s_write_f64(out, p, Vr, 2, dv, "right singular vectors of V (in x K), columns");
	free(p);
	p = xasprintf("%s/chat_eig", grp);
	rc = rc ? rc : h5s_write_f64(out, p, eig, 1, d1, "top eigenvalues of C_hat = V V^T / ||V||_F: sigma_i^2 / ||V||_F");
	free(p);
	if (rc == 0)
		rc = h5s_attr_set_str(out, grp, "svd_method", svd_method_name((SvdMethod)method));
	if (rc < 0)
		goto out_free;
	ret = 0;
out_free:
	free(s);
	free(U);
	free(Vr);
	free(eig);
	return ret;
}

static int tensor_attrs(H5Store *out, const char *grp, const DirTensorStat *ts)
{
	int64_t shape[2] = {ts->rows, ts->cols};
	char *p = xasprintf("%s/shape", grp);
	size_t d[1] = {2};
	int rc = h5s_write(out, p, H5S_I64, shape, 1, d, "shape of the tensor (out, in)");
	free(p);
	struct { const char *name; double v; } f[] = {
		{"fro_norm", ts->fro_norm}, {"rel_norm", ts->rel_norm},
		{"stable_rank", ts->stable_rank}, {"base_norm", ts->base_norm},
		{"aligned_norm", ts->aligned_norm}, {"cos_vw", ts->cos_vw},
		{"energy_topk", ts->energy_topk}, {"chat_eig_max", ts->chat_eig_max},
		{"svd_seconds", ts->svd_seconds},
	};
	for (size_t i = 0; i < sizeof f / sizeof f[0] && rc == 0; i++)
		rc = h5s_attr_set_f64(out, grp, f[i].name, f[i].v);
	struct { const char *name; int64_t v; } g[] = {
		{"n_eig_gt_half", ts->n_eig_gt_half}, {"n_eig_gt_one", ts->n_eig_gt_one},
		{"eig_counts_exact", ts->eig_exact}, {"layer", ts->layer}, {"rows", ts->rows},
		{"cols", ts->cols}, {"topk", ts->k},
	};
	for (size_t i = 0; i < sizeof g / sizeof g[0] && rc == 0; i++)
		rc = h5s_attr_set_i64(out, grp, g[i].name, g[i].v);
	return rc;
}

/* per-tensor and per-layer tables, root attributes */
static int write_tables(H5Store *out, const DirSummary *sum, const double *lay_d2,
			const double *lay_a2, const double *lay_eig, const DirOpts *o)
{
	int n = sum->n, rc = 0;
	if (n > 0) {
		double *v = xmalloc((size_t)n * sizeof(double));
		size_t d[1] = {(size_t)n};
#define TABLE(field, desc) \
		for (int i = 0; i < n; i++) \
			v[i] = (double)sum->t[i].field; \
		if (rc == 0) \
			rc = h5s_write_f64(out, "/summary/" #field, v, 1, d, desc);
		TABLE(fro_norm, "||V||_F per selected tensor")
		TABLE(rel_norm, "||V||_F / ||W_aligned||_F")
		TABLE(aligned_norm, "||W_aligned||_F")
		TABLE(cos_vw, "cosine of flattened V and W_aligned")
		TABLE(stable_rank, "||V||_F^2 / sigma_1^2 (NaN without SVD)")
		TABLE(energy_topk, "sum of the top-K sigma_i^2 over ||V||_F^2 (NaN without SVD)")
		TABLE(chat_eig_max, "largest eigenvalue of C_hat, sigma_1^2 / ||V||_F (NaN without SVD)")
		TABLE(n_eig_gt_half, "eigenvalues of C_hat above 0.5 (-1 without SVD)")
		TABLE(n_eig_gt_one, "eigenvalues of C_hat above 1 (-1 without SVD)")
		TABLE(layer, "decoder layer of the tensor (-1: none)")
#undef TABLE
		free(v);
		size_t len = 1;
		for (int i = 0; i < n; i++)
			len += strlen(sum->t[i].name) + 1;
		char *names = xcalloc(len, 1);
		for (int i = 0; i < n; i++) {
			if (i)
				strcat(names, ",");
			strcat(names, sum->t[i].name);
		}
		if (rc == 0)
			rc = h5s_attr_set_str(out, "/summary", "names", names);
		free(names);
	}
	if (sum->n_layers > 0 && rc == 0) {
		int L = sum->n_layers;
		double *dn = xmalloc((size_t)L * sizeof(double)), *an = xmalloc((size_t)L * sizeof(double));
		double *rn = xmalloc((size_t)L * sizeof(double));
		for (int l = 0; l < L; l++) {
			dn[l] = sqrt(lay_d2[l]);
			an[l] = sqrt(lay_a2[l]);
			rn[l] = an[l] > 0 ? dn[l] / an[l] : 0;
		}
		size_t d[1] = {(size_t)L};
		rc = h5s_write_f64(out, "/layers/delta_norm", dn, 1, d, "||d_aligned|| over every tensor of the layer");
		if (rc == 0)
			rc = h5s_write_f64(out, "/layers/aligned_norm", an, 1, d, "||W_aligned|| over every tensor of the layer");
		if (rc == 0)
			rc = h5s_write_f64(out, "/layers/rel_norm", rn, 1, d, "delta_norm / aligned_norm");
		if (rc == 0)
			rc = h5s_write_f64(out, "/layers/chat_eig_max", lay_eig, 1, d, "largest C_hat eigenvalue over the layer's selected tensors (NaN: none)");
		free(dn);
		free(an);
		free(rn);
	}
	if (rc == 0) rc = h5s_attr_set_f64(out, "/", "global_norm", sum->global_norm);
	if (rc == 0) rc = h5s_attr_set_f64(out, "/", "selected_norm", sum->selected_norm);
	/* absolute paths, so asft-perturb --direction works from any directory */
	char *rb = realpath(o->base_dir, NULL), *ra = realpath(o->aligned_dir, NULL);
	if (rc == 0) rc = h5s_attr_set_str(out, "/", "base", rb ? rb : o->base_dir);
	if (rc == 0) rc = h5s_attr_set_str(out, "/", "aligned", ra ? ra : o->aligned_dir);
	free(rb);
	free(ra);
	if (rc == 0) rc = h5s_attr_set_str(out, "/", "modules", o->modules);
	if (rc == 0) rc = h5s_attr_set_i64(out, "/", "topk", o->topk);
	if (rc == 0) rc = h5s_attr_set_i64(out, "/", "n_tensors", sum->n_tensors);
	if (rc == 0) rc = h5s_attr_set_i64(out, "/", "n_selected", sum->n);
	if (rc == 0) rc = h5s_attr_set_str(out, "/", "svd", svd_method_name(o->svd.method));
	if (rc == 0) rc = h5s_attr_set_str(out, "/", "kind", "alignment direction (asft-direction)");
	return rc;
}

int direction_compute(H5Store *out, const DirOpts *o, DirSummary *sum)
{
	int ret = -1;
	Safetensors sb = {0}, sa = {0};
	int *order = NULL;
	float *cb = xmalloc(CHUNK * sizeof(float)), *ca = xmalloc(CHUNK * sizeof(float));
	float *cv = xmalloc(CHUNK * sizeof(float));
	float *V = NULL;
	double *lay_d2 = NULL, *lay_a2 = NULL, *lay_eig = NULL;
	memset(sum, 0, sizeof *sum);
	sum->topk = o->topk;
	double t0 = time_now();

	if (st_open_dir(&sb, o->base_dir) < 0 || st_open_dir(&sa, o->aligned_dir) < 0)
		goto out;
	if (ckpt_check_config(o->base_dir, o->aligned_dir) < 0 ||
	    ckpt_check_pair(&sb, o->base_dir, &sa, o->aligned_dir) < 0 ||
	    check_modules(&sb, o->modules, o->base_dir) < 0)
		goto out;
	order = tensor_file_order(&sb);
	size_t vmax = 0, total_bytes = 0;
	for (int i = 0; i < sb.n; i++) {
		const StTensor *t = &sb.tensors[i];
		int l = tensor_layer(t->name);
		if (l + 1 > sum->n_layers)
			sum->n_layers = l + 1;
		total_bytes += t->nbytes;
		if (modules_match(t, o->modules)) {
			sum->n++;
			if ((o->topk > 0 || o->save_delta) && t->numel > vmax)
				vmax = t->numel;
			if (t->numel * 4 > sum->largest_bytes)
				sum->largest_bytes = t->numel * 4;
		}
	}
	sum->t = xcalloc((size_t)(sum->n > 0 ? sum->n : 1), sizeof(DirTensorStat));
	if (vmax)
		V = xmalloc(vmax * sizeof(float));
	int L = sum->n_layers > 0 ? sum->n_layers : 1;
	lay_d2 = xcalloc((size_t)L, sizeof(double));
	lay_a2 = xcalloc((size_t)L, sizeof(double));
	lay_eig = xmalloc((size_t)L * sizeof(double));
	for (int l = 0; l < L; l++)
		lay_eig[l] = NAN;

	Progress prog;
	if (o->progress)
		progress_init(&prog, "direction", total_bytes);
	size_t done_bytes = 0;
	double global_d2 = 0, sel_d2 = 0;
	int ns = 0;
	for (int oi = 0; oi < sb.n; oi++) {
		const StTensor *tb = &sb.tensors[order[oi]];
		const StTensor *ta = st_find(&sa, tb->name);
		done_bytes += tb->nbytes;
		if (!tensor_is_float(tb))
			continue;
		sum->n_tensors++;
		int sel = modules_match(tb, o->modules);
		float *vbuf = sel && (o->topk > 0 || o->save_delta) ? V : NULL;
		if (oi + 1 < sb.n) {    /* overlap the next tensor's reads with this one's work */
			const StTensor *nb = &sb.tensors[order[oi + 1]];
			tensor_prefetch(nb);
			tensor_prefetch(st_find(&sa, nb->name));
		}
		double acc[4] = {0, 0, 0, 0};      /* ||b||^2, ||a||^2, ||v||^2, <v, a> */
		for (size_t first = 0; first < tb->numel; first += CHUNK) {
			size_t n = tb->numel - first < CHUNK ? tb->numel - first : CHUNK;
			tensor_read_f32(tb, first, n, cb);
			tensor_read_f32(ta, first, n, ca);
			delta_accumulate(vbuf ? vbuf + first : cv, cb, ca, n, acc);
			if ((first / CHUNK) % 64 == 63) {       /* drop what was read, every 16 MB */
				tensor_release_range(tb, first + n);
				tensor_release_range(ta, first + n);
			}
		}
		tensor_release(tb);
		tensor_release(ta);
		double b2 = acc[0], a2 = acc[1], v2 = acc[2], va = acc[3];
		global_d2 += v2;
		int layer = tensor_layer(tb->name);
		if (layer >= 0) {
			lay_d2[layer] += v2;
			lay_a2[layer] += a2;
		}
		if (sel) {
			DirTensorStat *ts = &sum->t[ns++];
			ts->name = xstrdup(tb->name);
			tensor_module(tb->name, ts->module, sizeof ts->module);
			ts->layer = layer;
			ts->rows = (int)tb->shape[0];
			ts->cols = (int)tb->shape[1];
			ts->fro_norm = sqrt(v2);
			ts->base_norm = sqrt(b2);
			ts->aligned_norm = sqrt(a2);
			ts->rel_norm = a2 > 0 ? sqrt(v2 / a2) : 0;
			ts->cos_vw = v2 > 0 && a2 > 0 ? va / sqrt(v2 * a2) : 0;
			ts->stable_rank = ts->energy_topk = ts->chat_eig_max = NAN;
			ts->n_eig_gt_half = ts->n_eig_gt_one = -1;
			int mn = ts->rows < ts->cols ? ts->rows : ts->cols;
			ts->k = o->topk < mn ? o->topk : mn;
			sel_d2 += v2;
			char *grp = xasprintf("/delta/%s", tb->name);
			int rc = 0;
			if (o->save_delta) {
				char *p = xasprintf("%s/delta", grp);
				size_t d[2] = {(size_t)ts->rows, (size_t)ts->cols};
				rc = h5s_write_f32(out, p, V, 2, d, "V = W_aligned - W_base");
				free(p);
			}
			if (rc == 0 && ts->k > 0) {
				rc = tensor_spectrum(out, grp, V, ts, o);
				sum->svd_seconds += ts->svd_seconds;
				if (rc == 0 && layer >= 0 && !(lay_eig[layer] >= ts->chat_eig_max))
					lay_eig[layer] = ts->chat_eig_max;
			}
			if (rc == 0)
				rc = tensor_attrs(out, grp, ts);
			free(grp);
			if (rc < 0)
				goto out;
		}
		if (o->progress)
			progress_update(&prog, done_bytes, tb->name);
	}
	if (o->progress)
		progress_finish(&prog, NULL);
	sum->global_norm = sqrt(global_d2);
	sum->selected_norm = sqrt(sel_d2);
	if (write_tables(out, sum, lay_d2, lay_a2, lay_eig, o) < 0)
		goto out;
	sum->layer_rel = xmalloc((size_t)L * sizeof(double));
	sum->layer_eig = xmalloc((size_t)L * sizeof(double));
	for (int l = 0; l < L; l++) {
		sum->layer_rel[l] = lay_a2[l] > 0 ? sqrt(lay_d2[l] / lay_a2[l]) : 0;
		sum->layer_eig[l] = lay_eig[l];
	}
	sum->seconds = time_now() - t0;
	ret = 0;
out:
	if (ret < 0)
		direction_summary_free(sum);
	free(order);
	free(cb);
	free(ca);
	free(cv);
	free(V);
	free(lay_d2);
	free(lay_a2);
	free(lay_eig);
	st_close(&sa);
	st_close(&sb);
	return ret;
}

void direction_summary_free(DirSummary *sum)
{
	if (!sum)
		return;
	for (int i = 0; i < sum->n && sum->t; i++)
		free(sum->t[i].name);
	free(sum->t);
	free(sum->layer_rel);
	free(sum->layer_eig);
	sum->t = NULL;
	sum->layer_rel = sum->layer_eig = NULL;
	sum->n = 0;
}

/* median of one double field of DirTensorStat over the tensors of module mod */
static double module_median(const DirSummary *sum, const char *mod, size_t off, double *buf)
{
	int c = 0;
	for (int i = 0; i < sum->n; i++)
		if (!strcmp(sum->t[i].module, mod))
			memcpy(&buf[c++], (const char *)&sum->t[i] + off, sizeof(double));
	return median(buf, c);
}

void direction_summary_print(FILE *f, const DirSummary *sum)
{
	fprintf(f, "%d floating tensors compared, %d selected matrices, %.1f s (SVD %.1f s)\n",
		sum->n_tensors, sum->n, sum->seconds, sum->svd_seconds);
	fprintf(f, "||d_aligned|| = %.6g over all tensors, %.6g over the selected ones\n",
		sum->global_norm, sum->selected_norm);
	if (sum->n == 0)
		return;
	/* per-module medians */
	char mods[32][32];
	int nm = 0;
	for (int i = 0; i < sum->n; i++) {
		int j = 0;
		while (j < nm && strcmp(mods[j], sum->t[i].module))
			j++;
		if (j == nm && nm < 32)
			snprintf(mods[nm++], sizeof mods[0], "%s", sum->t[i].module);
	}
	int svd = sum->topk > 0;
	fprintf(f, "%-14s %4s %10s %10s %10s", "module", "n", "rel_norm", "cos(V,W)", "||V||");
	if (svd)
		fprintf(f, " %8s %8s %10s %10s %6s %6s", "srank", "E_topK", "eig1 med", "eig1 max",
			">0.5", ">1");
	fprintf(f, "   (medians)\n");
	double *buf = xmalloc((size_t)sum->n * sizeof(double));
	double gmax = -1;
	int gmax_i = -1, any_half = 0, any_one = 0;
	for (int m = 0; m < nm; m++) {
		int cnt = 0, half = 0, one = 0;
		double emax = -1;
#define MED(field) module_median(sum, mods[m], offsetof(DirTensorStat, field), buf)
		for (int i = 0; i < sum->n; i++) {
			const DirTensorStat *t = &sum->t[i];
			if (strcmp(t->module, mods[m]))
				continue;
			cnt++;
			half += t->n_eig_gt_half > 0;
			one += t->n_eig_gt_one > 0;
			if (t->chat_eig_max > emax)
				emax = t->chat_eig_max;
			if (t->chat_eig_max > gmax) {
				gmax = t->chat_eig_max;
				gmax_i = i;
			}
		}
		any_half += half;
		any_one += one;
		fprintf(f, "%-14s %4d %10.3g %10.3g %10.3g", mods[m], cnt, MED(rel_norm), MED(cos_vw),
			MED(fro_norm));
		if (svd)
			fprintf(f, " %8.3g %8.3f %10.3g %10.3g %6d %6d", MED(stable_rank),
				MED(energy_topk), MED(chat_eig_max), emax, half, one);
		fprintf(f, "\n");
#undef MED
	}
	free(buf);
	for (int l = 0; l < sum->n_layers && sum->layer_rel; l++) {
		if (l % 6 == 0)
			fprintf(f, "%s", l ? "\n" : svd ? "per layer ||d||/||W|| (C_hat eig1):\n"
							   : "per layer ||d||/||W||:\n");
		if (svd && !isnan(sum->layer_eig[l]))
			fprintf(f, " L%-2d %.3g (%.2g)", l, sum->layer_rel[l], sum->layer_eig[l]);
		else
			fprintf(f, " L%-2d %.3g", l, sum->layer_rel[l]);
	}
	if (sum->n_layers > 0 && sum->layer_rel)
		fprintf(f, "\n");
	if (!svd) {
		fprintf(f, "C_hat: not examined (--topk 0)\n");
		return;
	}
	fprintf(f, "C_hat = V V^T / ||V||_F: largest eigenvalue %.4g (%s); tensors with an eigenvalue"
		" > 0.5: %d of %d, > 1: %d of %d\n", gmax, gmax_i >= 0 ? sum->t[gmax_i].name : "-",
		any_half, sum->n, any_one, sum->n);
	if (gmax < 0.1)
		fprintf(f, "verdict: C_hat is FAR from a projector (all eigenvalues < 0.1): (I - C_hat) ~ I,"
			" so the AsFT penalty is close to a plain L2 penalty on B A; C_k = U_k U_k^T is the"
			" exact top-k projector\n");
	else if (gmax < 0.5 || any_half < sum->n)
		fprintf(f, "verdict: C_hat is a partial projector: eigenvalues below 0.5 in %d of %d tensors"
			" (their top directions are only partly removed by I - C_hat)\n",
			sum->n - any_half, sum->n);
	else
		fprintf(f, "verdict: C_hat has eigenvalues above 0.5 in every tensor (eigenvalues above 1"
			" in %d: I - C_hat flips those directions instead of removing them)\n", any_one);
}
