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

typedef enum {
	ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL,
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

const char *st_dtype_name(StDtype t);   /* "F32", ... */
size_t st_dtype_size(StDtype t);

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
 * then save. Names must be unique (st_writer_add returns -1 otherwise). */
typedef struct StWriter StWriter;
StWriter *st_writer_new(void);
int st_writer_add(StWriter *w, const char *name, StDtype out_dtype, const float *data,
		  int ndim, const int64_t *shape);          /* out_dtype ST_F32 or ST_BF16 */
int st_writer_meta(StWriter *w, const char *key, const char *value);
int st_writer_save(StWriter *w, const char *path);   /* atomic; 0 ok, -1 with err_set */
void st_writer_free(StWriter *w);

#endif
