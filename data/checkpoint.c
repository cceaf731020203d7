/* checkpoint.c: HF checkpoint and PEFT adapter folders <-> Model / Lora (see checkpoint.h). */
#include "checkpoint.h"
#include "adapter.h"
#include "hfconfig.h"
#include "util.h"

#include <cJSON.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

int checkpoint_load_weights(Model *m, const char *dir)
{
	Safetensors st;
	if (st_open_dir(&st, dir) < 0)
		return -1;
	int ret = -1;
	for (int i = 0; i < m->n_tensors; i++) {
		const ModelTensor *mt = &m->tensors[i];
		const StTensor *t = st_find(&st, mt->name);
		if (!t) {
			err_set("%s: tensor %s: missing (the config needs it)", dir, mt->name);
			goto out_close;
		}
		int ok = t->ndim == mt->ndim && t->shape[0] == mt->shape[0] &&
			 (mt->ndim == 1 || t->shape[1] == mt->shape[1]);
		if (!ok) {
			char got[64], want[64];
			st_shape_str(got, sizeof(got), t->shape, t->ndim);
			st_shape_str(want, sizeof(want), mt->shape, mt->ndim);
			err_set("%s: tensor %s: shape %s in the file, config.json implies %s", dir,
				mt->name, got, want);
			goto out_close;
		}
		if (st_read_f32(t, m->params + mt->offset) < 0) {
			err_prefix("%s", dir);
			goto out_close;
		}
	}
	for (int i = 0; i < st.n; i++) {
		const char *name = st.tensors[i].name;
		if (model_find(m, name) || ends_with(name, "rotary_emb.inv_freq") ||
		    (m->cfg.tie_word_embeddings && !strcmp(name, "lm_head.weight")))
			continue;
		err_set("%s: tensor %s: not part of a %s with this config.json", dir, name,
			config_arch_name(m->cfg.arch));
		goto out_close;
	}
	ret = 0;
out_close:
	st_close(&st);
	return ret;
}

int checkpoint_load(Model *m, const char *dir)
{
	ModelConfig cfg;
	memset(m, 0, sizeof(*m));
	if (config_load_dir(&cfg, dir) < 0)
		return -1;
	if (model_init(m, &cfg) < 0) {
		err_prefix("%s/config.json", dir);
		return -1;
	}
	if (checkpoint_load_weights(m, dir) < 0) {
		model_free(m);
		return -1;
	}
	return 0;
}

int checkpoint_save(const Model *m, const char *dir, StDtype dtype)
{
	if (dtype != ST_F32 && dtype != ST_BF16)
		return err_set("%s: checkpoints are written as F32 or BF16, not %s", dir,
			       st_dtype_name(dtype));
	if (mkdir_p(dir) < 0)
		return -1;
	ModelConfig cfg = m->cfg;
	snprintf(cfg.torch_dtype, sizeof(cfg.torch_dtype), "%s",
		 dtype == ST_BF16 ? "bfloat16" : "float32");
	int ret = -1;
	char *path = path_join(dir, "model.safetensors");
	StWriter *w = st_writer_new();
	for (int i = 0; i < m->n_tensors; i++) {
		const ModelTensor *t = &m->tensors[i];
		if (st_writer_add(w, t->name, dtype, m->params + t->offset, t->ndim, t->shape) < 0)
			goto out;
	}
	if (st_writer_meta(w, "format", "pt") < 0 || st_writer_save(w, path) < 0)
		goto out;
	if (config_save_dir(&cfg, dir) < 0)
		goto out;
	ret = 0;
out:
	st_writer_free(w);
	free(path);
	return ret;
}

/* "model.layers.3.self_attn.q_proj" -> layer 3, LORA_Q; -1 if it is not a projection. */
static int parse_module(const char *module, int *layer)
{
	const char *p = strstr(module, "layers.");
	const char *dot = strrchr(module, '.');
	if (!p || !dot || sscanf(p, "layers.%d.", layer) != 1)
		return -1;
	return lora_module_parse(dot + 1);
}

int checkpoint_load_adapter(Lora *lo, const Model *m, const char *dir)
{
	Adapter ad;
	memset(lo, 0, sizeof(*lo));
	if (adapter_load(&ad, dir) < 0)
		return -1;
	int ret = -1;
	if (adapter_check_model(&ad, &m->cfg) < 0) {
		err_prefix("%s", dir);
		goto out_free;
	}
	unsigned targets = 0;
	for (int i = 0; i < ad.n_mods; i++) {
		int layer, mod = parse_module(ad.mods[i].module, &layer);
		if (mod < 0 || layer < 0 || layer >= m->L) {
			err_set("%s: module %s: not a projection of a decoder layer", dir,
				ad.mods[i].module);
			goto out_free;
		}
		targets |= LORA_BIT(mod);
	}
	if (!targets) {
		err_set("%s: the adapter has no modules", dir);
		goto out_free;
	}
	if (lora_init(lo, &m->cfg, ad.cfg.r, (float)ad.cfg.lora_alpha, (float)ad.cfg.lora_dropout,
		      targets, 0) < 0) {
		err_prefix("%s", dir);
		goto out_free;
	}
	memset(lo->params, 0, sizeof(float) * lo->n_params);
	lo->use_rslora = ad.cfg.use_rslora;
	lo->scale = (float)adapter_scaling(&ad.cfg);
	for (int i = 0; i < ad.n_mods; i++) {
		const AdapterModule *am = &ad.mods[i];
		int layer, mod = parse_module(am->module, &layer);
		int r = lo->r, in = lo->in[mod], out = lo->out[mod];
		if (am->in != in || am->out != out) {
			err_set("%s: module %s: (in %d, out %d), the model has (%d, %d)", dir,
				am->module, am->in, am->out, in, out);
			lora_free(lo);
			goto out_free;
		}
		memcpy(lo->A[mod] + (size_t)layer * r * in, am->A, sizeof(float) * r * in);
		memcpy(lo->B[mod] + (size_t)layer * out * r, am->B, sizeof(float) * out * r);
	}
	ret = 0;
out_free:
	adapter_free(&ad);
	return ret;
}

static double short_decimal(float f)
{
	char buf[32];
	for (int prec = 6; prec <= 9; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, (double)f);
		if ((float)strtod(buf, NULL) == f)
			return strtod(buf, NULL);
	}
	return f;
}

int checkpoint_save_adapter(const Lora *lo, const char *dir, const char *base_model,
			    StDtype dtype)
{
	Adapter ad;
	memset(&ad, 0, sizeof(ad));
	/* float fields are written as the shortest decimals that read back to the same float, so
	 * a dropout of 0.05f appears as 0.05, not 0.05000000074505806 */
	adapter_config_init(&ad.cfg, lo->r, short_decimal(lo->alpha));
	ad.cfg.lora_dropout = short_decimal(lo->dropout);
	ad.cfg.use_rslora = lo->use_rslora;
	adapter_config_set_base(&ad.cfg, base_model);
	const char *names[LORA_NMOD];
	int n = 0, ret = -1;
	for (int mod = 0; mod < LORA_NMOD; mod++)
		if (lo->targets & LORA_BIT(mod))
			names[n++] = lora_module_name(mod);
	if (adapter_config_set_list(&ad.cfg, names, n) < 0)
		goto out;
	for (int mod = 0; mod < LORA_NMOD; mod++) {
		if (!(lo->targets & LORA_BIT(mod)))
			continue;
		int r = lo->r, in = lo->in[mod], out = lo->out[mod];
		for (int l = 0; l < lo->L; l++) {
			char module[96];
			snprintf(module, sizeof(module), "model.layers.%d.%s.%s", l,
				 mod <= LORA_O ? "self_attn" : "mlp", lora_module_name(mod));
			AdapterModule *am = adapter_add(&ad, module, in, out);
			if (!am)
				goto out;
			memcpy(am->A, lo->A[mod] + (size_t)l * r * in, sizeof(float) * r * in);
			memcpy(am->B, lo->B[mod] + (size_t)l * out * r, sizeof(float) * out * r);
		}
	}
	if (adapter_save(&ad, dir, dtype) < 0)
		goto out;
	ret = 0;
out:
	adapter_free(&ad);
	return ret;
}

void ids_json_free(int **rows, int *lens, int n)
{
	for (int i = 0; rows && i < n; i++)
		free(rows[i]);
	free(rows);
	free(lens);
}

int ids_json_load(const char *path, int vocab, int equal_len, int ***rows_out, int **lens_out,
		  int *n_out)
{
	char *text = file_read_all(path, NULL);
	if (!text)
		return -1;
	int ret = -1, n = 0, **rows = NULL, *lens = NULL;
	cJSON *root = cJSON_Parse(text);
	if (!root) {
		err_set("%s: not valid JSON near '%.24s'", path, cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
		goto out_free_text;
	}
	if (!cJSON_IsArray(root) || cJSON_GetArraySize(root) < 1) {
		err_set("%s: expected a non-empty JSON array of arrays of token ids", path);
		goto out_free_json;
	}
	int cap = cJSON_GetArraySize(root);
	rows = xcalloc(cap, sizeof(int *));
	lens = xcalloc(cap, sizeof(int));
	const cJSON *row;
	cJSON_ArrayForEach(row, root) {
		int len = cJSON_GetArraySize(row);
		if (!cJSON_IsArray(row) || len < 1) {
			err_set("%s: row %d: expected a non-empty array of token ids", path, n);
			goto out_free_rows;
		}
		if (equal_len && n > 0 && len != lens[0]) {
			err_set("%s: row %d: %d ids, row 0 has %d (rows must have equal length)", path,
				n, len, lens[0]);
			goto out_free_rows;
		}
		rows[n] = xmalloc(sizeof(int) * len);
		lens[n] = len;
		int i = 0;
		const cJSON *it;
		cJSON_ArrayForEach(it, row) {
			double v = cJSON_IsNumber(it) ? it->valuedouble : -1;
			if (!cJSON_IsNumber(it) || !(v >= 0 && v <= INT_MAX) || v != floor(v) ||
			    (vocab > 0 && v >= vocab)) {
				char *s = cJSON_PrintUnformatted(it);
				err_set("%s: row %d, item %d: %s is not a token id in [0, %d)", path, n,
					i, s ? s : "?", vocab);
				free(s);
				n++;
				goto out_free_rows;
			}
			rows[n][i++] = (int)v;
		}
		n++;
	}
	*rows_out = rows;
	*lens_out = lens;
	*n_out = n;
	ret = 0;
	goto out_free_json;
out_free_rows:
	ids_json_free(rows, lens, n);
out_free_json:
	cJSON_Delete(root);
out_free_text:
	free(text);
	return ret;
}
