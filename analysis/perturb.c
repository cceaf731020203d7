/* perturb.c: direction files (see perturb.h). Works tensor by tensor in the model's file order;
 * the working set is one tensor of each source plus one buffer per direction. Random values are
 * drawn from rng streams keyed by (seed, tensor name, direction slot), so a direction does not
 * depend on which other directions or tensors are in the file, and a second pass can regenerate
 * exactly the values of the first. */
#include "perturb.h"
#include "adapter.h"
#include "direction.h"
#include "linalg.h"
#include "rng.h"
#include "util.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIRS 64
#define SLOT_ORTH 1000      /* rng slots of the orthogonal directions' raw samples */

static const char *norm_names[] = {"filter", "layer", "none", "unit"};
static const char *kind_names[] = {"aligned", "random", "orthogonal", "harm", "interp"};
static const char *scope_names[] = {"auto", "row", "tensor", "global"};

const char *dir_norm_name(DirNorm n) { return n <= NORM_UNIT ? norm_names[n] : "?"; }
const char *dir_kind_name(DirKind k) { return k <= KIND_INTERP ? kind_names[k] : "?"; }
const char *orth_scope_name(OrthScope s) { return s <= ORTH_GLOBAL ? scope_names[s] : "?"; }

static int parse_name(const char *s, const char *const *names, int n, const char *what)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	char list[128] = "";
	for (int i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", names[i]);
	return err_set("%s '%s': expected one of %s", what, s, list);
}

int dir_norm_parse(const char *s, DirNorm *n)
{
	int i = parse_name(s, norm_names, 4, "normalisation");
	if (i < 0)
		return -1;
	*n = (DirNorm)i;
	return 0;
}

int dir_kind_parse(const char *s, DirKind *k)
{
	int i = parse_name(s, kind_names, 5, "kind");
	if (i < 0)
		return -1;
	*k = (DirKind)i;
	return 0;
}

int orth_scope_parse(const char *s, OrthScope *sc)
{
	int i = parse_name(s, scope_names, 4, "orthogonalisation scope");
	if (i < 0)
		return -1;
	*sc = (OrthScope)i;
	return 0;
}

static double sumsq_f(const float *x, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += (double)x[i] * x[i];
	return s;
}

static void scale_f(float *x, size_t n, double a)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (float)(x[i] * a);
}

void dir_normalize_filter(float *d, const float *w, size_t rows, size_t cols)
{
	for (size_t r = 0; r < rows; r++) {
		double dn = sqrt(sumsq_f(d + r * cols, cols)), wn = sqrt(sumsq_f(w + r * cols, cols));
		scale_f(d + r * cols, cols, dn > 0 ? wn / dn : 0);
	}
}

void dir_normalize_layer(float *d, const float *w, size_t n)
{
	double dn = sqrt(sumsq_f(d, n)), wn = sqrt(sumsq_f(w, n));
	scale_f(d, n, dn > 0 ? wn / dn : 0);
}

typedef struct {
	DirKind kind;
	int index;              /* within its kind */
	char name[32];
} DirSpec;

typedef struct {
	const PerturbOpts *o;
	Safetensors model, base, aligned, from, to;
	int have_aligned, have_ft, have_ad;
	Adapter ad;
	double ad_scale;
	char *base_dir, *aligned_dir;
	DirSpec spec[MAX_DIRS];
	int n, n_orth, orth_first, aligned_k;
	OrthScope scope;
	int renorm;             /* re-normalise orthogonal directions per unit */
	double *G, *T;          /* (m, m), m = n_orth + 1: global Gram matrix and GS coefficients */
	double *sumsq, *scale, *dots;
	float **d, *w, *t1, *anchor;
	size_t maxnumel;
} Ctx;

static uint64_t stream_of(const char *name, int slot)
{
	uint64_t h = 1469598103934665603ull;     /* FNV-1a of the tensor name */
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return h + (uint64_t)slot * 0x9E3779B97F4A7C15ull;
}

static int is_embed(const char *name)
{
	char mod[64];
	tensor_module(name, mod, sizeof mod);
	return !strcmp(mod, "embed_tokens") || !strcmp(mod, "lm_head");
}

/* does tensor t get a nonzero direction (all kinds but interp)? */
static int included(const Ctx *c, const StTensor *t)
{
	if (t->ndim < 2)
		return c->o->include_1d;
	if (is_embed(t->name) && !c->o->include_embed)
		return 0;
	if (strcmp(c->o->modules, "all") && !modules_match(t, c->o->modules))
		return 0;
	return 1;
}

static void diff(float *d, const Safetensors *a, const Safetensors *b, const char *name,
		 size_t n, float *tmp)
{
	const StTensor *ta = st_find(a, name), *tb = st_find(b, name);
	tensor_read_f32(ta, 0, n, d);
	tensor_read_f32(tb, 0, n, tmp);
	for (size_t i = 0; i < n; i++)
		d[i] -= tmp[i];
	tensor_release(ta);
	tensor_release(tb);
}

static void local_norm(const Ctx *c, float *d, size_t rows, size_t cols)
{
	if (c->o->norm == NORM_FILTER)
		dir_normalize_filter(d, c->w, rows, cols);
	else if (c->o->norm == NORM_LAYER)
		dir_normalize_layer(d, c->w, rows * cols);
}

/* Gram-Schmidt of x[0..m) (x[0] = the anchor, x[1..] the orthogonal directions) over the
 * elements [off, off + len), with coefficients T, in place (descending, so the inputs of each
 * combination are still unmodified). */
static void combine(float **x, int m, const double *T, size_t off, size_t len)
{
	for (int j = m - 1; j >= 1; j--)
		for (size_t e = off; e < off + len; e++) {
			double acc = x[j][e];
			for (int i = 0; i < j; i++)
				acc += T[(size_t)i * m + j] * x[i][e];
			x[j][e] = (float)acc;
		}
}

static void gram(double *G, float **x, int m, size_t off, size_t len, int accumulate)
{
	for (int i = 0; i < m; i++)
		for (int j = 0; j <= i; j++) {
			double s = 0;
			for (size_t e = off; e < off + len; e++)
				s += (double)x[i][e] * x[j][e];
			if (accumulate)
				s += G[(size_t)i * m + j];
			G[(size_t)i * m + j] = G[(size_t)j * m + i] = s;
		}
}

static void orthogonalize(Ctx *c, size_t rows, size_t cols, int pass)
{
	int m = c->n_orth + 1;
	float *x[MAX_DIRS + 1];
	x[0] = c->anchor;
	for (int j = 0; j < c->n_orth; j++)
		x[j + 1] = c->d[c->orth_first + j];
	double G[(MAX_DIRS + 1) * (MAX_DIRS + 1)], T[(MAX_DIRS + 1) * (MAX_DIRS + 1)];
	if (c->scope == ORTH_GLOBAL) {
		if (pass == 1)
			gram(c->G, x, m, 0, rows * cols, 1);
		else
			combine(x, m, c->T, 0, rows * cols);
		return;
	}
	size_t units = c->scope == ORTH_ROW ? rows : 1, len = c->scope == ORTH_ROW ? cols : rows * cols;
	for (size_t u = 0; u < units; u++) {
		gram(G, x, m, u * len, len, 0);
		gs_coefficients(G, m, T, NULL);
		combine(x, m, T, u * len, len);
	}
	if (c->renorm)
		for (int j = 1; j < m; j++)
			local_norm(c, x[j], rows, cols);
}

static int adapter_update(Ctx *c, float *d, const StTensor *t, size_t rows, size_t cols)
{
	memset(d, 0, rows * cols * sizeof(float));
	size_t len = strlen(t->name);
	if (len < 8 || strcmp(t->name + len - 7, ".weight"))
		return 0;
	char *mod = xstrdup(t->name);
	mod[len - 7] = 0;
	AdapterModule *am = adapter_find(&c->ad, mod);
	free(mod);
	if (!am)
		return 0;
	if ((size_t)am->out != rows || (size_t)am->in != cols || t->ndim != 2)
		return err_set("adapter %s: module %s is %d x %d but the model's tensor is [%zu, %zu]",
			       c->o->adapter_dir, am->module, am->out, am->in, rows, cols);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, am->out, am->in, c->ad.cfg.r,
		    (float)c->ad_scale, am->B, c->ad.cfg.r, am->A, am->in, 0.0f, d, am->in);
	return 0;
}

/* Builds every direction of tensor t into c->d. pass 1 gathers global statistics, pass 2
 * applies the global factors and writes. */
static int build_tensor(Ctx *c, H5Store *out, const StTensor *t, int pass)
{
	size_t n = t->numel, rows = t->ndim >= 2 ? (size_t)t->shape[0] : 1;
	size_t cols = rows ? n / rows : 0;
	if (rows == 0 || n == 0)
		rows = 1, cols = n;
	int inc = included(c, t);
	tensor_read_f32(t, 0, n, c->w);
	for (int k = 0; k < c->n; k++) {
		float *d = c->d[k];
		const DirSpec *s = &c->spec[k];
		if (s->kind == KIND_INTERP) {
			diff(d, &c->to, &c->from, t->name, n, c->t1);
			continue;
		}
		memset(d, 0, n * sizeof(float));
		if (!inc)
			continue;
		Rng r;
		switch (s->kind) {
		case KIND_ALIGNED:
			diff(d, &c->aligned, &c->base, t->name, n, c->t1);
			break;
		case KIND_RANDOM:
		case KIND_ORTHOGONAL:
			rng_init(&r, c->o->seed, stream_of(t->name, s->kind == KIND_RANDOM ? s->index
									      : SLOT_ORTH + s->index));
			rng_fill_normal(&r, d, n, 0.0f, 1.0f);
			break;
		case KIND_HARM:
			if (c->have_ad) {
				if (adapter_update(c, d, t, rows, cols) < 0)
					return -1;
			} else {
				diff(d, &c->to, &c->from, t->name, n, c->t1);
			}
			break;
		default:
			break;
		}
		local_norm(c, d, rows, cols);
	}
	if (c->n_orth) {
		if (c->aligned_k >= 0) {
			memcpy(c->anchor, c->d[c->aligned_k], n * sizeof(float));
		} else {
			memset(c->anchor, 0, n * sizeof(float));
			if (inc) {
				diff(c->anchor, &c->aligned, &c->base, t->name, n, c->t1);
				local_norm(c, c->anchor, rows, cols);
			}
		}
		orthogonalize(c, rows, cols, pass);
	}
	if (pass == 1) {
		for (int k = 0; k < c->n; k++)
			c->sumsq[k] += sumsq_f(c->d[k], n);
		return 0;
	}
	for (int k = 0; k < c->n; k++)
		if (c->scale[k] != 1.0)
			scale_f(c->d[k], n, c->scale[k]);
	/* cosines over the values as written (float32) */
	int nd = c->n;
	double *pt = xmalloc((size_t)nd * nd * sizeof(double));
	for (int i = 0; i < nd; i++)
		for (int j = 0; j <= i; j++) {
			double s = 0;
			const float *a = c->d[i], *b = c->d[j];
			for (size_t e = 0; e < n; e++)
				s += (double)a[e] * b[e];
			pt[i * nd + j] = pt[j * nd + i] = s;
			c->dots[i * nd + j] += s;
			if (i != j)
				c->dots[j * nd + i] += s;
		}
	double *cs = xmalloc((size_t)nd * nd * sizeof(double));
	for (int i = 0; i < nd; i++)
		for (int j = 0; j < nd; j++) {
			double den = sqrt(pt[i * nd + i] * pt[j * nd + j]);
			cs[i * nd + j] = den > 0 ? pt[i * nd + j] / den : NAN;
		}
	size_t dims[ST_MAX_DIMS], cd[2] = {(size_t)nd, (size_t)nd};
	for (int i = 0; i < t->ndim; i++)
		dims[i] = (size_t)t->shape[i];
	int rc = 0;
	for (int k = 0; k < c->n && rc == 0; k++) {
		char *p = xasprintf("/%s/%s", c->spec[k].name, t->name);
		rc = h5s_write_f32(out, p, c->d[k], t->ndim, dims, NULL);
		free(p);
	}
	char *p = xasprintf("/cosines_per_tensor/%s", t->name);
	if (rc == 0)
		rc = h5s_write_f64(out, p, cs, 2, cd, "cosines between the directions within this tensor (NaN: a zero direction)");
	free(p);
	free(pt);
	free(cs);
	return rc;
}

static int open_pair_checked(Ctx *c, Safetensors *st, const char *dir)
{
	if (st_open_dir(st, dir) < 0)
		return -1;
	if (ckpt_check_config(c->o->model_dir, dir) < 0)
		return -1;
	return ckpt_check_pair(&c->model, c->o->model_dir, st, dir);
}

static int setup_specs(Ctx *c)
{
	const PerturbOpts *o = c->o;
	char *copy = xstrdup(o->kinds);
	int seen[5] = {0}, ret = -1;
	c->aligned_k = -1;
	c->orth_first = -1;
	if (o->count < 1 || o->count > 32) {
		err_set("--count %d: expected 1..32", o->count);
		goto out;
	}
	for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
		DirKind k;
		if (dir_kind_parse(tok, &k) < 0)
			goto out;
		if (seen[k]++) {
			err_set("kind %s listed twice", tok);
			goto out;
		}
		int cnt = (k == KIND_RANDOM || k == KIND_ORTHOGONAL) ? o->count : 1;
		for (int i = 0; i < cnt; i++) {
			DirSpec *s = &c->spec[c->n++];
			s->kind = k;
			s->index = i;
			if (cnt == 1 && k != KIND_RANDOM && k != KIND_ORTHOGONAL)
				snprintf(s->name, sizeof s->name, "%s", dir_kind_name(k));
			else
				snprintf(s->name, sizeof s->name, "%s%d", k == KIND_ORTHOGONAL ? "orth" : "random", i);
			if (k == KIND_ALIGNED)
				c->aligned_k = c->n - 1;
			if (k == KIND_ORTHOGONAL && i == 0)
				c->orth_first = c->n - 1;
		}
		if (k == KIND_ORTHOGONAL)
			c->n_orth = cnt;
	}
	if (c->n == 0) {
		err_set("--kind: no kind given");
		goto out;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}

static int open_sources(Ctx *c)
{
	const PerturbOpts *o = c->o;
	int need_aligned = c->aligned_k >= 0 || c->n_orth > 0, need_ft = 0, need_ad = 0;
	for (int k = 0; k < c->n; k++) {
		if (c->spec[k].kind == KIND_INTERP)
			need_ft = 1;
		if (c->spec[k].kind == KIND_HARM) {
			if (o->adapter_dir)
				need_ad = 1;
			else
				need_ft = 1;
		}
	}
	if (st_open_dir(&c->model, o->model_dir) < 0)
		return -1;
	if (need_aligned) {
		if (o->direction_file && !o->base_dir) {
			H5Store *h = h5s_open(o->direction_file, 0);
			if (!h)
				return -1;
			int rc = h5s_attr_get_str(h, "/", "base", &c->base_dir);
			if (rc == 0)
				rc = h5s_attr_get_str(h, "/", "aligned", &c->aligned_dir);
			h5s_close(h);
			if (rc < 0)
				return err_set("%s: no base/aligned attributes on / (not an asft-direction file?)",
					       o->direction_file);
		} else if (o->base_dir && o->aligned_dir) {
			c->base_dir = xstrdup(o->base_dir);
			c->aligned_dir = xstrdup(o->aligned_dir);
		} else {
			return err_set("kinds aligned and orthogonal need --base and --aligned, or --direction FILE");
		}
		if (open_pair_checked(c, &c->base, c->base_dir) < 0 ||
		    open_pair_checked(c, &c->aligned, c->aligned_dir) < 0)
			return -1;
		c->have_aligned = 1;
	}
	if (need_ft) {
		if (!o->from_dir || !o->to_dir)
			return err_set("kinds harm and interp need --from and --to (harm: or --adapter)");
		if (open_pair_checked(c, &c->from, o->from_dir) < 0 ||
		    open_pair_checked(c, &c->to, o->to_dir) < 0)
			return -1;
		c->have_ft = 1;
	}
	if (need_ad) {
		if (adapter_load(&c->ad, o->adapter_dir) < 0)
			return -1;
		c->have_ad = 1;
		c->ad_scale = adapter_scaling(&c->ad.cfg);
		for (int i = 0; i < c->ad.n_mods; i++) {
			char *nm = xasprintf("%s.weight", c->ad.mods[i].module);
			const StTensor *t = st_find(&c->model, nm);
			free(nm);
			if (!t)
				return err_set("adapter %s: module %s has no weight %s.weight in %s",
					       o->adapter_dir, c->ad.mods[i].module, c->ad.mods[i].module,
					       o->model_dir);
		}
	}
	return 0;
}

static int write_group_attrs(Ctx *c, H5Store *out, const DirSpec *s, double norm)
{
	const PerturbOpts *o = c->o;
	char *grp = xasprintf("/%s", s->name), *src;
	switch (s->kind) {
	case KIND_ALIGNED:
		src = xasprintf("aligned %s minus base %s", c->aligned_dir, c->base_dir);
		break;
	case KIND_RANDOM:
		src = xasprintf("Gaussian N(0,1) per tensor, seed %llu, slot %d",
				(unsigned long long)o->seed, s->index);
		break;
	case KIND_ORTHOGONAL:
		src = xasprintf("Gaussian seed %llu slot %d, Gram-Schmidt against aligned %s minus base %s"
				" and orth0..orth%d", (unsigned long long)o->seed, SLOT_ORTH + s->index,
				c->aligned_dir, c->base_dir, s->index - 1);
		break;
	case KIND_HARM:
		src = c->have_ad ? xasprintf("PEFT adapter %s: scale %.9g * B A", o->adapter_dir, c->ad_scale)
				 : xasprintf("%s minus %s", o->to_dir, o->from_dir);
		break;
	default:
		src = xasprintf("%s minus %s (theta_from + t d, t in [0, 1], not normalised)",
				o->to_dir, o->from_dir);
	}
	int rc = h5s_attr_set_str(out, grp, "kind", dir_kind_name(s->kind));
	if (!rc) rc = h5s_attr_set_str(out, grp, "normalisation",
				      s->kind == KIND_INTERP ? "none" : dir_norm_name(o->norm));
	if (!rc) rc = h5s_attr_set_i64(out, grp, "seed", (int64_t)o->seed);
	if (!rc) rc = h5s_attr_set_str(out, grp, "source", src);
	if (!rc) rc = h5s_attr_set_str(out, grp, "model", o->model_dir);
	if (!rc) rc = h5s_attr_set_str(out, grp, "orth_scope",
				      s->kind == KIND_ORTHOGONAL ? orth_scope_name(c->scope) : "none");
	if (!rc) rc = h5s_attr_set_i64(out, grp, "include_1d", s->kind == KIND_INTERP ? 1 : o->include_1d);
	if (!rc) rc = h5s_attr_set_i64(out, grp, "include_embed", s->kind == KIND_INTERP ? 1 : o->include_embed);
	if (!rc) rc = h5s_attr_set_str(out, grp, "modules", s->kind == KIND_INTERP ? "all" : o->modules);
	if (!rc) rc = h5s_attr_set_f64(out, grp, "global_norm", norm);
	free(src);
	free(grp);
	return rc;
}

static void ctx_free(Ctx *c)
{
	st_close(&c->model);
	st_close(&c->base);
	st_close(&c->aligned);
	st_close(&c->from);
	st_close(&c->to);
	adapter_free(&c->ad);
	free(c->base_dir);
	free(c->aligned_dir);
	free(c->G);
	free(c->T);
	free(c->sumsq);
	free(c->scale);
	free(c->dots);
	if (c->d)
		for (int k = 0; k < c->n; k++)
			free(c->d[k]);
	free(c->d);
	free(c->w);
	free(c->t1);
	free(c->anchor);
}

static int run_pass(Ctx *c, H5Store *out, const int *order, int pass)
{
	Progress prog;
	if (c->o->progress)
		progress_init(&prog, pass == 1 ? "perturb (pass 1)" : "perturb", (uint64_t)c->model.n);
	for (int i = 0; i < c->model.n; i++) {
		const StTensor *t = &c->model.tensors[order[i]];
		if (!tensor_is_float(t))
			continue;
		if (build_tensor(c, out, t, pass) < 0)
			return err_prefix("tensor %s", t->name);
		tensor_release(t);
		if (c->o->progress)
			progress_update(&prog, (uint64_t)i + 1, t->name);
	}
	if (c->o->progress)
		progress_finish(&prog, NULL);
	return 0;
}

int perturb_compute(H5Store *out, const PerturbOpts *o, PerturbSummary *sum)
{
	Ctx c = {.o = o};
	int ret = -1, *order = NULL;
	double t0 = time_now();
	memset(sum, 0, sizeof *sum);
	if (setup_specs(&c) < 0 || open_sources(&c) < 0)
		goto out;
	c.scope = o->scope;
	if (c.scope == ORTH_AUTO)
		c.scope = o->norm == NORM_FILTER ? ORTH_ROW : o->norm == NORM_LAYER ? ORTH_TENSOR : ORTH_GLOBAL;
	c.renorm = (o->norm == NORM_FILTER && c.scope == ORTH_ROW) ||
		   (o->norm == NORM_LAYER && (c.scope == ORTH_ROW || c.scope == ORTH_TENSOR));
	int m = c.n_orth + 1;
	c.G = xcalloc((size_t)m * m, sizeof(double));
	c.T = xcalloc((size_t)m * m, sizeof(double));
	c.sumsq = xcalloc((size_t)c.n, sizeof(double));
	c.scale = xmalloc((size_t)c.n * sizeof(double));
	c.dots = xcalloc((size_t)c.n * c.n, sizeof(double));
	for (int k = 0; k < c.n; k++)
		c.scale[k] = 1.0;
	for (int i = 0; i < c.model.n; i++)
		if (c.model.tensors[i].numel > c.maxnumel)
			c.maxnumel = c.model.tensors[i].numel;
	size_t bytes = (c.maxnumel ? c.maxnumel : 1) * sizeof(float);
	c.d = xcalloc((size_t)c.n, sizeof(float *));
	for (int k = 0; k < c.n; k++)
		c.d[k] = xmalloc(bytes);
	c.w = xmalloc(bytes);
	c.t1 = xmalloc(bytes);
	c.anchor = xmalloc(bytes);
	order = tensor_file_order(&c.model);

	int global_orth = c.n_orth > 0 && c.scope == ORTH_GLOBAL;
	if (o->norm == NORM_UNIT || global_orth) {
		if (run_pass(&c, out, order, 1) < 0)
			goto out;
		if (global_orth) {
			double *qn = xmalloc((size_t)m * sizeof(double));
			gs_coefficients(c.G, m, c.T, qn);
			for (int j = 0; j < c.n_orth; j++)
				c.sumsq[c.orth_first + j] = qn[j + 1];
			free(qn);
		}
		if (o->norm == NORM_UNIT)
			for (int k = 0; k < c.n; k++)
				if (c.spec[k].kind != KIND_INTERP)
					c.scale[k] = c.sumsq[k] > 0 ? 1.0 / sqrt(c.sumsq[k]) : 0;
	}
	if (run_pass(&c, out, order, 2) < 0)
		goto out;

	/* global tables */
	int n = c.n;
	sum->n = n;
	sum->names = xcalloc((size_t)n, sizeof(char *));
	sum->norms = xmalloc((size_t)n * sizeof(double));
	sum->cosines = xmalloc((size_t)n * n * sizeof(double));
	size_t len = 1;
	for (int k = 0; k < n; k++) {
		sum->names[k] = xstrdup(c.spec[k].name);
		sum->norms[k] = sqrt(c.dots[k * n + k]);
		len += strlen(c.spec[k].name) + 1;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double den = sum->norms[i] * sum->norms[j];
			sum->cosines[i * n + j] = den > 0 ? c.dots[i * n + j] / den : NAN;
		}
	char *names = xcalloc(len, 1);
	for (int k = 0; k < n; k++) {
		if (k)
			strcat(names, ",");
		strcat(names, c.spec[k].name);
	}
	size_t d2[2] = {(size_t)n, (size_t)n}, d1[1] = {(size_t)n};
	int rc = h5s_write_f64(out, "/cosines", sum->cosines, 2, d2,
			       "global cosines between the directions (order: attribute names)");
	if (!rc) rc = h5s_attr_set_str(out, "/cosines", "names", names);
	if (!rc) rc = h5s_write_f64(out, "/norms", sum->norms, 1, d1, "global norm of each direction");
	if (!rc) rc = h5s_attr_set_str(out, "/norms", "names", names);
	if (!rc) rc = h5s_attr_set_str(out, "/", "names", names);
	if (!rc) rc = h5s_attr_set_str(out, "/", "model", o->model_dir);
	if (!rc) rc = h5s_attr_set_i64(out, "/", "n_directions", n);
	for (int k = 0; k < n && !rc; k++)
		rc = write_group_attrs(&c, out, &c.spec[k], sum->norms[k]);
	free(names);
	if (rc < 0)
		goto out;
	for (int i = 0; i < c.model.n; i++)
		sum->n_tensors += tensor_is_float(&c.model.tensors[i]);
	sum->seconds = time_now() - t0;
	ret = 0;
out:
	if (ret < 0)
		perturb_summary_free(sum);
	free(order);
	ctx_free(&c);
	return ret;
}

void perturb_summary_free(PerturbSummary *sum)
{
	if (!sum)
		return;
	for (int i = 0; i < sum->n && sum->names; i++)
		free(sum->names[i]);
	free(sum->names);
	free(sum->norms);
	free(sum->cosines);
	memset(sum, 0, sizeof *sum);
}

void perturb_summary_print(FILE *f, const PerturbSummary *sum)
{
	fprintf(f, "%d directions over %d tensors, %.1f s\n", sum->n, sum->n_tensors, sum->seconds);
	fprintf(f, "%-10s %12s   cosines\n", "direction", "norm");
	for (int i = 0; i < sum->n; i++) {
		fprintf(f, "%-10s %12.6g  ", sum->names[i], sum->norms[i]);
		for (int j = 0; j < sum->n && j < 8; j++)
			fprintf(f, " %10.3e", sum->cosines[i * sum->n + j]);
		fprintf(f, "\n");
	}
}
