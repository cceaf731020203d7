/* test_h5store.c: the HDF5 result store: atomic create / abort / killed writer, provenance,
 * every element type and rank, conversion on read, chunking and compression, series across
 * reopen, attributes, hyperslab updates for resumable grids, listing, and bad input (missing,
 * truncated and non-HDF5 files, bad paths, shape and type clashes, foreign files written with
 * the raw HDF5 API: variable-length strings, rank 9, string datasets).
 *
 * `test_h5store --write-demo PATH` writes the small surface file tests/t_h5.sh exports. */
#include "harness.h"
#include "h5store.h"
#include "util.h"

#include <cJSON.h>
#include <hdf5.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[] = "/tmp/asft-h5-XXXXXX";

static char *tpath(const char *name) { return path_join(dir, name); }

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_atomic(void)
{
	char *p = tpath("atomic.h5");
	H5Store *s = h5s_create(p, "test", "{\"a\":1}", 7);
	CHECK(s != NULL);
	double v[3] = { 1, 2, 3 };
	size_t d = 3;
	CHECK_INT(h5s_write_f64(s, "/x", v, 1, &d, "three numbers"), 0);
	char *tmp = tmp_path(p);
	CHECK(!path_exists(p));                 /* not under the final name before close */
	CHECK(path_exists(tmp));
	CHECK_STR(h5s_path(s), p);
	CHECK_INT(h5s_close(s), 0);
	CHECK(path_exists(p));
	CHECK(!path_exists(tmp));
	s = h5s_open(p, 0);
	CHECK(s != NULL);
	double *back = NULL;
	int nd = -1;
	size_t dims[H5S_MAX_DIMS];
	CHECK_INT(h5s_read(s, "/x", H5S_F64, (void **)&back, &nd, dims), 0);
	CHECK_INT(nd, 1);
	CHECK_INT(dims[0], 3);
	CHECK_ALLCLOSE(back, v, 3, 0, 0);
	free(back);
	CHECK_INT(h5s_close(s), 0);
	CHECK_INT(h5s_close(NULL), 0);

	/* abort: neither the final name nor the temporary is left */
	char *p2 = tpath("aborted.h5");
	char *tmp2 = tmp_path(p2);
	s = h5s_create(p2, "test", NULL, 1);
	CHECK(s != NULL);
	CHECK_INT(h5s_write_f64(s, "/x", v, 1, &d, NULL), 0);
	CHECK(path_exists(tmp2));
	h5s_abort(s);
	CHECK(!path_exists(p2));
	CHECK(!path_exists(tmp2));
	h5s_abort(NULL);

	/* a writer killed before closing leaves nothing under the final name */
	char *p3 = tpath("killed.h5");
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		H5Store *c = h5s_create(p3, "child", NULL, 3);
		if (!c || h5s_write_f64(c, "/x", v, 1, &d, NULL) < 0 || h5s_flush(c) < 0)
			_exit(2);
		_exit(1);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);   /* 1: it got as far as writing */
	char *child_tmp = xasprintf("%s.tmp.%ld", p3, (long)pid);
	CHECK(path_exists(child_tmp));
	CHECK(!path_exists(p3));
	unlink(child_tmp);

	/* creating in a missing directory fails with the path named */
	char *p4 = tpath("no/such/dir/x.h5");
	CHECK(h5s_create(p4, "test", NULL, 0) == NULL);
	CHECK_CONTAINS(err_msg(), "no/such/dir/x.h5");
	CHECK_CONTAINS(err_msg(), "cannot create");
	free(p4);
	free(child_tmp);
	free(p3);
	free(tmp2);
	free(p2);
	free(tmp);
	free(p);
}

static void test_provenance(void)
{
	char *p = tpath("prov.h5");
	H5Store *s = h5s_create(p, "asft-test", "{\"lr\":0.001}", 12345);
	CHECK(s != NULL);
	CHECK_INT(h5s_close(s), 0);
	s = h5s_open(p, 0);
	CHECK(s != NULL);
	char *v = NULL;
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "tool", &v), 0);
	CHECK_STR(v, "asft-test");
	free(v);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "version", &v), 0);
	CHECK_STR(v, ASFT_VERSION);
	free(v);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "git_revision", &v), 0);
	CHECK_STR(v, asft_git_rev);
	free(v);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "config", &v), 0);
	CHECK_STR(v, "{\"lr\":0.001}");
	free(v);
	int64_t seed = 0;
	CHECK_INT(h5s_attr_get_i64(s, "/provenance", "seed", &seed), 0);
	CHECK_INT(seed, 12345);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "created", &v), 0);
	/* ISO 8601 UTC: 2026-11-24T22:33:16Z */
	CHECK_INT(strlen(v), 20);
	CHECK(v[4] == '-' && v[7] == '-' && v[10] == 'T' && v[13] == ':' && v[19] == 'Z');
	free(v);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "hostname", &v), 0);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	CHECK_STR(v, host);
	free(v);
	unsigned maj, min, rel;
	H5get_libversion(&maj, &min, &rel);
	char want[32];
	snprintf(want, sizeof want, "%u.%u.%u", maj, min, rel);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "hdf5", &v), 0);
	CHECK_STR(v, want);
	free(v);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "cjson", &v), 0);
	CHECK_STR(v, cJSON_Version());
	free(v);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "pcre2", &v), 0);
	CHECK(v && strncmp(v, "10.", 3) == 0);
	free(v);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "openblas", &v), 0);
	CHECK_CONTAINS(v, "OpenBLAS");
	free(v);
	char **names;
	int n;
	CHECK_INT(h5s_attr_list(s, "/provenance", &names, &n), 0);
	const char *expect[] = { "cjson", "config", "created", "git_revision", "hdf5", "hostname",
				 "openblas", "pcre2", "seed", "tool", "version" };
	CHECK_INT(n, 11);
	for (int i = 0; i < n && i < 11; i++)
		CHECK_STR(names[i], expect[i]);
	h5s_free_list(names, n);
	CHECK_INT(h5s_close(s), 0);

	/* NULL config is stored as {}; a uint64 seed keeps all its bits */
	s = h5s_create(p, "t", NULL, UINT64_MAX);
	CHECK_INT(h5s_attr_get_str(s, "/provenance", "config", &v), 0);
	CHECK_STR(v, "{}");
	free(v);
	CHECK_INT(h5s_attr_text(s, "/provenance", "seed", &v), 0);
	CHECK_STR(v, "18446744073709551615");
	free(v);
	/* the tool name must be valid UTF-8 like every string attribute */
	h5s_abort(s);
	CHECK(h5s_create(p, "bad\xff", NULL, 0) == NULL);
	CHECK_CONTAINS(err_msg(), "not valid UTF-8");
	free(p);
}

/* Writes and reads back one dataset of each type, checking conversion to f64 on read. */
static void test_types(H5Store *s)
{
	float f32[6] = { 1.5f, -2.25f, 3e-8f, NAN, INFINITY, 0 };
	double f64[6] = { 1.0 / 3, -1e300, 5e-324, NAN, -INFINITY, 42 };
	int32_t i32[6] = { INT32_MIN, -1, 0, 1, 7, INT32_MAX };
	int64_t i64[6] = { INT64_MIN, -1, 0, 1, (int64_t)1 << 53, INT64_MAX };
	uint8_t u8[6] = { 0, 1, 127, 128, 254, 255 };
	const void *data[5] = { f32, f64, i32, i64, u8 };
	size_t dims[2] = { 2, 3 };
	for (int t = H5S_F32; t <= H5S_U8; t++) {
		char path[64];
		snprintf(path, sizeof path, "/types/%s", h5s_type_name(t));
		CHECK_INT(h5s_write(s, path, t, data[t], 2, dims, h5s_type_name(t)), 0);
		void *back = NULL;
		int nd;
		size_t bd[H5S_MAX_DIMS];
		CHECK_INT(h5s_read(s, path, t, &back, &nd, bd), 0);
		CHECK_INT(nd, 2);
		CHECK(bd[0] == 2 && bd[1] == 3);
		size_t esz[] = { 4, 8, 4, 8, 1 };
		if (t >= H5S_I32)
			CHECK(back && memcmp(back, data[t], 6 * esz[t]) == 0);
		else if (t == H5S_F32)
			CHECK_ALLCLOSE((float *)back, f32, 6, 0, 0);
		if (t == H5S_F64)
			CHECK_ALLCLOSE((double *)back, f64, 6, 0, 0);
		free(back);
		H5sInfo info;
		CHECK_INT(h5s_info(s, path, &info), 0);
		CHECK_STR(info.dtype, h5s_type_name(t));
		CHECK_INT(info.kind, H5S_KIND_DATASET);
		CHECK_INT(info.chunked, 0);         /* small: contiguous */
		char *desc;
		CHECK_INT(h5s_attr_get_str(s, path, "description", &desc), 0);
		CHECK_STR(desc, h5s_type_name(t));
		free(desc);
	}
	/* conversions on read */
	double *d = NULL;
	CHECK_INT(h5s_read(s, "/types/i32", H5S_F64, (void **)&d, NULL, NULL), 0);
	for (int i = 0; i < 6; i++)
		CHECK_CLOSE(d[i], (double)i32[i], 0, 0);
	free(d);
	CHECK_INT(h5s_read(s, "/types/u8", H5S_F64, (void **)&d, NULL, NULL), 0);
	CHECK_CLOSE(d[5], 255, 0, 0);
	free(d);
	CHECK_INT(h5s_read(s, "/types/f32", H5S_F64, (void **)&d, NULL, NULL), 0);
	CHECK_CLOSE(d[1], -2.25, 0, 0);
	CHECK_CLOSE(d[2], (double)3e-8f, 0, 0);
	CHECK(isnan(d[3]) && isinf(d[4]));
	free(d);
	float *f = NULL;
	CHECK_INT(h5s_read(s, "/types/f64", H5S_F32, (void **)&f, NULL, NULL), 0);
	CHECK_CLOSE(f[0], (float)(1.0 / 3), 0, 0);
	CHECK(isnan(f[3]) && isinf(f[4]) && f[4] < 0);
	free(f);
	int64_t *l = NULL;
	CHECK_INT(h5s_read(s, "/types/i32", H5S_I64, (void **)&l, NULL, NULL), 0);
	CHECK_INT(l[0], INT32_MIN);
	free(l);
	CHECK_INT(h5s_read(s, "/types/x", (H5sType)9, (void **)&l, NULL, NULL), -1);
	CHECK_CONTAINS(err_msg(), "unknown element type");
}

static void test_ranks(H5Store *s)
{
	/* rank 0 (scalar) to 8 */
	for (int r = 0; r <= 8; r++) {
		size_t dims[8], n = 1;
		for (int i = 0; i < r; i++) {
			dims[i] = (size_t)(i % 3 + 1);
			n *= dims[i];
		}
		int32_t *v = xmalloc(n * sizeof *v);
		for (size_t i = 0; i < n; i++)
			v[i] = (int32_t)(i * 7 + (size_t)r);
		char path[32];
		snprintf(path, sizeof path, "/ranks/r%d", r);
		CHECK_INT(h5s_write(s, path, H5S_I32, v, r, dims, NULL), 0);
		int nd = -1;
		size_t bd[H5S_MAX_DIMS];
		CHECK_INT(h5s_shape(s, path, &nd, bd), 0);
		CHECK_INT(nd, r);
		int same = 1;
		for (int i = 0; i < r; i++)
			same &= bd[i] == dims[i];
		CHECK(same);
		int32_t *back = NULL;
		CHECK_INT(h5s_read(s, path, H5S_I32, (void **)&back, NULL, NULL), 0);
		CHECK(back && memcmp(back, v, n * sizeof *v) == 0);
		free(back);
		free(v);
	}
	size_t dims[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	float one = 1;
	CHECK_INT(h5s_write_f32(s, "/ranks/r9", &one, 9, dims, NULL), -1);
	CHECK_CONTAINS(err_msg(), "rank 9 outside 0..8");
	CHECK_INT(h5s_write_f32(s, "/ranks/neg", &one, -1, dims, NULL), -1);
	/* scalars */
	CHECK_INT(h5s_write_scalar(s, "/scalars/pi", 3.25, "a number"), 0);
	double v = 0;
	CHECK_INT(h5s_read_scalar(s, "/scalars/pi", &v), 0);
	CHECK_CLOSE(v, 3.25, 0, 0);
	CHECK_INT(h5s_read_scalar(s, "/ranks/r2", &v), -1);
	CHECK_CONTAINS(err_msg(), "holds 2 values, not one");
	/* zero-size dimension */
	size_t z[2] = { 0, 4 };
	CHECK_INT(h5s_write_f32(s, "/empty", NULL, 2, z, NULL), 0);
	float *back = NULL;
	int nd;
	size_t bd[H5S_MAX_DIMS];
	CHECK_INT(h5s_read(s, "/empty", H5S_F32, (void **)&back, &nd, bd), 0);
	CHECK(nd == 2 && bd[0] == 0 && bd[1] == 4);
	free(back);
	/* dimensions whose product overflows */
	size_t huge[2] = { SIZE_MAX / 2, 3 };
	CHECK_INT(h5s_write_f32(s, "/huge", &one, 2, huge, NULL), -1);
	CHECK_CONTAINS(err_msg(), "overflow");
}

static void test_names_and_overwrite(H5Store *s)
{
	const char *name = "/delta/model.layers.0.self_attn.q_proj.weight";
	double w2d[1] = { 1 };
	float w[6] = { 1, 2, 3, 4, 5, 6 };
	size_t dims[2] = { 2, 3 };
	CHECK_INT(h5s_write_f32(s, name, w, 2, dims, "q_proj delta"), 0);
	CHECK_INT(h5s_exists(s, name), 1);
	CHECK_INT(h5s_exists(s, "/delta"), 1);
	CHECK_INT(h5s_exists(s, "/delta/model"), 0);
	CHECK_INT(h5s_exists(s, "/nope/deeper/still"), 0);
	CHECK_INT(h5s_exists(s, "/"), 1);
	char **names;
	int n;
	CHECK_INT(h5s_list(s, "/delta", &names, &n), 0);
	CHECK_INT(n, 1);
	CHECK_STR(names[0], "model.layers.0.self_attn.q_proj.weight");
	h5s_free_list(names, n);

	/* overwrite in place with the same shape */
	float w2[6] = { 6, 5, 4, 3, 2, 1 };
	CHECK_INT(h5s_write_f32(s, name, w2, 2, dims, NULL), 0);
	float *back = NULL;
	CHECK_INT(h5s_read(s, name, H5S_F32, (void **)&back, NULL, NULL), 0);
	CHECK_ALLCLOSE(back, w2, 6, 0, 0);
	free(back);
	char *desc;
	CHECK_INT(h5s_attr_get_str(s, name, "description", &desc), 0);
	CHECK_STR(desc, "q_proj delta");       /* NULL description keeps the old one */
	free(desc);
	/* a different shape or type is an error naming both */
	size_t d3[2] = { 3, 2 };
	CHECK_INT(h5s_write_f32(s, name, w2, 2, d3, NULL), -1);
	CHECK_CONTAINS(err_msg(), "model.layers.0.self_attn.q_proj.weight: exists with shape [2x3], not [3x2]");
	CHECK_INT(h5s_write_f64(s, name, (double[6]){ 0 }, 2, dims, NULL), -1);
	CHECK_CONTAINS(err_msg(), "exists with type f32, not f64");
	/* a dataset cannot be a parent; a group cannot be overwritten by a dataset */
	CHECK_INT(h5s_write_f32(s, "/delta/model.layers.0.self_attn.q_proj.weight/x", w, 2, dims, NULL), -1);
	CHECK_CONTAINS(err_msg(), "q_proj.weight/x: parent /delta/model.layers.0.self_attn.q_proj.weight is a dataset, not a group");
	CHECK_INT(h5s_series_append(s, "/delta/model.layers.0.self_attn.q_proj.weight/a/b", w2d, 1, NULL), -1);
	CHECK_CONTAINS(err_msg(), "parent /delta/model.layers.0.self_attn.q_proj.weight is a dataset");
	CHECK_INT(h5s_write_f32(s, "/delta", w, 2, dims, NULL), -1);
	CHECK_CONTAINS(err_msg(), "/delta: is a group, not a dataset");
	/* bad paths */
	CHECK_INT(h5s_write_f32(s, "relative", w, 2, dims, NULL), -1);
	CHECK_CONTAINS(err_msg(), "must start with '/'");
	CHECK_INT(h5s_write_f32(s, "/a//b", w, 2, dims, NULL), -1);
	CHECK_CONTAINS(err_msg(), "empty, '.' or '..' component");
	CHECK_INT(h5s_write_f32(s, "/a/../b", w, 2, dims, NULL), -1);
	CHECK_INT(h5s_write_f32(s, "/a/", w, 2, dims, NULL), -1);
	CHECK_INT(h5s_write_f32(s, "/", w, 2, dims, NULL), -1);
	CHECK_INT(h5s_write_f32(s, "/nodata", NULL, 2, dims, NULL), -1);
	CHECK_CONTAINS(err_msg(), "NULL data");
	/* missing dataset, group read */
	void *v;
	CHECK_INT(h5s_read(s, "/delta/missing.weight", H5S_F32, &v, NULL, NULL), -1);
	CHECK_CONTAINS(err_msg(), "/delta/missing.weight: no such dataset");
	CHECK_INT(h5s_read(s, "/delta", H5S_F32, &v, NULL, NULL), -1);
	CHECK_CONTAINS(err_msg(), "is a group, not a dataset");
	int nd;
	CHECK_INT(h5s_shape(s, "/nothing", &nd, NULL), -1);
	CHECK_INT(h5s_list(s, name, &names, &n), -1);
	CHECK_CONTAINS(err_msg(), "is a dataset, not a group");
	CHECK_INT(h5s_list(s, "/nothing", &names, &n), -1);
	CHECK_CONTAINS(err_msg(), "/nothing: no such group or dataset");
}

static void test_large(H5Store *s, const char *path)
{
	/* 256 x 300 f32 = 300 KiB, smooth so it compresses */
	size_t dims[2] = { 256, 300 }, n = 256 * 300;
	float *w = xmalloc(n * sizeof *w);
	for (size_t i = 0; i < n; i++)
		w[i] = (float)(i % 300) * 0.5f;
	CHECK_INT(h5s_write_f32(s, "/big/w", w, 2, dims, "large"), 0);
	H5sInfo info;
	CHECK_INT(h5s_info(s, "/big/w", &info), 0);
	CHECK_INT(info.chunked, 1);
	CHECK_INT(info.shuffle, 1);
	CHECK_INT(info.deflate, 1);
	CHECK_INT(info.extendible, 0);
	float *back = NULL;
	CHECK_INT(h5s_read(s, "/big/w", H5S_F32, (void **)&back, NULL, NULL), 0);
	CHECK(back && memcmp(back, w, n * sizeof *w) == 0);
	free(back);
	/* 1-D, 5 MiB: chunks capped at 1 MiB; still exact */
	size_t n1 = 5 << 18;
	float *big = xmalloc(n1 * sizeof *big);
	for (size_t i = 0; i < n1; i++)
		big[i] = (float)(i & 1023);
	CHECK_INT(h5s_write_f32(s, "/big/v", big, 1, &n1, NULL), 0);
	CHECK_INT(h5s_read(s, "/big/v", H5S_F32, (void **)&back, NULL, NULL), 0);
	CHECK(back && memcmp(back, big, n1 * sizeof *big) == 0);
	free(back);
	CHECK_INT(h5s_flush(s), 0);
	/* compressed: far less than the 6.3 MB raw */
	long sz = file_size(path);
	CHECK(sz > 0 && sz < 2000000);
	/* compression off: chunked, no filters; level 1 on again */
	CHECK_INT(h5s_set_deflate(s, 10), -1);
	CHECK_CONTAINS(err_msg(), "deflate level 10 outside 0..9");
	CHECK_INT(h5s_set_deflate(s, 0), 0);
	CHECK_INT(h5s_write_f32(s, "/big/raw", w, 2, dims, NULL), 0);
	CHECK_INT(h5s_info(s, "/big/raw", &info), 0);
	CHECK(info.chunked == 1 && info.shuffle == 0 && info.deflate == 0);
	CHECK_INT(h5s_read(s, "/big/raw", H5S_F32, (void **)&back, NULL, NULL), 0);
	CHECK(back && memcmp(back, w, n * sizeof *w) == 0);
	free(back);
	CHECK_INT(h5s_set_deflate(s, 1), 0);
	CHECK_INT(h5s_write_f32(s, "/big/fast", w, 2, dims, NULL), 0);
	CHECK_INT(h5s_info(s, "/big/fast", &info), 0);
	CHECK(info.chunked == 1 && info.shuffle == 1 && info.deflate == 1);
	CHECK_INT(h5s_set_deflate(s, 4), 0);
	free(big);
	free(w);
}

static void test_series(void)
{
	char *p = tpath("series.h5");
	H5Store *s = h5s_create(p, "test", NULL, 0);
	double a[3] = { 3.0, 2.5, 2.0 };
	CHECK_INT(h5s_series_append(s, "/train/loss", a, 3, "training loss per step"), 0);
	CHECK_INT(h5s_series_append(s, "/train/loss", a, 1, "other"), 0);
	CHECK_INT(h5s_series_append(s, "/train/lr", NULL, 0, NULL), 0);   /* empty series */
	CHECK_INT(h5s_close(s), 0);
	s = h5s_open(p, 1);
	CHECK(s != NULL);
	double b[2] = { 1.5, NAN };
	CHECK_INT(h5s_series_append(s, "/train/loss", b, 2, NULL), 0);
	CHECK_INT(h5s_series_append(s, "/train/lr", b, 1, NULL), 0);
	CHECK_INT(h5s_close(s), 0);
	s = h5s_open(p, 0);
	double *back = NULL;
	int nd;
	size_t dims[H5S_MAX_DIMS];
	CHECK_INT(h5s_read(s, "/train/loss", H5S_F64, (void **)&back, &nd, dims), 0);
	double want[6] = { 3.0, 2.5, 2.0, 3.0, 1.5, NAN };
	CHECK(nd == 1 && dims[0] == 6);
	CHECK_ALLCLOSE(back, want, 6, 0, 0);
	free(back);
	char *desc;
	CHECK_INT(h5s_attr_get_str(s, "/train/loss", "description", &desc), 0);
	CHECK_STR(desc, "training loss per step");
	free(desc);
	H5sInfo info;
	CHECK_INT(h5s_info(s, "/train/loss", &info), 0);
	CHECK_INT(info.extendible, 1);
	CHECK_INT(info.chunked, 1);
	CHECK_INT(h5s_shape(s, "/train/lr", &nd, dims), 0);
	CHECK_INT(dims[0], 1);
	/* read-only refuses writes */
	CHECK_INT(h5s_series_append(s, "/train/loss", b, 1, NULL), -1);
	CHECK_CONTAINS(err_msg(), "open read-only");
	CHECK_INT(h5s_write_scalar(s, "/x", 1, NULL), -1);
	CHECK_INT(h5s_attr_set_f64(s, "/", "x", 1), -1);
	CHECK_INT(h5s_close(s), 0);

	/* truncate (resume from an earlier checkpoint), then append again */
	s = h5s_open(p, 1);
	CHECK_INT(h5s_series_truncate(s, "/train/loss", 2), 0);
	CHECK_INT(h5s_series_append(s, "/train/loss", b, 1, NULL), 0);
	CHECK_INT(h5s_read(s, "/train/loss", H5S_F64, (void **)&back, &nd, dims), 0);
	CHECK(dims[0] == 3 && back[0] == 3.0 && back[1] == 2.5 && back[2] == 1.5);
	free(back);
	CHECK_INT(h5s_series_truncate(s, "/train/loss", 9), -1);
	CHECK_CONTAINS(err_msg(), "cannot truncate a series of 3 values to 9");
	/* a fixed dataset is not a series */
	CHECK_INT(h5s_write_f64(s, "/fixed", a, 1, (size_t[]){ 3 }, NULL), 0);
	CHECK_INT(h5s_series_append(s, "/fixed", a, 1, NULL), -1);
	CHECK_CONTAINS(err_msg(), "/fixed: not an extendible 1-D series");
	CHECK_INT(h5s_series_append(s, "/train", a, 1, NULL), -1);
	CHECK_CONTAINS(err_msg(), "is a group");
	CHECK_INT(h5s_series_append(s, "/train/loss", NULL, 2, NULL), -1);
	CHECK_INT(h5s_close(s), 0);
	free(p);
}

static void test_attributes(H5Store *s)
{
	CHECK_INT(h5s_attr_set_str(s, "/", "title", "café ☕"), 0);
	CHECK_INT(h5s_attr_set_f64(s, "/", "alpha", 0.1), 0);
	CHECK_INT(h5s_attr_set_i64(s, "/", "steps", -123456789012345LL), 0);
	double vec[4] = { 1, -0.5, 1e-300, NAN };
	CHECK_INT(h5s_attr_set_f64v(s, "/types/f32", "cosines", vec, 4), 0);
	CHECK_INT(h5s_attr_set_f64v(s, "/", "empty", NULL, 0), 0);
	char *str;
	double f;
	int64_t i;
	CHECK_INT(h5s_attr_get_str(s, "/", "title", &str), 0);
	CHECK_STR(str, "café ☕");
	free(str);
	CHECK_INT(h5s_attr_get_f64(s, "/", "alpha", &f), 0);
	CHECK_CLOSE(f, 0.1, 0, 0);
	CHECK_INT(h5s_attr_get_i64(s, "/", "steps", &i), 0);
	CHECK(i == -123456789012345LL);
	CHECK_INT(h5s_attr_get_f64(s, "/", "steps", &f), 0);     /* integers read as f64 */
	CHECK_CLOSE(f, -123456789012345.0, 0, 0);
	double *v;
	size_t n;
	CHECK_INT(h5s_attr_get_f64v(s, "/types/f32", "cosines", &v, &n), 0);
	CHECK_INT(n, 4);
	CHECK_ALLCLOSE(v, vec, 4, 0, 0);
	free(v);
	CHECK_INT(h5s_attr_get_f64v(s, "/", "empty", &v, &n), 0);
	CHECK_INT(n, 0);
	free(v);
	CHECK_INT(h5s_attr_get_f64v(s, "/", "alpha", &v, &n), 0);   /* a scalar is a 1-vector */
	CHECK(n == 1 && v[0] == 0.1);
	free(v);
	/* overwriting replaces, also with another type */
	CHECK_INT(h5s_attr_set_str(s, "/", "title", "second"), 0);
	CHECK_INT(h5s_attr_get_str(s, "/", "title", &str), 0);
	CHECK_STR(str, "second");
	free(str);
	CHECK_INT(h5s_attr_set_f64(s, "/", "title", 2.0), 0);
	CHECK_INT(h5s_attr_get_f64(s, "/", "title", &f), 0);
	CHECK_CLOSE(f, 2.0, 0, 0);
	CHECK_INT(h5s_attr_get_str(s, "/", "title", &str), -1);
	CHECK_CONTAINS(err_msg(), "attribute title is not a string");
	CHECK_INT(h5s_attr_set_str(s, "/", "title", ""), 0);     /* empty string */
	CHECK_INT(h5s_attr_get_str(s, "/", "title", &str), 0);
	CHECK_STR(str, "");
	free(str);
	/* wrong kinds, missing things */
	CHECK_INT(h5s_attr_get_i64(s, "/", "alpha", &i), -1);
	CHECK_CONTAINS(err_msg(), "attribute alpha is not an integer");
	CHECK_INT(h5s_attr_get_f64(s, "/types/f32", "cosines", &f), -1);
	CHECK_CONTAINS(err_msg(), "holds 4 values, not one");
	CHECK_INT(h5s_attr_get_f64(s, "/", "title", &f), -1);
	CHECK_INT(h5s_attr_set_str(s, "/", "x", "y"), 0);
	CHECK_INT(h5s_attr_get_f64(s, "/", "x", &f), -1);
	CHECK_CONTAINS(err_msg(), "attribute x is not a number");
	CHECK_INT(h5s_attr_get_f64(s, "/", "nope", &f), -1);
	CHECK_CONTAINS(err_msg(), ": /: no attribute nope");
	CHECK_INT(h5s_attr_get_f64(s, "/missing/obj", "a", &f), -1);
	CHECK_CONTAINS(err_msg(), "/missing/obj: no such group or dataset");
	CHECK_INT(h5s_attr_set_f64(s, "/missing/obj", "a", 1), -1);
	CHECK_INT(h5s_attr_set_f64(s, "/", "", 1), -1);
	CHECK_CONTAINS(err_msg(), "empty attribute name");
	CHECK_INT(h5s_attr_set_str(s, "/", "bad", "a\xc3("), -1);
	CHECK_CONTAINS(err_msg(), "not valid UTF-8 (byte 1)");
	CHECK_INT(h5s_attr_exists(s, "/", "alpha"), 1);
	CHECK_INT(h5s_attr_exists(s, "/", "nope"), 0);
	CHECK_INT(h5s_attr_exists(s, "/missing", "alpha"), 0);
	/* a 100 KB string (the JSON config of a big run) goes beyond the 64 KiB header limit */
	size_t big = 100000;
	char *longs = xmalloc(big + 1);
	for (size_t k = 0; k < big; k++)
		longs[k] = (char)('a' + k % 26);
	longs[big] = 0;
	CHECK_INT(h5s_attr_set_str(s, "/", "long", longs), 0);
	CHECK_INT(h5s_attr_get_str(s, "/", "long", &str), 0);
	CHECK_STR(str, longs);
	free(str);
	free(longs);
	/* text forms (what asft-h5 prints) */
	CHECK_INT(h5s_attr_text(s, "/", "alpha", &str), 0);
	CHECK_STR(str, "0.1");
	free(str);
	CHECK_INT(h5s_attr_text(s, "/", "steps", &str), 0);
	CHECK_STR(str, "-123456789012345");
	free(str);
	CHECK_INT(h5s_attr_text(s, "/types/f32", "cosines", &str), 0);
	CHECK_STR(str, "[1, -0.5, 1e-300, nan]");
	free(str);
	CHECK_INT(h5s_attr_text(s, "/", "empty", &str), 0);
	CHECK_STR(str, "[]");
	free(str);
	/* a whole float is printed as an integer, not as its shorter exponent form "5e+01" */
	CHECK_INT(h5s_attr_set_f64(s, "/", "fifty", 50), 0);
	CHECK_INT(h5s_attr_text(s, "/", "fifty", &str), 0);
	CHECK_STR(str, "50");
	free(str);
	CHECK_INT(h5s_attr_set_f64(s, "/", "fifty", 5e20), 0);
	CHECK_INT(h5s_attr_text(s, "/", "fifty", &str), 0);
	CHECK_STR(str, "5e+20");
	free(str);
	char **names;
	int nn;
	CHECK_INT(h5s_attr_list(s, "/", &names, &nn), 0);
	const char *want[] = { "alpha", "empty", "fifty", "long", "steps", "title", "x" };
	CHECK_INT(nn, 7);
	for (int k = 0; k < nn && k < 7; k++)
		CHECK_STR(names[k], want[k]);
	h5s_free_list(names, nn);
}

/* A surface grid filled point by point across a close and reopen (the basin walk's resume). */
static void test_grid_resume(void)
{
	char *p = tpath("grid.h5");
	H5Store *s = h5s_create(p, "test", NULL, 0);
	size_t dims[2] = { 3, 5 };
	CHECK_INT(h5s_create_dataset(s, "/harmful_score", H5S_F64, 2, dims, NAN, "score"), 0);
	CHECK_INT(h5s_create_dataset(s, "/done", H5S_U8, 2, dims, 0, "1 = computed"), 0);
	double v = 0.25;
	uint8_t one = 1;
	size_t at[2] = { 1, 3 }, cnt[2] = { 1, 1 };
	CHECK_INT(h5s_write_at(s, "/harmful_score", H5S_F64, &v, at, cnt), 0);
	CHECK_INT(h5s_write_at(s, "/done", H5S_U8, &one, at, cnt), 0);
	CHECK_INT(h5s_close(s), 0);

	s = h5s_open(p, 1);
	/* create again on resume: kept as is */
	CHECK_INT(h5s_create_dataset(s, "/harmful_score", H5S_F64, 2, dims, NAN, "score"), 0);
	CHECK_INT(h5s_create_dataset(s, "/done", H5S_U8, 2, dims, 0, NULL), 0);
	CHECK_INT(h5s_create_dataset(s, "/done", H5S_U8, 2, (size_t[]){ 5, 3 }, 0, NULL), -1);
	CHECK_CONTAINS(err_msg(), "exists with shape [3x5], not [5x3]");
	CHECK_INT(h5s_create_dataset(s, "/done", H5S_F32, 2, dims, 0, NULL), -1);
	CHECK_CONTAINS(err_msg(), "exists with type u8, not f32");
	/* a f32 value into the f64 grid (converted), and a whole row segment */
	float fv = 0.5f;
	size_t at2[2] = { 2, 4 };
	CHECK_INT(h5s_write_at(s, "/harmful_score", H5S_F32, &fv, at2, cnt), 0);
	CHECK_INT(h5s_write_at(s, "/done", H5S_U8, &one, at2, cnt), 0);
	double row[3] = { 7, 8, 9 };
	size_t at3[2] = { 0, 1 }, cnt3[2] = { 1, 3 };
	CHECK_INT(h5s_write_at(s, "/harmful_score", H5S_F64, row, at3, cnt3), 0);
	/* out of range, wrong target */
	size_t bad[2] = { 3, 0 };
	CHECK_INT(h5s_write_at(s, "/harmful_score", H5S_F64, &v, bad, cnt), -1);
	CHECK_CONTAINS(err_msg(), "/harmful_score: dimension 0: range 3+1 outside 0..3");
	size_t bad2[2] = { 0, 3 };
	CHECK_INT(h5s_write_at(s, "/harmful_score", H5S_F64, row, bad2, cnt3), -1);
	CHECK_CONTAINS(err_msg(), "dimension 1: range 3+3 outside 0..5");
	CHECK_INT(h5s_write_at(s, "/nope", H5S_F64, &v, at, cnt), -1);
	CHECK_INT(h5s_write_at(s, "/harmful_score", H5S_F64, &v, NULL, NULL), -1);
	CHECK_CONTAINS(err_msg(), "NULL start or count");
	CHECK_INT(h5s_close(s), 0);

	s = h5s_open(p, 0);
	double *g = NULL;
	CHECK_INT(h5s_read(s, "/harmful_score", H5S_F64, (void **)&g, NULL, NULL), 0);
	double want[15] = { NAN, 7, 8, 9, NAN, NAN, NAN, NAN, 0.25, NAN, NAN, NAN, NAN, NAN, 0.5 };
	CHECK_ALLCLOSE(g, want, 15, 0, 0);
	free(g);
	uint8_t *m = NULL;
	CHECK_INT(h5s_read(s, "/done", H5S_U8, (void **)&m, NULL, NULL), 0);
	int ones = 0;
	for (int k = 0; k < 15; k++)
		ones += m[k];
	CHECK_INT(ones, 2);
	CHECK(m[8] == 1 && m[14] == 1);
	free(m);
	double pt = 0;
	CHECK_INT(h5s_read_at(s, "/harmful_score", H5S_F64, &pt, at, cnt), 0);
	CHECK_CLOSE(pt, 0.25, 0, 0);
	double seg[3];
	CHECK_INT(h5s_read_at(s, "/harmful_score", H5S_F64, seg, at3, cnt3), 0);
	CHECK_ALLCLOSE(seg, row, 3, 0, 0);
	CHECK_INT(h5s_close(s), 0);
	free(p);
}

/* Files written by other programs (h5py, old tools) through the raw HDF5 API. */
static void test_foreign(void)
{
	char *p = tpath("foreign.h5");
	hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	hid_t sc = H5Screate(H5S_SCALAR);
	/* variable-length string attribute */
	hid_t vt = H5Tcopy(H5T_C_S1);
	H5Tset_size(vt, H5T_VARIABLE);
	hid_t a = H5Acreate2(f, "vlen", vt, sc, H5P_DEFAULT, H5P_DEFAULT);
	const char *vs = "variable length";
	H5Awrite(a, vt, &vs);
	H5Aclose(a);
	/* space-padded fixed string */
	hid_t ft = H5Tcopy(H5T_C_S1);
	H5Tset_size(ft, 8);
	H5Tset_strpad(ft, H5T_STR_SPACEPAD);
	a = H5Acreate2(f, "padded", ft, sc, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, ft, "abc     ");
	H5Aclose(a);
	/* a string dataset and a rank-9 dataset */
	hid_t d = H5Dcreate2(f, "strings", ft, sc, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Dwrite(d, ft, H5S_ALL, H5S_ALL, H5P_DEFAULT, "xyz     ");
	H5Dclose(d);
	hsize_t d9[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 2 };
	hid_t s9 = H5Screate_simple(9, d9, NULL);
	d = H5Dcreate2(f, "rank9", H5T_NATIVE_FLOAT, s9, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Dclose(d);
	H5Sclose(s9);
	/* a big-endian int16 dataset */
	hsize_t d2 = 2;
	hid_t s2 = H5Screate_simple(1, &d2, NULL);
	d = H5Dcreate2(f, "be16", H5T_STD_I16BE, s2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	short sv[2] = { -300, 300 };
	H5Dwrite(d, H5T_NATIVE_SHORT, H5S_ALL, H5S_ALL, H5P_DEFAULT, sv);
	H5Dclose(d);
	H5Sclose(s2);
	H5Gclose(H5Gcreate2(f, "emptygroup", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
	H5Tclose(ft);
	H5Tclose(vt);
	H5Sclose(sc);
	H5Fclose(f);

	H5Store *s = h5s_open(p, 0);
	CHECK(s != NULL);
	char *str;
	CHECK_INT(h5s_attr_get_str(s, "/", "vlen", &str), 0);
	CHECK_STR(str, "variable length");
	free(str);
	CHECK_INT(h5s_attr_get_str(s, "/", "padded", &str), 0);
	CHECK_STR(str, "abc");
	free(str);
	void *v;
	CHECK_INT(h5s_read(s, "/strings", H5S_F64, &v, NULL, NULL), -1);
	CHECK_CONTAINS(err_msg(), "/strings: elements are str, not numbers");
	CHECK_INT(h5s_read(s, "/rank9", H5S_F64, &v, NULL, NULL), -1);
	CHECK_CONTAINS(err_msg(), "/rank9: rank 9 exceeds the maximum 8");
	H5sInfo info;
	CHECK_INT(h5s_info(s, "/rank9", &info), -1);
	CHECK_INT(h5s_info(s, "/be16", &info), 0);
	CHECK_STR(info.dtype, "i16");
	CHECK_INT(h5s_read(s, "/be16", H5S_F64, &v, NULL, NULL), 0);
	CHECK(((double *)v)[0] == -300 && ((double *)v)[1] == 300);
	free(v);
	CHECK_INT(h5s_info(s, "/", &info), 0);
	CHECK_INT(info.kind, H5S_KIND_GROUP);
	char **names = NULL;
	int n = -1;
	CHECK_INT(h5s_list(s, "/emptygroup", &names, &n), 0);     /* nothing in it */
	CHECK(n == 0 && names == NULL);
	CHECK_INT(h5s_attr_list(s, "/be16", &names, &n), 0);      /* no attributes */
	CHECK(n == 0 && names == NULL);
	CHECK_INT(h5s_list(s, "/", &names, &n), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_STR(names[0], "be16");
		CHECK_STR(names[1], "emptygroup");
		CHECK_STR(names[2], "rank9");
		CHECK_STR(names[3], "strings");
	}
	h5s_free_list(names, n);
	CHECK_INT(h5s_close(s), 0);
	free(p);
}

/* The on-disk conventions README promises, checked with the raw HDF5 API. */
static void test_conventions(void)
{
	char *p = tpath("conv.h5");
	H5Store *s = h5s_create(p, "conv", NULL, 0);
	size_t n = 20000;       /* 80 KB: chunked */
	float *w = xcalloc(n, sizeof *w);
	CHECK_INT(h5s_write_f32(s, "/w", w, 1, &n, "weights"), 0);
	CHECK_INT(h5s_close(s), 0);
	free(w);
	hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
	CHECK(f >= 0);
	hid_t a = H5Aopen_by_name(f, "/w", "description", H5P_DEFAULT, H5P_DEFAULT);
	hid_t t = H5Aget_type(a);
	CHECK_INT(H5Tget_class(t), H5T_STRING);
	CHECK_INT(H5Tis_variable_str(t), 0);
	CHECK_INT(H5Tget_cset(t), H5T_CSET_UTF8);
	CHECK_INT(H5Tget_strpad(t), H5T_STR_NULLTERM);
	CHECK_INT(H5Tget_size(t), 8);           /* "weights" + NUL */
	H5Tclose(t);
	H5Aclose(a);
	hid_t d = H5Dopen2(f, "/w", H5P_DEFAULT);
	t = H5Dget_type(d);
	CHECK(H5Tequal(t, H5T_IEEE_F32LE) > 0);
	H5Tclose(t);
	hid_t dcpl = H5Dget_create_plist(d);
	hsize_t chunk = 0;
	CHECK_INT(H5Pget_chunk(dcpl, 1, &chunk), 1);
	CHECK_INT(chunk, 20000);
	CHECK_INT(H5Pget_nfilters(dcpl), 2);
	unsigned flags, cd[4];
	size_t ncd = 4;
	CHECK_INT(H5Pget_filter2(dcpl, 0, &flags, &ncd, cd, 0, NULL, NULL), H5Z_FILTER_SHUFFLE);
	ncd = 4;
	CHECK_INT(H5Pget_filter2(dcpl, 1, &flags, &ncd, cd, 0, NULL, NULL), H5Z_FILTER_DEFLATE);
	CHECK(ncd >= 1 && cd[0] == 4);
	H5Pclose(dcpl);
	H5Dclose(d);
	htri_t e = H5Lexists(f, "/provenance", H5P_DEFAULT);
	CHECK(e > 0);
	H5Fclose(f);
	free(p);
}

static void test_open_errors(void)
{
	char *p = tpath("missing.h5");
	CHECK(h5s_open(p, 0) == NULL);
	CHECK_CONTAINS(err_msg(), "missing.h5: cannot open: No such file or directory");
	free(p);
	p = tpath("text.h5");
	CHECK_INT(file_write_atomic(p, "hello, not HDF5\n", 16), 0);
	CHECK(h5s_open(p, 0) == NULL);
	CHECK_CONTAINS(err_msg(), "text.h5: not an HDF5 file");
	free(p);
	p = tpath("empty.h5");
	CHECK_INT(file_write_atomic(p, "", 0), 0);
	CHECK(h5s_open(p, 1) == NULL);
	CHECK_CONTAINS(err_msg(), "empty.h5: not an HDF5 file");
	free(p);
	/* a truncated file: the signature is there, the rest is not */
	char *src = tpath("atomic.h5");
	size_t n;
	char *bytes = file_read_all(src, &n);
	CHECK(bytes && n > 2048);
	p = tpath("truncated.h5");
	CHECK_INT(file_write_atomic(p, bytes, 600), 0);
	H5Store *s = h5s_open(p, 0);
	if (s) {    /* the superblock may survive; then reading must fail cleanly */
		void *v = NULL;
		CHECK_INT(h5s_read(s, "/x", H5S_F64, &v, NULL, NULL), -1);
		h5s_close(s);
	} else {
		CHECK_CONTAINS(err_msg(), "truncated.h5");
	}
	free(bytes);
	free(src);
	free(p);
	p = tpath("dir.h5");
	mkdir(p, 0777);
	CHECK(h5s_open(p, 0) == NULL);
	CHECK_CONTAINS(err_msg(), "dir.h5");
	free(p);
}

/* The demo surface file tests/t_h5.sh exports (values chosen so the text output is exact). */
static int write_demo(const char *path)
{
	H5Store *s = h5s_create(path, "test_h5store", "{\"demo\":true}", 42);
	if (!s)
		return -1;
	double xc[5] = { -1, -0.5, 0, 0.5, 1 }, yc[3] = { -0.25, 0, 0.25 };
	size_t nx = 5, ny = 3, grid[2] = { 3, 5 };
	double score[15];
	uint8_t done[15];
	for (int i = 0; i < 15; i++) {
		score[i] = (i / 5) * 10 + (i % 5) + 0.5;
		done[i] = 1;
	}
	score[7] = NAN;     /* row 1, column 2 */
	done[7] = 0;
	double curve[4] = { 2.5, 2.25, NAN, 1.0 / 3 };
	double line[5] = { 0.1, 0.2, 0.3, 0.4, 0.5 };
	float cube[8] = { 0 };
	size_t c3[3] = { 2, 2, 2 };
	double cos[2] = { 1, -0.125 };
	int ok = h5s_write_f64(s, "/xcoordinates", xc, 1, &nx, "x (along the aligned direction)") == 0 &&
		 h5s_write_f64(s, "/ycoordinates", yc, 1, &ny, "y (random direction)") == 0 &&
		 h5s_write_f64(s, "/harmful_score", score, 2, grid, "harmful score") == 0 &&
		 h5s_write(s, "/done", H5S_U8, done, 2, grid, "1 = computed") == 0 &&
		 h5s_series_append(s, "/train/loss", curve, 4, "loss per step") == 0 &&
		 h5s_write_f64(s, "/line", line, 1, &nx, "a 1-D metric along x") == 0 &&
		 h5s_write_f32(s, "/cube", cube, 3, c3, "3-D") == 0 &&
		 h5s_write_scalar(s, "/n_points", 14, "points computed") == 0 &&
		 h5s_write_f32(s, "/delta/model.layers.0.mlp.up_proj.weight", cube, 2,
			       (size_t[]){ 2, 4 }, NULL) == 0 &&
		 h5s_attr_set_str(s, "/", "title", "demo surface") == 0 &&
		 h5s_attr_set_f64v(s, "/", "cosines", cos, 2) == 0 &&
		 h5s_attr_set_i64(s, "/", "grid_points", 15) == 0 &&
		 h5s_attr_set_f64(s, "/harmful_score", "threshold", 0.5) == 0;
	if (!ok) {
		h5s_abort(s);
		return -1;
	}
	return h5s_close(s);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-demo")) {
		if (write_demo(argv[2]) < 0) {
			fprintf(stderr, "test_h5store: %s\n", err_msg());
			return 1;
		}
		return 0;
	}
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_atomic();
	test_provenance();
	char *p = tpath("data.h5");
	H5Store *s = h5s_create(p, "test", NULL, 0);
	CHECK(s != NULL);
	if (s) {
		test_types(s);
		test_ranks(s);
		test_names_and_overwrite(s);
		char *tmp = tmp_path(p);     /* still under its temporary name */
		test_large(s, tmp);
		free(tmp);
		test_attributes(s);
		CHECK_INT(h5s_close(s), 0);
	}
	free(p);
	test_series();
	test_grid_resume();
	test_foreign();
	test_conventions();
	test_open_errors();
	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return test_summary();
}
