/* h5store.h: the HDF5 result store every asft tool writes (HDF5 C API + high-level library).
 *
 * A file made by h5s_create is written under a temporary name ("path.tmp.PID") and renamed to
 * path by h5s_close only when everything was written and closed cleanly, so a crash never leaves
 * a half file under the final name. h5s_open reopens an existing file for reading or for
 * resumable work (read-write in place). Every file gets a /provenance group with attributes
 * tool, version, git_revision, config (JSON), seed, created (ISO 8601 UTC), hostname and the
 * library versions (hdf5, openblas, cjson, pcre2).
 *
 * Paths are absolute HDF5 paths ("/delta/model.layers.0.self_attn.q_proj.weight"); missing
 * intermediate groups are created. Dataset names may contain dots. Datasets larger than 64 KiB
 * are chunked with shuffle + deflate. Each dataset written carries a "description" attribute
 * (may be NULL = none). All functions return 0 on success and -1 with err_set() naming the file
 * and object on failure; the HDF5 library's own error stack printing is turned off.
 *
 * On disk (README "HDF5 result store"): HDF5 1.8 object format; little-endian numbers; string
 * attributes are scalar fixed-length UTF-8, NUL-terminated (values must be valid UTF-8); series
 * are 1-D float64 with an unlimited maximum. A killed writer leaves at most a stale
 * "path.tmp.PID". h5s_create replaces an existing file of the same name when it closes. */
#ifndef ASFT_H5STORE_H
#define ASFT_H5STORE_H

#include <stddef.h>
#include <stdint.h>

#define H5S_MAX_DIMS 8

typedef struct H5Store H5Store;

typedef enum { H5S_F32, H5S_F64, H5S_I32, H5S_I64, H5S_U8 } H5sType;

/* h5s_create: new file (to be renamed into place by h5s_close) with provenance. config_json may
 * be NULL. Returns NULL with err_set on failure. */
H5Store *h5s_create(const char *path, const char *tool, const char *config_json, uint64_t seed);
/* h5s_open: existing file; writable = 1 opens read-write in place (for resuming). */
H5Store *h5s_open(const char *path, int writable);
/* h5s_close: flushes, closes and (for a created file) renames into place. Frees s even on
 * failure. NULL is a no-op returning 0. */
int h5s_close(H5Store *s);
/* h5s_abort: closes and deletes a created file's temporary; the final name is untouched. */
void h5s_abort(H5Store *s);
const char *h5s_path(const H5Store *s);     /* the final path */

int h5s_exists(H5Store *s, const char *path);       /* 1 if a group or dataset is there */

/* Datasets: ndim 0 writes a scalar. Overwriting an existing dataset of the same shape and type
 * rewrites it in place; a different shape or element type is an error. A NULL description keeps
 * the existing one. */
int h5s_write(H5Store *s, const char *path, H5sType type, const void *data, int ndim,
	      const size_t *dims, const char *description);
int h5s_write_f32(H5Store *s, const char *path, const float *data, int ndim, const size_t *dims,
		  const char *description);
int h5s_write_f64(H5Store *s, const char *path, const double *data, int ndim, const size_t *dims,
		  const char *description);
int h5s_write_scalar(H5Store *s, const char *path, double value, const char *description);

/* h5s_shape: rank and dims of a dataset (dims may be NULL); -1 if absent. */
int h5s_shape(H5Store *s, const char *path, int *ndim, size_t *dims);
/* h5s_read: converts the dataset to type into a new buffer (*out, caller frees); *ndim and dims
 * (may be NULL) receive its shape. */
int h5s_read(H5Store *s, const char *path, H5sType type, void **out, int *ndim, size_t *dims);
int h5s_read_scalar(H5Store *s, const char *path, double *value);

/* Extendible 1-D float64 series (per-step training logs): created on first append. */
int h5s_series_append(H5Store *s, const char *path, const double *values, size_t n,
		      const char *description);

/* Attributes on any group or dataset (obj "/" is the root). */
int h5s_attr_set_str(H5Store *s, const char *obj, const char *name, const char *value);
int h5s_attr_set_f64(H5Store *s, const char *obj, const char *name, double value);
int h5s_attr_set_i64(H5Store *s, const char *obj, const char *name, int64_t value);
int h5s_attr_set_f64v(H5Store *s, const char *obj, const char *name, const double *v, size_t n);
int h5s_attr_get_str(H5Store *s, const char *obj, const char *name, char **value);  /* caller frees */
int h5s_attr_get_f64(H5Store *s, const char *obj, const char *name, double *value);
int h5s_attr_get_i64(H5Store *s, const char *obj, const char *name, int64_t *value);

/* h5s_list: names of the direct children of group path (sorted; caller frees each and the
 * array with h5s_free_list). */
int h5s_list(H5Store *s, const char *group, char ***names, int *n);
void h5s_free_list(char **names, int n);

/* ---- Additions (resumable grids, truncatable logs, introspection for asft-h5) ---- */

/* h5s_set_deflate: deflate level (0..9, default 4; 0 = none) for datasets and series created
 * from now on. Random-looking float tensors shrink little (~14% for Gaussian f32) at ~50 MB/s;
 * a tool writing gigabytes of them may choose 1 or 0. Small datasets are never compressed. */
int h5s_set_deflate(H5Store *s, int level);

/* h5s_flush: pushes everything written so far to disk (a writer resuming in place calls it after
 * each unit of work, so a crash loses at most the unit in progress). */
int h5s_flush(H5Store *s);

/* h5s_create_dataset: makes a dataset of the given shape whose every element is fill (converted
 * to type; NaN for surfaces, 0 for a "done" mask). If it already exists with the same shape and
 * type it is kept as it is (its points survive a resume); a different shape or type is an error. */
int h5s_create_dataset(H5Store *s, const char *path, H5sType type, int ndim, const size_t *dims,
		       double fill, const char *description);
/* h5s_write_at / h5s_read_at: the hyperslab start[k] .. start[k]+count[k]-1 of an existing
 * dataset (start and count have the dataset's rank; ignored for a scalar). data / out hold
 * prod(count) elements of type in row-major order; HDF5 converts to / from the dataset's type.
 * A single grid point is count = {1, 1}. */
int h5s_write_at(H5Store *s, const char *path, H5sType type, const void *data,
		 const size_t *start, const size_t *count);
int h5s_read_at(H5Store *s, const char *path, H5sType type, void *out, const size_t *start,
		const size_t *count);

/* h5s_series_truncate: shortens an extendible series to n values (a training run resumed from
 * the checkpoint at step n drops the log entries written after it). n > length is an error. */
int h5s_series_truncate(H5Store *s, const char *path, size_t n);

int h5s_attr_get_f64v(H5Store *s, const char *obj, const char *name, double **v, size_t *n);
/* h5s_attr_exists: 1 if obj has attribute name, 0 if not (or obj is missing). */
int h5s_attr_exists(H5Store *s, const char *obj, const char *name);
/* h5s_attr_list: sorted attribute names of obj (free with h5s_free_list). */
int h5s_attr_list(H5Store *s, const char *obj, char ***names, int *n);
/* h5s_attr_text: any attribute's value as text (caller frees): a string as is, a number as the
 * shortest decimal that reads back exactly, arrays as "[a, b, ...]". */
int h5s_attr_text(H5Store *s, const char *obj, const char *name, char **text);

typedef enum { H5S_KIND_GROUP, H5S_KIND_DATASET, H5S_KIND_OTHER } H5sKind;

typedef struct {
	H5sKind kind;
	int ndim;                       /* datasets: rank and shape */
	size_t dims[H5S_MAX_DIMS];
	char dtype[16];                 /* "f32" "f64" "i8".."i64" "u8".."u64" "str" "other" */
	int numeric;                    /* integer or floating point: h5s_read can convert it */
	int chunked, shuffle, deflate;  /* storage */
	int extendible;                 /* some dimension is unlimited (a series) */
} H5sInfo;

/* h5s_info: what is at path (group or dataset, shape, element type, storage); -1 if absent or
 * of rank > H5S_MAX_DIMS. */
int h5s_info(H5Store *s, const char *path, H5sInfo *info);
const char *h5s_type_name(H5sType type);    /* "f32", "f64", "i32", "i64", "u8" */

#endif
