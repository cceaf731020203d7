/* safetensors.c: see safetensors.h. Reader (mmap + full validation), f16/bf16 conversions,
 * single-file writer and the streaming sharded writer.
 *
 * The reader trusts nothing: every length, offset, dimension and dtype of the header is checked
 * before a byte of the data region is touched, and every failure is one err_set line naming the
 * file (and the tensor) and the fact. It does not check the values of the data (NaN is data).
 * Host byte order is assumed little-endian, as the format's is (x86-64, aarch64). */
#include "safetensors.h"
#include "util.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_HEADER 100000000ull  /* the reference implementation's limit on N */
#define ST_MAX_INT 9007199254740992.0       /* 2^53: cJSON numbers are doubles */
#define INDEX_NAME "model.safetensors.index.json"
#define Q(s) err_quote((s), 0)          /* a name from the file, fit for a one-line message */

struct StMap {
	char *path;
	void *base;
	size_t size;
	char **names;       /* tensor names, owned here; StTensor.name points into them */
	int n_names;
};

static const struct {
	const char *name;
	size_t size;
} dtypes[ST_NDTYPES] = {
	[ST_F32] = {"F32", 4}, [ST_F16] = {"F16", 2}, [ST_BF16] = {"BF16", 2},
	[ST_F64] = {"F64", 8}, [ST_I64] = {"I64", 8}, [ST_I32] = {"I32", 4},
	[ST_I16] = {"I16", 2}, [ST_I8] = {"I8", 1}, [ST_U8] = {"U8", 1}, [ST_BOOL] = {"BOOL", 1},
	[ST_U16] = {"U16", 2}, [ST_U32] = {"U32", 4}, [ST_U64] = {"U64", 8},
	[ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *st_dtype_name(StDtype t) { return (unsigned)t < ST_NDTYPES ? dtypes[t].name : "?"; }
size_t st_dtype_size(StDtype t) { return (unsigned)t < ST_NDTYPES ? dtypes[t].size : 0; }

int st_dtype_parse(const char *s)
{
	for (int i = 0; s && i < ST_NDTYPES; i++)
		if (strcmp(s, dtypes[i].name) == 0)
			return i;
	return -1;
}

/* ---- conversions ---------------------------------------------------------------------- */

static uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float st_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

uint16_t st_f32_to_bf16(float f)
{
	uint32_t x = f32_bits(f);
	if ((x & 0x7FFFFFFFu) > 0x7F800000u)        /* NaN: keep sign, force a quiet payload */
		return (uint16_t)((x >> 16) | 0x0040);
	/* round to nearest even on the 16 dropped bits; a carry may reach inf, as it should */
	return (uint16_t)((x + 0x7FFFu + ((x >> 16) & 1)) >> 16);
}

float st_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
	if (exp == 0) {     /* zero or subnormal: mant * 2^-24, exact in f32 */
		float v = (float)mant * 0x1p-24f;
		return bits_f32(f32_bits(v) | sign);
	}
	if (exp == 31)      /* inf or NaN, payload kept */
		return bits_f32(sign | 0x7F800000u | (mant << 13));
	return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t st_f32_to_f16(float f)
{
	uint32_t x = f32_bits(f);
	uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
	x &= 0x7FFFFFFFu;
	if (x >= 0x7F800000u)                       /* inf, NaN (quiet, top payload bits kept) */
		return sign | (x > 0x7F800000u ? (uint16_t)(0x7E00 | ((x >> 13) & 0x3FF)) : 0x7C00);
	if (x >= 0x477FF000u)                       /* >= 65520 rounds to inf */
		return sign | 0x7C00;
	if (x < 0x38800000u) {                      /* below 2^-14: f16 subnormal or zero */
		int e = (int)(x >> 23);
		if (e < 102)                        /* below 2^-25: rounds to zero */
			return sign;
		uint32_t m = (x & 0x7FFFFFu) | 0x800000u;
		int shift = 126 - e;                /* value / 2^-24 = m >> shift */
		uint32_t q = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
		if (rem > half || (rem == half && (q & 1)))
			q++;
		return sign | (uint16_t)q;
	}
	uint32_t r = x - 0x38000000u;              /* rebias the exponent (127 -> 15) */
	return sign | (uint16_t)((r + 0xFFFu + ((r >> 13) & 1)) >> 13);
}

int st_read_f32(const StTensor *t, float *dst)
{
	const unsigned char *p = t->data;
	size_t n = t->numel;
	switch (t->dtype) {
	case ST_F32:
		if (n)
			memcpy(dst, p, n * 4);
		return 0;
	case ST_F16:
		for (size_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + 2 * i, 2);
			dst[i] = st_f16_to_f32(h);
		}
		return 0;
	case ST_BF16:
		for (size_t i = 0; i < n; i++) {
			uint16_t h;
			memcpy(&h, p + 2 * i, 2);
			dst[i] = st_bf16_to_f32(h);
		}
		return 0;
	case ST_F64:
		for (size_t i = 0; i < n; i++) {
			double d;
			memcpy(&d, p + 8 * i, 8);
			dst[i] = (float)d;
		}
		return 0;
	default:
		return err_set("tensor %s: dtype %s cannot be read as f32 (not F32/F16/BF16/F64)",
			       Q(t->name), st_dtype_name(t->dtype));
	}
}

float *st_f32(const StTensor *t, int *owned)
{
	if (t->dtype == ST_F32 && ((uintptr_t)t->data & 3) == 0) {
		*owned = 0;
		return (float *)t->data;
	}
	float *buf = xmalloc(t->numel * sizeof(float));
	if (st_read_f32(t, buf) != 0) {
		free(buf);
		*owned = 0;
		return NULL;
	}
	*owned = 1;
	return buf;
}

/* ---- reader --------------------------------------------------------------------------- */

static int cmp_tensor_name(const void *a, const void *b)
{
	return strcmp(((const StTensor *)a)->name, ((const StTensor *)b)->name);
}

static int cmp_tensor_off(const void *a, const void *b)
{
	const StTensor *x = a, *y = b;
	const char *px = x->data, *py = y->data;
	if (px != py)
		return px < py ? -1 : 1;
	return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

/* json_uint: a JSON number that is a non-negative integer below 2^53. 0 ok, -1 otherwise with
 * *why set to the fact. */
static int json_uint(const cJSON *j, uint64_t *out, const char **why)
{
	if (!cJSON_IsNumber(j))
		return *why = "is not a number", -1;
	double d = j->valuedouble;
	if (!isfinite(d) || d != floor(d))
		return *why = "is not an integer", -1;
	if (d < 0)
		return *why = "is negative", -1;
	if (d >= ST_MAX_INT)
		return *why = "is too large (2^53 or more)", -1;
	*out = (uint64_t)d;
	return 0;
}

void st_shape_str(char *buf, size_t cap, const int64_t *shape, int ndim)
{
	size_t k = (size_t)snprintf(buf, cap, "[");
	for (int i = 0; i < ndim && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
	if (k < cap)
		snprintf(buf + k, cap - k, "]");
}

/* parse_tensor: fills t (name set by the caller) from the header entry j of file path. The
 * offsets are checked against data_size; t->data = data + begin. */
static int parse_tensor(StTensor *t, const cJSON *j, const char *path, const unsigned char *data,
			size_t data_size)
{
	const char *nm = t->name, *why;
	if (!cJSON_IsObject(j))
		return err_set("%s: tensor %s: entry is not a JSON object", path, Q(nm));
	const cJSON *jd = cJSON_GetObjectItemCaseSensitive(j, "dtype");
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "shape");
	const cJSON *jo = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
	if (!jd)
		return err_set("%s: tensor %s: missing \"dtype\"", path, Q(nm));
	if (!js)
		return err_set("%s: tensor %s: missing \"shape\"", path, Q(nm));
	if (!jo)
		return err_set("%s: tensor %s: missing \"data_offsets\"", path, Q(nm));
	if (!cJSON_IsString(jd))
		return err_set("%s: tensor %s: \"dtype\" is not a string", path, Q(nm));
	int dt = st_dtype_parse(jd->valuestring);
	if (dt < 0)
		return err_set("%s: tensor %s: unknown dtype \"%s\"", path, Q(nm),
			       err_quote(jd->valuestring, 40));
	t->dtype = (StDtype)dt;
	if (!cJSON_IsArray(js))
		return err_set("%s: tensor %s: \"shape\" is not an array", path, Q(nm));
	int ndim = cJSON_GetArraySize(js);
	if (ndim > ST_MAX_DIMS)
		return err_set("%s: tensor %s: shape has %d dimensions, more than %d", path, Q(nm),
			       ndim, ST_MAX_DIMS);
	t->ndim = ndim;
	size_t numel = 1;
	int overflow = 0, i = 0;
	for (const cJSON *e = js->child; e; e = e->next, i++) {
		uint64_t d;
		if (json_uint(e, &d, &why) != 0)
			return err_set("%s: tensor %s: shape dimension %d %s", path, Q(nm), i, why);
		t->shape[i] = (int64_t)d;
		if (__builtin_mul_overflow(numel, (size_t)d, &numel))
			overflow = 1;
	}
	char sh[160];
	st_shape_str(sh, sizeof sh, t->shape, ndim);
	size_t esz = st_dtype_size(t->dtype), nbytes;
	if (overflow || __builtin_mul_overflow(numel, esz, &nbytes))
		return err_set("%s: tensor %s: shape %s overflows 64-bit byte counts", path, Q(nm), sh);
	t->numel = numel;
	t->nbytes = nbytes;
	if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2)
		return err_set("%s: tensor %s: \"data_offsets\" is not an array of two integers",
			       path, Q(nm));
	uint64_t b, e;
	if (json_uint(jo->child, &b, &why) != 0)
		return err_set("%s: tensor %s: data_offsets begin %s", path, Q(nm), why);
	if (json_uint(jo->child->next, &e, &why) != 0)
		return err_set("%s: tensor %s: data_offsets end %s", path, Q(nm), why);
	if (b > e)
		return err_set("%s: tensor %s: data_offsets [%llu, %llu] are reversed (begin > end)",
			       path, Q(nm), (unsigned long long)b, (unsigned long long)e);
	if (e > data_size)
		return err_set("%s: tensor %s: data_offsets [%llu, %llu] run past the end of the "
			       "data region (%zu bytes)", path, Q(nm), (unsigned long long)b,
			       (unsigned long long)e, data_size);
	if (e - b != nbytes)
		return err_set("%s: tensor %s: shape %s of %s needs %zu bytes but data_offsets "
			       "[%llu, %llu] hold %llu", path, Q(nm), sh, st_dtype_name(t->dtype),
			       nbytes, (unsigned long long)b, (unsigned long long)e,
			       (unsigned long long)(e - b));
	t->data = data + b;
	return 0;
}

static void meta_push(Safetensors *st, const char *k, const char *v)
{
	st->meta_keys = xrealloc(st->meta_keys, (st->n_meta + 1) * sizeof(char *));
	st->meta_vals = xrealloc(st->meta_vals, (st->n_meta + 1) * sizeof(char *));
	st->meta_keys[st->n_meta] = xstrdup(k);
	st->meta_vals[st->n_meta] = xstrdup(v);
	st->n_meta++;
}

static int parse_meta(Safetensors *st, const cJSON *j, const char *path)
{
	if (!cJSON_IsObject(j))
		return err_set("%s: __metadata__ is not a JSON object", path);
	for (const cJSON *e = j->child; e; e = e->next) {
		if (!cJSON_IsString(e))
			return err_set("%s: __metadata__ key \"%s\": value is not a string", path,
				       Q(e->string));
		for (int i = 0; i < st->n_meta; i++)
			if (strcmp(st->meta_keys[i], e->string) == 0)
				return err_set("%s: __metadata__ key \"%s\" appears twice", path,
					       Q(e->string));
		meta_push(st, e->string, e->valuestring);
	}
	return 0;
}

/* check_layout: tensors of one file, already sorted by offset, must tile the data region. */
static int check_layout(StTensor *ts, int n, const unsigned char *data, size_t data_size,
			const char *path)
{
	size_t end = 0;
	for (int i = 0; i < n; i++) {
		size_t b = (size_t)((const unsigned char *)ts[i].data - data);
		if (b > end) {
			if (i == 0)
				return err_set("%s: tensor %s: gap of %zu bytes at the start of the "
					       "data region (data_offsets begin at %zu)", path,
					       Q(ts[i].name), b, b);
			return err_set("%s: tensor %s: gap of %zu bytes before it in the data region "
				       "(tensor %s ends at %zu, this one begins at %zu)", path,
				       Q(ts[i].name), b - end, Q(ts[i - 1].name), end, b);
		}
		if (b < end)
			return err_set("%s: tensor %s: data_offsets [%zu, %zu] overlap tensor %s "
				       "(which ends at %zu)", path, Q(ts[i].name), b, b + ts[i].nbytes,
				       Q(ts[i - 1].name), end);
		end = b + ts[i].nbytes;
	}
	if (end != data_size)
		return err_set("%s: %zu bytes in the data region after the last tensor (tensors "
			       "cover %zu of %zu bytes)", path, data_size - end, end, data_size);
	return 0;
}

/* map_open: maps and validates one file, appending its tensors (tagged with file index fi) to
 * st->tensors and, when want_meta, its __metadata__ to st. m is filled even on failure so
 * st_close can release it. */
static int map_open(Safetensors *st, struct StMap *m, int fi, const char *path, int want_meta)
{
	int ret = -1;
	m->path = xstrdup(path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("%s: cannot open: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		err_set("%s: cannot stat: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(sb.st_mode)) {
		err_set("%s: not a regular file", path);
		goto out_close;
	}
	size_t size = (size_t)sb.st_size;
	if (size == 0) {
		err_set("%s: empty file (a safetensors file starts with an 8-byte header length)",
			path);
		goto out_close;
	}
	if (size < 8) {
		err_set("%s: file is %zu bytes, shorter than the 8-byte header length", path, size);
		goto out_close;
	}
	void *base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (base == MAP_FAILED) {
		err_set("%s: cannot mmap: %s", path, strerror(errno));
		goto out_close;
	}
	m->base = base;
	m->size = size;
	const unsigned char *u = base;
	uint64_t hlen;
	memcpy(&hlen, u, 8);
	if (hlen > size - 8) {
		err_set("%s: header length %llu runs past the end of the file (%zu bytes)", path,
			(unsigned long long)hlen, size);
		goto out_close;
	}
	if (hlen > ST_MAX_HEADER) {
		err_set("%s: header length %llu exceeds the %llu-byte limit", path,
			(unsigned long long)hlen, ST_MAX_HEADER);
		goto out_close;
	}
	/* parse a NUL-terminated copy: no parser bug can then read past a mapping that ends
	 * with the header */
	char *htext = xmalloc((size_t)hlen + 1);
	memcpy(htext, u + 8, (size_t)hlen);
	htext[hlen] = 0;
	size_t bad;
	if (utf8_check(htext, hlen, &bad) != 0) {
		err_set("%s: header is not valid UTF-8 (byte %zu)", path, bad);
		goto out_free_text;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(htext, hlen, &end, 0);
	if (!root) {
		const char *ep = cJSON_GetErrorPtr();
		size_t off = ep && ep >= htext && ep <= htext + hlen ? (size_t)(ep - htext) : 0;
		err_set("%s: header is not valid JSON (error near byte %zu of %llu)", path, off,
			(unsigned long long)hlen);
		goto out_free_text;
	}
	for (const char *p = end; p && p < htext + hlen; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') {
			err_set("%s: header has bytes after its JSON value (at byte %zu)", path,
				(size_t)(p - htext));
			goto out_free_root;
		}
	if (!cJSON_IsObject(root)) {
		err_set("%s: header is not a JSON object", path);
		goto out_free_root;
	}
	const unsigned char *data = u + 8 + hlen;
	size_t data_size = size - 8 - (size_t)hlen;
	int n = 0;
	for (const cJSON *e = root->child; e; e = e->next)
		n++;
	m->names = xcalloc((size_t)n, sizeof(char *));
	StTensor *ts = xcalloc((size_t)n, sizeof(StTensor));
	int nt = 0, nmeta = 0;
	for (const cJSON *e = root->child; e; e = e->next) {
		if (strcmp(e->string, "__metadata__") == 0) {
			if (nmeta++) {
				err_set("%s: __metadata__ appears twice", path);
				goto out_free_ts;
			}
			Safetensors tmp = {0};
			int r = parse_meta(want_meta ? st : &tmp, e, path);
			for (int k = 0; k < tmp.n_meta; k++)
				free(tmp.meta_keys[k]), free(tmp.meta_vals[k]);
			free(tmp.meta_keys), free(tmp.meta_vals);
			if (r)
				goto out_free_ts;
			continue;
		}
		StTensor *t = &ts[nt];
		t->name = m->names[m->n_names++] = xstrdup(e->string);
		t->file = fi;
		if (parse_tensor(t, e, path, data, data_size) != 0)
			goto out_free_ts;
		nt++;
	}
	qsort(ts, (size_t)nt, sizeof *ts, cmp_tensor_name);
	for (int i = 1; i < nt; i++)
		if (strcmp(ts[i].name, ts[i - 1].name) == 0) {
			err_set("%s: tensor %s: name appears twice in the header", path, Q(ts[i].name));
			goto out_free_ts;
		}
	qsort(ts, (size_t)nt, sizeof *ts, cmp_tensor_off);
	if (check_layout(ts, nt, data, data_size, path) != 0)
		goto out_free_ts;
	st->tensors = xrealloc(st->tensors, (size_t)(st->n + nt) * sizeof(StTensor));
	memcpy(st->tensors + st->n, ts, (size_t)nt * sizeof(StTensor));
	st->n += nt;
	ret = 0;
out_free_ts:
	free(ts);
out_free_root:
	cJSON_Delete(root);
out_free_text:
	free(htext);
out_close:
	close(fd);
	return ret;
}

int st_open(Safetensors *st, const char *path)
{
	memset(st, 0, sizeof *st);
	st->maps = xcalloc(1, sizeof(struct StMap));
	st->n_maps = 1;
	if (map_open(st, &st->maps[0], 0, path, 1) != 0) {
		st_close(st);
		return -1;
	}
	qsort(st->tensors, (size_t)st->n, sizeof(StTensor), cmp_tensor_name);
	return 0;
}

typedef struct {
	const char *name, *file;
} IndexEntry;

static int cmp_index_entry(const void *a, const void *b)
{
	return strcmp(((const IndexEntry *)a)->name, ((const IndexEntry *)b)->name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* has_control: s holds a C0 control byte or DEL. A shard name with one is refused: it would
 * reach every message about that shard through its path. */
static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* open_index: the sharded case of st_open_dir. */
static int open_index(Safetensors *st, const char *dir, const char *ipath)
{
	int ret = -1;
	char *text = file_read_all(ipath, NULL);
	if (!text)
		return -1;
	cJSON *root = cJSON_Parse(text);
	IndexEntry *ents = NULL;
	const char **files = NULL;
	int n = 0, nf = 0;
	if (!root || !cJSON_IsObject(root)) {
		err_set("%s: %s", ipath, root ? "not a JSON object" : "not valid JSON");
		goto out;
	}
	const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
	if (!cJSON_IsObject(wm)) {
		err_set("%s: \"weight_map\" is missing or not an object", ipath);
		goto out;
	}
	for (const cJSON *e = wm->child; e; e = e->next)
		n++;
	if (n == 0) {       /* a folder of no tensors is no checkpoint (and qsort(NULL, 0) is UB) */
		err_set("%s: weight_map lists no tensors", ipath);
		goto out;
	}
	ents = xcalloc((size_t)n, sizeof *ents);
	files = xcalloc((size_t)n, sizeof *files);
	int i = 0;
	for (const cJSON *e = wm->child; e; e = e->next, i++) {
		if (!cJSON_IsString(e)) {
			err_set("%s: tensor %s: shard file name is not a string", ipath, Q(e->string));
			goto out;
		}
		const char *f = e->valuestring;
		if (!*f || strchr(f, '/') || strcmp(f, ".") == 0 || strcmp(f, "..") == 0 ||
		    has_control(f)) {
			err_set("%s: tensor %s: shard \"%s\" is not a plain file name in the folder",
				ipath, Q(e->string), Q(f));
			goto out;
		}
		ents[i] = (IndexEntry){e->string, f};
		files[i] = f;
	}
	qsort(ents, (size_t)n, sizeof *ents, cmp_index_entry);
	for (i = 1; i < n; i++)
		if (strcmp(ents[i].name, ents[i - 1].name) == 0) {
			err_set("%s: tensor %s: appears twice in weight_map", ipath, Q(ents[i].name));
			goto out;
		}
	qsort(files, (size_t)n, sizeof *files, cmp_str);
	for (i = 0; i < n; i++)
		if (nf == 0 || strcmp(files[i], files[nf - 1]) != 0)
			files[nf++] = files[i];
	st->maps = xcalloc((size_t)(nf ? nf : 1), sizeof(struct StMap));
	for (i = 0; i < nf; i++) {
		char *p = path_join(dir, files[i]);
		int before = st->n;
		st->n_maps = i + 1;
		int r = map_open(st, &st->maps[i], i, p, i == 0);
		free(p);
		if (r != 0) {
			err_prefix("%s: shard %s", ipath, Q(files[i]));
			goto out;
		}
		for (int k = before; k < st->n; k++) {
			IndexEntry key = {st->tensors[k].name, NULL};
			IndexEntry *ie = bsearch(&key, ents, (size_t)n, sizeof *ents, cmp_index_entry);
			if (!ie) {
				err_set("%s: tensor %s: in shard %s but not in weight_map", ipath,
					Q(key.name), Q(files[i]));
				goto out;
			}
			if (strcmp(ie->file, files[i]) != 0) {
				err_set("%s: tensor %s: weight_map names shard %s but it is in %s", ipath,
					Q(key.name), Q(ie->file), Q(files[i]));
				goto out;
			}
		}
	}
	qsort(st->tensors, (size_t)st->n, sizeof(StTensor), cmp_tensor_name);
	for (i = 0; i < n; i++)
		if (!st_find(st, ents[i].name)) {
			err_set("%s: tensor %s: not found in its shard %s", ipath, Q(ents[i].name),
				Q(ents[i].file));
			goto out;
		}
	ret = 0;
out:
	free(files);
	free(ents);
	cJSON_Delete(root);
	free(text);
	return ret;
}

int st_open_dir(Safetensors *st, const char *dir)
{
	memset(st, 0, sizeof *st);
	char *ipath = path_join(dir, INDEX_NAME);
	int ret;
	if (path_exists(ipath)) {
		ret = open_index(st, dir, ipath);
		if (ret != 0)
			st_close(st);
	} else {
		char *p = path_join(dir, "model.safetensors");
		if (path_exists(p))
			ret = st_open(st, p);
		else
			ret = err_set("%s: no model.safetensors or %s in the folder", dir, INDEX_NAME);
		free(p);
	}
	free(ipath);
	return ret;
}

void st_close(Safetensors *st)
{
	if (!st)
		return;
	for (int i = 0; i < st->n_maps; i++) {
		struct StMap *m = &st->maps[i];
		if (m->base)
			munmap(m->base, m->size);
		for (int k = 0; k < m->n_names; k++)
			free(m->names[k]);
		free(m->names);
		free(m->path);
	}
	for (int i = 0; i < st->n_meta; i++)
		free(st->meta_keys[i]), free(st->meta_vals[i]);
	free(st->meta_keys);
	free(st->meta_vals);
	free(st->maps);
	free(st->tensors);
	memset(st, 0, sizeof *st);
}

const StTensor *st_find(const Safetensors *st, const char *name)
{
	if (!st || !name || st->n == 0)
		return NULL;
	StTensor key = {.name = name};
	return bsearch(&key, st->tensors, (size_t)st->n, sizeof(StTensor), cmp_tensor_name);
}

const char *st_meta_get(const Safetensors *st, const char *key)
{
	for (int i = 0; st && key && i < st->n_meta; i++)
		if (strcmp(st->meta_keys[i], key) == 0)
			return st->meta_vals[i];
	return NULL;
}

/* ---- writers -------------------------------------------------------------------------- */

typedef struct {
	char *name;
	StDtype dtype;
	int ndim;
	int64_t shape[ST_MAX_DIMS];
	size_t numel, nbytes;
	const float *data;  /* StWriter: the caller's buffer */
	int shard;
	size_t begin;       /* offset in its shard's data region */
	size_t written;     /* elements received (shard writer) */
} WEntry;

/* The plan shared by both writers: entries, metadata and the JSON header builder. */
typedef struct {
	WEntry *ents;
	int n, cap;
	char **mk, **mv;
	int n_meta;
} Plan;

static int plan_add(Plan *p, const char *name, StDtype dt, int ndim, const int64_t *shape)
{
	if (!name || strcmp(name, "__metadata__") == 0 || !*name)
		return err_set("safetensors writer: tensor \"%s\": invalid name", name ? name : "");
	if (utf8_check(name, strlen(name), NULL) != 0)
		return err_set("safetensors writer: tensor %s: name is not valid UTF-8", Q(name));
	if (dt != ST_F32 && dt != ST_BF16)
		return err_set("safetensors writer: tensor %s: output dtype %s not supported (F32 "
			       "or BF16)", Q(name), st_dtype_name(dt));
	if (ndim < 0 || ndim > ST_MAX_DIMS)
		return err_set("safetensors writer: tensor %s: %d dimensions (0..%d allowed)", Q(name),
			       ndim, ST_MAX_DIMS);
	size_t numel = 1, nbytes;
	for (int i = 0; i < ndim; i++)
		if (shape[i] < 0 || (double)shape[i] >= ST_MAX_INT ||
		    __builtin_mul_overflow(numel, (size_t)shape[i], &numel))
			return err_set("safetensors writer: tensor %s: dimension %d (%lld) is "
				       "negative or too large", Q(name), i, (long long)shape[i]);
	if (__builtin_mul_overflow(numel, st_dtype_size(dt), &nbytes))
		return err_set("safetensors writer: tensor %s: too large", Q(name));
	for (int i = 0; i < p->n; i++)
		if (strcmp(p->ents[i].name, name) == 0)
			return err_set("safetensors writer: tensor %s: added twice", Q(name));
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->ents = xrealloc(p->ents, (size_t)p->cap * sizeof(WEntry));
	}
	WEntry *e = &p->ents[p->n++];
	memset(e, 0, sizeof *e);
	e->name = xstrdup(name);
	e->dtype = dt;
	e->ndim = ndim;
	for (int i = 0; i < ndim; i++)
		e->shape[i] = shape[i];
	e->numel = numel;
	e->nbytes = nbytes;
	return 0;
}

static int plan_meta(Plan *p, const char *key, const char *val)
{
	if (!key || !val || utf8_check(key, strlen(key), NULL) || utf8_check(val, strlen(val), NULL))
		return err_set("safetensors writer: __metadata__ key or value missing or not UTF-8");
	for (int i = 0; i < p->n_meta; i++)
		if (strcmp(p->mk[i], key) == 0)
			return err_set("safetensors writer: __metadata__ key \"%s\" set twice", Q(key));
	p->mk = xrealloc(p->mk, (size_t)(p->n_meta + 1) * sizeof(char *));
	p->mv = xrealloc(p->mv, (size_t)(p->n_meta + 1) * sizeof(char *));
	p->mk[p->n_meta] = xstrdup(key);
	p->mv[p->n_meta] = xstrdup(val);
	p->n_meta++;
	return 0;
}

static void plan_free(Plan *p)
{
	for (int i = 0; i < p->n; i++)
		free(p->ents[i].name);
	for (int i = 0; i < p->n_meta; i++)
		free(p->mk[i]), free(p->mv[i]);
	free(p->ents), free(p->mk), free(p->mv);
	memset(p, 0, sizeof *p);
}

typedef struct {
	char *s;
	size_t n, cap;
} Sb;

static void sb_put(Sb *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		b->cap = (b->n + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}

static void sb_puts(Sb *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_json_str(Sb *b, const char *s)
{
	sb_puts(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			sb_put(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", c);
			sb_puts(b, esc);
		} else {
			sb_put(b, s, 1);
		}
	}
	sb_puts(b, "\"");
}

static int cmp_went_ptr(const void *a, const void *b)
{
	return strcmp((*(WEntry *const *)a)->name, (*(WEntry *const *)b)->name);
}

/* build_header: lays out the entries es[0..n) (sorted by name here) contiguously, setting
 * begin, and returns the header JSON padded with spaces so 8 + length is a multiple of 8.
 * *data_size gets the data region's size. Caller frees. */
static char *build_header(const Plan *p, WEntry **es, int n, size_t *hlen, size_t *data_size)
{
	qsort(es, (size_t)n, sizeof *es, cmp_went_ptr);
	Sb b = {0};
	sb_puts(&b, "{\"__metadata__\":{");
	int have_format = 0;
	for (int i = 0; i < p->n_meta; i++)
		have_format |= strcmp(p->mk[i], "format") == 0;
	if (!have_format)
		sb_puts(&b, "\"format\":\"pt\"");
	for (int i = 0; i < p->n_meta; i++) {
		if (i || !have_format)
			sb_puts(&b, ",");
		sb_json_str(&b, p->mk[i]);
		sb_puts(&b, ":");
		sb_json_str(&b, p->mv[i]);
	}
	sb_puts(&b, "}");
	size_t off = 0;
	char num[64];
	for (int i = 0; i < n; i++) {
		WEntry *e = es[i];
		e->begin = off;
		sb_puts(&b, ",");
		sb_json_str(&b, e->name);
		sb_puts(&b, ":{\"dtype\":\"");
		sb_puts(&b, st_dtype_name(e->dtype));
		sb_puts(&b, "\",\"shape\":[");
		for (int k = 0; k < e->ndim; k++) {
			snprintf(num, sizeof num, "%s%lld", k ? "," : "", (long long)e->shape[k]);
			sb_puts(&b, num);
		}
		snprintf(num, sizeof num, "],\"data_offsets\":[%zu,%zu]}", off, off + e->nbytes);
		sb_puts(&b, num);
		off += e->nbytes;
	}
	sb_puts(&b, "}");
	while (b.n % 8)
		sb_puts(&b, " ");
	*hlen = b.n;
	*data_size = off;
	return b.s;
}

/* put_f32: converts n floats to dt into out (n * dtype size bytes). */
static void put_f32(void *out, StDtype dt, const float *src, size_t n)
{
	if (dt == ST_F32) {
		memcpy(out, src, n * 4);
		return;
	}
	uint16_t *o = out;
	for (size_t i = 0; i < n; i++)
		o[i] = st_f32_to_bf16(src[i]);
}

#define CHUNK 65536     /* elements converted per write */

/* pwrite_all: pwrite until done; 0 ok, -1 with err_set naming path. */
static int pwrite_all(int fd, const void *buf, size_t n, size_t off, const char *path)
{
	const char *p = buf;
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_set("%s: write error: %s", path, w < 0 ? strerror(errno) : "no space");
		p += w, n -= (size_t)w, off += (size_t)w;
	}
	return 0;
}

/* write_elems: converts and writes elements of e from src at element index first. */
static int write_elems(int fd, size_t data_start, const WEntry *e, size_t first,
		       const float *src, size_t n, void *buf, const char *path)
{
	size_t esz = st_dtype_size(e->dtype);
	size_t off = data_start + e->begin + first * esz;
	if (e->dtype == ST_F32)
		return n ? pwrite_all(fd, src, n * 4, off, path) : 0;
	for (size_t i = 0; i < n; i += CHUNK) {
		size_t m = n - i < CHUNK ? n - i : CHUNK;
		put_f32(buf, e->dtype, src + i, m);
		if (pwrite_all(fd, buf, m * esz, off + i * esz, path) != 0)
			return -1;
	}
	return 0;
}

struct StWriter {
	Plan p;
};

StWriter *st_writer_new(void) { return xcalloc(1, sizeof(StWriter)); }

int st_writer_add(StWriter *w, const char *name, StDtype out_dtype, const float *data, int ndim,
		  const int64_t *shape)
{
	if (plan_add(&w->p, name, out_dtype, ndim, shape) != 0)
		return -1;
	WEntry *e = &w->p.ents[w->p.n - 1];
	if (!data && e->numel) {
		free(e->name);
		w->p.n--;
		return err_set("safetensors writer: tensor %s: no data", Q(name));
	}
	e->data = data;
	return 0;
}

int st_writer_meta(StWriter *w, const char *key, const char *value)
{
	return plan_meta(&w->p, key, value);
}

int st_writer_save(StWriter *w, const char *path)
{
	int ret = -1;
	WEntry **es = xmalloc((size_t)(w->p.n ? w->p.n : 1) * sizeof *es);
	for (int i = 0; i < w->p.n; i++)
		es[i] = &w->p.ents[i];
	size_t hlen, dsize;
	char *hdr = build_header(&w->p, es, w->p.n, &hlen, &dsize);
	char *tmp = tmp_path(path);
	void *buf = xmalloc(CHUNK * 4);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		err_set("%s: cannot create: %s", tmp, strerror(errno));
		goto out_free;
	}
	uint64_t h64 = hlen;
	if (pwrite_all(fd, &h64, 8, 0, tmp) || pwrite_all(fd, hdr, hlen, 8, tmp))
		goto out_unlink;
	for (int i = 0; i < w->p.n; i++)
		if (write_elems(fd, 8 + hlen, es[i], 0, es[i]->data, es[i]->numel, buf, tmp))
			goto out_unlink;
	if (close(fd) != 0) {
		fd = -1;
		err_set("%s: close error: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		err_set("%s: cannot rename into place: %s", path, strerror(errno));
		goto out_unlink;
	}
	ret = 0;
	goto out_free;
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out_free:
	free(buf);
	free(tmp);
	free(hdr);
	free(es);
	return ret;
}

int st_writer_save_dir(StWriter *w, const char *dir, size_t max_shard_bytes)
{
	StShardWriter *sw = st_shard_writer_new(dir, max_shard_bytes);
	int ret = -1;
	for (int i = 0; i < w->p.n; i++) {
		const WEntry *e = &w->p.ents[i];
		if (st_shard_writer_plan(sw, e->name, e->dtype, e->ndim, e->shape))
			goto out;
	}
	for (int i = 0; i < w->p.n_meta; i++)
		if (st_shard_writer_meta(sw, w->p.mk[i], w->p.mv[i]))
			goto out;
	if (st_shard_writer_begin(sw))
		goto out;
	for (int i = 0; i < w->p.n; i++)
		if (st_shard_writer_write(sw, w->p.ents[i].name, w->p.ents[i].data))
			goto out;
	ret = st_shard_writer_finish(sw);
out:
	st_shard_writer_free(sw);
	return ret;
}

void st_writer_free(StWriter *w)
{
	if (!w)
		return;
	plan_free(&w->p);
	free(w);
}

/* ---- sharded writer ------------------------------------------------------------------- */

struct StShardWriter {
	Plan p;
	char *dir;
	size_t max_bytes;
	int state;          /* 0 planning, 1 begun, 2 finished, 3 failed */
	int nshards;
	char **final, **tmp;        /* per shard */
	size_t *data_start;
	int *fd;
	WEntry **by_name;   /* entries sorted by name, for lookup */
	void *buf;
};

StShardWriter *st_shard_writer_new(const char *dir, size_t max_shard_bytes)
{
	StShardWriter *w = xcalloc(1, sizeof *w);
	w->dir = xstrdup(dir);
	w->max_bytes = max_shard_bytes ? max_shard_bytes : SIZE_MAX;
	return w;
}

int st_shard_writer_plan(StShardWriter *w, const char *name, StDtype out_dtype, int ndim,
			 const int64_t *shape)
{
	if (w->state != 0)
		return err_set("%s: shard writer: tensor %s planned after begin", w->dir, Q(name));
	return plan_add(&w->p, name, out_dtype, ndim, shape);
}

int st_shard_writer_meta(StShardWriter *w, const char *key, const char *value)
{
	if (w->state != 0)
		return err_set("%s: shard writer: metadata set after begin", w->dir);
	return plan_meta(&w->p, key, value);
}

int st_shard_writer_nshards(const StShardWriter *w) { return w->nshards; }

int st_shard_writer_begin(StShardWriter *w)
{
	if (w->state != 0)
		return err_set("%s: shard writer: begin called twice", w->dir);
	w->state = 3;
	if (mkdir_p(w->dir) != 0)
		return -1;
	/* fill shards in plan order */
	size_t cur = 0;
	int s = 0;
	for (int i = 0; i < w->p.n; i++) {
		WEntry *e = &w->p.ents[i];
		if (cur > 0 && (cur >= w->max_bytes || e->nbytes > w->max_bytes - cur))
			s++, cur = 0;
		e->shard = s;
		cur += e->nbytes;
	}
	w->nshards = s + 1;
	int ns = w->nshards;
	w->final = xcalloc((size_t)ns, sizeof(char *));
	w->tmp = xcalloc((size_t)ns, sizeof(char *));
	w->data_start = xcalloc((size_t)ns, sizeof(size_t));
	w->fd = xmalloc((size_t)ns * sizeof(int));
	for (int k = 0; k < ns; k++)
		w->fd[k] = -1;
	WEntry **es = xmalloc((size_t)(w->p.n ? w->p.n : 1) * sizeof *es);
	int ret = -1;
	for (int k = 0; k < ns; k++) {
		int n = 0;
		for (int i = 0; i < w->p.n; i++)
			if (w->p.ents[i].shard == k)
				es[n++] = &w->p.ents[i];
		char *name = ns == 1 ? xstrdup("model.safetensors")
				     : xasprintf("model-%05d-of-%05d.safetensors", k + 1, ns);
		w->final[k] = path_join(w->dir, name);
		free(name);
		w->tmp[k] = tmp_path(w->final[k]);
		size_t hlen, dsize;
		char *hdr = build_header(&w->p, es, n, &hlen, &dsize);
		w->data_start[k] = 8 + hlen;
		uint64_t h64 = hlen;
		int fd = open(w->tmp[k], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		w->fd[k] = fd;
		int bad = fd < 0 ? err_set("%s: cannot create: %s", w->tmp[k], strerror(errno))
				 : pwrite_all(fd, &h64, 8, 0, w->tmp[k]) ||
				   pwrite_all(fd, hdr, hlen, 8, w->tmp[k]);
		if (!bad && ftruncate(fd, (off_t)(8 + hlen + dsize)) != 0)
			bad = err_set("%s: cannot size to %zu bytes: %s", w->tmp[k], 8 + hlen + dsize,
				      strerror(errno));
		free(hdr);
		if (bad)
			goto out;
	}
	w->by_name = es;
	es = NULL;
	for (int i = 0; i < w->p.n; i++)
		w->by_name[i] = &w->p.ents[i];
	qsort(w->by_name, (size_t)w->p.n, sizeof(WEntry *), cmp_went_ptr);
	w->buf = xmalloc(CHUNK * 4);
	w->state = 1;
	ret = 0;
out:
	free(es);
	return ret;
}

int st_shard_writer_write_part(StShardWriter *w, const char *name, size_t first,
			       const float *data, size_t n)
{
	if (w->state != 1)
		return err_set("%s: shard writer: tensor %s written outside begin..finish", w->dir,
			       Q(name));
	WEntry key = {.name = (char *)name}, *kp = &key;
	WEntry **ep = bsearch(&kp, w->by_name, (size_t)w->p.n, sizeof(WEntry *), cmp_went_ptr);
	if (!ep)
		return err_set("%s: shard writer: tensor %s was not planned", w->dir, Q(name));
	WEntry *e = *ep;
	if (first > e->numel || n > e->numel - first || e->written + n > e->numel)
		return err_set("%s: shard writer: tensor %s: elements [%zu, %zu) outside its %zu "
			       "(or written twice)", w->dir, Q(name), first, first + n, e->numel);
	if (n && !data)
		return err_set("%s: shard writer: tensor %s: no data", w->dir, Q(name));
	int k = e->shard;
	if (write_elems(w->fd[k], w->data_start[k], e, first, data, n, w->buf, w->tmp[k]) != 0)
		return -1;
	e->written += n;
	return 0;
}

int st_shard_writer_write(StShardWriter *w, const char *name, const float *data)
{
	WEntry key = {.name = (char *)name}, *kp = &key;
	WEntry **ep = w->state == 1 ? bsearch(&kp, w->by_name, (size_t)w->p.n, sizeof(WEntry *),
					      cmp_went_ptr) : NULL;
	return st_shard_writer_write_part(w, name, 0, data, ep ? (*ep)->numel : 0);
}

int st_shard_writer_finish(StShardWriter *w)
{
	if (w->state != 1)
		return err_set("%s: shard writer: finish without a successful begin", w->dir);
	w->state = 3;
	for (int i = 0; i < w->p.n; i++)
		if (w->p.ents[i].written != w->p.ents[i].numel)
			return err_set("%s: shard writer: tensor %s: %zu of %zu elements written",
				       w->dir, w->p.ents[i].name, w->p.ents[i].written,
				       w->p.ents[i].numel);
	for (int k = 0; k < w->nshards; k++) {
		int fd = w->fd[k];
		w->fd[k] = -1;
		if (close(fd) != 0)
			return err_set("%s: close error: %s", w->tmp[k], strerror(errno));
	}
	char *ipath = path_join(w->dir, INDEX_NAME);
	int ret = -1;
	for (int k = 0; k < w->nshards; k++)
		if (rename(w->tmp[k], w->final[k]) != 0) {
			err_set("%s: cannot rename into place: %s", w->final[k], strerror(errno));
			goto out;
		}
	if (w->nshards == 1) {
		/* a stale index would shadow the new model.safetensors in st_open_dir */
		if (unlink(ipath) != 0 && errno != ENOENT) {
			err_set("%s: cannot remove stale index: %s", ipath, strerror(errno));
			goto out;
		}
	} else {
		Sb b = {0};
		size_t total = 0;
		for (int i = 0; i < w->p.n; i++)
			total += w->p.ents[i].nbytes;
		char num[64];
		snprintf(num, sizeof num, "{\n  \"metadata\": {\"total_size\": %zu},\n", total);
		sb_puts(&b, num);
		sb_puts(&b, "  \"weight_map\": {");
		for (int i = 0; i < w->p.n; i++) {
			const WEntry *e = w->by_name[i];
			const char *f = strrchr(w->final[e->shard], '/');
			sb_puts(&b, i ? ",\n    " : "\n    ");
			sb_json_str(&b, e->name);
			sb_puts(&b, ": ");
			sb_json_str(&b, f ? f + 1 : w->final[e->shard]);
		}
		sb_puts(&b, "\n  }\n}\n");
		int r = file_write_atomic(ipath, b.s, b.n);
		free(b.s);
		if (r != 0)
			goto out;
	}
	w->state = 2;
	ret = 0;
out:
	free(ipath);
	return ret;
}

void st_shard_writer_free(StShardWriter *w)
{
	if (!w)
		return;
	for (int k = 0; k < w->nshards; k++) {
		if (w->fd && w->fd[k] >= 0)
			close(w->fd[k]);
		if (w->state != 2 && w->tmp && w->tmp[k])
			unlink(w->tmp[k]);
		if (w->final)
			free(w->final[k]);
		if (w->tmp)
			free(w->tmp[k]);
	}
	free(w->final), free(w->tmp), free(w->data_start), free(w->fd);
	free(w->by_name);
	free(w->buf);
	free(w->dir);
	plan_free(&w->p);
	free(w);
}
