/* adapter.h: PEFT LoRA adapter folders (read and write).
 *
 * A folder holds adapter_config.json and adapter_model.safetensors, as PEFT's save_pretrained
 * writes them. The weights of the module "model.layers.3.self_attn.q_proj" are the tensors
 *   base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight    (r, in)
 *   base_model.model.model.layers.3.self_attn.q_proj.lora_B.weight    (out, r)
 * and the update is W += scaling * B @ A with scaling = lora_alpha / r (lora_alpha / sqrt(r)
 * with use_rslora), as PEFT's LoraLayer.
 * Supported: plain LoRA (bias "none", fan_in_fan_out false, no DoRA, one rank and alpha for all
 * modules). Configs that ask for anything else (rank_pattern, alpha_pattern, layers_to_transform,
 * modules_to_save, exclude_modules, lora_bias, use_dora, layer_replication,
 * trainable_token_indices) are rejected with an error naming the
 * field rather than silently loaded wrong. adapter_model.bin (pickle) is not read. */
#ifndef ASFT_ADAPTER_H
#define ASFT_ADAPTER_H

#include "config.h"
#include "safetensors.h"

typedef struct {
	int r;                      /* rank */
	double lora_alpha;          /* PEFT default 8 */
	double lora_dropout;        /* in [0, 1) */
	int use_rslora;
	/* target_modules: a list (PEFT matches a module when its name equals an entry or ends with
	 * "." + entry) or a regex string (PEFT: re.fullmatch on the module name). Exactly one of
	 * targets / target_regex is set. "all-linear" is stored as the list of Llama's seven
	 * linear layers (PEFT excludes the output layer). */
	char **targets;
	int n_targets;
	char *target_regex;
	char *base_model;           /* base_model_name_or_path; NULL when absent or null */
	void *re_code_;             /* private: the compiled target_regex (pcre2_code) */
} AdapterConfig;

typedef struct {
	char *module;               /* "model.layers.3.self_attn.q_proj" */
	int layer;                  /* 3 (the number after "layers."), -1 when there is none */
	int in, out;                /* A is (r, in), B is (out, r) */
	float *A, *B;               /* owned by the Adapter after adapter_load / adapter_add */
} AdapterModule;

typedef struct {
	AdapterConfig cfg;
	AdapterModule *mods;        /* sorted by module name after adapter_load */
	int n_mods;
} Adapter;

/* adapter_config_init: r, lora_alpha, dropout 0, no targets yet (set them with one of the
 * two setters below, which replace earlier targets). Never fails; free with
 * adapter_config_free. */
void adapter_config_init(AdapterConfig *c, int r, double lora_alpha);
/* adapter_config_set_list: copies n names (e.g. "q_proj", "v_proj"). 0, or -1 when n < 1 or a
 * name is empty. */
int adapter_config_set_list(AdapterConfig *c, const char *const *names, int n);
/* adapter_config_set_regex: compiles regex with PCRE2; -1 with err_set when it does not. */
int adapter_config_set_regex(AdapterConfig *c, const char *regex);
/* adapter_config_set_base: copies name (NULL clears). */
void adapter_config_set_base(AdapterConfig *c, const char *name);
void adapter_config_free(AdapterConfig *c);     /* safe on a zeroed struct; leaves it zeroed */

/* adapter_config_load: reads an adapter_config.json (see the top of this file for what is
 * accepted). 0 ok; -1 with err_set("<path>: <field> ..."), c left zeroed. */
int adapter_config_load(AdapterConfig *c, const char *path);
/* adapter_config_save: writes adapter_config.json with the fields PEFT's LoraConfig reads
 * (atomic). 0 ok, -1 with err_set. */
int adapter_config_save(const AdapterConfig *c, const char *path);

/* adapter_targets: 1 if PEFT would put LoRA on the module named module under c, else 0. */
int adapter_targets(const AdapterConfig *c, const char *module);
double adapter_scaling(const AdapterConfig *c);  /* lora_alpha / r, or / sqrt(r) (rsLoRA) */

/* adapter_load: a PEFT folder. Every tensor must be a lora_A / lora_B weight of a module that
 * target_modules matches, each module must have both, A must be (r, in) and B (out, r) with r
 * from the config; A and B are converted to f32 (F32, F16, BF16 and F64 files). The in/out
 * sizes are taken from the tensors: check them against a model with adapter_check_model.
 * 0 ok; -1 with err_set naming the file, the tensor or module and the fact; ad left zeroed. */
int adapter_load(Adapter *ad, const char *dir);
/* adapter_save: writes dir/adapter_config.json and dir/adapter_model.safetensors (creating dir;
 * both files atomic), tensors in dtype ST_F32 or ST_BF16. Every module must be targeted by
 * ad->cfg (PEFT could not load it otherwise) and have A and B. Only reads ad: a caller may point
 * mods[i].A/B at its own buffers. 0 ok, -1 with err_set. */
int adapter_save(const Adapter *ad, const char *dir, StDtype dtype);
/* adapter_add: a new module with zeroed A (r, in) and B (out, r), r from ad->cfg; the pointer
 * is valid until the next adapter_add. NULL with err_set when the name is already present or
 * in/out are not positive. */
AdapterModule *adapter_add(Adapter *ad, const char *module, int in, int out);
/* adapter_find: the module named module, or NULL. */
AdapterModule *adapter_find(const Adapter *ad, const char *module);
void adapter_free(Adapter *ad);  /* frees config, names, A and B; safe on a zeroed struct */

/* adapter_module_dims: in/out features of a Llama-family linear layer named like
 * "model.layers.L.self_attn.{q,k,v,o}_proj" or "model.layers.L.mlp.{gate,up,down}_proj".
 * 0 ok; -1 with err_set for other names or L out of range. */
int adapter_module_dims(const ModelConfig *m, const char *module, int *in, int *out);
/* adapter_check_model: every module of ad is a linear layer of m with matching in/out.
 * 0 ok; -1 with err_set("adapter: module <name>: <fact>"). */
int adapter_check_model(const Adapter *ad, const ModelConfig *m);

#endif
