/* hfconfig.c: Hugging Face config.json reader and writer (see hfconfig.h).
 *
 * The reader is strict where a silent default would change the maths (architecture, rope,
 * activation, biases, sizes) and lenient about keys that do not (initializer_range, use_cache,
 * ...). Every error names the file and the field. The writer emits transformers 4.x conventions
 * with keys sorted, as PretrainedConfig.to_json_string(sort_keys=True) does. */
#include "hfconfig.h"
#include "json_util.h"
#include "util.h"

#include <cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* max_position_embeddings defaults of LlamaConfig (2048), MistralConfig (4096 * 32) and
 * Qwen2Config (32768); sliding_window defaults of MistralConfig and Qwen2Config (4096). */
static const struct {
	ModelArch arch;
	const char *name, *type;
	int max_pos;
} archs[] = {
	{ ARCH_LLAMA, "LlamaForCausalLM", "llama", 2048 },
	{ ARCH_MISTRAL, "MistralForCausalLM", "mistral", 4096 * 32 },
	{ ARCH_QWEN2, "Qwen2ForCausalLM", "qwen2", 32768 },
};
#define N_ARCHS ((int)(sizeof archs / sizeof archs[0]))
#define DEFAULT_SLIDING_WINDOW 4096

const char *config_arch_name(ModelArch arch)
{
	for (int i = 0; i < N_ARCHS; i++)
		if (archs[i].arch == arch)
			return archs[i].name;
	return "?";
}

const char *config_model_type(ModelArch arch)
{
	for (int i = 0; i < N_ARCHS; i++)
		if (archs[i].arch == arch)
			return archs[i].type;
	return "?";
}

void config_default(ModelConfig *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->arch = ARCH_LLAMA;
	cfg->rms_norm_eps = 1e-6;
	cfg->rope_theta = 10000.0;
	cfg->bos_token_id = -1;
	snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "float32");
}

/* ---- typed field access; every error names path and field ---- */

#define Q(s) err_quote((s), 0)          /* a string from the file, fit for a one-line message */

static const cJSON *get(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int absent(const cJSON *j) { return !j || cJSON_IsNull(j); }

enum { F_REQUIRED = 1, F_POSITIVE = 2, F_NONNEG = 4 };

static int json_int(const cJSON *j, const char *path, const char *field, int flags, int *out)
{
	if (!cJSON_IsNumber(j))
		return err_set("%s: field \"%s\": expected an integer, got %s", path, field,
			       json_type_name(j));
	double v = j->valuedouble;
	if (!isfinite(v) || v != floor(v))
		return err_set("%s: field \"%s\": expected an integer, got %.17g", path, field, v);
	if (v < INT_MIN || v > INT_MAX)
		return err_set("%s: field \"%s\": %.17g is out of range", path, field, v);
	if ((flags & F_POSITIVE) && v <= 0)
		return err_set("%s: field \"%s\": must be positive, got %d", path, field, (int)v);
	if ((flags & F_NONNEG) && v < 0)
		return err_set("%s: field \"%s\": must not be negative, got %d", path, field, (int)v);
	*out = (int)v;
	return 0;
}

/* field_int: absent or null gives dflt (an error when F_REQUIRED). */
static int field_int(const cJSON *root, const char *path, const char *key, int flags, int dflt,
		     int *out)
{
	const cJSON *j = get(root, key);
	if (absent(j)) {
		if (flags & F_REQUIRED)
			return err_set("%s: field \"%s\": missing (required)", path, key);
		*out = dflt;
		return 0;
	}
	return json_int(j, path, key, flags, out);
}

static int json_positive_double(const cJSON *j, const char *path, const char *field, double *out)
{
	if (!cJSON_IsNumber(j))
		return err_set("%s: field \"%s\": expected a number, got %s", path, field,
			       json_type_name(j));
	if (!isfinite(j->valuedouble) || j->valuedouble <= 0)
		return err_set("%s: field \"%s\": must be a positive finite number, got %.17g",
			       path, field, j->valuedouble);
	*out = j->valuedouble;
	return 0;
}

static int field_bool(const cJSON *root, const char *path, const char *key, int dflt, int *out)
{
	const cJSON *j = get(root, key);
	if (absent(j)) {
		*out = dflt;
		return 0;
	}
	if (!cJSON_IsBool(j))
		return err_set("%s: field \"%s\": expected true or false, got %s", path, key,
			       json_type_name(j));
	*out = cJSON_IsTrue(j);
	return 0;
}

/* field_str: *out = the string, or NULL when absent or null. */
static int field_str(const cJSON *obj, const char *path, const char *field, const char *key,
		     const char **out)
{
	const cJSON *j = get(obj, key);
	*out = NULL;
	if (absent(j))
		return 0;
	if (!cJSON_IsString(j))
		return err_set("%s: field \"%s\": expected a string, got %s", path, field,
			       json_type_name(j));
	*out = j->valuestring;
	return 0;
}

/* Python's json keeps the last of duplicate keys, cJSON the first: refuse to guess. */
static int check_duplicates(const cJSON *root, const char *path)
{
	const char *dup = json_dup_key(root);
	if (dup)
		return err_set("%s: field \"%s\": appears more than once", path, Q(dup));
	return 0;
}

/* ---- the parts of the config ---- */

static int find_arch(const char *s, int by_type)
{
	for (int i = 0; i < N_ARCHS; i++)
		if (strcmp(s, by_type ? archs[i].type : archs[i].name) == 0)
			return i;
	return -1;
}

/* "architectures" (a list of one class name) decides; "model_type" alone is accepted, and
 * when both are given they must agree. Returns the archs[] index or -1. */
static int parse_arch(const cJSON *root, const char *path)
{
	const cJSON *a = get(root, "architectures");
	const char *name = NULL, *type = NULL;
	if (!absent(a)) {
		if (!cJSON_IsArray(a))
			return err_set("%s: field \"architectures\": expected a list of strings, got %s",
				       path, json_type_name(a));
		int n = cJSON_GetArraySize(a);
		if (n > 1)
			return err_set("%s: field \"architectures\": lists %d architectures, expected one",
				       path, n);
		if (n == 1) {
			if (!cJSON_IsString(a->child))
				return err_set("%s: field \"architectures\": expected a list of strings, got a list holding %s",
					       path, json_type_name(a->child));
			name = a->child->valuestring;
		}
	}
	if (field_str(root, path, "model_type", "model_type", &type))
		return -1;
	int ai = name ? find_arch(name, 0) : -1, ti = type ? find_arch(type, 1) : -1;
	if (name && ai < 0)
		return err_set("%s: field \"architectures\": unsupported architecture \"%s\" (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)",
			       path, Q(name));
	if (!name && type && ti < 0)
		return err_set("%s: field \"model_type\": unsupported model type \"%s\" (supported: llama, mistral, qwen2)",
			       path, Q(type));
	if (name && type && ti != ai)
		return err_set("%s: field \"model_type\": \"%s\" does not match architectures \"%s\"",
			       path, Q(type), Q(name));
	if (!name && !type)
		return err_set("%s: field \"architectures\": missing, and no \"model_type\" either",
			       path);
	return name ? ai : ti;
}

/* rope_type "default" (or the older key "type") is plain RoPE; anything else rescales the
 * frequencies (linear, dynamic, yarn, llama3, ...), which the engine does not do. */
static int check_rope_type(const cJSON *obj, const char *path, const char *field)
{
	const char *t = NULL, *t2 = NULL;
	char sub[64];
	snprintf(sub, sizeof sub, "%s.rope_type", field);
	if (field_str(obj, path, sub, "rope_type", &t))
		return -1;
	snprintf(sub, sizeof sub, "%s.type", field);
	if (field_str(obj, path, sub, "type", &t2))
		return -1;
	if (!t)
		t = t2;
	if (!t)
		return err_set("%s: field \"%s\": has no rope_type; only plain RoPE (rope_type \"default\") is supported",
			       path, field);
	if (strcmp(t, "default") != 0)
		return err_set("%s: field \"%s\": rope_type \"%s\" is not supported (only \"default\")",
			       path, field, Q(t));
	return 0;
}

/* rope_theta: top level (transformers 4) or inside rope_parameters (transformers 5); if both
 * are given they must agree. rope_scaling must be null or say rope_type "default". */
static int parse_rope(ModelConfig *cfg, const cJSON *root, const char *path)
{
	const cJSON *sc = get(root, "rope_scaling"), *rp = get(root, "rope_parameters");
	const cJSON *top = get(root, "rope_theta");
	double theta_top = 0, theta_rp = 0;
	if (!absent(sc)) {
		if (!cJSON_IsObject(sc))
			return err_set("%s: field \"rope_scaling\": expected null or an object, got %s",
				       path, json_type_name(sc));
		if (check_rope_type(sc, path, "rope_scaling"))
			return -1;
	}
	if (!absent(top) && json_positive_double(top, path, "rope_theta", &theta_top))
		return -1;
	if (!absent(rp)) {
		if (!cJSON_IsObject(rp))
			return err_set("%s: field \"rope_parameters\": expected an object, got %s",
				       path, json_type_name(rp));
		if (check_rope_type(rp, path, "rope_parameters"))
			return -1;
		const cJSON *t = get(rp, "rope_theta");
		if (!absent(t) && json_positive_double(t, path, "rope_parameters.rope_theta", &theta_rp))
			return -1;
	}
	if (theta_top > 0 && theta_rp > 0 && theta_top != theta_rp)
		return err_set("%s: field \"rope_parameters.rope_theta\": %.17g disagrees with rope_theta %.17g",
			       path, theta_rp, theta_top);
	cfg->rope_theta = theta_rp > 0 ? theta_rp : theta_top > 0 ? theta_top : 10000.0;
	return 0;
}

static int parse_eos(ModelConfig *cfg, const cJSON *root, const char *path)
{
	const cJSON *e = get(root, "eos_token_id");
	cfg->n_eos = 0;
	if (absent(e))
		return 0;
	if (cJSON_IsNumber(e)) {
		cfg->n_eos = 1;
		return json_int(e, path, "eos_token_id", F_NONNEG, &cfg->eos_token_ids[0]);
	}
	if (!cJSON_IsArray(e))
		return err_set("%s: field \"eos_token_id\": expected an integer or a list of integers, got %s",
			       path, json_type_name(e));
	int n = cJSON_GetArraySize(e), i = 0;
	if (n > CONFIG_MAX_EOS)
		return err_set("%s: field \"eos_token_id\": %d ids, at most %d supported", path, n,
			       CONFIG_MAX_EOS);
	for (const cJSON *c = e->child; c; c = c->next, i++) {
		char field[48];
		snprintf(field, sizeof field, "eos_token_id[%d]", i);
		if (json_int(c, path, field, F_NONNEG, &cfg->eos_token_ids[i]))
			return -1;
	}
	cfg->n_eos = n;
	return 0;
}

static int parse_sizes(ModelConfig *cfg, const cJSON *root, const char *path, int max_pos)
{
	const int R = F_REQUIRED | F_POSITIVE;
	if (field_int(root, path, "hidden_size", R, 0, &cfg->hidden_size) ||
	    field_int(root, path, "intermediate_size", R, 0, &cfg->intermediate_size) ||
	    field_int(root, path, "num_hidden_layers", R, 0, &cfg->num_hidden_layers) ||
	    field_int(root, path, "num_attention_heads", R, 0, &cfg->num_attention_heads) ||
	    field_int(root, path, "vocab_size", R, 0, &cfg->vocab_size) ||
	    field_int(root, path, "num_key_value_heads", F_POSITIVE, cfg->num_attention_heads,
		      &cfg->num_key_value_heads) ||
	    field_int(root, path, "max_position_embeddings", F_POSITIVE, max_pos,
		      &cfg->max_position_embeddings))
		return -1;
	if (absent(get(root, "head_dim"))) {
		if (cfg->hidden_size % cfg->num_attention_heads != 0)
			return err_set("%s: field \"num_attention_heads\": %d does not divide hidden_size %d and head_dim is not given",
				       path, cfg->num_attention_heads, cfg->hidden_size);
		cfg->head_dim = cfg->hidden_size / cfg->num_attention_heads;
	} else if (field_int(root, path, "head_dim", F_POSITIVE, 0, &cfg->head_dim)) {
		return -1;
	}
	const cJSON *eps = get(root, "rms_norm_eps");
	cfg->rms_norm_eps = 1e-6;
	if (!absent(eps) && json_positive_double(eps, path, "rms_norm_eps", &cfg->rms_norm_eps))
		return -1;
	return 0;
}

/* Biases and activation: what the engine cannot compute is an error, not a silent default. */
static int parse_layers(ModelConfig *cfg, const cJSON *root, const char *path)
{
	const char *act;
	int mlp_bias, attn_bias;
	if (field_str(root, path, "hidden_act", "hidden_act", &act))
		return -1;
	if (act && strcmp(act, "silu") != 0)
		return err_set("%s: field \"hidden_act\": \"%s\" is not supported (only \"silu\")",
			       path, Q(act));
	if (field_bool(root, path, "mlp_bias", 0, &mlp_bias) ||
	    field_bool(root, path, "attention_bias", 0, &attn_bias) ||
	    field_bool(root, path, "tie_word_embeddings", 0, &cfg->tie_word_embeddings))
		return -1;
	if (mlp_bias)
		return err_set("%s: field \"mlp_bias\": true is not supported (the engine's MLP has no biases)",
			       path);
	cfg->attention_bias = 0;
	cfg->qkv_bias = 0;
	switch (cfg->arch) {
	case ARCH_LLAMA:
		cfg->attention_bias = attn_bias;
		break;
	case ARCH_MISTRAL:
		if (attn_bias)
			return err_set("%s: field \"attention_bias\": true is not supported for MistralForCausalLM (transformers' Mistral attention has no biases)",
				       path);
		break;
	case ARCH_QWEN2:
		cfg->qkv_bias = 1;  /* Qwen2Attention: q/k/v Linear(bias=True), o_proj without */
		break;
	}
	if (get(root, "quantization_config") && !cJSON_IsNull(get(root, "quantization_config")))
		return err_set("%s: field \"quantization_config\": quantized checkpoints are not supported",
			       path);
	return 0;
}

/* Mistral: sliding_window (absent: 4096, null: none). Qwen2: only when use_sliding_window. */
static int parse_window(ModelConfig *cfg, const cJSON *root, const char *path)
{
	const cJSON *sw = get(root, "sliding_window");
	int use = 0, w = 0;
	cfg->sliding_window = 0;
	if (cfg->arch == ARCH_LLAMA)
		return 0;
	if (cfg->arch == ARCH_MISTRAL) {
		if (!sw)
			w = DEFAULT_SLIDING_WINDOW;
		else if (!cJSON_IsNull(sw) && json_int(sw, path, "sliding_window", F_NONNEG, &w))
			return -1;
		cfg->sliding_window = w;
		return 0;
	}
	if (field_bool(root, path, "use_sliding_window", 0, &use) ||
	    field_int(root, path, "sliding_window", F_NONNEG, DEFAULT_SLIDING_WINDOW, &w))
		return -1;
	cfg->sliding_window = use ? w : 0;
	return 0;
}

static int parse_ids(ModelConfig *cfg, const cJSON *root, const char *path)
{
	const char *dt = NULL;
	const char *field = "dtype";  /* transformers 5 renamed torch_dtype to dtype */
	if (field_int(root, path, "bos_token_id", F_NONNEG, -1, &cfg->bos_token_id) ||
	    parse_eos(cfg, root, path) ||
	    field_str(root, path, "dtype", "dtype", &dt))
		return -1;
	if (!dt) {
		field = "torch_dtype";
		if (field_str(root, path, "torch_dtype", "torch_dtype", &dt))
			return -1;
	}
	cfg->torch_dtype[0] = 0;
	if (dt) {
		if (strlen(dt) >= sizeof cfg->torch_dtype)
			return err_set("%s: field \"%s\": \"%s\" is too long for a dtype name", path,
				       field, err_quote(dt, 40));
		snprintf(cfg->torch_dtype, sizeof cfg->torch_dtype, "%s", dt);
	}
	return 0;
}

int config_parse(ModelConfig *cfg, const char *text, size_t n, const char *name)
{
	int ret = -1;
	size_t bad;
	char why[256];
	config_default(cfg);
	if (utf8_check(text, n, &bad))
		return err_set("%s:%d: invalid UTF-8 at byte offset %zu", name, text_line_of(text, bad), bad);
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, n, &end, 0);
	if (!root) {
		size_t off = end && end >= text && end <= text + n ? (size_t)(end - text) : 0;
		char near[32];
		size_t k = 0;
		for (; off + k < n && k < 24 && text[off + k] != '\n' && text[off + k] != 0; k++)
			near[k] = text[off + k];
		near[k] = 0;
		return err_set("%s:%d: not valid JSON near '%s'", name, text_line_of(text, off), Q(near));
	}
	for (; end < text + n; end++)
		if (*end != ' ' && *end != '\t' && *end != '\r' && *end != '\n') {
			err_set("%s:%d: text after the JSON object", name, text_line_of(text, (size_t)(end - text)));
			goto out_free_root;
		}
	if (!cJSON_IsObject(root)) {
		err_set("%s: expected a JSON object, got %s", name, json_type_name(root));
		goto out_free_root;
	}
	if (check_duplicates(root, name))
		goto out_free_root;
	int ai = parse_arch(root, name);
	if (ai < 0)
		goto out_free_root;
	cfg->arch = archs[ai].arch;
	if (parse_sizes(cfg, root, name, archs[ai].max_pos) || parse_layers(cfg, root, name) ||
	    parse_window(cfg, root, name) || parse_rope(cfg, root, name) ||
	    parse_ids(cfg, root, name))
		goto out_free_root;
	if (config_validate(cfg, why, sizeof why)) {
		err_set("%s: %s", name, why);
		goto out_free_root;
	}
	ret = 0;
out_free_root:
	cJSON_Delete(root);
	return ret;
}

int config_load(ModelConfig *cfg, const char *path)
{
	size_t n;
	char *text = file_read_all(path, &n);
	if (!text)
		return -1;
	int ret = config_parse(cfg, text, n, path);
	free(text);
	return ret;
}

int config_load_dir(ModelConfig *cfg, const char *dir)
{
	char *path = path_join(dir, "config.json");
	int ret = config_load(cfg, path);
	free(path);
	return ret;
}

/* ---- validation ---- */

#define BAD(...) do { if (why && n) snprintf(why, n, __VA_ARGS__); return -1; } while (0)

int config_validate(const ModelConfig *cfg, char *why, size_t n)
{
	const struct { const char *name; int v; } pos[] = {
		{ "hidden_size", cfg->hidden_size },
		{ "intermediate_size", cfg->intermediate_size },
		{ "num_hidden_layers", cfg->num_hidden_layers },
		{ "num_attention_heads", cfg->num_attention_heads },
		{ "num_key_value_heads", cfg->num_key_value_heads },
		{ "head_dim", cfg->head_dim },
		{ "vocab_size", cfg->vocab_size },
		{ "max_position_embeddings", cfg->max_position_embeddings },
	};
	if (strcmp(config_arch_name(cfg->arch), "?") == 0)
		BAD("field \"architectures\": unknown ModelArch value %d", (int)cfg->arch);
	for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
		if (pos[i].v <= 0)
			BAD("field \"%s\": must be positive, got %d", pos[i].name, pos[i].v);
	if (cfg->num_key_value_heads > cfg->num_attention_heads)
		BAD("field \"num_key_value_heads\": %d exceeds num_attention_heads %d",
		    cfg->num_key_value_heads, cfg->num_attention_heads);
	if (cfg->num_attention_heads % cfg->num_key_value_heads != 0)
		BAD("field \"num_key_value_heads\": %d does not divide num_attention_heads %d",
		    cfg->num_key_value_heads, cfg->num_attention_heads);
	if (cfg->head_dim % 2 != 0)
		BAD("field \"head_dim\": %d is odd; rotary embeddings rotate halves of each head",
		    cfg->head_dim);
	if ((long long)cfg->num_attention_heads * cfg->head_dim > INT_MAX)
		BAD("field \"head_dim\": num_attention_heads * head_dim = %lld is too large",
		    (long long)cfg->num_attention_heads * cfg->head_dim);
	if (!isfinite(cfg->rms_norm_eps) || cfg->rms_norm_eps <= 0)
		BAD("field \"rms_norm_eps\": must be a positive finite number, got %g", cfg->rms_norm_eps);
	if (!isfinite(cfg->rope_theta) || cfg->rope_theta <= 0)
		BAD("field \"rope_theta\": must be a positive finite number, got %g", cfg->rope_theta);
	if (cfg->tie_word_embeddings != 0 && cfg->tie_word_embeddings != 1)
		BAD("field \"tie_word_embeddings\": must be 0 or 1, got %d", cfg->tie_word_embeddings);
	if (cfg->bos_token_id < -1 || cfg->bos_token_id >= cfg->vocab_size)
		BAD("field \"bos_token_id\": %d is outside the vocabulary (vocab_size %d)",
		    cfg->bos_token_id, cfg->vocab_size);
	if (cfg->n_eos < 0 || cfg->n_eos > CONFIG_MAX_EOS)
		BAD("field \"eos_token_id\": %d ids, expected 0 to %d", cfg->n_eos, CONFIG_MAX_EOS);
	for (int i = 0; i < cfg->n_eos; i++)
		if (cfg->eos_token_ids[i] < 0 || cfg->eos_token_ids[i] >= cfg->vocab_size)
			BAD("field \"eos_token_id\": %d is outside the vocabulary (vocab_size %d)",
			    cfg->eos_token_ids[i], cfg->vocab_size);
	if (cfg->sliding_window < 0)
		BAD("field \"sliding_window\": must not be negative, got %d", cfg->sliding_window);
	switch (cfg->arch) {
	case ARCH_LLAMA:
		if (cfg->qkv_bias)
			BAD("field \"qkv_bias\": LlamaForCausalLM has no q/k/v-only biases (use attention_bias)");
		if (cfg->attention_bias != 0 && cfg->attention_bias != 1)
			BAD("field \"attention_bias\": must be 0 or 1, got %d", cfg->attention_bias);
		break;
	case ARCH_MISTRAL:
		if (cfg->qkv_bias || cfg->attention_bias)
			BAD("field \"attention_bias\": MistralForCausalLM has no attention biases");
		break;
	case ARCH_QWEN2:
		if (cfg->qkv_bias != 1 || cfg->attention_bias)
			BAD("field \"qkv_bias\": Qwen2ForCausalLM always has q/k/v biases and no o_proj bias");
		break;
	}
	if (!memchr(cfg->torch_dtype, 0, sizeof cfg->torch_dtype))
		BAD("field \"torch_dtype\": not NUL-terminated");
	return 0;
}

/* ---- writer ---- */

/* Shortest text that reads back to the same double, always with a '.' or an exponent so
 * Python's json gives a float (rope_theta 10000 must not become the int 10000). */
static void fmt_double(char *buf, size_t n, double v)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (!strpbrk(buf, ".eEni"))
		strncat(buf, ".0", n - strlen(buf) - 1);
}

typedef struct {
	const char *key;
	char val[160];
} Entry;

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const Entry *)a)->key, ((const Entry *)b)->key);
}

#define ADD(k, ...) do { \
	e[ne].key = (k); \
	snprintf(e[ne].val, sizeof e[ne].val, __VA_ARGS__); \
	ne++; \
} while (0)

char *config_to_json(const ModelConfig *cfg)
{
	Entry e[40];
	int ne = 0;
	char eps[40], theta[40], eos[160];
	const char *dt = cfg->torch_dtype;
	if (strcmp(dt, "float32") != 0 && strcmp(dt, "float16") != 0 && strcmp(dt, "bfloat16") != 0)
		dt = "float32";
	fmt_double(eps, sizeof eps, cfg->rms_norm_eps);
	fmt_double(theta, sizeof theta, cfg->rope_theta);
	if (cfg->n_eos <= 0) {
		snprintf(eos, sizeof eos, "null");
	} else if (cfg->n_eos == 1) {
		snprintf(eos, sizeof eos, "%d", cfg->eos_token_ids[0]);
	} else {
		size_t k = (size_t)snprintf(eos, sizeof eos, "[");
		for (int i = 0; i < cfg->n_eos && i < CONFIG_MAX_EOS && k < sizeof eos; i++)
			k += (size_t)snprintf(eos + k, sizeof eos - k, "%s%d", i ? ", " : "",
					      cfg->eos_token_ids[i]);
		if (k < sizeof eos)
			snprintf(eos + k, sizeof eos - k, "]");
	}
	ADD("architectures", "[\n    \"%s\"\n  ]", config_arch_name(cfg->arch));
	ADD("attention_dropout", "0.0");
	if (cfg->bos_token_id >= 0)
		ADD("bos_token_id", "%d", cfg->bos_token_id);
	else
		ADD("bos_token_id", "null");
	ADD("eos_token_id", "%s", eos);
	ADD("head_dim", "%d", cfg->head_dim);
	ADD("hidden_act", "\"silu\"");
	ADD("hidden_size", "%d", cfg->hidden_size);
	ADD("initializer_range", "0.02");
	ADD("intermediate_size", "%d", cfg->intermediate_size);
	ADD("max_position_embeddings", "%d", cfg->max_position_embeddings);
	ADD("model_type", "\"%s\"", config_model_type(cfg->arch));
	ADD("num_attention_heads", "%d", cfg->num_attention_heads);
	ADD("num_hidden_layers", "%d", cfg->num_hidden_layers);
	ADD("num_key_value_heads", "%d", cfg->num_key_value_heads);
	ADD("rms_norm_eps", "%s", eps);
	ADD("rope_scaling", "null");
	ADD("rope_theta", "%s", theta);
	ADD("tie_word_embeddings", "%s", cfg->tie_word_embeddings ? "true" : "false");
	ADD("torch_dtype", "\"%s\"", dt);
	ADD("transformers_version", "\"%s\"", CONFIG_TRANSFORMERS_VERSION);
	ADD("use_cache", "true");
	ADD("vocab_size", "%d", cfg->vocab_size);
	if (cfg->arch == ARCH_LLAMA) {
		ADD("attention_bias", "%s", cfg->attention_bias ? "true" : "false");
		ADD("mlp_bias", "false");
		ADD("pretraining_tp", "1");
	} else if (cfg->arch == ARCH_MISTRAL) {
		if (cfg->sliding_window > 0)
			ADD("sliding_window", "%d", cfg->sliding_window);
		else
			ADD("sliding_window", "null");
	} else if (cfg->arch == ARCH_QWEN2) {
		ADD("max_window_layers", "%d", cfg->num_hidden_layers);
		ADD("sliding_window", "%d",
		    cfg->sliding_window > 0 ? cfg->sliding_window : DEFAULT_SLIDING_WINDOW);
		ADD("use_sliding_window", "%s", cfg->sliding_window > 0 ? "true" : "false");
	}
	qsort(e, (size_t)ne, sizeof e[0], cmp_entry);
	size_t cap = 64;
	for (int i = 0; i < ne; i++)
		cap += strlen(e[i].key) + strlen(e[i].val) + 8;
	char *out = xmalloc(cap);
	size_t k = (size_t)snprintf(out, cap, "{\n");
	for (int i = 0; i < ne; i++)
		k += (size_t)snprintf(out + k, cap - k, "  \"%s\": %s%s\n", e[i].key, e[i].val,
				      i + 1 < ne ? "," : "");
	snprintf(out + k, cap - k, "}\n");
	return out;
}

int config_save(const ModelConfig *cfg, const char *path)
{
	char why[256];
	if (config_validate(cfg, why, sizeof why))
		return err_set("%s: not written: %s", path, why);
	char *text = config_to_json(cfg);
	int ret = file_write_atomic(path, text, strlen(text));
	free(text);
	return ret;
}

int config_save_dir(const ModelConfig *cfg, const char *dir)
{
	char *path = path_join(dir, "config.json");
	int ret = config_save(cfg, path);
	free(path);
	return ret;
}
