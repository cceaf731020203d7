/* fuzz_safetensors.c: .safetensors bytes -> st_open (data/safetensors.h reads from a path only,
 * so the bytes go to a scratch file first).
 *
 * Properties: a refusal carries an error message; on success every tensor is touched: st_find of
 * its name returns it, numel and nbytes agree with shape and dtype, every byte of its data is
 * read (a range past the mapping would fault), floating-point tensors convert with st_read_f32
 * and st_f32 to the same bits, others are refused with a message; every __metadata__ key is
 * found; st_close twice is safe.
 * Seeds (fuzz_make_seeds): files from st_writer (F32, BF16) and hand-built ones holding every
 * dtype, a scalar, an empty tensor, an unaligned data region and an empty header. */
#include "fuzz.h"
#include "safetensors.h"
#include "util.h"

#include <string.h>

const size_t fuzz_replay_total = 6000;

static int is_float(StDtype t)
{
	return t == ST_F32 || t == ST_F16 || t == ST_BF16 || t == ST_F64;
}

static void touch(const Safetensors *st, const StTensor *t)
{
	FUZZ_CHECK(st_find(st, t->name) == t, "st_find(\"%s\") is not the tensor", t->name);
	FUZZ_CHECK(st_dtype_parse(st_dtype_name(t->dtype)) == (int)t->dtype, "dtype %d", t->dtype);
	FUZZ_CHECK(t->ndim >= 0 && t->ndim <= ST_MAX_DIMS, "ndim %d", t->ndim);
	size_t numel = 1;
	for (int d = 0; d < t->ndim; d++) {
		FUZZ_CHECK(t->shape[d] >= 0, "negative dim");
		numel *= (size_t)t->shape[d];
	}
	FUZZ_CHECK(numel == t->numel, "numel %zu, shape gives %zu", t->numel, numel);
	FUZZ_CHECK(t->nbytes == numel * st_dtype_size(t->dtype), "nbytes %zu", t->nbytes);
	const volatile uint8_t *p = t->data;
	uint8_t x = 0;
	for (size_t i = 0; i < t->nbytes; i++)
		x ^= p[i];
	(void)x;

	float *buf = xmalloc(t->numel ? t->numel * sizeof(float) : 1);
	err_clear();
	int rc = st_read_f32(t, buf);
	if (!is_float(t->dtype)) {
		FUZZ_CHECK(rc != 0, "st_read_f32 accepted dtype %s", st_dtype_name(t->dtype));
		FUZZ_CHECK_ERR("st_read_f32");
		int owned = -1;
		FUZZ_CHECK(st_f32(t, &owned) == NULL, "st_f32 accepted dtype %s", st_dtype_name(t->dtype));
		free(buf);
		return;
	}
	FUZZ_CHECK(rc == 0, "st_read_f32 of %s (%s): %s", t->name, st_dtype_name(t->dtype), err_msg());
	int owned = -1;
	float *view = st_f32(t, &owned);
	FUZZ_CHECK(view != NULL && (owned == 0 || owned == 1), "st_f32 of %s: %s", t->name, err_msg());
	FUZZ_CHECK(t->numel == 0 || !memcmp(view, buf, t->numel * sizeof(float)),
		   "st_f32 and st_read_f32 disagree on %s", t->name);
	if (owned)
		free(view);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_write("model.safetensors", data, size);
	Safetensors st;
	memset(&st, 0, sizeof st);
	err_clear();
	if (st_open(&st, path) != 0) {
		FUZZ_CHECK_ERR("st_open");
		st_close(&st);
		free(path);
		return 0;
	}
	FUZZ_CHECK(st.n >= 0, "n %d", st.n);
	for (int i = 0; i < st.n; i++)
		touch(&st, &st.tensors[i]);
	for (int i = 0; i < st.n_meta; i++)
		FUZZ_CHECK(st_meta_get(&st, st.meta_keys[i]) != NULL, "meta key %s", st.meta_keys[i]);
	FUZZ_CHECK(st_find(&st, "\x01no such tensor") == NULL, "found a missing name");
	st_close(&st);
	st_close(&st);
	free(path);
	return 0;
}

/* ---- seeds ---- */

/* put_file: dir/name = 8-byte little-endian header length, header, data. */
static int put_file(const char *dir, const char *name, const char *header, const void *data,
		    size_t n)
{
	size_t hl = strlen(header);
	uint8_t *buf = xmalloc(8 + hl + n);
	for (int i = 0; i < 8; i++)
		buf[i] = (uint8_t)((uint64_t)hl >> (8 * i));
	memcpy(buf + 8, header, hl);
	if (n)
		memcpy(buf + 8 + hl, data, n);
	char *path = path_join(dir, name);
	int rc = file_write_atomic(path, buf, 8 + hl + n);
	free(path);
	free(buf);
	return rc;
}

int fuzz_make_seeds(const char *dir)
{
	int rc = -1;
	float v[6] = { 1.0f, -2.5f, 3.25f, 0.0f, -0.0f, 1e-3f };
	int64_t s23[2] = { 2, 3 }, s3[1] = { 3 };
	StWriter *w = st_writer_new();
	if (st_writer_add(w, "model.embed_tokens.weight", ST_F32, v, 2, s23) ||
	    st_writer_add(w, "model.norm.weight", ST_F32, v, 1, s3) ||
	    st_writer_meta(w, "note", "seed") || st_writer_meta(w, "total_size", "36"))
		goto out;
	char *p = path_join(dir, "writer_f32.safetensors");
	rc = st_writer_save(w, p);
	free(p);
	st_writer_free(w);
	if (rc)
		return rc;
	rc = -1;
	w = st_writer_new();
	if (st_writer_add(w, "a", ST_BF16, v, 2, s23) || st_writer_add(w, "b", ST_BF16, v, 1, s3))
		goto out;
	p = path_join(dir, "writer_bf16.safetensors");
	rc = st_writer_save(w, p);
	free(p);
	if (rc)
		goto out;

	/* Every dtype once, a scalar and an empty tensor; offsets contiguous and sorted. */
	uint8_t bytes[64];
	for (int i = 0; i < 64; i++)
		bytes[i] = (uint8_t)(i * 37 + 11);
	bytes[0] = 0x00; bytes[1] = 0x3c;       /* F16 1.0 */
	rc = put_file(dir, "dtypes.safetensors",
		"{\"__metadata__\":{\"format\":\"pt\"},"
		"\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
		"\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]},"
		"\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[12,20]},"
		"\"j\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[20,24]},"
		"\"k\":{\"dtype\":\"I16\",\"shape\":[1],\"data_offsets\":[24,26]},"
		"\"l\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[26,27]},"
		"\"m\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[27,28]},"
		"\"n\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[28,30]},"
		"\"o\":{\"dtype\":\"U16\",\"shape\":[1],\"data_offsets\":[30,32]},"
		"\"p\":{\"dtype\":\"U32\",\"shape\":[1],\"data_offsets\":[32,36]},"
		"\"q\":{\"dtype\":\"U64\",\"shape\":[1],\"data_offsets\":[36,44]},"
		"\"r\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[44,45]},"
		"\"s\":{\"dtype\":\"F8_E5M2\",\"shape\":[1],\"data_offsets\":[45,46]},"
		"\"scalar\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[46,48]},"
		"\"empty\":{\"dtype\":\"F32\",\"shape\":[0,4],\"data_offsets\":[48,48]}}    ",
		bytes, 48);
	if (rc)
		goto out;
	/* An unpadded header of 55 bytes puts the data at offset 63: F32 views must be copies. */
	rc = put_file(dir, "unaligned.safetensors",
		      "{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", v, 8);
	if (rc)
		goto out;
	rc = put_file(dir, "empty.safetensors", "{}      ", NULL, 0);
out:
	st_writer_free(w);
	return rc;
}
