/* safetensors.h: read (mmap, zero-copy for F32) and write Hugging Face safetensors files.
 *
 * Format (huggingface/safetensors): 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {"k": "v"}}, then the data region; offsets are relative to its start.
 * The reader validates everything before use (see st_open) and never crashes on bad input.
 * A checkpoint folder may hold one model.safetensors or shards listed in
 * model.safetensors.index.json ({"metadata": {...}, "weight_map": {"name": "file", ...}}).
 * Writers produce F32 or BF16 (round-to-nearest-even), tensors sorted by name, header padded
 * with spaces to a multiple of 8 bytes, and write to a temporary name renamed on success. */
#ifndef ASFT_SAFETENSORS_H
#define ASFT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_DIMS 8

/* The dtypes of the safetensors spec. Only F32/F16/BF16/F64 convert to f32; the others can be
 * opened and looked up (their bytes are at StTensor.data) but st_f32 rejects them. */
typedef enum {
	ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL,
	ST_U16, ST_U32, ST_U64, ST_F8_E4M3, ST_F8_E5M2,
	ST_NDTYPES
} StDtype;

typedef struct {
	const char *name;
	StDtype dtype;
	int ndim;
	int64_t shape[ST_MAX_DIMS];
	size_t numel;               /* product of shape (1 for a scalar) */
	size_t nbytes;              /* numel * dtype size */
	const void *data;           /* into the read-only mapping of its file */
	int file;                   /* index of the shard that holds it */
} StTensor;

/* A set of tensors from one file or a sharded folder, sorted by name for lookup. */
typedef struct {
	StTensor *tensors;
	int n;
	char **meta_keys, **meta_vals;      /* __metadata__ of the (first) file, in file order */
	int n_meta;
	/* private: the mappings */
	struct StMap *maps;
	int n_maps;
} Safetensors;

const char *st_dtype_name(StDtype t);   /* "F32", ...; "?" for a value out of range */
/* st_shape_str: "[d0, d1, ...]" of shape[0..ndim) for messages, into buf (cap bytes, cut short
 * if it does not fit; always NUL-terminated when cap > 0). */
void st_shape_str(char *buf, size_t cap, const int64_t *shape, int ndim);
size_t st_dtype_size(StDtype t);        /* bytes per element; 0 for a value out of range */
/* st_dtype_parse: the StDtype named s ("BF16"); -1 if s is not a dtype name. */
int st_dtype_parse(const char *s);
/* st_meta_get: the __metadata__ value for key, or NULL (also when st or key is NULL). */
const char *st_meta_get(const Safetensors *st, const char *key);

/* st_open: maps one .safetensors file and validates it: header length within the file,
 * header a JSON object, known dtypes, shapes non-negative without overflow, offsets in range,
 * sorted and contiguous (no gaps or overlaps, covering the data region exactly), names unique.
 * 0 ok; -1 with err_set("<path>: tensor <name>: <fact>"), nothing left open. */
int st_open(Safetensors *st, const char *path);
/* st_open_dir: a checkpoint folder: model.safetensors.index.json if present (every shard opened
 * and each tensor checked to be in the shard the index names), else model.safetensors. */
int st_open_dir(Safetensors *st, const char *dir);
void st_close(Safetensors *st);         /* safe on a zeroed or already-closed struct */

/* st_find: the tensor named name, or NULL (binary search). */
const StTensor *st_find(const Safetensors *st, const char *name);

/* st_f32: a float view of t: the mapping itself when t is F32 and 4-byte aligned (*owned = 0),
 * else a new converted buffer (*owned = 1, caller frees). F16/BF16 -> F32 is exact; F64 is
 * rounded to nearest. NULL with err_set for dtypes that are not floating point. */
float *st_f32(const StTensor *t, int *owned);
/* st_read_f32: converts t into dst (t->numel floats). 0 ok, -1 with err_set. */
int st_read_f32(const StTensor *t, float *dst);

float st_bf16_to_f32(uint16_t h);
uint16_t st_f32_to_bf16(float f);       /* round to nearest even; NaN stays NaN */
float st_f16_to_f32(uint16_t h);
uint16_t st_f32_to_f16(float f);        /* round to nearest even, overflow to inf */

/* Writer: collect tensors (data is referenced, not copied, until st_writer_save returns),
 * then save. Names must be unique (st_writer_add returns -1 otherwise). __metadata__ always
 * holds "format": "pt" unless the caller sets "format": transformers refuses a safetensors
 * file whose metadata lacks it. st_writer_new never returns NULL; st_writer_free(NULL) is a
 * no-op. Errors are -1 with err_set (bad dtype, shape, duplicate name, non-UTF-8 name). */
typedef struct StWriter StWriter;
StWriter *st_writer_new(void);
int st_writer_add(StWriter *w, const char *name, StDtype out_dtype, const float *data,
		  int ndim, const int64_t *shape);          /* out_dtype ST_F32 or ST_BF16 */
int st_writer_meta(StWriter *w, const char *key, const char *value);
int st_writer_save(StWriter *w, const char *path);   /* atomic; 0 ok, -1 with err_set */
/* st_writer_save_dir: the same tensors as a Hugging Face checkpoint folder via StShardWriter
 * (model.safetensors, or model-0000i-of-0000n.safetensors + index when they exceed
 * max_shard_bytes). 0 ok, -1 with err_set. */
int st_writer_save_dir(StWriter *w, const char *dir, size_t max_shard_bytes);
void st_writer_free(StWriter *w);

/* Sharded writer that streams: declare every tensor first (st_shard_writer_plan, in the order
 * that fills the shards, as transformers' save_pretrained fills them in module order), call
 * st_shard_writer_begin, then write the data of each tensor, in any order and in pieces if
 * wanted, and st_shard_writer_finish. Nothing but the current piece is ever held in memory:
 * every shard's header is known at begin, so each shard is created at its final size under a
 * temporary name and pieces are pwrite()n in place.
 * Shards: a new shard starts when the next tensor would take the current one past
 * max_shard_bytes (0 = no limit; a tensor larger than the limit gets a shard of its own).
 * Files are named
 * model-00001-of-00003.safetensors ... plus model.safetensors.index.json {"metadata":
 * {"total_size": bytes}, "weight_map": {...}}; when everything fits in one shard the result is
 * a plain model.safetensors and no index (as transformers does). Within a shard tensors are
 * sorted by name. Files appear under their final names only when finish succeeds; free
 * without a successful finish removes the temporaries.
 * st_shard_writer_new never returns NULL; the others return 0 ok, -1 with err_set (unknown
 * name, piece out of range, call out of order, tensors left unwritten at finish, I/O). */
typedef struct StShardWriter StShardWriter;
#define ST_HF_SHARD_BYTES 5000000000ull     /* transformers' default max_shard_size "5GB" */
StShardWriter *st_shard_writer_new(const char *dir, size_t max_shard_bytes);
int st_shard_writer_plan(StShardWriter *w, const char *name, StDtype out_dtype, int ndim,
			 const int64_t *shape);     /* out_dtype ST_F32 or ST_BF16 */
int st_shard_writer_meta(StShardWriter *w, const char *key, const char *value); /* every shard */
int st_shard_writer_begin(StShardWriter *w);     /* creates the directory and the shard files */
int st_shard_writer_nshards(const StShardWriter *w);   /* valid after begin */
/* st_shard_writer_write_part: elements [first, first + n) of the tensor (row-major), converted
 * to its out_dtype. Pieces of one tensor must not overlap; the tensor counts as written when
 * pieces covering numel elements have arrived. */
int st_shard_writer_write_part(StShardWriter *w, const char *name, size_t first,
			       const float *data, size_t n);
int st_shard_writer_write(StShardWriter *w, const char *name, const float *data); /* whole */
int st_shard_writer_finish(StShardWriter *w);    /* renames shards, then writes the index */
void st_shard_writer_free(StShardWriter *w);

#endif
