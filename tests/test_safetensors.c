/* test_safetensors.c: f16/bf16 conversions (every class, ties, NaN), reader validation (one
 * malformed file per rule, asserting on the error text), round trips of every writer (F32,
 * BF16, single file, sharded, streamed in pieces), and index errors of sharded folders.
 *
 * Two extra modes feed tests/t_safetensors_py.sh, which checks our files with an independent
 * Python reader (tests/st_reader.py) and makes us read a file that reader wrote:
 *   test_safetensors --write-for-python DIR     writes DIR/f32.safetensors, bf16..., sharded/
 *   test_safetensors --read-from-python FILE    checks the values of the Python-written file */
#include "harness.h"
#include "rng.h"
#include "safetensors.h"
#include "util.h"

#include <fcntl.h>
#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tdir[] = "/tmp/asft-st-XXXXXX";

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

/* write_raw: a file made of an 8-byte length, the header text and ndata zero... bytes. */
static char *write_raw(const char *name, const char *header, const void *data, size_t ndata)
{
	char *path = path_join(tdir, name);
	size_t h = strlen(header);
	unsigned char *buf = xcalloc(8 + h + ndata + 1, 1);
	uint64_t h64 = h;
	memcpy(buf, &h64, 8);
	memcpy(buf + 8, header, h);
	if (data)
		memcpy(buf + 8 + h, data, ndata);
	CHECK_INT(file_write_atomic(path, buf, 8 + h + ndata), 0);
	free(buf);
	return path;
}

/* bad_file: st_open must fail on the file with an error line naming it and containing want. */
#define BAD_FILE(header, ndata, want) do { \
	char *p_ = write_raw("bad.safetensors", header, NULL, ndata); \
	Safetensors st_; \
	CHECK_INT(st_open(&st_, p_), -1); \
	CHECK_CONTAINS(err_msg(), want); \
	CHECK(strncmp(err_msg(), p_, strlen(p_)) == 0); \
	CHECK(strchr(err_msg(), '\n') == NULL); \
	CHECK(st_.n == 0 && st_.tensors == NULL && st_.maps == NULL); \
	free(p_); \
} while (0)

static void test_f16(void)
{
	static const struct { uint16_t h; float f; } cases[] = {
		{0x0000, 0.0f}, {0x3C00, 1.0f}, {0xC000, -2.0f}, {0x3555, 0.333251953125f},
		{0x7BFF, 65504.0f}, {0xFBFF, -65504.0f},                         /* max */
		{0x0400, 0x1p-14f},                                             /* min normal */
		{0x0001, 0x1p-24f}, {0x03FF, 1023 * 0x1p-24f}, {0x8200, -0x1p-15f}, /* subnormal */
		{0x7C00, INFINITY}, {0xFC00, -INFINITY},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		CHECK_INT(fbits(st_f16_to_f32(cases[i].h)), fbits(cases[i].f));
		CHECK_INT(st_f32_to_f16(cases[i].f), cases[i].h);
	}
	float nz = st_f16_to_f32(0x8000);                   /* -0 keeps its sign */
	CHECK(nz == 0 && signbit(nz));
	CHECK_INT(st_f32_to_f16(-0.0f), 0x8000);
	CHECK(isnan(st_f16_to_f32(0x7E00)));                /* quiet NaN */
	CHECK(isnan(st_f16_to_f32(0x7C01)));                /* signalling NaN stays NaN */
	CHECK(signbit(st_f16_to_f32(0xFE00)) && isnan(st_f16_to_f32(0xFE00)));
	uint16_t qn = st_f32_to_f16(NAN);
	CHECK((qn & 0x7C00) == 0x7C00 && (qn & 0x3FF) != 0);
	CHECK_INT(st_f32_to_f16(bitsf(0x7F800001)) & 0x3FF ? 1 : 0, 1);    /* f32 sNaN -> NaN */

	/* every finite f16 against the definition (-1)^s * m * 2^(e-25) (e=0: m * 2^-24) */
	int bad = 0, badrt = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		int e = (h >> 10) & 31, m = h & 1023;
		if (e == 31)
			continue;
		double v = e ? ldexp(1024 + m, e - 25) : ldexp(m, -24);
		if (h & 0x8000)
			v = -v;
		float f = st_f16_to_f32((uint16_t)h);
		bad += f != (float)v || !!signbit(f) != !!(h & 0x8000);
		badrt += st_f32_to_f16(f) != h;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(badrt, 0);

	/* f32 -> f16 rounding: ties to even at the subnormal, normal and overflow edges */
	CHECK_INT(st_f32_to_f16(0x1p-25f), 0x0000);                 /* tie 0|1 -> 0 */
	CHECK_INT(st_f32_to_f16(0x1.000002p-25f), 0x0001);          /* just above the tie */
	CHECK_INT(st_f32_to_f16(1.5f * 0x1p-24f), 0x0002);          /* tie 1|2 -> 2 */
	CHECK_INT(st_f32_to_f16(2.5f * 0x1p-24f), 0x0002);          /* tie 2|3 -> 2 */
	CHECK_INT(st_f32_to_f16(1023.5f * 0x1p-24f), 0x0400);       /* rounds up to min normal */
	CHECK_INT(st_f32_to_f16(1.0f + 0x1p-11f), 0x3C00);          /* tie 1|1+2^-10 -> 1 */
	CHECK_INT(st_f32_to_f16(1.0f + 3 * 0x1p-11f), 0x3C02);      /* tie -> even mantissa 2 */
	CHECK_INT(st_f32_to_f16(65519.996f), 0x7BFF);
	CHECK_INT(st_f32_to_f16(65520.0f), 0x7C00);                 /* tie at max -> inf */
	CHECK_INT(st_f32_to_f16(1e10f), 0x7C00);
	CHECK_INT(st_f32_to_f16(-1e-10f), 0x8000);
}

static void test_bf16(void)
{
	CHECK_INT(st_f32_to_bf16(1.0f), 0x3F80);
	CHECK_INT(st_f32_to_bf16(bitsf(0x3F808000)), 0x3F80);      /* tie, even below */
	CHECK_INT(st_f32_to_bf16(bitsf(0x3F818000)), 0x3F82);      /* tie, even above */
	CHECK_INT(st_f32_to_bf16(bitsf(0x3F808001)), 0x3F81);
	CHECK_INT(st_f32_to_bf16(bitsf(0x3F807FFF)), 0x3F80);
	CHECK_INT(st_f32_to_bf16(bitsf(0xBF818000)), 0xBF82);      /* negative tie */
	CHECK_INT(st_f32_to_bf16(bitsf(0x00008000)), 0x0000);      /* subnormal tie */
	CHECK_INT(st_f32_to_bf16(bitsf(0x00018000)), 0x0002);
	CHECK_INT(st_f32_to_bf16(FLT_MAX), 0x7F80);                 /* rounds past max to inf */
	CHECK_INT(st_f32_to_bf16(INFINITY), 0x7F80);
	CHECK_INT(st_f32_to_bf16(-INFINITY), 0xFF80);
	CHECK_INT(st_f32_to_bf16(-0.0f), 0x8000);
	CHECK_INT(st_f32_to_bf16(NAN) & 0x7FC0, 0x7FC0);
	uint16_t sn = st_f32_to_bf16(bitsf(0x7F800001));           /* payload only in low bits */
	CHECK((sn & 0x7F80) == 0x7F80 && (sn & 0x7F) != 0);        /* still NaN, not inf */
	CHECK_INT(st_f32_to_bf16(bitsf(0xFFC00000)), 0xFFC0);      /* -NaN keeps its sign */
	int bad = 0;
	for (uint32_t h = 0; h < 65536; h++) {
		float f = st_bf16_to_f32((uint16_t)h);
		bad += fbits(f) != h << 16;
		if (!isnan(f))
			bad += st_f32_to_bf16(f) != h;
	}
	CHECK_INT(bad, 0);
	/* against the definition: the nearer of the two neighbours, ties to even */
	int bad2 = 0;
	Rng rng;
	rng_init(&rng, 1, 0);
	for (int i = 0; i < 100000; i++) {
		uint32_t x = (uint32_t)rng_u64(&rng) & 0x7F7FFFFFu;     /* finite, positive */
		uint32_t lo = x >> 16, rem = x & 0xFFFF;
		uint32_t want = rem > 0x8000 || (rem == 0x8000 && (lo & 1)) ? lo + 1 : lo;
		bad2 += st_f32_to_bf16(bitsf(x)) != want;
	}
	CHECK_INT(bad2, 0);
}

static void test_roundtrip_f32(void)
{
	float a[6] = {1, -2, 3.5f, 0x1p-140f, INFINITY, -0.0f}, b[24], scalar = 42.25f;
	for (int i = 0; i < 24; i++)
		b[i] = (float)i * 0.1f - 1;
	int64_t sa[2] = {2, 3}, sb[3] = {2, 3, 4}, sz[2] = {0, 5};
	StWriter *w = st_writer_new();
	CHECK_INT(st_writer_add(w, "model.z", ST_F32, b, 3, sb), 0);    /* added out of order */
	CHECK_INT(st_writer_add(w, "model.a", ST_F32, a, 2, sa), 0);
	CHECK_INT(st_writer_add(w, "scalar", ST_F32, &scalar, 0, NULL), 0);
	CHECK_INT(st_writer_add(w, "empty", ST_F32, NULL, 2, sz), 0);
	CHECK_INT(st_writer_add(w, "odd \"name\\\x01\xc3\xa9", ST_F32, a, 1, sa), 0);
	CHECK_INT(st_writer_meta(w, "note", "quote \" and \\ and\ttab"), 0);
	CHECK_INT(st_writer_meta(w, "note", "again"), -1);
	CHECK_CONTAINS(err_msg(), "\"note\" set twice");
	CHECK_INT(st_writer_add(w, "model.a", ST_F32, a, 2, sa), -1);
	CHECK_CONTAINS(err_msg(), "tensor model.a: added twice");
	CHECK_INT(st_writer_add(w, "h", ST_F16, a, 2, sa), -1);
	CHECK_CONTAINS(err_msg(), "output dtype F16 not supported");
	int64_t neg[1] = {-3};
	CHECK_INT(st_writer_add(w, "n", ST_F32, a, 1, neg), -1);
	CHECK_CONTAINS(err_msg(), "tensor n: dimension 0 (-3) is negative or too large");
	CHECK_INT(st_writer_add(w, "__metadata__", ST_F32, a, 2, sa), -1);
	CHECK_CONTAINS(err_msg(), "invalid name");
	CHECK_INT(st_writer_add(w, "bad\xff", ST_F32, a, 1, sa), -1);
	CHECK_CONTAINS(err_msg(), "name is not valid UTF-8");
	CHECK_INT(st_writer_add(w, "nodata", ST_F32, NULL, 2, sa), -1);
	CHECK_CONTAINS(err_msg(), "tensor nodata: no data");
	char *path = path_join(tdir, "rt.safetensors");
	CHECK_INT(st_writer_save(w, path), 0);
	char *tmp = tmp_path(path);
	CHECK(!path_exists(tmp));
	free(tmp);
	char *nodir = path_join(tdir, "no/such/dir.safetensors");
	CHECK_INT(st_writer_save(w, nodir), -1);
	CHECK_CONTAINS(err_msg(), "cannot create");
	CHECK(!path_exists(nodir));
	free(nodir);
	st_writer_free(w);

	/* header layout: length multiple of 8, padded with spaces */
	size_t len;
	char *raw = file_read_all(path, &len);
	uint64_t hlen;
	memcpy(&hlen, raw, 8);
	CHECK_INT(hlen % 8, 0);
	size_t last = 8 + hlen - 1;
	while (last > 8 && raw[last] == ' ')
		last--;
	CHECK(raw[8] == '{' && raw[last] == '}' && 8 + hlen - 1 - last < 8);
	CHECK_INT(len, 8 + hlen + (6 + 24 + 1 + 2) * 4);
	free(raw);

	Safetensors st;
	CHECK_INT(st_open(&st, path), 0);
	CHECK_INT(st.n, 5);
	CHECK_STR(st.tensors[0].name, "empty");           /* sorted by name */
	CHECK_STR(st.tensors[1].name, "model.a");
	CHECK_STR(st.tensors[2].name, "model.z");
	CHECK_STR(st.tensors[3].name, "odd \"name\\\x01\xc3\xa9");
	CHECK_STR(st.tensors[4].name, "scalar");
	const StTensor *odd = st_find(&st, "odd \"name\\\x01\xc3\xa9");
	CHECK(odd && odd->numel == 2 && ((const float *)odd->data)[1] == -2);
	CHECK_STR(st_meta_get(&st, "format"), "pt");
	CHECK_STR(st_meta_get(&st, "note"), "quote \" and \\ and\ttab");
	CHECK(st_meta_get(&st, "absent") == NULL);
	const StTensor *t = st_find(&st, "model.a");
	CHECK(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6);
	int owned = -1;
	const float *v = st_f32(t, &owned);
	CHECK_INT(owned, 0);                                /* zero-copy: the mapping itself */
	CHECK(v == t->data);
	int same = 1;
	for (int i = 0; i < 6; i++)
		same &= fbits(v[i]) == fbits(a[i]);
	CHECK(same);
	t = st_find(&st, "model.z");
	CHECK(t && t->ndim == 3 && t->numel == 24);
	CHECK_ALLCLOSE((const float *)t->data, b, 24, 0, 0);
	t = st_find(&st, "scalar");
	CHECK(t && t->ndim == 0 && t->numel == 1 && *(const float *)t->data == 42.25f);
	t = st_find(&st, "empty");
	CHECK(t && t->numel == 0 && t->nbytes == 0);
	CHECK(st_find(&st, "nope") == NULL);
	st_close(&st);
	st_close(&st);                                      /* closing twice is safe */
	free(path);
}

static void test_roundtrip_bf16(void)
{
	enum { N = 1000 };
	float x[N], back[N];
	Rng rng;
	rng_init(&rng, 2, 0);
	for (int i = 0; i < N; i++)
		x[i] = bitsf((uint32_t)rng_u64(&rng) & 0xBF7FFFFFu);    /* finite, both signs */
	x[0] = bitsf(0x3F808000), x[1] = bitsf(0x3F818000), x[2] = NAN, x[3] = -INFINITY;
	int64_t sh[2] = {10, 100};
	StWriter *w = st_writer_new();
	CHECK_INT(st_writer_add(w, "w", ST_BF16, x, 2, sh), 0);
	char *path = path_join(tdir, "bf16.safetensors");
	CHECK_INT(st_writer_save(w, path), 0);
	st_writer_free(w);
	Safetensors st;
	CHECK_INT(st_open(&st, path), 0);
	const StTensor *t = st_find(&st, "w");
	CHECK(t && t->dtype == ST_BF16 && t->nbytes == 2 * N);
	CHECK_INT(st_read_f32(t, back), 0);
	int bad = 0;
	for (int i = 4; i < N; i++)
		bad += fbits(back[i]) != fbits(st_bf16_to_f32(st_f32_to_bf16(x[i])));
	CHECK_INT(bad, 0);
	CHECK_INT(fbits(back[0]), 0x3F800000);
	CHECK_INT(fbits(back[1]), 0x3F820000);
	CHECK(isnan(back[2]));
	CHECK(back[3] == -INFINITY);
	int owned = 0;
	float *v = st_f32(t, &owned);
	CHECK_INT(owned, 1);
	CHECK(v && memcmp(v, back, sizeof back) == 0);
	free(v);
	st_close(&st);
	free(path);
}

/* A file written by hand: F16 of every class, BF16, F64, I32, misaligned F32. */
static void test_read_dtypes(void)
{
	uint16_t h[8] = {0x0000, 0x8000, 0x3C00, 0x0001, 0x7BFF, 0x7C00, 0xFC00, 0x7E00};
	uint16_t bf[2] = {0x3F80, 0xC0A0};
	double d[3] = {1.0 / 3, -2.5, 1e300};
	int32_t iv[2] = {7, -7};
	unsigned char data[16 + 4 + 24 + 8];
	memcpy(data, h, 16), memcpy(data + 16, bf, 4), memcpy(data + 20, d, 24);
	memcpy(data + 44, iv, 8);
	char *p = write_raw("dt.safetensors",
			    "{\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[44,52]},"
			    "\"h\":{\"dtype\":\"F16\",\"shape\":[8],\"data_offsets\":[0,16]},"
			    "\"d\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[20,44]},"
			    "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[16,20]}}",
			    data, sizeof data);
	Safetensors st;
	CHECK_INT(st_open(&st, p), 0);
	CHECK_INT(st.n, 4);
	CHECK_INT(st.n_meta, 0);
	float out[8];
	const StTensor *t = st_find(&st, "h");
	CHECK_INT(st_read_f32(t, out), 0);
	CHECK(out[0] == 0 && !signbit(out[0]) && out[1] == 0 && signbit(out[1]));
	CHECK(out[2] == 1 && out[3] == 0x1p-24f && out[4] == 65504 && out[5] == INFINITY);
	CHECK(out[6] == -INFINITY && isnan(out[7]));
	CHECK_INT(st_read_f32(st_find(&st, "b"), out), 0);
	CHECK(out[0] == 1 && out[1] == -5);
	CHECK_INT(st_read_f32(st_find(&st, "d"), out), 0);
	CHECK(out[0] == (float)(1.0 / 3) && out[1] == -2.5f && out[2] == INFINITY);
	t = st_find(&st, "i");
	int32_t i1 = 0;
	if (t)
		memcpy(&i1, (const char *)t->data + 4, 4);  /* the mapping need not be aligned */
	CHECK(t && t->dtype == ST_I32 && i1 == -7);
	int owned = 7;
	CHECK(st_f32(t, &owned) == NULL);
	CHECK_CONTAINS(err_msg(), "tensor i: dtype I32 cannot be read as f32");
	st_close(&st);
	free(p);

	/* header of 10 bytes: F32 data lands at file offset 18, not 4-byte aligned */
	float f[3] = {1.5f, -0.25f, 1e-30f};
	char hdr[64];
	snprintf(hdr, sizeof hdr, "{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}");
	size_t hl = strlen(hdr);                    /* pad so that 8 + hl == 2 (mod 4) */
	while ((8 + hl) % 4 != 2)
		hdr[hl++] = ' ';
	hdr[hl] = 0;
	p = write_raw("unaligned.safetensors", hdr, f, sizeof f);
	CHECK_INT(st_open(&st, p), 0);
	t = st_find(&st, "x");
	CHECK(t && ((uintptr_t)t->data & 3) != 0);
	float *v = st_f32(t, &owned);
	CHECK_INT(owned, 1);
	CHECK(v && v[0] == 1.5f && v[1] == -0.25f && v[2] == 1e-30f);
	free(v);
	st_close(&st);
	free(p);
	CHECK_STR(st_dtype_name(ST_F8_E5M2), "F8_E5M2");
	CHECK_INT(st_dtype_parse("BF16"), ST_BF16);
	CHECK_INT(st_dtype_parse("bf16"), -1);
	CHECK_INT(st_dtype_size(ST_U64), 8);
}

static void test_malformed(void)
{
	Safetensors st;
	char *p = path_join(tdir, "empty.safetensors");
	CHECK_INT(file_write_atomic(p, "", 0), 0);
	CHECK_INT(st_open(&st, p), -1);
	CHECK_CONTAINS(err_msg(), "empty.safetensors: empty file");
	CHECK_INT(file_write_atomic(p, "\x05\0\0\0\0", 5), 0);
	CHECK_INT(st_open(&st, p), -1);
	CHECK_CONTAINS(err_msg(), "empty.safetensors: file is 5 bytes, shorter than the 8-byte");
	CHECK_INT(file_write_atomic(p, "\x64\0\0\0\0\0\0\0{}        ", 18), 0);
	CHECK_INT(st_open(&st, p), -1);
	CHECK_CONTAINS(err_msg(), "header length 100 runs past the end of the file (18 bytes)");
	CHECK_INT(file_write_atomic(p, "\0\0\0\0\0\0\0\x80", 8), 0);       /* 2^63 */
	CHECK_INT(st_open(&st, p), -1);
	CHECK_CONTAINS(err_msg(), "runs past the end of the file (8 bytes)");
	/* a sparse file larger than the 100 MB header limit */
	int fd = open(p, O_WRONLY | O_TRUNC);
	uint64_t big = 100000001;
	CHECK(fd >= 0 && write(fd, &big, 8) == 8 && ftruncate(fd, 8 + 100000001) == 0);
	close(fd);
	CHECK_INT(st_open(&st, p), -1);
	CHECK_CONTAINS(err_msg(), "header length 100000001 exceeds the 100000000-byte limit");
	unlink(p);
	CHECK_INT(st_open(&st, p), -1);
	CHECK_CONTAINS(err_msg(), "empty.safetensors: cannot open");
	CHECK_INT(st_open(&st, tdir), -1);
	CHECK_CONTAINS(err_msg(), "not a regular file");
	free(p);

	BAD_FILE("", 0, "header is not valid JSON");
	BAD_FILE("{not json", 0, "header is not valid JSON");
	BAD_FILE("[1, 2]  ", 0, "header is not a JSON object");
	BAD_FILE("\"str\"", 0, "header is not a JSON object");
	BAD_FILE("{} x", 0, "header has bytes after its JSON value (at byte 3)");
	BAD_FILE("{\"\xff\": 1}", 0, "header is not valid UTF-8 (byte 2)");
	BAD_FILE("{\"a\":5}", 0, "tensor a: entry is not a JSON object");
	BAD_FILE("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor a: missing \"dtype\"");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor a: missing \"shape\"");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor a: missing \"data_offsets\"");
	BAD_FILE("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
		 "tensor a: \"dtype\" is not a string");
	BAD_FILE("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
		 "tensor a: unknown dtype \"F128\"");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":3,\"data_offsets\":[0,12]}}", 12,
		 "tensor a: \"shape\" is not an array");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 20,
		 "tensor a: shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20");
	BAD_FILE("{\"a\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
		 "tensor a: shape [3] of BF16 needs 6 bytes but data_offsets [0, 8] hold 8");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4,
		 "tensor a: data_offsets [0, 8] run past the end of the data region (4 bytes)");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8,
		 "tensor a: data_offsets [8, 4] are reversed");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
		 "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12,
		 "tensor b: data_offsets [4, 12] overlap tensor a (which ends at 8)");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
		 "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
		 "tensor b: gap of 4 bytes before it in the data region");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
		 "tensor a: gap of 4 bytes at the start of the data region");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8,
		 "4 bytes in the data region after the last tensor (tensors cover 4 of 8 bytes)");
	BAD_FILE("{}", 4, "4 bytes in the data region after the last tensor");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
		 "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
		 "tensor a: name appears twice in the header");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,4]}}", 4,
		 "tensor a: shape dimension 1 is negative");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
		 "\"data_offsets\":[0,4]}}", 4,
		 "tensor a: shape [4294967296, 4294967296, 16] overflows 64-bit byte counts");
	BAD_FILE("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387],"
		 "\"data_offsets\":[0,4]}}", 4, "needs 36893488147419096 bytes");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e20],\"data_offsets\":[0,4]}}", 4,
		 "tensor a: shape dimension 0 is too large");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
		 "tensor a: shape dimension 0 is not an integer");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
		 4, "tensor a: shape has 9 dimensions, more than 8");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]}}", 4,
		 "tensor a: data_offsets begin is not an integer");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", 4,
		 "tensor a: data_offsets end is not a number");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4,
		 "tensor a: data_offsets begin is negative");
	BAD_FILE("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8,
		 "tensor a: \"data_offsets\" is not an array of two integers");
	BAD_FILE("{\"__metadata__\":{\"k\":1}}", 0, "__metadata__ key \"k\": value is not a string");
	/* names and strings from the file are escaped: the message stays one line (BAD_FILE
	 * checks), and a long one is cut */
	BAD_FILE("{\"x\\ny\":5}", 0, "tensor x\\ny: entry is not a JSON object");
	BAD_FILE("{\"x\ny\\r\":5}", 0, "tensor x\\ny\\r: entry is not a JSON object");
	BAD_FILE("{\"a\":{\"dtype\":\"F\\n32\\u001b\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
		 "tensor a: unknown dtype \"F\\n32\\x1b\"");
	BAD_FILE("{\"a\":{\"dtype\":\"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\","
		 "\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
		 "unknown dtype \"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX...\"");
	BAD_FILE("{\"__metadata__\":{\"k\\u0001\\n\":1}}", 0,
		 "__metadata__ key \"k\\x01\\n\": value is not a string");
	BAD_FILE("{\"a\\n\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
		 "\"b\\n\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12,
		 "tensor b\\n: gap of 4 bytes before it in the data region (tensor a\\n ends at 4");
	BAD_FILE("{\"__metadata__\":[\"k\"]}", 0, "__metadata__ is not a JSON object");
	BAD_FILE("{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__ appears twice");
	BAD_FILE("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0,
		 "__metadata__ key \"k\" appears twice");
	/* valid edge cases: empty header object, zero-size tensors sharing an offset */
	p = write_raw("ok.safetensors", "{}      ", NULL, 0);
	CHECK_INT(st_open(&st, p), 0);
	CHECK_INT(st.n, 0);
	CHECK(st_find(&st, "x") == NULL);
	st_close(&st);
	free(p);
	p = write_raw("ok.safetensors",
		      "{\"e\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
		      "\"f\":{\"dtype\":\"I8\",\"shape\":[3,0],\"data_offsets\":[0,0]},"
		      "\"g\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", "ab", 2);
	CHECK_INT(st_open(&st, p), 0);
	CHECK_INT(st.n, 3);
	st_close(&st);
	free(p);
}

/* Mutation fuzzing: random edits of a valid file's header (JSON punctuation, digits, minus
 * signs, random bytes), of its length field, and truncations. st_open must either succeed with
 * every tensor inside the file (all of them are read) or fail with one line naming the file. */
static void test_fuzz(void)
{
	float a[6] = {1, 2, 3, 4, 5, 6};
	int64_t s23[2] = {2, 3}, s4[1] = {4};
	StWriter *w = st_writer_new();
	CHECK_INT(st_writer_add(w, "alpha", ST_F32, a, 2, s23), 0);
	CHECK_INT(st_writer_add(w, "beta", ST_BF16, a, 1, s4), 0);
	CHECK_INT(st_writer_add(w, "gamma", ST_F32, a + 2, 1, s4), 0);
	CHECK_INT(st_writer_meta(w, "k", "v"), 0);
	char *path = path_join(tdir, "fuzz.safetensors");
	CHECK_INT(st_writer_save(w, path), 0);
	st_writer_free(w);
	size_t len;
	unsigned char *orig = (unsigned char *)file_read_all(path, &len), *buf = xmalloc(len);
	uint64_t hlen;
	memcpy(&hlen, orig, 8);
	static const char pick[] = "0123456789-[]{}\",: .eE\\";
	Rng rng;
	rng_init(&rng, 3, 0);
	int ok = 0, failed = 0, badmsg = 0;
	float out[8];
	for (int it = 0; it < 3000; it++) {
		memcpy(buf, orig, len);
		size_t n = len;
		int edits = 1 + (int)rng_below(&rng, 3);
		for (int e = 0; e < edits; e++) {
			uint32_t kind = rng_below(&rng, 10);
			size_t at = 8 + rng_below(&rng, (uint32_t)hlen);
			if (kind < 6)
				buf[at] = (unsigned char)pick[rng_below(&rng, sizeof pick - 1)];
			else if (kind < 8)
				buf[at] = (unsigned char)rng_u64(&rng);
			else if (kind == 8)
				buf[rng_below(&rng, 8)] = (unsigned char)rng_u64(&rng);
			else
				n = rng_below(&rng, (uint32_t)len + 1);
		}
		if (file_write_atomic(path, buf, n) != 0) {
			CHECK(0);
			break;
		}
		Safetensors st;
		if (st_open(&st, path) == 0) {
			ok++;
			for (int i = 0; i < st.n; i++) {
				const StTensor *t = &st.tensors[i];
				volatile unsigned sum = 0;
				for (size_t b = 0; b < t->nbytes; b++)
					sum += ((const unsigned char *)t->data)[b];
				if ((t->dtype == ST_F32 || t->dtype == ST_BF16) && t->numel <= 8)
					st_read_f32(t, out);
			}
			st_close(&st);
		} else {
			failed++;
			badmsg += strncmp(err_msg(), path, strlen(path)) != 0 ||
				  strchr(err_msg(), '\n') != NULL;
		}
	}
	printf("fuzz: 3000 mutated files, %d opened, %d rejected\n", ok, failed);
	CHECK(ok > 0 && failed > 2000);
	CHECK_INT(badmsg, 0);
	free(orig), free(buf), free(path);
}

/* Pieces of a sharded folder written by hand, so each index rule gets its own bad index. */
static void test_index_errors(void)
{
	char *dir = path_join(tdir, "idx");
	CHECK_INT(mkdir_p(dir), 0);
	float v[4] = {1, 2, 3, 4};
	int64_t s2[1] = {2};
	StWriter *w = st_writer_new();
	CHECK_INT(st_writer_add(w, "a", ST_F32, v, 1, s2), 0);
	CHECK_INT(st_writer_add(w, "b", ST_F32, v + 2, 1, s2), 0);
	char *s1 = path_join(dir, "s1.safetensors");
	CHECK_INT(st_writer_save(w, s1), 0);
	st_writer_free(w);
	w = st_writer_new();
	CHECK_INT(st_writer_add(w, "c", ST_BF16, v, 1, s2), 0);
	char *s2p = path_join(dir, "s2.safetensors");
	CHECK_INT(st_writer_save(w, s2p), 0);
	st_writer_free(w);
	char *ip = path_join(dir, "model.safetensors.index.json");
	Safetensors st;
	static const struct { const char *json, *want; } cases[] = {
		{"{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\","
		 "\"c\":\"s2.safetensors\"}}", NULL},
		{"{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\","
		 "\"c\":\"s3.safetensors\"}}", "shard s3.safetensors: "},
		{"{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\","
		 "\"c\":\"s2.safetensors\",\"d\":\"s2.safetensors\"}}",
		 "tensor d: not found in its shard s2.safetensors"},
		{"{\"weight_map\":{\"a\":\"s1.safetensors\",\"c\":\"s2.safetensors\"}}",
		 "tensor b: in shard s1.safetensors but not in weight_map"},
		{"{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s2.safetensors\","
		 "\"c\":\"s2.safetensors\"}}",
		 "tensor b: weight_map names shard s2.safetensors but it is in s1.safetensors"},
		{"{\"weight_map\":{\"a\":\"s1.safetensors\",\"a\":\"s1.safetensors\","
		 "\"b\":\"s1.safetensors\",\"c\":\"s2.safetensors\"}}", "tensor a: appears twice"},
		{"{\"weight_map\":{\"a\":\"../s1.safetensors\"}}",
		 "tensor a: shard \"../s1.safetensors\" is not a plain file name"},
		{"{\"weight_map\":{\"a\":1}}", "tensor a: shard file name is not a string"},
		{"{\"metadata\":{}}", "\"weight_map\" is missing or not an object"},
		{"[]", "model.safetensors.index.json: not a JSON object"},
		{"{\"weight_map\":", "model.safetensors.index.json: not valid JSON"},
		/* a folder of no tensors is refused (it used to pass, after qsort(NULL, 0, ...)) */
		{"{\"weight_map\":{}}", "model.safetensors.index.json: weight_map lists no tensors"},
		{"{\"metadata\":{\"total_size\":0},\"weight_map\":{}}", "weight_map lists no tensors"},
		/* names from the index are escaped; a shard name with a control byte is refused */
		{"{\"weight_map\":{\"a\":\"s1\\n.safetensors\"}}",
		 "tensor a: shard \"s1\\n.safetensors\" is not a plain file name"},
		{"{\"weight_map\":{\"a\":\"s1\\u007f\"}}", "shard \"s1\\x7f\" is not a plain file name"},
		{"{\"weight_map\":{\"a\\r\\n\":1}}", "tensor a\\r\\n: shard file name is not a string"},
		{"{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\","
		 "\"c\":\"s2.safetensors\",\"d\\ne\":\"s2.safetensors\"}}",
		 "tensor d\\ne: not found in its shard s2.safetensors"},
		{"{\"weight_map\":{\"a\":\"s1.safetensors\",\"b\":\"s1.safetensors\","
		 "\"c\":\"s\\u00e9.safetensors\"}}", "shard s\xc3\xa9.safetensors: "},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		CHECK_INT(file_write_atomic(ip, cases[i].json, strlen(cases[i].json)), 0);
		int r = st_open_dir(&st, dir);
		if (!cases[i].want) {
			CHECK_INT(r, 0);
			CHECK_INT(st.n, 3);
			CHECK_INT(st.n_maps, 2);
			const StTensor *t = st_find(&st, "c");
			CHECK(t && t->file == 1 && t->dtype == ST_BF16);
			CHECK(st_find(&st, "a") && st_find(&st, "a")->file == 0);
			CHECK_STR(st_meta_get(&st, "format"), "pt");
		} else {
			CHECK_INT(r, -1);
			CHECK_CONTAINS(err_msg(), cases[i].want);
			CHECK_CONTAINS(err_msg(), ip);
			CHECK(strchr(err_msg(), '\n') == NULL);
			CHECK(st.n == 0 && st.maps == NULL);
		}
		st_close(&st);
	}
	unlink(ip);
	CHECK_INT(st_open_dir(&st, dir), -1);
	CHECK_CONTAINS(err_msg(), "no model.safetensors or model.safetensors.index.json");
	free(ip), free(s1), free(s2p), free(dir);
}

/* Tensors of a small Llama-like checkpoint, filled from a formula of (tensor, index). */
static float val(int k, size_t i)   /* 7 significant bits at most: exact in BF16 */
{
	return (float)((int)((i * 37 + (size_t)k * 101) % 255) - 127) / 16;
}

static void test_sharded(void)
{
	char *dir = path_join(tdir, "sharded");
	static const char *names[] = {"model.embed_tokens.weight", "model.layers.0.mlp.up_proj.weight",
				      "model.layers.0.self_attn.q_proj.weight", "model.norm.weight",
				      "lm_head.weight"};
	static const int64_t shp[5][2] = {{50, 16}, {40, 16}, {16, 16}, {16, 1}, {50, 16}};
	float *bufs[5];
	StWriter *w = st_writer_new();
	for (int k = 0; k < 5; k++) {
		size_t n = (size_t)(shp[k][0] * shp[k][1]);
		bufs[k] = xmalloc(n * sizeof(float));
		for (size_t i = 0; i < n; i++)
			bufs[k][i] = val(k, i);
		CHECK_INT(st_writer_add(w, names[k], k == 3 ? ST_F32 : ST_BF16, bufs[k],
					k == 3 ? 1 : 2, shp[k]), 0);
	}
	CHECK_INT(st_writer_meta(w, "creator", "test"), 0);
	/* 1600 + 1280 + 512 + 64 + 1600 bytes; 2000 per shard -> [emb], [up, q, norm], [lm] */
	CHECK_INT(st_writer_save_dir(w, dir, 2000), 0);
	char *ip = path_join(dir, "model.safetensors.index.json");
	char *s3 = path_join(dir, "model-00003-of-00003.safetensors");
	CHECK(path_exists(ip) && path_exists(s3));
	Safetensors st;
	CHECK_INT(st_open_dir(&st, dir), 0);
	CHECK_INT(st.n, 5);
	CHECK_INT(st.n_maps, 3);
	CHECK_STR(st_meta_get(&st, "creator"), "test");
	for (int k = 0; k < 5; k++) {
		const StTensor *t = st_find(&st, names[k]);
		CHECK(t != NULL);
		if (!t)
			continue;
		CHECK_INT(t->file, k == 0 ? 0 : k == 4 ? 2 : 1);
		int owned;
		float *v = st_f32(t, &owned);
		CHECK_ALLCLOSE(v, bufs[k], t->numel, 0, 0);   /* val() is exact in bf16 */
		if (owned)
			free(v);
	}
	st_close(&st);
	char *text = file_read_all(ip, NULL);
	CHECK_CONTAINS(text, "\"total_size\": 5056");
	CHECK_CONTAINS(text, "\"lm_head.weight\": \"model-00003-of-00003.safetensors\"");
	free(text);

	/* everything in one shard: a plain model.safetensors, and the old index removed */
	CHECK_INT(st_writer_save_dir(w, dir, 0), 0);
	CHECK(!path_exists(ip));
	CHECK_INT(st_open_dir(&st, dir), 0);
	CHECK_INT(st.n_maps, 1);
	CHECK_INT(st.n, 5);
	st_close(&st);
	st_writer_free(w);

	/* streaming: pieces out of order, rows at a time */
	char *dir2 = path_join(tdir, "stream");
	StShardWriter *sw = st_shard_writer_new(dir2, 3000);
	for (int k = 0; k < 5; k++)
		CHECK_INT(st_shard_writer_plan(sw, names[k], ST_BF16, 2, shp[k]), 0);
	CHECK_INT(st_shard_writer_plan(sw, names[0], ST_F32, 2, shp[0]), -1);
	CHECK_CONTAINS(err_msg(), "added twice");
	CHECK_INT(st_shard_writer_write(sw, names[0], bufs[0]), -1);
	CHECK_CONTAINS(err_msg(), "written outside begin..finish");
	CHECK_INT(st_shard_writer_begin(sw), 0);
	CHECK_INT(st_shard_writer_nshards(sw), 2);
	CHECK_INT(st_shard_writer_plan(sw, "late", ST_F32, 2, shp[0]), -1);
	CHECK_CONTAINS(err_msg(), "tensor late planned after begin");
	CHECK_INT(st_shard_writer_write(sw, "nope", bufs[0]), -1);
	CHECK_CONTAINS(err_msg(), "tensor nope was not planned");
	for (int k = 4; k >= 0; k--) {
		int64_t rows = shp[k][0], cols = shp[k][1];
		for (int64_t r = rows - 1; r >= 0; r--)
			CHECK_INT(st_shard_writer_write_part(sw, names[k], (size_t)(r * cols),
							     bufs[k] + r * cols, (size_t)cols), 0);
	}
	CHECK_INT(st_shard_writer_write_part(sw, names[3], 0, bufs[3], 1), -1);
	CHECK_CONTAINS(err_msg(), "outside its 16 (or written twice)");
	char *final1 = path_join(dir2, "model-00001-of-00002.safetensors");
	CHECK(!path_exists(final1));                    /* nothing under a final name yet */
	CHECK_INT(st_shard_writer_finish(sw), 0);
	st_shard_writer_free(sw);
	CHECK_INT(st_open_dir(&st, dir2), 0);
	CHECK_INT(st.n_maps, 2);
	for (int k = 0; k < 5; k++) {
		const StTensor *t = st_find(&st, names[k]);
		float *v = xmalloc(t->numel * sizeof(float));
		CHECK_INT(st_read_f32(t, v), 0);
		CHECK_ALLCLOSE(v, bufs[k], t->numel, 0, 0);
		free(v);
	}
	st_close(&st);

	/* a tensor bigger than a shard gets its own, and the next tensor starts a new one */
	char *dir4 = path_join(tdir, "oversize");
	int64_t s64[1] = {64}, s2[1] = {2};
	sw = st_shard_writer_new(dir4, 100);
	CHECK_INT(st_shard_writer_plan(sw, "big", ST_F32, 1, s64), 0);
	CHECK_INT(st_shard_writer_plan(sw, "small", ST_F32, 1, s2), 0);
	CHECK_INT(st_shard_writer_plan(sw, "small2", ST_F32, 1, s2), 0);
	CHECK_INT(st_shard_writer_begin(sw), 0);
	CHECK_INT(st_shard_writer_nshards(sw), 2);
	st_shard_writer_free(sw);                       /* abandoned: temporaries removed */
	char *cmd4 = xasprintf("test -z \"$(ls -A %s)\"", dir4);
	CHECK_INT(system(cmd4), 0);
	free(cmd4), free(dir4);

	/* a tensor left unwritten: finish fails and free leaves no files behind */
	char *dir3 = path_join(tdir, "partial");
	sw = st_shard_writer_new(dir3, 0);
	CHECK_INT(st_shard_writer_plan(sw, "a", ST_F32, 2, shp[2]), 0);
	CHECK_INT(st_shard_writer_plan(sw, "b", ST_F32, 2, shp[2]), 0);
	CHECK_INT(st_shard_writer_begin(sw), 0);
	CHECK_INT(st_shard_writer_write_part(sw, "a", 0, bufs[2], 256), 0);
	CHECK_INT(st_shard_writer_write_part(sw, "b", 0, bufs[2], 100), 0);
	CHECK_INT(st_shard_writer_finish(sw), -1);
	CHECK_CONTAINS(err_msg(), "tensor b: 100 of 256 elements written");
	st_shard_writer_free(sw);
	char *cmd = xasprintf("test -z \"$(ls -A %s)\"", dir3);
	CHECK_INT(system(cmd), 0);
	free(cmd);
	free(dir3), free(final1), free(dir2), free(s3), free(ip), free(dir);
	for (int k = 0; k < 5; k++)
		free(bufs[k]);
}

/* Values the Python side recomputes on its own: bit patterns from a 32-bit LCG. */
static uint32_t lcg_bits(uint32_t i) { return i * 2654435761u + 12345u; }

static int write_for_python(const char *dir)
{
	if (mkdir_p(dir) != 0)
		die_err();
	float a[15], big[4096], sc = -1.25f;
	for (uint32_t i = 0; i < 15; i++)
		a[i] = bitsf(lcg_bits(i));
	for (uint32_t i = 0; i < 4096; i++)
		big[i] = bitsf(lcg_bits(i + 1000));
	/* ties and specials the Python side knows by position */
	big[0] = bitsf(0x3F808000), big[1] = bitsf(0x3F818000), big[2] = bitsf(0x7F800001);
	big[3] = FLT_MAX, big[4] = -0.0f;
	int64_t s35[2] = {3, 5}, s4096[2] = {64, 64}, s04[2] = {0, 4};
	StWriter *w = st_writer_new();
	if (st_writer_add(w, "a.weight", ST_F32, a, 2, s35) || st_writer_add(w, "b", ST_F32, &sc, 0, NULL) ||
	    st_writer_add(w, "c.empty", ST_F32, NULL, 2, s04) ||
	    st_writer_meta(w, "note", "quote \" backslash \\ tab\t") ||
	    st_writer_meta(w, "format", "pt"))
		die_err();
	char *p = path_join(dir, "f32.safetensors");
	if (st_writer_save(w, p))
		die_err();
	free(p);
	st_writer_free(w);
	w = st_writer_new();
	if (st_writer_add(w, "w", ST_BF16, big, 2, s4096) || st_writer_add(w, "v", ST_F32, a, 2, s35))
		die_err();
	p = path_join(dir, "bf16.safetensors");
	if (st_writer_save(w, p))
		die_err();
	free(p);
	p = path_join(dir, "sharded");
	if (st_writer_save_dir(w, p, 4096))       /* w (8192 bytes) alone, then v */
		die_err();
	free(p);
	st_writer_free(w);
	printf("wrote %s\n", dir);
	return 0;
}

/* The file tests/st_reader.py write-py makes: tensors in non-sorted header order. */
static int read_from_python(const char *path)
{
	Safetensors st;
	if (st_open(&st, path) != 0) {
		fprintf(stderr, "%s\n", err_msg());
		CHECK(0);
		return test_summary();
	}
	static const float f16v[] = {0.0f, -0.0f, 1.0f, -2.0f, 65504.0f, 0x1p-24f, 0x1p-14f,
				     1023 * 0x1p-24f, INFINITY, -INFINITY, 0.333251953125f};
	static const float bf16v[] = {1.0f, -0.5f, 3.140625f, 0x1p-130f};
	const float f64v[] = {(float)(1.0 / 3), -2.5f, INFINITY, 0x1p-149f};
	static const float f32v[] = {1.5f, -7.0f, 1e-45f};
	const struct { const char *name; StDtype dt; const float *v; size_t n; } want[] = {
		{"half", ST_F16, f16v, 11}, {"brain", ST_BF16, bf16v, 4},
		{"double", ST_F64, f64v, 4}, {"single", ST_F32, f32v, 3},
	};
	for (int k = 0; k < 4; k++) {
		const StTensor *t = st_find(&st, want[k].name);
		CHECK(t && t->dtype == want[k].dt && t->numel == want[k].n);
		if (!t || t->numel != want[k].n)
			continue;
		float v[16];
		CHECK_INT(st_read_f32(t, v), 0);
		int same = 1;
		for (size_t i = 0; i < want[k].n; i++)
			same &= fbits(v[i]) == fbits(want[k].v[i]);
		CHECK(same);
	}
	float nanv[2];
	CHECK_INT(st_read_f32(st_find(&st, "nan16"), nanv), 0);
	CHECK(isnan(nanv[0]) && isnan(nanv[1]));
	CHECK_STR(st_meta_get(&st, "writer"), "st_reader.py");
	st_close(&st);
	return test_summary();
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-for-python") == 0)
		return write_for_python(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--read-from-python") == 0)
		return read_from_python(argv[2]);
	if (!mkdtemp(tdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_f16();
	test_bf16();
	test_roundtrip_f32();
	test_roundtrip_bf16();
	test_read_dtypes();
	test_malformed();
	test_fuzz();
	test_index_errors();
	test_sharded();
	char *cmd = xasprintf("rm -rf %s", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tdir);
	free(cmd);
	return test_summary();
}
