/* fuzz_h5.c: HDF5 file bytes -> h5s_open read-only (data/h5store.h), then everything a reader
 * (asft-h5) does: list every group recursively, h5s_info of every object, every attribute as
 * text, numeric datasets read as f64 (up to 64 Ki elements), scalars read.
 *
 * Properties: a refusal carries an error message; listing returns names that exist; no HDF5
 * object (file, group, dataset, attribute, type, space) is left open after h5s_close.
 * The HDF5 library itself is not hardened against corrupt files (its own fuzzing finds crashes
 * in the object-header and B-tree decoders), so a crash inside libhdf5 on a mutated file is a
 * library limitation; this target is for the code asft controls (h5store.c's checks of ranks,
 * sizes, types and strings). See README "Fuzzing".
 * Seeds (fuzz_make_seeds): small files written by h5s_create with groups, f32/f64/i32/u8
 * datasets, a scalar, a series and attributes of every kind. */
#include "fuzz.h"
#include "h5store.h"
#include "util.h"

#include <hdf5.h>
#include <string.h>

#ifdef __SANITIZE_ADDRESS__     /* gcc: full malloc stacks (below) make it 3x slower */
const size_t fuzz_replay_total = 500;
#else
const size_t fuzz_replay_total = 1200;
#endif

/* HDF5 1.10 leaks the metadata-cache entry of an object header it fails to decode (H5Oopen on
 * a corrupt header: H5O_protect -> H5C_protect -> H5FL_blk_malloc, never freed). That is the
 * library's, not h5store's, so LeakSanitizer is told to ignore leaks allocated by HDF5's
 * free-list allocator (matching needs full malloc stacks: libhdf5 has no frame pointers, so
 * the fast unwinder stops inside it). h5store's own leaks of HDF5 ids are checked directly:
 * after h5s_close no HDF5 object may be left open. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0:malloc_context_size=8";
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:H5FL_blk_malloc\nleak:H5FL_reg_malloc\nleak:H5FL_fac_malloc\n";
}

#define MAX_READ 65536

static void walk(H5Store *s, const char *group, int depth, int *budget)
{
	char **names = NULL;
	int n = 0;
	err_clear();
	if (h5s_list(s, group, &names, &n) != 0) {
		FUZZ_CHECK_ERR("h5s_list");
		return;
	}
	for (int i = 0; i < n && *budget > 0; i++, (*budget)--) {
		char *path = !strcmp(group, "/") ? xasprintf("/%s", names[i])
						 : xasprintf("%s/%s", group, names[i]);
		H5sInfo info;
		if (strchr(names[i], '/') || !names[i][0]) {   /* not addressable by path */
			free(path);
			continue;
		}
		FUZZ_CHECK(h5s_exists(s, path) == 1, "listed %s does not exist", path);
		err_clear();
		if (h5s_info(s, path, &info) != 0) {
			FUZZ_CHECK_ERR("h5s_info");
			free(path);
			continue;
		}
		char **attrs = NULL;
		int na = 0;
		if (h5s_attr_list(s, path, &attrs, &na) == 0) {
			for (int a = 0; a < na; a++) {
				char *text = NULL;
				if (h5s_attr_text(s, path, attrs[a], &text) == 0)
					free(text);
			}
			h5s_free_list(attrs, na);
		}
		if (info.kind == H5S_KIND_GROUP && depth < 6) {
			walk(s, path, depth + 1, budget);
		} else if (info.kind == H5S_KIND_DATASET && info.numeric) {
			size_t numel = 1;
			int small = 1;
			for (int d = 0; d < info.ndim; d++) {
				if (info.dims[d] > MAX_READ || numel * info.dims[d] > MAX_READ)
					small = 0;
				else
					numel *= info.dims[d];
			}
			if (small) {
				void *out = NULL;
				int nd = -1;
				size_t dims[H5S_MAX_DIMS];
				err_clear();
				if (h5s_read(s, path, H5S_F64, &out, &nd, dims) == 0)
					FUZZ_CHECK(nd == info.ndim, "rank %d, info said %d", nd, info.ndim);
				else
					FUZZ_CHECK_ERR("h5s_read");
				free(out);
				double v;
				if (info.ndim == 0)
					h5s_read_scalar(s, path, &v);
			}
		}
		free(path);
	}
	h5s_free_list(names, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_write("store.h5", data, size);
	err_clear();
	H5Store *s = h5s_open(path, 0);
	if (!s) {
		FUZZ_CHECK_ERR("h5s_open");
		free(path);
		return 0;
	}
	int budget = 256;
	walk(s, "/", 0, &budget);
	char *text = NULL;
	if (h5s_attr_text(s, "/provenance", "config", &text) == 0)
		free(text);
	h5s_close(s);
	ssize_t left = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
	FUZZ_CHECK(left == 0, "%zd HDF5 objects still open after h5s_close", left);
	free(path);
	return 0;
}

/* ---- seeds ---- */

static int make_one(const char *dir, const char *name, int big)
{
	char *path = path_join(dir, name);
	H5Store *s = h5s_create(path, "fuzz-seed", "{\"seed\": 1, \"note\": \"fuzz\"}", 7);
	free(path);
	if (!s)
		return -1;
	float f[12];
	double g[5] = { 0.5, -1.0, 2.25, 1e300, -0.0 };
	int32_t iv[3] = { -1, 0, 2147483647 };
	uint8_t u[4] = { 0, 1, 254, 255 };
	for (int i = 0; i < 12; i++)
		f[i] = (float)i * 0.5f - 2.0f;
	size_t d34[2] = { 3, 4 }, d5[1] = { 5 }, d3[1] = { 3 }, d4[1] = { 4 };
	double series[3] = { 1, 2, 3 };
	int rc = h5s_write_f32(s, "/delta/model.layers.0.self_attn.q_proj.weight", f, 2, d34,
			       "a 3x4 tensor") ||
		 h5s_write_f64(s, "/surface/xcoordinates", g, 1, d5, NULL) ||
		 h5s_write(s, "/ints", H5S_I32, iv, 1, d3, "int32") ||
		 h5s_write(s, "/bytes", H5S_U8, u, 1, d4, NULL) ||
		 h5s_write_scalar(s, "/loss", 1.5, "a scalar") ||
		 h5s_series_append(s, "/train/loss", series, 3, "per step") ||
		 h5s_attr_set_str(s, "/", "title", "caf\xc3\xa9") ||
		 h5s_attr_set_i64(s, "/delta", "step", -42) ||
		 h5s_attr_set_f64v(s, "/surface", "range", g, 3);
	if (!rc && big) {
		size_t d[3] = { 2, 3, 2 };
		rc = h5s_create_dataset(s, "/grid/done", H5S_U8, 3, d, 0, "mask") ||
		     h5s_attr_set_f64(s, "/grid", "nan", 0.0 / 0.0);
	}
	if (rc) {
		h5s_abort(s);
		return -1;
	}
	return h5s_close(s);
}

int fuzz_make_seeds(const char *dir)
{
	if (make_one(dir, "store_small.h5", 0) || make_one(dir, "store_grid.h5", 1))
		return -1;
	return 0;
}
