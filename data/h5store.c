/* h5store.c: the HDF5 result store (see h5store.h), on the HDF5 1.10 C API.
 *
 * Conventions (README "HDF5 result store"): files use the 1.8 object format (readable by any
 * HDF5 >= 1.8, h5py, h5dump; large attributes go to dense storage); numbers are little-endian
 * IEEE / two's complement; string attributes are scalar fixed-length UTF-8, NUL-terminated;
 * datasets over 64 KiB are chunked (chunks <= 1 MiB) with shuffle + deflate level 4 when the
 * library has deflate; series are 1-D float64 with an unlimited maximum, chunks of 1024.
 *
 * Every HDF5 call's status is checked. The library's automatic error printing is turned off;
 * failures become one err_set() line naming the file, the object and the fact, with the
 * innermost HDF5 message appended. What it deliberately does not do: compound or string
 * datasets, SWMR, parallel I/O. */
#include "h5store.h"
#include "util.h"

#include <hdf5.h>
#include <hdf5_hl.h>
#include <cJSON.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char *openblas_get_config(void);   /* OpenBLAS exports it; cblas.h does not always declare it */

#define SMALL_BYTES (64u << 10)     /* above this a dataset is chunked and compressed */
#define CHUNK_BYTES (1u << 20)      /* chunk size target: the default chunk cache is 1 MiB */
#define SERIES_CHUNK 1024
#define DEFLATE_LEVEL 4

struct H5Store {
	hid_t file;
	char *path;         /* the final name */
	char *tmp;          /* the name written while created; NULL for h5s_open */
	int writable;
	int deflate;        /* level for datasets created from now on; 0 = no compression */
};

/* ---- errors ---- */

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
	if (n == 0 && e->desc && e->desc[0])
		snprintf(data, 200, " (HDF5: %s)", e->desc);
	return 0;
}

/* The innermost message of HDF5's error stack (its most specific complaint), then clears it. */
static void h5_detail(char *buf)
{
	buf[0] = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, buf);
	H5Eclear2(H5E_DEFAULT);
}

/* fail: err_set("FILE: OBJ: fact (HDF5: detail)"); returns -1. */
static int fail(const H5Store *s, const char *obj, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(const H5Store *s, const char *obj, const char *fmt, ...)
{
	char fact[512], detail[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fact, sizeof fact, fmt, ap);
	va_end(ap);
	h5_detail(detail);
	return err_set("%s: %s: %s%s", s ? s->path : "?", obj ? obj : "/", fact, detail);
}

static void h5_init(void)
{
	static int done;
	if (done)
		return;
	H5open();
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	done = 1;
}

/* hclose: closes any kind of identifier; negative ids are ignored. */
static int hclose(hid_t id)
{
	if (id < 0)
		return 0;
	switch (H5Iget_type(id)) {
	case H5I_FILE: return H5Fclose(id);
	case H5I_GROUP: return H5Gclose(id);
	case H5I_DATASET: return H5Dclose(id);
	case H5I_DATATYPE: return H5Tclose(id);
	case H5I_DATASPACE: return H5Sclose(id);
	case H5I_ATTR: return H5Aclose(id);
	case H5I_GENPROP_LST: return H5Pclose(id);
	default: return H5Idec_ref(id);
	}
}

/* ---- types ---- */

static int type_ok(H5sType t) { return t >= H5S_F32 && t <= H5S_U8; }

static hid_t mem_type(H5sType t)
{
	switch (t) {
	case H5S_F32: return H5T_NATIVE_FLOAT;
	case H5S_F64: return H5T_NATIVE_DOUBLE;
	case H5S_I32: return H5T_NATIVE_INT32;
	case H5S_I64: return H5T_NATIVE_INT64;
	case H5S_U8: return H5T_NATIVE_UINT8;
	}
	return -1;
}

static hid_t file_type(H5sType t)
{
	switch (t) {
	case H5S_F32: return H5T_IEEE_F32LE;
	case H5S_F64: return H5T_IEEE_F64LE;
	case H5S_I32: return H5T_STD_I32LE;
	case H5S_I64: return H5T_STD_I64LE;
	case H5S_U8: return H5T_STD_U8LE;
	}
	return -1;
}

static size_t type_size(H5sType t)
{
	static const size_t sz[] = { 4, 8, 4, 8, 1 };
	return sz[t];
}

const char *h5s_type_name(H5sType t)
{
	static const char *names[] = { "f32", "f64", "i32", "i64", "u8" };
	return type_ok(t) ? names[t] : "?";
}

/* dtype_name: "f32", "i16", "u8", "str", ... for a file datatype. */
static void dtype_name(hid_t dt, char *buf, size_t n, int *numeric)
{
	H5T_class_t cls = H5Tget_class(dt);
	size_t size = H5Tget_size(dt);
	*numeric = 0;
	if (cls == H5T_FLOAT) {
		snprintf(buf, n, "f%zu", size * 8);
		*numeric = 1;
	} else if (cls == H5T_INTEGER) {
		snprintf(buf, n, "%c%zu", H5Tget_sign(dt) == H5T_SGN_NONE ? 'u' : 'i', size * 8);
		*numeric = 1;
	} else if (cls == H5T_STRING) {
		snprintf(buf, n, "str");
	} else {
		snprintf(buf, n, "other");
	}
	H5Eclear2(H5E_DEFAULT);
}

/* ---- paths ---- */

/* check_path: absolute, no empty, "." or ".." components (HDF5 would read those as links to
 * the current or parent group); dots inside names are fine. */
static int check_path(const H5Store *s, const char *path)
{
	if (!path || path[0] != '/')
		return err_set("%s: %s: object path must start with '/'", s->path, path ? path : "(null)");
	if (!strcmp(path, "/"))
		return 0;
	const char *c = path + 1;
	for (;;) {
		const char *e = strchr(c, '/');
		size_t len = e ? (size_t)(e - c) : strlen(c);
		if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return err_set("%s: %s: empty, '.' or '..' component in object path", s->path, path);
		if (!e)
			return 0;
		c = e + 1;
	}
}

/* link_exists: 1 if every component of path is a link (H5Lexists needs the parents to exist). */
static int link_exists(hid_t file, const char *path)
{
	if (!strcmp(path, "/"))
		return 1;
	char *p = xstrdup(path);
	int ret = 1;
	for (char *c = p + 1;; c++) {
		if (*c != '/' && *c != 0)
			continue;
		char save = *c;
		*c = 0;
		htri_t e = H5Lexists(file, p, H5P_DEFAULT);
		*c = save;
		if (e <= 0) {
			ret = 0;
			break;
		}
		if (!save)
			break;
	}
	H5Eclear2(H5E_DEFAULT);
	free(p);
	return ret;
}

int h5s_exists(H5Store *s, const char *path)
{
	if (!s || !path || path[0] != '/')
		return 0;
	if (!link_exists(s->file, path))
		return 0;
	htri_t e = H5Oexists_by_name(s->file, path, H5P_DEFAULT);   /* a dangling soft link is not */
	H5Eclear2(H5E_DEFAULT);
	return e > 0;
}

static int need_writable(const H5Store *s, const char *obj)
{
	if (!s->writable)
		return err_set("%s: %s: file is open read-only", s->path, obj);
	return 0;
}

/* open_dataset: the dataset at path, or -1 with a message saying what is there instead. */
static hid_t open_dataset(const H5Store *s, const char *path)
{
	if (check_path(s, path) < 0)
		return -1;
	if (!link_exists(s->file, path)) {
		err_set("%s: %s: no such dataset", s->path, path);
		return -1;
	}
	hid_t o = H5Oopen(s->file, path, H5P_DEFAULT);
	if (o < 0) {
		fail(s, path, "cannot open object");
		return -1;
	}
	if (H5Iget_type(o) != H5I_DATASET) {
		hclose(o);
		err_set("%s: %s: is a group, not a dataset", s->path, path);
		return -1;
	}
	return o;
}

/* open_object: a group or dataset for attributes. */
static hid_t open_object(const H5Store *s, const char *obj)
{
	if (check_path(s, obj) < 0)
		return -1;
	if (!link_exists(s->file, obj)) {
		err_set("%s: %s: no such group or dataset", s->path, obj);
		return -1;
	}
	hid_t o = H5Oopen(s->file, obj, H5P_DEFAULT);
	if (o < 0)
		fail(s, obj, "cannot open object");
	return o;
}

/* dataset_shape: rank and dims (and maxdims, may be NULL) of an open dataset. */
static int dataset_shape(const H5Store *s, const char *path, hid_t d, int *ndim, hsize_t *dims,
			 hsize_t *maxdims)
{
	hid_t sp = H5Dget_space(d);
	if (sp < 0)
		return fail(s, path, "cannot get dataspace");
	int r = H5Sget_simple_extent_ndims(sp);
	if (r < 0) {
		hclose(sp);
		return fail(s, path, "dataspace is not simple");
	}
	if (r > H5S_MAX_DIMS) {
		hclose(sp);
		return err_set("%s: %s: rank %d exceeds the maximum %d", s->path, path, r, H5S_MAX_DIMS);
	}
	if (H5Sget_simple_extent_dims(sp, dims, maxdims) < 0) {
		hclose(sp);
		return fail(s, path, "cannot read dimensions");
	}
	*ndim = r;
	return hclose(sp) < 0 ? fail(s, path, "cannot close dataspace") : 0;
}

/* type_matches: the dataset's element type is t (class, size and signedness). */
static int type_matches(hid_t d, H5sType t)
{
	hid_t dt = H5Dget_type(d);
	if (dt < 0)
		return 0;
	H5T_class_t cls = H5Tget_class(dt);
	size_t size = H5Tget_size(dt);
	int ok;
	if (t == H5S_F32 || t == H5S_F64)
		ok = cls == H5T_FLOAT && size == type_size(t);
	else
		ok = cls == H5T_INTEGER && size == type_size(t) &&
		     (H5Tget_sign(dt) == H5T_SGN_NONE) == (t == H5S_U8);
	hclose(dt);
	H5Eclear2(H5E_DEFAULT);
	return ok;
}

static void dataset_type_name(hid_t d, char *buf, size_t n)
{
	int numeric;
	hid_t dt = H5Dget_type(d);
	if (dt < 0) {
		snprintf(buf, n, "?");
		return;
	}
	dtype_name(dt, buf, n, &numeric);
	hclose(dt);
}

/* count_elems: product of dims with overflow checks (also of the byte size for esize). */
static int count_elems(const H5Store *s, const char *path, int ndim, const size_t *dims,
		       size_t esize, size_t *count)
{
	size_t c = 1;
	for (int i = 0; i < ndim; i++)
		if (mul_overflow_size(c, dims[i], &c) < 0)
			return err_set("%s: %s: dimensions overflow", s->path, path);
	size_t bytes;
	if (mul_overflow_size(c, esize, &bytes) < 0)
		return err_set("%s: %s: dimensions overflow", s->path, path);
	*count = c;
	return 0;
}

/* ---- attributes ---- */

/* attr_put: replaces attribute name of object obj with (ftype, space) holding buf (mtype). */
static int attr_put(H5Store *s, const char *obj, const char *name, hid_t ftype, hid_t mtype,
		    hid_t space, const void *buf)
{
	int ret = -1;
	hid_t o = -1, a = -1;
	if (need_writable(s, obj) < 0)
		goto out;
	if (!name || !name[0]) {
		err_set("%s: %s: empty attribute name", s->path, obj);
		goto out;
	}
	if ((o = open_object(s, obj)) < 0)
		goto out;
	htri_t e = H5Aexists(o, name);
	if (e < 0) {
		fail(s, obj, "attribute %s: cannot check existence", name);
		goto out;
	}
	if (e > 0 && H5Adelete(o, name) < 0) {
		fail(s, obj, "attribute %s: cannot delete the old value", name);
		goto out;
	}
	if ((a = H5Acreate2(o, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
		fail(s, obj, "attribute %s: cannot create", name);
		goto out;
	}
	if (H5Awrite(a, mtype, buf) < 0) {
		fail(s, obj, "attribute %s: cannot write", name);
		goto out;
	}
	ret = 0;
out:
	if (hclose(a) < 0 && ret == 0)
		ret = fail(s, obj, "attribute %s: cannot close", name);
	hclose(o);
	return ret;
}

/* str_type: fixed-length UTF-8, NUL-terminated, len+1 bytes (the README convention). */
static hid_t str_type(size_t len)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0)
		return -1;
	if (H5Tset_size(t, len + 1) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
	    H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
		hclose(t);
		return -1;
	}
	return t;
}

int h5s_attr_set_str(H5Store *s, const char *obj, const char *name, const char *value)
{
	size_t bad;
	if (!value)
		return err_set("%s: %s: attribute %s: NULL string", s->path, obj, name);
	size_t len = strlen(value);
	if (utf8_check(value, len, &bad) < 0)
		return err_set("%s: %s: attribute %s: value is not valid UTF-8 (byte %zu)", s->path,
			       obj, name, bad);
	hid_t t = str_type(len), sp = H5Screate(H5S_SCALAR);
	int ret;
	if (t < 0 || sp < 0)
		ret = fail(s, obj, "attribute %s: cannot make string type", name);
	else
		ret = attr_put(s, obj, name, t, t, sp, value);
	hclose(t);
	hclose(sp);
	return ret;
}

static int attr_set_num(H5Store *s, const char *obj, const char *name, hid_t ftype, hid_t mtype,
			const void *v)
{
	hid_t sp = H5Screate(H5S_SCALAR);
	if (sp < 0)
		return fail(s, obj, "attribute %s: cannot make dataspace", name);
	int ret = attr_put(s, obj, name, ftype, mtype, sp, v);
	hclose(sp);
	return ret;
}

int h5s_attr_set_f64(H5Store *s, const char *obj, const char *name, double value)
{
	return attr_set_num(s, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &value);
}

int h5s_attr_set_i64(H5Store *s, const char *obj, const char *name, int64_t value)
{
	return attr_set_num(s, obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value);
}

int h5s_attr_set_f64v(H5Store *s, const char *obj, const char *name, const double *v, size_t n)
{
	hsize_t dim = n;
	hid_t sp = H5Screate_simple(1, &dim, NULL);
	if (sp < 0)
		return fail(s, obj, "attribute %s: cannot make dataspace", name);
	double dummy = 0;
	int ret = attr_put(s, obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, sp, n ? v : &dummy);
	hclose(sp);
	return ret;
}

/* attr_open: the attribute, its type and its element count; -1 with a message. */
static hid_t attr_open(H5Store *s, const char *obj, const char *name, hid_t *o, hid_t *type,
		       size_t *npoints)
{
	*o = *type = -1;
	if ((*o = open_object(s, obj)) < 0)
		return -1;
	htri_t e = H5Aexists(*o, name);
	if (e <= 0) {
		H5Eclear2(H5E_DEFAULT);
		err_set("%s: %s: no attribute %s", s->path, obj, name);
		goto fail_o;
	}
	hid_t a = H5Aopen(*o, name, H5P_DEFAULT);
	if (a < 0) {
		fail(s, obj, "attribute %s: cannot open", name);
		goto fail_o;
	}
	hid_t sp = H5Aget_space(a);
	hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
	hclose(sp);
	if (np < 0 || (*type = H5Aget_type(a)) < 0) {
		fail(s, obj, "attribute %s: cannot read its type or shape", name);
		hclose(a);
		goto fail_o;
	}
	*npoints = (size_t)np;
	return a;
fail_o:
	hclose(*o);
	*o = -1;
	return -1;
}

/* read_string: a scalar string attribute of either kind (fixed or variable length). */
static int read_string(H5Store *s, const char *obj, const char *name, hid_t a, hid_t t,
		       char **value)
{
	if (H5Tis_variable_str(t) > 0) {
		char *p = NULL;
		hid_t mt = H5Tcopy(H5T_C_S1);
		if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
		    H5Tset_cset(mt, H5Tget_cset(t)) < 0 || H5Aread(a, mt, &p) < 0) {
			hclose(mt);
			return fail(s, obj, "attribute %s: cannot read string", name);
		}
		hclose(mt);
		*value = xstrdup(p ? p : "");
		H5free_memory(p);
		return 0;
	}
	size_t size = H5Tget_size(t);
	if (size == 0)
		return fail(s, obj, "attribute %s: cannot get string size", name);
	char *buf = xcalloc(size + 1, 1);
	if (H5Aread(a, t, buf) < 0) {
		free(buf);
		return fail(s, obj, "attribute %s: cannot read string", name);
	}
	if (H5Tget_strpad(t) == H5T_STR_SPACEPAD)
		for (size_t i = size; i > 0 && buf[i - 1] == ' '; i--)
			buf[i - 1] = 0;
	*value = buf;
	return 0;
}

int h5s_attr_get_str(H5Store *s, const char *obj, const char *name, char **value)
{
	hid_t o, t;
	size_t np;
	*value = NULL;
	hid_t a = attr_open(s, obj, name, &o, &t, &np);
	if (a < 0)
		return -1;
	int ret;
	if (H5Tget_class(t) != H5T_STRING)
		ret = err_set("%s: %s: attribute %s is not a string", s->path, obj, name);
	else if (np != 1)
		ret = err_set("%s: %s: attribute %s holds %zu strings, not one", s->path, obj, name, np);
	else
		ret = read_string(s, obj, name, a, t, value);
	hclose(t);
	hclose(a);
	hclose(o);
	return ret;
}

/* attr_get_nums: n >= 1 numbers of attribute name converted to mtype (integers only if want_int). */
static int attr_get_nums(H5Store *s, const char *obj, const char *name, hid_t mtype, size_t esize,
			 int want_int, int want_one, void **out, size_t *n)
{
	hid_t o, t;
	size_t np;
	hid_t a = attr_open(s, obj, name, &o, &t, &np);
	if (a < 0)
		return -1;
	int ret = -1;
	H5T_class_t cls = H5Tget_class(t);
	if (cls != H5T_INTEGER && (want_int || cls != H5T_FLOAT)) {
		err_set("%s: %s: attribute %s is not %s", s->path, obj, name,
			want_int ? "an integer" : "a number");
		goto out;
	}
	if (want_one && np != 1) {
		err_set("%s: %s: attribute %s holds %zu values, not one", s->path, obj, name, np);
		goto out;
	}
	void *buf = xcalloc(np ? np : 1, esize);
	if (np && H5Aread(a, mtype, buf) < 0) {
		free(buf);
		fail(s, obj, "attribute %s: cannot read", name);
		goto out;
	}
	*out = buf;
	*n = np;
	ret = 0;
out:
	hclose(t);
	hclose(a);
	hclose(o);
	return ret;
}

int h5s_attr_get_f64(H5Store *s, const char *obj, const char *name, double *value)
{
	void *buf;
	size_t n;
	if (attr_get_nums(s, obj, name, H5T_NATIVE_DOUBLE, 8, 0, 1, &buf, &n) < 0)
		return -1;
	*value = *(double *)buf;
	free(buf);
	return 0;
}

int h5s_attr_get_i64(H5Store *s, const char *obj, const char *name, int64_t *value)
{
	void *buf;
	size_t n;
	if (attr_get_nums(s, obj, name, H5T_NATIVE_INT64, 8, 1, 1, &buf, &n) < 0)
		return -1;
	*value = *(int64_t *)buf;
	free(buf);
	return 0;
}

int h5s_attr_get_f64v(H5Store *s, const char *obj, const char *name, double **v, size_t *n)
{
	void *buf;
	*v = NULL;
	*n = 0;
	if (attr_get_nums(s, obj, name, H5T_NATIVE_DOUBLE, 8, 0, 0, &buf, n) < 0)
		return -1;
	*v = buf;
	return 0;
}

int h5s_attr_exists(H5Store *s, const char *obj, const char *name)
{
	if (!h5s_exists(s, obj))
		return 0;
	hid_t o = H5Oopen(s->file, obj, H5P_DEFAULT);
	if (o < 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	htri_t e = H5Aexists(o, name);
	hclose(o);
	H5Eclear2(H5E_DEFAULT);
	return e > 0;
}

typedef struct {
	char **names;
	int n, cap;
} NameList;

static void names_push(NameList *l, const char *name)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->names = xrealloc(l->names, (size_t)l->cap * sizeof *l->names);
	}
	l->names[l->n++] = xstrdup(name);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names_hand_out: gives l's names, sorted by strcmp, to the caller (freed with h5s_free_list). */
static void names_hand_out(NameList *l, char ***names, int *n)
{
	if (l->n > 1)
		qsort(l->names, (size_t)l->n, sizeof *l->names, cmp_str);
	*names = l->names;
	*n = l->n;
}

static herr_t attr_name_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
	names_push(data, name);
	return 0;
}

int h5s_attr_list(H5Store *s, const char *obj, char ***names, int *n)
{
	NameList l = { 0 };
	*names = NULL;
	*n = 0;
	hid_t o = open_object(s, obj);
	if (o < 0)
		return -1;
	hsize_t idx = 0;
	herr_t r = H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, attr_name_cb, &l);
	hclose(o);
	if (r < 0) {
		h5s_free_list(l.names, l.n);
		return fail(s, obj, "cannot list attributes");
	}
	names_hand_out(&l, names, n);
	return 0;
}

/* fmt_num: the shortest %.Ng that reads back as the same value of the given byte size;
 * integral values below 1e15 are written as integers ("50", not the shorter "5e+01"). */
static void fmt_num(char *buf, size_t n, double v, size_t size)
{
	if (isnan(v)) {
		snprintf(buf, n, "nan");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, n, "%.0f", v);
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(buf, n, "%.*g", p, v);
		double back = strtod(buf, NULL);
		if (size == 4 ? (float)back == (float)v : back == v)
			return;
	}
}

typedef struct {
	char *buf;
	size_t len, cap;
} Text;

static void text_add(Text *t, const char *s)
{
	size_t n = strlen(s);
	if (t->len + n + 1 > t->cap) {
		t->cap = 2 * (t->len + n + 1);
		t->buf = xrealloc(t->buf, t->cap);
	}
	memcpy(t->buf + t->len, s, n + 1);
	t->len += n;
}

/* attr_text_numeric: numbers of an attribute as text, integers exactly. */
static int attr_text_numeric(H5Store *s, const char *obj, const char *name, hid_t a, hid_t t,
			     size_t np, Text *out)
{
	int is_int = H5Tget_class(t) == H5T_INTEGER, is_unsigned = is_int && H5Tget_sign(t) == H5T_SGN_NONE;
	size_t size = H5Tget_size(t);
	hid_t mt = is_int ? (is_unsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64) : H5T_NATIVE_DOUBLE;
	void *buf = xcalloc(np ? np : 1, 8);
	if (np && H5Aread(a, mt, buf) < 0) {
		free(buf);
		return fail(s, obj, "attribute %s: cannot read", name);
	}
	if (np != 1)
		text_add(out, "[");
	for (size_t i = 0; i < np; i++) {
		char num[48];
		if (is_unsigned)
			snprintf(num, sizeof num, "%llu", (unsigned long long)((uint64_t *)buf)[i]);
		else if (is_int)
			snprintf(num, sizeof num, "%lld", (long long)((int64_t *)buf)[i]);
		else
			fmt_num(num, sizeof num, ((double *)buf)[i], size);
		if (i)
			text_add(out, ", ");
		text_add(out, num);
	}
	if (np != 1)
		text_add(out, "]");
	free(buf);
	return 0;
}

int h5s_attr_text(H5Store *s, const char *obj, const char *name, char **text)
{
	hid_t o, t;
	size_t np;
	*text = NULL;
	hid_t a = attr_open(s, obj, name, &o, &t, &np);
	if (a < 0)
		return -1;
	Text out = { 0 };
	text_add(&out, "");
	int ret = 0;
	H5T_class_t cls = H5Tget_class(t);
	if (cls == H5T_STRING && np == 1) {
		char *v;
		ret = read_string(s, obj, name, a, t, &v);
		if (ret == 0) {
			text_add(&out, v);
			free(v);
		}
	} else if (cls == H5T_STRING) {
		free(out.buf);                  /* arrays of strings: not ours, just say so */
		out.buf = xasprintf("<%zu strings>", np);
	} else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
		ret = attr_text_numeric(s, obj, name, a, t, np, &out);
	} else {
		char dn[16];
		int numeric;
		dtype_name(t, dn, sizeof dn, &numeric);
		free(out.buf);
		out.buf = xasprintf("<%s>", dn);
	}
	hclose(t);
	hclose(a);
	hclose(o);
	if (ret < 0) {
		free(out.buf);
		return -1;
	}
	*text = out.buf;
	return 0;
}

/* ---- provenance, create, open, close ---- */

static int write_provenance(H5Store *s, const char *tool, const char *config_json, uint64_t seed)
{
	const char *g = "/provenance";
	hid_t gid = H5Gcreate2(s->file, g, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (gid < 0 || hclose(gid) < 0)
		return fail(s, g, "cannot create group");
	char created[32], host[256] = "unknown", hdf5[32], pcre[64] = "unknown";
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = 0;
	unsigned maj, min, rel;
	if (H5get_libversion(&maj, &min, &rel) < 0)
		return fail(s, g, "cannot get the HDF5 library version");
	snprintf(hdf5, sizeof hdf5, "%u.%u.%u", maj, min, rel);
	if (pcre2_config(PCRE2_CONFIG_VERSION, pcre) < 0)
		snprintf(pcre, sizeof pcre, "unknown");
	const char *blas = openblas_get_config();
	const struct { const char *name, *value; } str[] = {
		{ "tool", tool ? tool : "unknown" },
		{ "version", ASFT_VERSION },
		{ "git_revision", asft_git_rev },
		{ "config", config_json ? config_json : "{}" },
		{ "created", created },
		{ "hostname", host },
		{ "hdf5", hdf5 },
		{ "openblas", blas ? blas : "unknown" },
		{ "cjson", cJSON_Version() },
		{ "pcre2", pcre },
	};
	for (size_t i = 0; i < sizeof str / sizeof str[0]; i++)
		if (h5s_attr_set_str(s, g, str[i].name, str[i].value) < 0)
			return -1;
	/* The seed is a uint64 (rng_init takes one); stored as such, not squeezed into an int64. */
	return attr_set_num(s, g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &seed);
}

/* file_access: the 1.8 object format, and closing the file closes everything still open in it. */
static hid_t file_access(void)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0)
		return -1;
	if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0 ||
	    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
		hclose(fapl);
		return -1;
	}
	return fapl;
}

H5Store *h5s_create(const char *path, const char *tool, const char *config_json, uint64_t seed)
{
	h5_init();
	H5Store *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->tmp = tmp_path(path);
	s->writable = 1;
	s->deflate = DEFLATE_LEVEL;
	s->file = -1;
	hid_t fapl = file_access();
	if (fapl < 0) {
		fail(s, "/", "cannot make file access properties");
		goto out_free;
	}
	errno = 0;
	s->file = H5Fcreate(s->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	hclose(fapl);
	if (s->file < 0) {
		char detail[200];
		h5_detail(detail);
		err_set("%s: cannot create temporary file %s: %s%s", path, s->tmp,
			errno ? strerror(errno) : "HDF5 error", detail);
		goto out_free;
	}
	if (write_provenance(s, tool, config_json, seed) < 0) {
		char keep[1024];
		snprintf(keep, sizeof keep, "%s", err_msg());
		h5s_abort(s);
		err_set("%s", keep);
		return NULL;
	}
	return s;
out_free:
	free(s->tmp);
	free(s->path);
	free(s);
	return NULL;
}

H5Store *h5s_open(const char *path, int writable)
{
	h5_init();
	if (!path_exists(path)) {
		err_set("%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	htri_t is = H5Fis_hdf5(path);
	H5Eclear2(H5E_DEFAULT);
	if (is <= 0) {
		err_set("%s: not an HDF5 file", path);
		return NULL;
	}
	H5Store *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->writable = !!writable;
	s->deflate = DEFLATE_LEVEL;
	hid_t fapl = file_access();
	if (fapl < 0) {
		fail(s, "/", "cannot make file access properties");
		goto out_free;
	}
	errno = 0;
	s->file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
	hclose(fapl);
	if (s->file < 0) {
		char detail[200];
		h5_detail(detail);
		err_set("%s: cannot open%s: %s%s", path, writable ? " for writing" : "",
			errno ? strerror(errno) : "HDF5 error", detail);
		goto out_free;
	}
	return s;
out_free:
	free(s->path);
	free(s);
	return NULL;
}

int h5s_flush(H5Store *s)
{
	if (!s->writable)
		return 0;
	if (H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0)
		return fail(s, "/", "cannot flush");
	return 0;
}

int h5s_close(H5Store *s)
{
	if (!s)
		return 0;
	int ret = 0;
	if (s->writable && H5Fflush(s->file, H5F_SCOPE_GLOBAL) < 0)
		ret = fail(s, "/", "cannot flush");
	if (H5Fclose(s->file) < 0 && ret == 0)
		ret = fail(s, "/", "cannot close");
	if (s->tmp) {
		if (ret == 0 && rename(s->tmp, s->path) != 0)
			ret = err_set("%s: cannot rename %s into place: %s", s->path, s->tmp,
				      strerror(errno));
		if (ret < 0)
			unlink(s->tmp);
	}
	free(s->tmp);
	free(s->path);
	free(s);
	return ret;
}

void h5s_abort(H5Store *s)
{
	if (!s)
		return;
	H5Fclose(s->file);
	H5Eclear2(H5E_DEFAULT);
	if (s->tmp)
		unlink(s->tmp);
	free(s->tmp);
	free(s->path);
	free(s);
}

const char *h5s_path(const H5Store *s) { return s->path; }

int h5s_set_deflate(H5Store *s, int level)
{
	if (level < 0 || level > 9)
		return err_set("%s: deflate level %d outside 0..9", s->path, level);
	s->deflate = level;
	return 0;
}

/* ---- datasets ---- */

static int deflate_available(void)
{
	unsigned cfg = 0;
	if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0 ||
	    H5Zget_filter_info(H5Z_FILTER_DEFLATE, &cfg) < 0) {
		H5Eclear2(H5E_DEFAULT);
		return 0;
	}
	return (cfg & H5Z_FILTER_CONFIG_ENCODE_ENABLED) != 0;
}

/* choose_chunk: the whole array, halving its largest dimension until a chunk is <= 1 MiB. */
static void choose_chunk(int ndim, const hsize_t *dims, size_t esize, hsize_t *chunk)
{
	for (int i = 0; i < ndim; i++)
		chunk[i] = dims[i] ? dims[i] : 1;
	for (;;) {
		double bytes = (double)esize;
		int big = 0;
		for (int i = 0; i < ndim; i++) {
			bytes *= (double)chunk[i];
			if (chunk[i] > chunk[big])
				big = i;
		}
		if (bytes <= CHUNK_BYTES || chunk[big] == 1)
			return;
		chunk[big] = (chunk[big] + 1) / 2;
	}
}

/* make_dcpl: creation properties; chunked if chunk, with shuffle + deflate at level compress
 * when that is > 0 and the library has deflate. */
static hid_t make_dcpl(int ndim, const hsize_t *chunk, int compress)
{
	hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
	if (dcpl < 0)
		return -1;
	if (chunk) {
		if (H5Pset_chunk(dcpl, ndim, chunk) < 0)
			goto fail;
		if (compress && deflate_available() &&
		    (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, (unsigned)compress) < 0))
			goto fail;
	}
	return dcpl;
fail:
	hclose(dcpl);
	return -1;
}

static hid_t make_lcpl(void)
{
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
	if (lcpl < 0)
		return -1;
	if (H5Pset_create_intermediate_group(lcpl, 1) < 0 ||
	    H5Pset_char_encoding(lcpl, H5T_CSET_UTF8) < 0) {
		hclose(lcpl);
		return -1;
	}
	return lcpl;
}

/* check_parents: no existing ancestor of path is a dataset (HDF5's own message for that case,
 * "message type not found", says nothing useful). */
static int check_parents(const H5Store *s, const char *path)
{
	char *p = xstrdup(path);
	int ret = 0;
	for (char *c = strrchr(p, '/'); c && c > p; c = strrchr(p, '/')) {
		*c = 0;
		if (!link_exists(s->file, p))
			continue;
		hid_t o = H5Oopen(s->file, p, H5P_DEFAULT);
		if (o < 0) {
			ret = fail(s, path, "cannot open parent %s", p);
			break;
		}
		int is_group = H5Iget_type(o) == H5I_GROUP;
		hclose(o);
		if (!is_group) {
			ret = err_set("%s: %s: parent %s is a dataset, not a group", s->path, path, p);
			break;
		}
		break;  /* the nearest existing ancestor is a group: all above it are too */
	}
	free(p);
	return ret;
}

/* create_dataset: a new dataset; fill (may be NULL) is its fill value as a double. */
static hid_t create_dataset(H5Store *s, const char *path, H5sType type, int ndim,
			    const size_t *dims, const double *fill)
{
	hsize_t hd[H5S_MAX_DIMS], chunk[H5S_MAX_DIMS];
	size_t bytes = type_size(type);
	for (int i = 0; i < ndim; i++) {
		hd[i] = dims[i];
		bytes *= dims[i];       /* overflow already ruled out by count_elems */
	}
	hid_t sp = -1, dcpl = -1, lcpl = -1, d = -1;
	if (check_parents(s, path) < 0)
		return -1;
	sp = ndim ? H5Screate_simple(ndim, hd, NULL) : H5Screate(H5S_SCALAR);
	if (sp < 0) {
		fail(s, path, "cannot make dataspace");
		goto out;
	}
	int big = ndim > 0 && bytes > SMALL_BYTES;
	if (big)
		choose_chunk(ndim, hd, type_size(type), chunk);
	if ((dcpl = make_dcpl(ndim, big ? chunk : NULL, s->deflate)) < 0 || (lcpl = make_lcpl()) < 0) {
		fail(s, path, "cannot make creation properties");
		goto out;
	}
	if (fill && (H5Pset_fill_value(dcpl, H5T_NATIVE_DOUBLE, fill) < 0 ||
		     H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) < 0)) {
		fail(s, path, "cannot set fill value %g", *fill);
		goto out;
	}
	d = H5Dcreate2(s->file, path, file_type(type), sp, lcpl, dcpl, H5P_DEFAULT);
	if (d < 0)
		fail(s, path, "cannot create dataset");
out:
	hclose(sp);
	hclose(dcpl);
	hclose(lcpl);
	return d;
}

/* check_same: an existing dataset d has exactly this shape and type. */
static int check_same(H5Store *s, const char *path, hid_t d, H5sType type, int ndim,
		      const size_t *dims)
{
	int r;
	hsize_t hd[H5S_MAX_DIMS];
	if (dataset_shape(s, path, d, &r, hd, NULL) < 0)
		return -1;
	int same = r == ndim;
	for (int i = 0; same && i < r; i++)
		same = hd[i] == dims[i];
	if (!same) {
		char have[128] = "", want[128] = "";
		for (int i = 0; i < r; i++)
			snprintf(have + strlen(have), sizeof have - strlen(have), "%s%llu", i ? "x" : "",
				 (unsigned long long)hd[i]);
		for (int i = 0; i < ndim; i++)
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s%zu", i ? "x" : "",
				 dims[i]);
		return err_set("%s: %s: exists with shape [%s], not [%s]", s->path, path, have, want);
	}
	if (!type_matches(d, type)) {
		char tn[16];
		dataset_type_name(d, tn, sizeof tn);
		return err_set("%s: %s: exists with type %s, not %s", s->path, path, tn,
			       h5s_type_name(type));
	}
	return 0;
}

static int set_description(H5Store *s, const char *path, const char *description)
{
	return description ? h5s_attr_set_str(s, path, "description", description) : 0;
}

/* check_write_args: writable, valid type, rank and path, no overflow; *count = elements. */
static int check_write_args(H5Store *s, const char *path, H5sType type, int ndim,
			    const size_t *dims, size_t *count)
{
	if (!s)
		return err_set("h5s: NULL store");
	if (check_path(s, path) < 0 || need_writable(s, path) < 0)
		return -1;
	if (!strcmp(path, "/"))
		return err_set("%s: /: the root is a group, not a dataset", s->path);
	if (!type_ok(type))
		return err_set("%s: %s: unknown element type %d", s->path, path, (int)type);
	if (ndim < 0 || ndim > H5S_MAX_DIMS)
		return err_set("%s: %s: rank %d outside 0..%d", s->path, path, ndim, H5S_MAX_DIMS);
	if (ndim > 0 && !dims)
		return err_set("%s: %s: NULL dims", s->path, path);
	return count_elems(s, path, ndim, dims, type_size(type), count);
}

int h5s_write(H5Store *s, const char *path, H5sType type, const void *data, int ndim,
	      const size_t *dims, const char *description)
{
	size_t count;
	if (check_write_args(s, path, type, ndim, dims, &count) < 0)
		return -1;
	if (count && !data)
		return err_set("%s: %s: NULL data", s->path, path);
	hid_t d;
	if (link_exists(s->file, path)) {
		if ((d = open_dataset(s, path)) < 0)
			return -1;
		if (check_same(s, path, d, type, ndim, dims) < 0) {
			hclose(d);
			return -1;
		}
	} else if ((d = create_dataset(s, path, type, ndim, dims, NULL)) < 0) {
		return -1;
	}
	int ret = 0;
	if (count && H5Dwrite(d, mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
		ret = fail(s, path, "cannot write %zu elements", count);
	if (hclose(d) < 0 && ret == 0)
		ret = fail(s, path, "cannot close dataset");
	if (ret == 0)
		ret = set_description(s, path, description);
	return ret;
}

int h5s_write_f32(H5Store *s, const char *path, const float *data, int ndim, const size_t *dims,
		  const char *description)
{
	return h5s_write(s, path, H5S_F32, data, ndim, dims, description);
}

int h5s_write_f64(H5Store *s, const char *path, const double *data, int ndim, const size_t *dims,
		  const char *description)
{
	return h5s_write(s, path, H5S_F64, data, ndim, dims, description);
}

int h5s_write_scalar(H5Store *s, const char *path, double value, const char *description)
{
	return h5s_write(s, path, H5S_F64, &value, 0, NULL, description);
}

int h5s_create_dataset(H5Store *s, const char *path, H5sType type, int ndim, const size_t *dims,
		       double fill, const char *description)
{
	size_t count;
	if (check_write_args(s, path, type, ndim, dims, &count) < 0)
		return -1;
	hid_t d;
	if (link_exists(s->file, path)) {
		if ((d = open_dataset(s, path)) < 0)
			return -1;
		int ret = check_same(s, path, d, type, ndim, dims);
		hclose(d);
		return ret;
	}
	if ((d = create_dataset(s, path, type, ndim, dims, &fill)) < 0)
		return -1;
	if (hclose(d) < 0)
		return fail(s, path, "cannot close dataset");
	return set_description(s, path, description);
}

int h5s_shape(H5Store *s, const char *path, int *ndim, size_t *dims)
{
	hid_t d = open_dataset(s, path);
	if (d < 0)
		return -1;
	hsize_t hd[H5S_MAX_DIMS];
	int r;
	int ret = dataset_shape(s, path, d, &r, hd, NULL);
	hclose(d);
	if (ret < 0)
		return -1;
	*ndim = r;
	for (int i = 0; dims && i < r; i++)
		dims[i] = (size_t)hd[i];
	return 0;
}

/* check_numeric: the dataset holds integers or floats (HDF5 can convert them). */
static int check_numeric(H5Store *s, const char *path, hid_t d)
{
	char tn[16];
	int numeric = 0;
	hid_t dt = H5Dget_type(d);
	if (dt < 0)
		return fail(s, path, "cannot get type");
	dtype_name(dt, tn, sizeof tn, &numeric);
	hclose(dt);
	if (!numeric)
		return err_set("%s: %s: elements are %s, not numbers", s->path, path, tn);
	return 0;
}

int h5s_read(H5Store *s, const char *path, H5sType type, void **out, int *ndim, size_t *dims)
{
	*out = NULL;
	if (!type_ok(type))
		return err_set("%s: %s: unknown element type %d", s->path, path, (int)type);
	hid_t d = open_dataset(s, path);
	if (d < 0)
		return -1;
	int ret = -1, r;
	hsize_t hd[H5S_MAX_DIMS];
	size_t sd[H5S_MAX_DIMS], count;
	if (dataset_shape(s, path, d, &r, hd, NULL) < 0 || check_numeric(s, path, d) < 0)
		goto out;
	for (int i = 0; i < r; i++)
		sd[i] = (size_t)hd[i];
	if (count_elems(s, path, r, sd, type_size(type), &count) < 0)
		goto out;
	void *buf = xmalloc(count * type_size(type));
	if (count && H5Dread(d, mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
		free(buf);
		fail(s, path, "cannot read as %s", h5s_type_name(type));
		goto out;
	}
	*out = buf;
	if (ndim)
		*ndim = r;
	for (int i = 0; dims && i < r; i++)
		dims[i] = sd[i];
	ret = 0;
out:
	hclose(d);
	return ret;
}

int h5s_read_scalar(H5Store *s, const char *path, double *value)
{
	void *buf;
	int r;
	size_t dims[H5S_MAX_DIMS], count = 1;
	if (h5s_read(s, path, H5S_F64, &buf, &r, dims) < 0)
		return -1;
	for (int i = 0; i < r; i++)
		count *= dims[i];
	if (count != 1) {
		free(buf);
		return err_set("%s: %s: holds %zu values, not one", s->path, path, count);
	}
	*value = *(double *)buf;
	free(buf);
	return 0;
}

/* hyperslab: selects start/count in an open dataset's space (*fspace) and makes the memory
 * space (*mspace); checks bounds. */
static int hyperslab(H5Store *s, const char *path, hid_t d, const size_t *start,
		     const size_t *count, hid_t *fspace, hid_t *mspace, size_t *n)
{
	int r;
	hsize_t hd[H5S_MAX_DIMS], hs[H5S_MAX_DIMS], hc[H5S_MAX_DIMS];
	*fspace = *mspace = -1;
	if (dataset_shape(s, path, d, &r, hd, NULL) < 0)
		return -1;
	*n = 1;
	for (int i = 0; i < r; i++) {
		if (!start || !count)
			return err_set("%s: %s: NULL start or count for a rank-%d dataset", s->path,
				       path, r);
		if (start[i] > hd[i] || count[i] > hd[i] - start[i])
			return err_set("%s: %s: dimension %d: range %zu+%zu outside 0..%llu", s->path,
				       path, i, start[i], count[i], (unsigned long long)hd[i]);
		hs[i] = start[i];
		hc[i] = count[i];
		*n *= count[i];         /* bounded by the dataset's own size */
	}
	if ((*fspace = H5Dget_space(d)) < 0)
		return fail(s, path, "cannot get dataspace");
	if (r > 0 && *n > 0 &&
	    H5Sselect_hyperslab(*fspace, H5S_SELECT_SET, hs, NULL, hc, NULL) < 0)
		return fail(s, path, "cannot select hyperslab");
	*mspace = r ? H5Screate_simple(r, hc, NULL) : H5Screate(H5S_SCALAR);
	if (*mspace < 0)
		return fail(s, path, "cannot make memory dataspace");
	return 0;
}

static int slab_io(H5Store *s, const char *path, H5sType type, void *buf, const size_t *start,
		   const size_t *count, int write)
{
	if (!type_ok(type))
		return err_set("%s: %s: unknown element type %d", s->path, path, (int)type);
	if (write && need_writable(s, path) < 0)
		return -1;
	hid_t d = open_dataset(s, path), fs = -1, ms = -1;
	if (d < 0)
		return -1;
	int ret = -1;
	size_t n;
	if (hyperslab(s, path, d, start, count, &fs, &ms, &n) < 0 || check_numeric(s, path, d) < 0)
		goto out;
	if (n == 0) {
		ret = 0;
		goto out;
	}
	if (!buf) {
		err_set("%s: %s: NULL buffer", s->path, path);
		goto out;
	}
	herr_t st = write ? H5Dwrite(d, mem_type(type), ms, fs, H5P_DEFAULT, buf)
			  : H5Dread(d, mem_type(type), ms, fs, H5P_DEFAULT, buf);
	if (st < 0) {
		fail(s, path, "cannot %s %zu elements", write ? "write" : "read", n);
		goto out;
	}
	ret = 0;
out:
	hclose(fs);
	hclose(ms);
	if (hclose(d) < 0 && ret == 0)
		ret = fail(s, path, "cannot close dataset");
	return ret;
}

int h5s_write_at(H5Store *s, const char *path, H5sType type, const void *data,
		 const size_t *start, const size_t *count)
{
	return slab_io(s, path, type, (void *)data, start, count, 1);
}

int h5s_read_at(H5Store *s, const char *path, H5sType type, void *out, const size_t *start,
		const size_t *count)
{
	return slab_io(s, path, type, out, start, count, 0);
}

/* ---- series ---- */

static hid_t create_series(H5Store *s, const char *path)
{
	hsize_t zero = 0, unlim = H5S_UNLIMITED, chunk = SERIES_CHUNK;
	if (check_parents(s, path) < 0)
		return -1;
	hid_t sp = H5Screate_simple(1, &zero, &unlim), dcpl = -1, lcpl = -1, d = -1;
	if (sp < 0 || (dcpl = make_dcpl(1, &chunk, s->deflate)) < 0 || (lcpl = make_lcpl()) < 0) {
		fail(s, path, "cannot make series properties");
		goto out;
	}
	d = H5Dcreate2(s->file, path, H5T_IEEE_F64LE, sp, lcpl, dcpl, H5P_DEFAULT);
	if (d < 0)
		fail(s, path, "cannot create series");
out:
	hclose(sp);
	hclose(dcpl);
	hclose(lcpl);
	return d;
}

/* open_series: an existing 1-D dataset with an unlimited maximum; *len its length. */
static hid_t open_series(H5Store *s, const char *path, hsize_t *len)
{
	hid_t d = open_dataset(s, path);
	if (d < 0)
		return -1;
	int r;
	hsize_t dims[H5S_MAX_DIMS], maxd[H5S_MAX_DIMS];
	if (dataset_shape(s, path, d, &r, dims, maxd) < 0)
		goto fail;
	if (r != 1 || maxd[0] != H5S_UNLIMITED) {
		err_set("%s: %s: not an extendible 1-D series (written by h5s_write?)", s->path, path);
		goto fail;
	}
	if (check_numeric(s, path, d) < 0)
		goto fail;
	*len = dims[0];
	return d;
fail:
	hclose(d);
	return -1;
}

int h5s_series_append(H5Store *s, const char *path, const double *values, size_t n,
		      const char *description)
{
	if (!s)
		return err_set("h5s: NULL store");
	if (check_path(s, path) < 0 || need_writable(s, path) < 0)
		return -1;
	if (n && !values)
		return err_set("%s: %s: NULL values", s->path, path);
	int fresh = !link_exists(s->file, path);
	hid_t d = fresh ? create_series(s, path) : -1, fs = -1, ms = -1;
	hsize_t len = 0;
	if (!fresh)
		d = open_series(s, path, &len);
	if (d < 0)
		return -1;
	int ret = -1;
	if (n) {
		hsize_t newlen = len + n, start = len, cnt = n;
		if (H5Dset_extent(d, &newlen) < 0) {
			fail(s, path, "cannot extend series to %llu", (unsigned long long)newlen);
			goto out;
		}
		if ((fs = H5Dget_space(d)) < 0 ||
		    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL) < 0 ||
		    (ms = H5Screate_simple(1, &cnt, NULL)) < 0) {
			fail(s, path, "cannot select the appended range");
			goto out;
		}
		if (H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, values) < 0) {
			fail(s, path, "cannot append %zu values", n);
			goto out;
		}
	}
	ret = 0;
out:
	hclose(fs);
	hclose(ms);
	if (hclose(d) < 0 && ret == 0)
		ret = fail(s, path, "cannot close series");
	/* The description is written once, not on every step's append. */
	if (ret == 0 && description && !h5s_attr_exists(s, path, "description"))
		ret = set_description(s, path, description);
	return ret;
}

int h5s_series_truncate(H5Store *s, const char *path, size_t n)
{
	if (need_writable(s, path) < 0)
		return -1;
	hsize_t len, newlen = n;
	hid_t d = open_series(s, path, &len);
	if (d < 0)
		return -1;
	int ret = 0;
	if (newlen > len)
		ret = err_set("%s: %s: cannot truncate a series of %llu values to %zu", s->path, path,
			      (unsigned long long)len, n);
	else if (H5Dset_extent(d, &newlen) < 0)
		ret = fail(s, path, "cannot truncate series to %zu", n);
	if (hclose(d) < 0 && ret == 0)
		ret = fail(s, path, "cannot close series");
	return ret;
}

/* ---- listing and introspection ---- */

static herr_t link_name_cb(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
	names_push(data, name);
	return 0;
}

int h5s_list(H5Store *s, const char *group, char ***names, int *n)
{
	NameList l = { 0 };
	*names = NULL;
	*n = 0;
	hid_t g = open_object(s, group);
	if (g < 0)
		return -1;
	if (H5Iget_type(g) != H5I_GROUP) {
		hclose(g);
		return err_set("%s: %s: is a dataset, not a group", s->path, group);
	}
	hsize_t idx = 0;
	herr_t r = H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, link_name_cb, &l);
	hclose(g);
	if (r < 0) {
		h5s_free_list(l.names, l.n);
		return fail(s, group, "cannot list group");
	}
	names_hand_out(&l, names, n);
	return 0;
}

void h5s_free_list(char **names, int n)
{
	for (int i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

/* storage_info: chunking and filters of an open dataset. */
static void storage_info(hid_t d, H5sInfo *info)
{
	hid_t dcpl = H5Dget_create_plist(d);
	if (dcpl < 0)
		goto out;
	info->chunked = H5Pget_layout(dcpl) == H5D_CHUNKED;
	int nf = H5Pget_nfilters(dcpl);
	for (int i = 0; i < nf; i++) {
		unsigned flags, cd[8];
		size_t ncd = 8;
		char fname[64];
		H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof fname,
						fname, NULL);
		if (f == H5Z_FILTER_SHUFFLE)
			info->shuffle = 1;
		else if (f == H5Z_FILTER_DEFLATE)
			info->deflate = 1;
	}
	hclose(dcpl);
out:
	H5Eclear2(H5E_DEFAULT);
}

int h5s_info(H5Store *s, const char *path, H5sInfo *info)
{
	memset(info, 0, sizeof *info);
	hid_t o = open_object(s, path);
	if (o < 0)
		return -1;
	int ret = 0;
	H5I_type_t it = H5Iget_type(o);
	if (it == H5I_GROUP) {
		info->kind = H5S_KIND_GROUP;
	} else if (it == H5I_DATASET) {
		hsize_t dims[H5S_MAX_DIMS], maxd[H5S_MAX_DIMS];
		info->kind = H5S_KIND_DATASET;
		ret = dataset_shape(s, path, o, &info->ndim, dims, maxd);
		for (int i = 0; ret == 0 && i < info->ndim; i++) {
			info->dims[i] = (size_t)dims[i];
			if (maxd[i] == H5S_UNLIMITED)
				info->extendible = 1;
		}
		hid_t dt = H5Dget_type(o);
		if (dt >= 0) {
			dtype_name(dt, info->dtype, sizeof info->dtype, &info->numeric);
			hclose(dt);
		} else {
			ret = fail(s, path, "cannot get type");
		}
		storage_info(o, info);
	} else {
		info->kind = H5S_KIND_OTHER;
		snprintf(info->dtype, sizeof info->dtype, "other");
	}
	hclose(o);
	return ret;
}
