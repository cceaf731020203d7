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
 * and object on failure; the HDF5 library's own error stack printing is turned off. */
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
 * rewrites it in place; a different shape is an error. */
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

#endif
