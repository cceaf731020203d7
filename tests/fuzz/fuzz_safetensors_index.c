/* fuzz_safetensors_index.c: model.safetensors.index.json bytes -> st_open_dir
 * (data/safetensors.h), in a folder holding two fixed valid shards: model-00001-of-00002 with
 * tensors "a" (2x3) and "b" (3), model-00002-of-00002 with "c" (4), written by st_writer.
 *
 * Properties: a refusal carries an error message (names, paths like "../x" or "/etc/passwd",
 * missing shards, tensors in the wrong shard, duplicate keys, an empty weight_map), on one
 * line; an accepted folder holds at least one tensor, and tensors that st_find returns, each in
 * a shard index below n_maps, readable as f32 with the values written.
 * Seeds: the index transformers writes for these shards, and variants (metadata with
 * total_size, an extra unused key). */
#include "fuzz.h"
#include "safetensors.h"
#include "util.h"

#include <string.h>

const size_t fuzz_replay_total = 8000;

static const float vals[6] = { 1, 2, 3, 4, 5, 6 };

static const char *folder(void)
{
	static char *dir;
	if (dir)
		return dir;
	dir = fuzz_path("ckpt");
	FUZZ_CHECK(mkdir_p(dir) == 0, "%s", err_msg());
	int64_t s23[2] = { 2, 3 }, s3[1] = { 3 }, s4[1] = { 4 };
	StWriter *w = st_writer_new();
	char *p = path_join(dir, "model-00001-of-00002.safetensors");
	FUZZ_CHECK(st_writer_add(w, "a", ST_F32, vals, 2, s23) == 0 &&
		   st_writer_add(w, "b", ST_F32, vals, 1, s3) == 0 && st_writer_save(w, p) == 0,
		   "%s", err_msg());
	st_writer_free(w);
	free(p);
	w = st_writer_new();
	p = path_join(dir, "model-00002-of-00002.safetensors");
	FUZZ_CHECK(st_writer_add(w, "c", ST_BF16, vals, 1, s4) == 0 && st_writer_save(w, p) == 0,
		   "%s", err_msg());
	st_writer_free(w);
	free(p);
	return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = folder();
	char *path = path_join(dir, "model.safetensors.index.json");
	fuzz_write_at(path, data, size);
	Safetensors st;
	memset(&st, 0, sizeof st);
	err_clear();
	if (st_open_dir(&st, dir) != 0) {
		FUZZ_CHECK_ERR("st_open_dir");
		st_close(&st);
		free(path);
		return 0;
	}
	FUZZ_CHECK(st.n > 0 && st.n_maps > 0, "accepted a folder of %d tensors in %d shards", st.n,
		   st.n_maps);
	for (int i = 0; i < st.n; i++) {
		const StTensor *t = &st.tensors[i];
		FUZZ_CHECK(st_find(&st, t->name) == t, "st_find %s", t->name);
		FUZZ_CHECK(t->file >= 0 && t->file < st.n_maps, "tensor %s in shard %d of %d",
			   t->name, t->file, st.n_maps);
		float buf[6];
		FUZZ_CHECK(t->numel <= 6 && st_read_f32(t, buf) == 0, "tensor %s: %s", t->name,
			   err_msg());
		FUZZ_CHECK(!memcmp(buf, vals, t->numel * sizeof(float)), "tensor %s values", t->name);
	}
	st_close(&st);
	free(path);
	return 0;
}
