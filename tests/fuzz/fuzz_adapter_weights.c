/* fuzz_adapter_weights.c: adapter_model.safetensors bytes -> adapter_load (data/adapter.h),
 * beside a fixed valid adapter_config.json (r 2, alpha 4, targets q_proj and v_proj).
 *
 * Properties: a refusal carries an error message; an accepted adapter has modules targeted by
 * the config with non-NULL A (r, in) and B (out, r), positive sizes, a layer number that
 * matches the name, modules sorted by name and found by adapter_find; adapter_check_model
 * against a small Llama config answers with a message when it refuses.
 * Seeds (fuzz_make_seeds): folders written by adapter_save in F32 and BF16. */
#include "adapter.h"
#include "fuzz.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const size_t fuzz_replay_total = 6000;

#define R 2

static void config_init(AdapterConfig *c)
{
	static const char *const names[] = { "q_proj", "v_proj" };
	adapter_config_init(c, R, 4.0);
	FUZZ_CHECK(adapter_config_set_list(c, names, 2) == 0, "set_list");
}

static const char *folder(void)
{
	static char *dir;
	if (!dir) {
		dir = fuzz_path("adapter");
		FUZZ_CHECK(mkdir_p(dir) == 0, "%s", err_msg());
		AdapterConfig c;
		config_init(&c);
		char *p = path_join(dir, "adapter_config.json");
		FUZZ_CHECK(adapter_config_save(&c, p) == 0, "%s", err_msg());
		free(p);
		adapter_config_free(&c);
	}
	return dir;
}

static void small_model(ModelConfig *m)
{
	memset(m, 0, sizeof *m);
	m->arch = ARCH_LLAMA;
	m->hidden_size = 8;
	m->intermediate_size = 16;
	m->num_hidden_layers = 2;
	m->num_attention_heads = 2;
	m->num_key_value_heads = 2;
	m->head_dim = 4;
	m->vocab_size = 32;
	m->max_position_embeddings = 64;
	m->rms_norm_eps = 1e-6;
	m->rope_theta = 10000;
	m->bos_token_id = -1;
	strcpy(m->torch_dtype, "float32");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = folder();
	char *path = path_join(dir, "adapter_model.safetensors");
	fuzz_write_at(path, data, size);
	Adapter ad;
	memset(&ad, 0, sizeof ad);
	err_clear();
	if (adapter_load(&ad, dir) != 0) {
		FUZZ_CHECK_ERR("adapter_load");
		adapter_free(&ad);
		free(path);
		return 0;
	}
	FUZZ_CHECK(ad.cfg.r == R, "r %d", ad.cfg.r);
	for (int m = 0; m < ad.n_mods; m++) {
		const AdapterModule *x = &ad.mods[m];
		FUZZ_CHECK(x->module && adapter_targets(&ad.cfg, x->module), "module not targeted");
		FUZZ_CHECK(x->A && x->B && x->in > 0 && x->out > 0, "module %s: %dx%d", x->module,
			   x->in, x->out);
		FUZZ_CHECK(adapter_find(&ad, x->module) == x, "adapter_find %s", x->module);
		FUZZ_CHECK(m == 0 || strcmp(ad.mods[m - 1].module, x->module) < 0, "not sorted");
		const char *l = strstr(x->module, "layers.");
		size_t nd = l ? strspn(l + 7, "0123456789") : 0;
		if (nd >= 1 && nd <= 9 && l[7 + nd] == '.')     /* a plain layer number */
			FUZZ_CHECK(x->layer == atoi(l + 7), "module %s: layer %d", x->module, x->layer);
		volatile float sum = 0;
		for (size_t i = 0; i < (size_t)R * (size_t)x->in; i++)
			sum += x->A[i];
		for (size_t i = 0; i < (size_t)x->out * R; i++)
			sum += x->B[i];
		(void)sum;
	}
	ModelConfig mc;
	small_model(&mc);
	err_clear();
	if (adapter_check_model(&ad, &mc) != 0)
		FUZZ_CHECK_ERR("adapter_check_model");
	adapter_free(&ad);
	free(path);
	return 0;
}

/* ---- seeds ---- */

static int save_seed(const char *dir, const char *name, StDtype dtype, int layers)
{
	Adapter ad;
	memset(&ad, 0, sizeof ad);
	config_init(&ad.cfg);
	for (int l = 0; l < layers; l++) {
		char q[64], v[64];
		snprintf(q, sizeof q, "model.layers.%d.self_attn.q_proj", l);
		snprintf(v, sizeof v, "model.layers.%d.self_attn.v_proj", l);
		AdapterModule *mq = adapter_add(&ad, q, 8, 8);
		AdapterModule *mv = mq ? adapter_add(&ad, v, 8, 4) : NULL;
		if (!mv) {
			adapter_free(&ad);
			return -1;
		}
		mq = adapter_find(&ad, q);
		for (int i = 0; i < R * 8; i++) {
			mq->A[i] = 0.125f * (float)(i - 7);
			mv->A[i] = -0.5f + 0.0625f * (float)i;
		}
		for (int i = 0; i < 8 * R; i++)
			mq->B[i] = (float)(i % 3);
		for (int i = 0; i < 4 * R; i++)
			mv->B[i] = 1.0f / (float)(i + 1);
	}
	char *tmp = path_join(dir, ".tmp-adapter");
	int rc = adapter_save(&ad, tmp, dtype);
	adapter_free(&ad);
	if (rc == 0) {
		char *src = path_join(tmp, "adapter_model.safetensors");
		char *dst = path_join(dir, name);
		size_t n;
		char *bytes = file_read_all(src, &n);
		rc = bytes ? file_write_atomic(dst, bytes, n) : -1;
		free(bytes);
		unlink(src);
		free(src);
		free(dst);
		src = path_join(tmp, "adapter_config.json");
		unlink(src);
		free(src);
		rmdir(tmp);
	}
	free(tmp);
	return rc;
}

int fuzz_make_seeds(const char *dir)
{
	if (save_seed(dir, "f32_one_layer.safetensors", ST_F32, 1) ||
	    save_seed(dir, "bf16_two_layers.safetensors", ST_BF16, 2))
		return -1;
	return 0;
}
