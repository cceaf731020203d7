/* adapter.c: see adapter.h. PEFT LoRA folders: config parsing and targeting (list suffix
 * match or PCRE2 full match, as PEFT's check_target_module_exists), tensor key parsing, shape
 * checks, and saving. It does not apply adapters to weights: the engine does that. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "adapter.h"
#include "lora.h"
#include "util.h"

#include <cJSON.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_PREFIX "base_model.model."
#define KEY_A ".lora_A.weight"
#define KEY_B ".lora_B.weight"
#define Q(s) err_quote((s), 0)          /* a name from a file, fit for a one-line message */

/* Sane ranges, checked when a config is read and when one is saved: the engine's own
 * (kernels/lora.h), so an adapter the trainer can make is one this file can write. PEFT's checks
 * are looser, but a rank past 65536 or an alpha past 1e6 is a typo or an attack, and an
 * infinite alpha (JSON 1e309 reads as one) would make every update infinite. */
#define R_MAX LORA_R_MAX
#define ALPHA_MAX LORA_ALPHA_MAX

/* PEFT's "all-linear" for a decoder-only Llama: every nn.Linear except the output layer. */
static const char *const all_linear[] = {"q_proj", "k_proj", "v_proj", "o_proj",
					 "gate_proj", "up_proj", "down_proj"};

static void clear_targets(AdapterConfig *c)
{
	for (int i = 0; i < c->n_targets; i++)
		free(c->targets[i]);
	free(c->targets);
	free(c->target_regex);
	pcre2_code_free(c->re_code_);
	c->targets = NULL;
	c->n_targets = 0;
	c->target_regex = NULL;
	c->re_code_ = NULL;
}

void adapter_config_init(AdapterConfig *c, int r, double lora_alpha)
{
	memset(c, 0, sizeof *c);
	c->r = r;
	c->lora_alpha = lora_alpha;
}

int adapter_config_set_list(AdapterConfig *c, const char *const *names, int n)
{
	if (n < 1)
		return err_set("adapter config: target_modules is an empty list");
	for (int i = 0; i < n; i++)
		if (!names[i] || !*names[i])
			return err_set("adapter config: target_modules entry %d is empty", i);
	clear_targets(c);
	c->targets = xmalloc((size_t)n * sizeof(char *));
	for (int i = 0; i < n; i++)
		c->targets[i] = xstrdup(names[i]);
	c->n_targets = n;
	return 0;
}

int adapter_config_set_regex(AdapterConfig *c, const char *regex)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code,
				       &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof msg);
		return err_set("adapter config: target_modules regex \"%s\" does not compile at "
			       "offset %zu: %s", Q(regex), (size_t)off, (const char *)msg);
	}
	clear_targets(c);
	c->target_regex = xstrdup(regex);
	c->re_code_ = re;
	return 0;
}

void adapter_config_set_base(AdapterConfig *c, const char *name)
{
	free(c->base_model);
	c->base_model = name ? xstrdup(name) : NULL;
}

void adapter_config_free(AdapterConfig *c)
{
	if (!c)
		return;
	clear_targets(c);
	free(c->base_model);
	memset(c, 0, sizeof *c);
}

int adapter_targets(const AdapterConfig *c, const char *module)
{
	if (!c || !module)
		return 0;
	if (c->re_code_) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(c->re_code_, NULL);
		int rc = pcre2_match(c->re_code_, (PCRE2_SPTR)module, PCRE2_ZERO_TERMINATED, 0,
				     PCRE2_ANCHORED | PCRE2_ENDANCHORED, md, NULL);
		pcre2_match_data_free(md);
		return rc >= 0;
	}
	size_t n = strlen(module);
	for (int i = 0; i < c->n_targets; i++) {
		const char *t = c->targets[i];
		size_t k = strlen(t);
		if (strcmp(module, t) == 0 ||
		    (n > k && module[n - k - 1] == '.' && strcmp(module + n - k, t) == 0))
			return 1;
	}
	return 0;
}

double adapter_scaling(const AdapterConfig *c)
{
	return c->use_rslora ? c->lora_alpha / sqrt((double)c->r) : c->lora_alpha / c->r;
}

/* ---- adapter_config.json -------------------------------------------------------------- */

static int is_null_or_absent(const cJSON *j) { return !j || cJSON_IsNull(j); }

/* is_empty_value: null, absent, false, {} or []: a PEFT option left at its default. */
static int is_empty_value(const cJSON *j)
{
	return is_null_or_absent(j) || cJSON_IsFalse(j) ||
	       ((cJSON_IsObject(j) || cJSON_IsArray(j)) && !j->child);
}

static int get_number(const cJSON *root, const char *key, double def, double *out,
		      const char *path)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, key);
	if (is_null_or_absent(j)) {
		*out = def;
		return 0;
	}
	if (!cJSON_IsNumber(j))
		return err_set("%s: %s is not a number", path, Q(key));
	if (!isfinite(j->valuedouble))      /* cJSON reads 1e309 as infinity */
		return err_set("%s: %s is not a finite number (%g)", path, Q(key), j->valuedouble);
	*out = j->valuedouble;
	return 0;
}

/* check_ranges: r, lora_alpha and lora_dropout within the sane ranges above; where names the
 * file for the message. */
static int check_ranges(const AdapterConfig *c, const char *where)
{
	if (c->r < 1 || c->r > R_MAX)
		return err_set("%s: r %d is outside [1, %d]", where, c->r, R_MAX);
	if (!(c->lora_alpha > 0 && c->lora_alpha <= ALPHA_MAX))
		return err_set("%s: lora_alpha %.15g is outside (0, %g]", where, c->lora_alpha,
			       ALPHA_MAX);
	if (!(c->lora_dropout >= 0 && c->lora_dropout < 1))
		return err_set("%s: lora_dropout %.15g is outside [0, 1)", where, c->lora_dropout);
	return 0;
}

/* add_exact_number: key = d as the shortest of %.15g/%.16g/%.17g that strtod reads back to d
 * exactly (cJSON's own printing allows an ulp of drift). d must be finite. */
static void add_exact_number(cJSON *o, const char *key, double d)
{
	char buf[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	cJSON_AddRawToObject(o, key, buf);
}

static int parse_targets(AdapterConfig *c, const cJSON *j, const char *path)
{
	if (is_null_or_absent(j))
		return err_set("%s: target_modules is missing (PEFT infers it from the model type; "
			       "write the list out)", path);
	if (cJSON_IsString(j)) {
		if (strcmp(j->valuestring, "all-linear") == 0)
			return adapter_config_set_list(c, all_linear, 7);
		if (adapter_config_set_regex(c, j->valuestring) != 0)
			return err_prefix("%s", path);
		return 0;
	}
	if (!cJSON_IsArray(j) || !j->child)
		return err_set("%s: target_modules is neither a non-empty list nor a regex string",
			       path);
	int n = cJSON_GetArraySize(j), i = 0;
	const char **names = xmalloc((size_t)n * sizeof(char *));
	for (const cJSON *e = j->child; e; e = e->next, i++) {
		if (!cJSON_IsString(e) || !*e->valuestring) {
			free(names);
			return err_set("%s: target_modules entry %d is not a non-empty string", path,
				       i);
		}
		names[i] = e->valuestring;
	}
	int r = adapter_config_set_list(c, names, n);
	free(names);
	return r;
}

static int parse_config(AdapterConfig *c, const cJSON *root, const char *path)
{
	if (!cJSON_IsObject(root))
		return err_set("%s: not a JSON object", path);
	/* cJSON keeps duplicate keys and finds the first, Python's json the last: refuse */
	for (const cJSON *a = root->child; a; a = a->next)
		for (const cJSON *b = a->next; b; b = b->next)
			if (strcmp(a->string, b->string) == 0)
				return err_set("%s: key \"%s\" appears twice", path, Q(a->string));
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "peft_type");
	if (!cJSON_IsString(j))
		return err_set("%s: peft_type is missing or not a string", path);
	if (strcmp(j->valuestring, "LORA") != 0)
		return err_set("%s: peft_type is \"%s\"; only LORA adapters are supported", path,
			       Q(j->valuestring));
	j = cJSON_GetObjectItemCaseSensitive(root, "r");
	if (!cJSON_IsNumber(j) || j->valuedouble != floor(j->valuedouble))
		return err_set("%s: r is missing or not an integer", path);
	if (!(j->valuedouble >= 1 && j->valuedouble <= R_MAX))
		return err_set("%s: r %g is outside [1, %d]", path, j->valuedouble, R_MAX);
	c->r = (int)j->valuedouble;
	if (get_number(root, "lora_alpha", 8, &c->lora_alpha, path) ||
	    get_number(root, "lora_dropout", 0, &c->lora_dropout, path) ||
	    check_ranges(c, path))
		return -1;
	j = cJSON_GetObjectItemCaseSensitive(root, "bias");
	if (!is_null_or_absent(j) && (!cJSON_IsString(j) || strcmp(j->valuestring, "none") != 0))
		return err_set("%s: bias must be \"none\" (trained biases are not supported)", path);
	j = cJSON_GetObjectItemCaseSensitive(root, "task_type");
	if (!is_null_or_absent(j) && (!cJSON_IsString(j) || strcmp(j->valuestring, "CAUSAL_LM")))
		return err_set("%s: task_type must be \"CAUSAL_LM\"", path);
	j = cJSON_GetObjectItemCaseSensitive(root, "use_rslora");
	if (!is_null_or_absent(j) && !cJSON_IsBool(j))
		return err_set("%s: use_rslora is not true or false", path);
	c->use_rslora = cJSON_IsTrue(j);
	static const char *const unsupported[] = {
		"fan_in_fan_out", "use_dora", "lora_bias", "rank_pattern", "alpha_pattern",
		"layers_to_transform", "layers_pattern", "modules_to_save", "exclude_modules",
		"layer_replication", "trainable_token_indices",
	};
	for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
		j = cJSON_GetObjectItemCaseSensitive(root, unsupported[i]);
		if (!is_empty_value(j))
			return err_set("%s: %s is set; only plain LoRA with its defaults (null, false, "
				       "{} or []) is supported", path, unsupported[i]);
	}
	j = cJSON_GetObjectItemCaseSensitive(root, "base_model_name_or_path");
	if (!is_null_or_absent(j) && !cJSON_IsString(j))
		return err_set("%s: base_model_name_or_path is not a string", path);
	adapter_config_set_base(c, cJSON_IsString(j) ? j->valuestring : NULL);
	return parse_targets(c, cJSON_GetObjectItemCaseSensitive(root, "target_modules"), path);
}

int adapter_config_load(AdapterConfig *c, const char *path)
{
	memset(c, 0, sizeof *c);
	char *text = file_read_all(path, NULL);
	if (!text)
		return -1;
	int ret = -1;
	cJSON *root = cJSON_Parse(text);
	if (!root)
		err_set("%s: not valid JSON", path);
	else
		ret = parse_config(c, root, path);
	cJSON_Delete(root);
	free(text);
	if (ret != 0)
		adapter_config_free(c);
	return ret;
}

int adapter_config_save(const AdapterConfig *c, const char *path)
{
	if (!c->n_targets && !c->target_regex)
		return err_set("%s: adapter config needs target_modules", path);
	if (check_ranges(c, path))
		return -1;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "alpha_pattern", cJSON_CreateObject());
	if (c->base_model)
		cJSON_AddStringToObject(o, "base_model_name_or_path", c->base_model);
	else
		cJSON_AddNullToObject(o, "base_model_name_or_path");
	cJSON_AddStringToObject(o, "bias", "none");
	cJSON_AddFalseToObject(o, "fan_in_fan_out");
	cJSON_AddTrueToObject(o, "inference_mode");
	cJSON_AddTrueToObject(o, "init_lora_weights");
	cJSON_AddNullToObject(o, "layers_pattern");
	cJSON_AddNullToObject(o, "layers_to_transform");
	add_exact_number(o, "lora_alpha", c->lora_alpha);
	add_exact_number(o, "lora_dropout", c->lora_dropout);
	cJSON_AddNullToObject(o, "modules_to_save");
	cJSON_AddStringToObject(o, "peft_type", "LORA");
	cJSON_AddNumberToObject(o, "r", c->r);
	cJSON_AddItemToObject(o, "rank_pattern", cJSON_CreateObject());
	cJSON_AddNullToObject(o, "revision");
	if (c->target_regex) {
		cJSON_AddStringToObject(o, "target_modules", c->target_regex);
	} else {
		cJSON *a = cJSON_AddArrayToObject(o, "target_modules");
		for (int i = 0; i < c->n_targets; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(c->targets[i]));
	}
	cJSON_AddStringToObject(o, "task_type", "CAUSAL_LM");
	cJSON_AddFalseToObject(o, "use_dora");
	cJSON_AddBoolToObject(o, "use_rslora", c->use_rslora);
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	char *withnl = xasprintf("%s\n", text);
	int ret = file_write_atomic(path, withnl, strlen(withnl));
	free(withnl);
	cJSON_free(text);
	return ret;
}

/* ---- adapter folders ------------------------------------------------------------------ */

typedef struct {
	char *module;
	int which;          /* 0 = lora_A, 1 = lora_B */
	const StTensor *t;
} KeyRef;

static int cmp_keyref(const void *a, const void *b)
{
	const KeyRef *x = a, *y = b;
	int c = strcmp(x->module, y->module);
	return c ? c : x->which - y->which;
}

/* parse_key: "base_model.model.<module>.lora_{A,B}.weight" -> new module string, which. */
static char *parse_key(const char *key, int *which)
{
	size_t n = strlen(key), p = strlen(KEY_PREFIX), s = strlen(KEY_A);
	if (n <= p + s || strncmp(key, KEY_PREFIX, p) != 0)
		return NULL;
	if (strcmp(key + n - s, KEY_A) == 0)
		*which = 0;
	else if (strcmp(key + n - s, KEY_B) == 0)
		*which = 1;
	else
		return NULL;
	char *m = xmalloc(n - p - s + 1);
	memcpy(m, key + p, n - p - s);
	m[n - p - s] = 0;
	return m;
}

static int module_layer(const char *module)
{
	const char *s = strstr(module, "layers.");
	if (!s || (s != module && s[-1] != '.'))
		return -1;
	s += 7;
	long v = 0;
	int nd = 0;
	while (*s >= '0' && *s <= '9' && nd < 9)
		v = v * 10 + (*s++ - '0'), nd++;
	return nd && (*s == '.' || !*s) ? (int)v : -1;
}

static void shape_str(char *buf, size_t cap, const StTensor *t)
{
	size_t k = (size_t)snprintf(buf, cap, "(");
	for (int i = 0; i < t->ndim && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
	if (k < cap)
		snprintf(buf + k, cap - k, ")");
}

/* load_module: fills m from its A and B tensors (already known to exist). */
static int load_module(AdapterModule *m, const StTensor *A, const StTensor *B, int r,
		       const char *path)
{
	char sa[96], sb[96];
	shape_str(sa, sizeof sa, A);
	shape_str(sb, sizeof sb, B);
	if (A->ndim != 2 || A->shape[0] != r)
		return err_set("%s: tensor %s: shape %s is not (r=%d, in)", path, Q(A->name), sa, r);
	if (B->ndim != 2 || B->shape[1] != r)
		return err_set("%s: tensor %s: shape %s is not (out, r=%d)", path, Q(B->name), sb, r);
	if (A->shape[1] < 1 || A->shape[1] > 1 << 24 || B->shape[0] < 1 || B->shape[0] > 1 << 24)
		return err_set("%s: module %s: in %lld / out %lld out of range", path, Q(m->module),
			       (long long)A->shape[1], (long long)B->shape[0]);
	m->in = (int)A->shape[1];
	m->out = (int)B->shape[0];
	m->A = xmalloc(A->numel * sizeof(float));
	m->B = xmalloc(B->numel * sizeof(float));
	if (st_read_f32(A, m->A) != 0 || st_read_f32(B, m->B) != 0)
		return err_prefix("%s", path);
	return 0;
}

static int load_tensors(Adapter *ad, const Safetensors *st, const char *path)
{
	int ret = -1, n = st->n;
	if (n == 0)
		return err_set("%s: no lora_A/lora_B tensors", path);
	KeyRef *refs = xcalloc((size_t)n, sizeof *refs);
	for (int i = 0; i < n; i++) {
		const char *key = st->tensors[i].name;
		refs[i].t = &st->tensors[i];
		refs[i].module = parse_key(key, &refs[i].which);
		if (!refs[i].module) {
			err_set("%s: tensor %s: unexpected key (expected " KEY_PREFIX "<module>"
				KEY_A " or " KEY_B ")", path, Q(key));
			goto out;
		}
		if (!adapter_targets(&ad->cfg, refs[i].module)) {
			err_set("%s: tensor %s: module %s is not matched by target_modules", path, Q(key),
				Q(refs[i].module));
			goto out;
		}
	}
	qsort(refs, (size_t)n, sizeof *refs, cmp_keyref);
	ad->mods = xcalloc((size_t)n, sizeof(AdapterModule));
	for (int i = 0; i < n;) {
		int pair = i + 1 < n && strcmp(refs[i].module, refs[i + 1].module) == 0;
		if (!pair) {
			err_set("%s: module %s: %s without %s", path, Q(refs[i].module),
				refs[i].which ? "lora_B.weight" : "lora_A.weight",
				refs[i].which ? "lora_A.weight" : "lora_B.weight");
			goto out;
		}
		AdapterModule *m = &ad->mods[ad->n_mods++];
		m->module = xstrdup(refs[i].module);
		m->layer = module_layer(m->module);
		if (load_module(m, refs[i].t, refs[i + 1].t, ad->cfg.r, path) != 0)
			goto out;
		i += 2;
	}
	ret = 0;
out:
	for (int i = 0; i < n; i++)
		free(refs[i].module);
	free(refs);
	return ret;
}

int adapter_load(Adapter *ad, const char *dir)
{
	memset(ad, 0, sizeof *ad);
	char *cpath = path_join(dir, "adapter_config.json");
	char *wpath = path_join(dir, "adapter_model.safetensors");
	char *bpath = path_join(dir, "adapter_model.bin");
	int ret = -1;
	Safetensors st = {0};
	if (adapter_config_load(&ad->cfg, cpath) != 0)
		goto out;
	if (!path_exists(wpath) && path_exists(bpath)) {
		err_set("%s: only adapter_model.bin (a pickle) is present; save the adapter with "
			"safe_serialization=True", dir);
		goto out;
	}
	if (st_open(&st, wpath) != 0 || load_tensors(ad, &st, wpath) != 0)
		goto out;
	ret = 0;
out:
	st_close(&st);
	if (ret != 0)
		adapter_free(ad);
	free(bpath), free(wpath), free(cpath);
	return ret;
}

AdapterModule *adapter_find(const Adapter *ad, const char *module)
{
	for (int i = 0; ad && module && i < ad->n_mods; i++)
		if (strcmp(ad->mods[i].module, module) == 0)
			return &ad->mods[i];
	return NULL;
}

AdapterModule *adapter_add(Adapter *ad, const char *module, int in, int out)
{
	if (adapter_find(ad, module)) {
		err_set("adapter: module %s added twice", Q(module));
		return NULL;
	}
	if (in < 1 || out < 1 || ad->cfg.r < 1) {
		err_set("adapter: module %s: in %d, out %d and r %d must be positive", Q(module), in, out,
			ad->cfg.r);
		return NULL;
	}
	ad->mods = xrealloc(ad->mods, (size_t)(ad->n_mods + 1) * sizeof(AdapterModule));
	AdapterModule *m = &ad->mods[ad->n_mods++];
	m->module = xstrdup(module);
	m->layer = module_layer(module);
	m->in = in;
	m->out = out;
	m->A = xcalloc((size_t)ad->cfg.r * (size_t)in, sizeof(float));
	m->B = xcalloc((size_t)out * (size_t)ad->cfg.r, sizeof(float));
	return m;
}

int adapter_save(const Adapter *ad, const char *dir, StDtype dtype)
{
	if (mkdir_p(dir) != 0)
		return -1;
	int r = ad->cfg.r;
	StWriter *w = st_writer_new();
	char *cpath = path_join(dir, "adapter_config.json");
	char *wpath = path_join(dir, "adapter_model.safetensors");
	int ret = -1;
	for (int i = 0; i < ad->n_mods; i++) {
		const AdapterModule *m = &ad->mods[i];
		if (!adapter_targets(&ad->cfg, m->module)) {
			err_set("%s: module %s is not matched by target_modules", dir, Q(m->module));
			goto out;
		}
		if (!m->A || !m->B || m->in < 1 || m->out < 1) {
			err_set("%s: module %s: missing A or B, or non-positive in/out", dir, Q(m->module));
			goto out;
		}
		int64_t sa[2] = {r, m->in}, sb[2] = {m->out, r};
		char *ka = xasprintf(KEY_PREFIX "%s" KEY_A, m->module);
		char *kb = xasprintf(KEY_PREFIX "%s" KEY_B, m->module);
		int bad = st_writer_add(w, ka, dtype, m->A, 2, sa) ||
			  st_writer_add(w, kb, dtype, m->B, 2, sb);
		free(ka), free(kb);
		if (bad) {
			err_prefix("%s", dir);
			goto out;
		}
	}
	if (adapter_config_save(&ad->cfg, cpath) != 0 || st_writer_save(w, wpath) != 0)
		goto out;
	ret = 0;
out:
	free(wpath), free(cpath);
	st_writer_free(w);
	return ret;
}

void adapter_free(Adapter *ad)
{
	if (!ad)
		return;
	for (int i = 0; i < ad->n_mods; i++) {
		free(ad->mods[i].module);
		free(ad->mods[i].A);
		free(ad->mods[i].B);
	}
	free(ad->mods);
	adapter_config_free(&ad->cfg);
	memset(ad, 0, sizeof *ad);
}

/* ---- checking against a model --------------------------------------------------------- */

int adapter_module_dims(const ModelConfig *m, const char *module, int *in, int *out)
{
	static const char pre[] = "model.layers.";
	const char *s = module + strlen(pre), *dot;
	long L = 0;
	int nd = 0;
	char part[16] = "", kind[16] = "";
	if (strncmp(module, pre, strlen(pre)) == 0)
		for (; *s >= '0' && *s <= '9' && nd < 7; s++, nd++)
			L = L * 10 + (*s - '0');
	if (nd == 0 || *s != '.' || !(dot = strchr(s + 1, '.')) || dot - s - 1 >= 16 ||
	    strlen(dot + 1) >= 16 || strchr(dot + 1, '.'))
		return err_set("adapter: module %s: not a model.layers.L.{self_attn,mlp}.X_proj "
			       "linear layer", Q(module));
	memcpy(part, s + 1, (size_t)(dot - s - 1));
	strcpy(kind, dot + 1);
	if (L < 0 || L >= m->num_hidden_layers)
		return err_set("adapter: module %s: layer %ld out of range (the model has %d)",
			       Q(module), L, m->num_hidden_layers);
	int d = m->hidden_size, q = m->num_attention_heads * m->head_dim;
	int kv = m->num_key_value_heads * m->head_dim, f = m->intermediate_size;
	static const char *const names[7] = {"q_proj", "k_proj", "v_proj", "o_proj",
					     "gate_proj", "up_proj", "down_proj"};
	const int ins[7] = {d, d, d, q, d, d, f}, outs[7] = {q, kv, kv, d, f, f, d};
	for (int i = 0; i < 7; i++)
		if (strcmp(kind, names[i]) == 0 && strcmp(part, i < 4 ? "self_attn" : "mlp") == 0) {
			*in = ins[i];
			*out = outs[i];
			return 0;
		}
	return err_set("adapter: module %s: %s.%s is not a LoRA-able linear layer", Q(module),
		       Q(part), Q(kind));
}

int adapter_check_model(const Adapter *ad, const ModelConfig *m)
{
	for (int i = 0; i < ad->n_mods; i++) {
		const AdapterModule *am = &ad->mods[i];
		int in, out;
		if (adapter_module_dims(m, am->module, &in, &out) != 0)
			return -1;
		if (am->in != in || am->out != out)
			return err_set("adapter: module %s: lora_A/lora_B give in %d, out %d but the "
				       "model's layer is %d -> %d", Q(am->module), am->in, am->out, in,
				       out);
	}
	return 0;
}
