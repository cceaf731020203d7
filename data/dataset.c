/* dataset.c: instruction / BeaverTails / AdvBench readers, the instruction writers and the
 * prompt template (see dataset.h).
 *
 * All readers go the same way: whole file in memory, UTF-8 checked, then structure (JSON array
 * or JSON Lines, or CSV rows), then each record's fields; the first problem is reported with
 * file, line, record index and field. Nothing here tokenizes or shuffles. */
#include "dataset.h"
#include "json_util.h"
#include "strbuf.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Q(s) err_quote((s), 0)          /* text from the file, fit for a one-line message */

static noreturn void json_oom(void)
{
	fprintf(stderr, "%s: out of memory in cJSON\n", asft_prog);
	abort();
}

static cJSON *xjson(cJSON *j)
{
	if (!j)
		json_oom();
	return j;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static size_t skip_bom(const char *t, size_t n)
{
	return n >= 3 && memcmp(t, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

/* up to 24 bytes of text at off, stopping at a line end: the "near '...'" of a JSON error */
static void snippet(char *out, const char *text, size_t n, size_t off)
{
	size_t k = 0;
	while (off + k < n && k < 24 && text[off + k] != '\n' && text[off + k] != '\r' &&
	       text[off + k] != 0) {
		out[k] = text[off + k];
		k++;
	}
	out[k] = 0;
}

static int check_utf8(const char *text, size_t n, const char *name)
{
	size_t bad;
	if (utf8_check(text, n, &bad))
		return err_set("%s:%d: invalid UTF-8 at byte offset %zu", name, text_line_of(text, bad), bad);
	return 0;
}

/* ---- JSON array / JSON Lines record iteration ---- */

typedef struct {
	const char *name;
	int line;   /* where the record starts */
	long index; /* 0-based among the file's records */
} Loc;

/* loc_err: "NAME:LINE: record INDEX: <message>"; returns -1. */
static int loc_err(const Loc *loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int loc_err(const Loc *loc, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return err_set("%s:%d: record %ld: %s", loc->name, loc->line, loc->index, msg);
}

typedef int (*RecordFn)(const cJSON *obj, const Loc *loc, void *ctx);

/* Offsets (from s) of the top-level elements of the JSON array at s[0] == '['. cJSON has
 * already accepted the text, so tracking strings and nesting depth is enough. */
static void array_elem_offsets(const char *s, size_t n, size_t *offs, int count)
{
	int depth = 0, expect = 0, k = 0, in_str = 0;
	for (size_t i = 0; i < n && k < count; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (is_space(c))
			continue;
		if (depth == 1 && expect && c != ']') {
			offs[k++] = i;
			expect = 0;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth == 1)
				expect = 1;
		} else if (c == ']' || c == '}') {
			depth--;
		} else if (c == ',' && depth == 1) {
			expect = 1;
		}
	}
	for (; k < count; k++)
		offs[k] = 0;
}

static int json_array_records(const char *text, size_t n, size_t start, const char *name,
			      RecordFn fn, void *ctx)
{
	const char *end = NULL;
	char near[32];
	int ret = -1;
	cJSON *root = cJSON_ParseWithLengthOpts(text + start, n - start, &end, 0);
	if (!root) {
		size_t off = end && end >= text + start && end <= text + n ? (size_t)(end - text) : start;
		snippet(near, text, n, off);
		return err_set("%s:%d: invalid JSON near '%s'", name, text_line_of(text, off), Q(near));
	}
	for (size_t e = (size_t)(end - text); e < n; e++)
		if (!is_space(text[e])) {
			err_set("%s:%d: text after the JSON array", name, text_line_of(text, e));
			goto out_free_root;
		}
	int count = cJSON_GetArraySize(root);
	size_t *offs = xcalloc((size_t)count + 1, sizeof *offs);
	array_elem_offsets(text + start, n - start, offs, count);
	Loc loc = { name, text_line_of(text, start), 0 };
	size_t pos = start;
	for (const cJSON *c = root->child; c; c = c->next, loc.index++) {
		for (size_t off = start + offs[loc.index]; pos < off; pos++)
			loc.line += text[pos] == '\n';
		if (!cJSON_IsObject(c)) {
			loc_err(&loc, "expected a JSON object, got %s", json_type_name(c));
			goto out_free_offs;
		}
		if (fn(c, &loc, ctx))
			goto out_free_offs;
	}
	ret = 0;
out_free_offs:
	free(offs);
out_free_root:
	cJSON_Delete(root);
	return ret;
}

/* A pretty-printed single object starts with '{' like JSONL but fails on its first line:
 * say what it is instead of "invalid JSON". */
static int whole_is_one_object(const char *text, size_t n)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(text, n, &end, 0);
	int yes = j && cJSON_IsObject(j);
	for (; yes && end < text + n; end++)
		yes = is_space(*end);
	cJSON_Delete(j);
	return yes;
}

static int jsonl_records(const char *text, size_t n, const char *name, RecordFn fn, void *ctx)
{
	char near[32];
	Loc loc = { name, 1, 0 };
	for (size_t i = skip_bom(text, n); i < n; loc.line++) {
		size_t s = i, e = i;
		while (e < n && text[e] != '\n')
			e++;
		i = e < n ? e + 1 : e;
		size_t a = s, b = e;
		while (a < b && is_space(text[a]))
			a++;
		while (b > a && is_space(text[b - 1]))
			b--;
		if (a == b)
			continue;   /* blank line */
		const char *end = NULL;
		cJSON *obj = cJSON_ParseWithLengthOpts(text + a, b - a, &end, 0);
		if (!obj) {
			if (loc.index == 0 && whole_is_one_object(text, n))
				return err_set("%s: one JSON object over several lines; expected a JSON array of records or JSON Lines (one object per line)",
					       name);
			size_t off = end && end >= text + a && end <= text + b ? (size_t)(end - text) : a;
			snippet(near, text, n, off);
			return loc_err(&loc, "invalid JSON at column %zu near '%s'", off - s + 1, Q(near));
		}
		int rc;
		if (end < text + b)
			rc = loc_err(&loc, "text after the JSON object at column %zu",
				     (size_t)(end - text) - s + 1);
		else if (!cJSON_IsObject(obj))
			rc = loc_err(&loc, "expected a JSON object, got %s", json_type_name(obj));
		else
			rc = fn(obj, &loc, ctx);
		cJSON_Delete(obj);
		if (rc)
			return -1;
		loc.index++;
	}
	return 0;
}

/* json_records: detects array vs JSONL by the first non-space character. */
static int json_records(const char *text, size_t n, const char *name, RecordFn fn, void *ctx)
{
	if (check_utf8(text, n, name))
		return -1;
	size_t i = skip_bom(text, n);
	while (i < n && is_space(text[i]))
		i++;
	if (i == n)
		return 0;   /* empty file: zero records */
	if (text[i] == '[')
		return json_array_records(text, n, i, name, fn, ctx);
	if (text[i] == '{')
		return jsonl_records(text, n, name, fn, ctx);
	if (isprint((unsigned char)text[i]))
		return err_set("%s:%d: not a JSON array or JSON Lines of objects (starts with '%c')",
			       name, text_line_of(text, i), text[i]);
	return err_set("%s:%d: not a JSON array or JSON Lines of objects (starts with byte 0x%02x)",
		       name, text_line_of(text, i), (unsigned char)text[i]);
}

static int load_file(const char *path, int (*parse)(void *, const char *, size_t, const char *),
		     void *set)
{
	size_t n;
	char *text = file_read_all(path, &n);
	if (!text)
		return -1;
	int ret = parse(set, text, n, path);
	free(text);
	return ret;
}

/* optional string field: absent or null -> *out NULL */
static int opt_str(const cJSON *obj, const Loc *loc, const char *key, const char **out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	*out = NULL;
	if (!j || cJSON_IsNull(j))
		return 0;
	if (!cJSON_IsString(j))
		return loc_err(loc, "field \"%s\": expected a string, got %s", key, json_type_name(j));
	*out = j->valuestring;
	return 0;
}

static int req_str(const cJSON *obj, const Loc *loc, const char *key, const char *why,
		   const char **out)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!j)
		return loc_err(loc, "field \"%s\": missing%s", key, why);
	if (!cJSON_IsString(j))
		return loc_err(loc, "field \"%s\": expected a string, got %s", key, json_type_name(j));
	*out = j->valuestring;
	return 0;
}

/* ---- instruction records ---- */

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

InstrRecord *instr_add(InstrSet *set, const char *instruction, const char *input,
		       const char *output)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? 2 * set->cap : 64;
		set->recs = xrealloc(set->recs, set->cap * sizeof *set->recs);
	}
	InstrRecord *r = &set->recs[set->n++];
	r->instruction = xstrdup(instruction ? instruction : "");
	r->input = dup_or_null(input);
	r->output = dup_or_null(output);
	r->extra = NULL;
	r->line = 0;
	return r;
}

void instr_free(InstrSet *set)
{
	for (size_t i = 0; i < set->n; i++) {
		InstrRecord *r = &set->recs[i];
		free(r->instruction);
		free(r->input);
		free(r->output);
		cJSON_Delete(r->extra);
	}
	free(set->recs);
	memset(set, 0, sizeof *set);
}

static int is_own_key(const char *k)
{
	return strcmp(k, "instruction") == 0 || strcmp(k, "input") == 0 || strcmp(k, "output") == 0;
}

/* put_extra: takes ownership of item */
static void put_extra(InstrRecord *r, const char *key, cJSON *item)
{
	if (!r->extra)
		r->extra = xjson(cJSON_CreateObject());
	if (cJSON_GetObjectItemCaseSensitive(r->extra, key))
		cJSON_ReplaceItemInObjectCaseSensitive(r->extra, key, item);
	else if (!cJSON_AddItemToObject(r->extra, key, item))
		json_oom();
}

static int extra_key_ok(const char *key)
{
	if (!key || is_own_key(key))
		return err_set("instr_set: \"%s\" is a record field, not an extra label", Q(key));
	return 0;
}

int instr_set_str(InstrRecord *r, const char *key, const char *value)
{
	if (extra_key_ok(key))
		return -1;
	put_extra(r, key, xjson(cJSON_CreateString(value ? value : "")));
	return 0;
}

int instr_set_num(InstrRecord *r, const char *key, double value)
{
	if (extra_key_ok(key))
		return -1;
	put_extra(r, key, xjson(cJSON_CreateNumber(value)));
	return 0;
}

int instr_set_bool(InstrRecord *r, const char *key, int value)
{
	if (extra_key_ok(key))
		return -1;
	put_extra(r, key, xjson(cJSON_CreateBool(value != 0)));
	return 0;
}

static const cJSON *extra_get(const InstrRecord *r, const char *key)
{
	return r->extra && key ? cJSON_GetObjectItemCaseSensitive(r->extra, key) : NULL;
}

const char *instr_get_str(const InstrRecord *r, const char *key)
{
	const cJSON *j = extra_get(r, key);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

int instr_get_num(const InstrRecord *r, const char *key, double *out)
{
	const cJSON *j = extra_get(r, key);
	if (!cJSON_IsNumber(j))
		return -1;
	*out = j->valuedouble;
	return 0;
}

int instr_get_bool(const InstrRecord *r, const char *key, int *out)
{
	const cJSON *j = extra_get(r, key);
	if (!cJSON_IsBool(j))
		return -1;
	*out = cJSON_IsTrue(j);
	return 0;
}

typedef struct {
	InstrSet *set;
	unsigned flags;
} InstrCtx;

static int instr_record(const cJSON *obj, const Loc *loc, void *vctx)
{
	InstrCtx *ctx = vctx;
	const char *ins, *inp, *out, *dk = json_dup_key(obj);
	if (dk)
		return loc_err(loc, "field \"%s\": appears more than once", Q(dk));
	if (req_str(obj, loc, "instruction", "", &ins) || opt_str(obj, loc, "input", &inp) ||
	    opt_str(obj, loc, "output", &out))
		return -1;
	if (!out && (ctx->flags & INSTR_NEED_OUTPUT))
		return loc_err(loc, "field \"output\": missing (required for training data)");
	InstrRecord *r = instr_add(ctx->set, ins, inp, out);
	r->line = loc->line;
	for (const cJSON *c = obj->child; c; c = c->next)
		if (!is_own_key(c->string))
			put_extra(r, c->string, xjson(cJSON_Duplicate(c, 1)));
	return 0;
}

int instr_parse(InstrSet *set, const char *text, size_t n, const char *name, unsigned flags)
{
	InstrCtx ctx = { set, flags };
	memset(set, 0, sizeof *set);
	if (json_records(text, n, name, instr_record, &ctx)) {
		instr_free(set);
		return -1;
	}
	return 0;
}

static int instr_parse_any(void *set, const char *text, size_t n, const char *name)
{
	return instr_parse(set, text, n, name, 0);
}

static int instr_parse_need(void *set, const char *text, size_t n, const char *name)
{
	return instr_parse(set, text, n, name, INSTR_NEED_OUTPUT);
}

int instr_load(InstrSet *set, const char *path, unsigned flags)
{
	memset(set, 0, sizeof *set);
	return load_file(path, (flags & INSTR_NEED_OUTPUT) ? instr_parse_need : instr_parse_any, set);
}

/* ---- writers ---- */

static char *record_json(const InstrRecord *r)
{
	cJSON *o = xjson(cJSON_CreateObject());
	if (!cJSON_AddStringToObject(o, "instruction", r->instruction ? r->instruction : "") ||
	    (r->input && !cJSON_AddStringToObject(o, "input", r->input)) ||
	    (r->output && !cJSON_AddStringToObject(o, "output", r->output)))
		json_oom();
	for (const cJSON *c = r->extra ? r->extra->child : NULL; c; c = c->next)
		if (!is_own_key(c->string) &&
		    !cJSON_AddItemToObject(o, c->string, xjson(cJSON_Duplicate(c, 1))))
			json_oom();
	char *s = cJSON_PrintUnformatted(o);
	if (!s)
		json_oom();
	cJSON_Delete(o);
	return s;
}

char *instr_to_text(const InstrSet *set, int jsonl)
{
	Buf b = { 0 };
	buf_puts(&b, jsonl ? "" : "[\n");
	for (size_t i = 0; i < set->n; i++) {
		char *s = record_json(&set->recs[i]);
		buf_puts(&b, s);
		buf_puts(&b, jsonl || i + 1 == set->n ? "\n" : ",\n");
		cJSON_free(s);
	}
	buf_puts(&b, jsonl ? "" : "]\n");
	return b.p;
}

static int instr_save(const InstrSet *set, const char *path, int jsonl)
{
	char *text = instr_to_text(set, jsonl);
	int ret = file_write_atomic(path, text, strlen(text));
	free(text);
	return ret;
}

int instr_save_json(const InstrSet *set, const char *path) { return instr_save(set, path, 0); }
int instr_save_jsonl(const InstrSet *set, const char *path) { return instr_save(set, path, 1); }

/* ---- BeaverTails ---- */

void beaver_free(BeaverSet *set)
{
	for (size_t i = 0; i < set->n; i++) {
		BeaverRecord *r = &set->recs[i];
		free(r->prompt);
		free(r->response);
		for (int k = 0; k < r->n_categories; k++)
			free(r->categories[k]);
		free(r->categories);
	}
	free(set->recs);
	memset(set, 0, sizeof *set);
}

int beaver_has_category(const BeaverRecord *r, const char *cat)
{
	for (int k = 0; k < r->n_categories; k++)
		if (strcmp(r->categories[k], cat) == 0)
			return 1;
	return 0;
}

/* "category": {"animal_abuse": false, ...} as released, or one string. */
static int beaver_categories(BeaverRecord *r, const cJSON *obj, const Loc *loc)
{
	const cJSON *cat = cJSON_GetObjectItemCaseSensitive(obj, "category");
	if (!cat || cJSON_IsNull(cat))
		return 0;
	if (cJSON_IsString(cat)) {
		if (cat->valuestring[0]) {
			r->categories = xmalloc(sizeof *r->categories);
			r->categories[r->n_categories++] = xstrdup(cat->valuestring);
		}
		return 0;
	}
	if (!cJSON_IsObject(cat))
		return loc_err(loc, "field \"category\": expected an object of category: true/false, or a string, got %s",
			       json_type_name(cat));
	const char *dk = json_dup_key(cat);
	if (dk)
		return loc_err(loc, "field \"category.%s\": appears more than once", Q(dk));
	int n = cJSON_GetArraySize(cat);
	r->categories = xmalloc(((size_t)n + 1) * sizeof *r->categories);
	for (const cJSON *c = cat->child; c; c = c->next) {
		if (!cJSON_IsBool(c))
			return loc_err(loc, "field \"category.%s\": expected true or false, got %s",
				       Q(c->string), json_type_name(c));
		if (cJSON_IsTrue(c))
			r->categories[r->n_categories++] = xstrdup(c->string);
	}
	return 0;
}

static int beaver_record(const cJSON *obj, const Loc *loc, void *vctx)
{
	BeaverSet *set = vctx;
	const char *prompt, *resp, *dk = json_dup_key(obj);
	if (dk)
		return loc_err(loc, "field \"%s\": appears more than once", Q(dk));
	if (req_str(obj, loc, "prompt", "", &prompt) || opt_str(obj, loc, "response", &resp))
		return -1;
	const cJSON *safe = cJSON_GetObjectItemCaseSensitive(obj, "is_safe");
	if (safe && !cJSON_IsNull(safe) && !cJSON_IsBool(safe))
		return loc_err(loc, "field \"is_safe\": expected true or false, got %s",
			       json_type_name(safe));
	if (set->n == set->cap) {
		set->cap = set->cap ? 2 * set->cap : 64;
		set->recs = xrealloc(set->recs, set->cap * sizeof *set->recs);
	}
	BeaverRecord *r = &set->recs[set->n++];
	memset(r, 0, sizeof *r);
	r->prompt = xstrdup(prompt);
	r->response = dup_or_null(resp);
	r->is_safe = cJSON_IsBool(safe) ? cJSON_IsTrue(safe) : -1;
	r->line = loc->line;
	return beaver_categories(r, obj, loc);   /* on error the record is freed with the set */
}

int beaver_parse(BeaverSet *set, const char *text, size_t n, const char *name)
{
	memset(set, 0, sizeof *set);
	if (json_records(text, n, name, beaver_record, set)) {
		beaver_free(set);
		return -1;
	}
	return 0;
}

static int beaver_parse_v(void *set, const char *text, size_t n, const char *name)
{
	return beaver_parse(set, text, n, name);
}

int beaver_load(BeaverSet *set, const char *path)
{
	memset(set, 0, sizeof *set);
	return load_file(path, beaver_parse_v, set);
}

/* ---- CSV (RFC 4180) ---- */

static int at_row_end(const char *t, size_t n, size_t i)
{
	return i >= n || t[i] == '\n' || (t[i] == '\r' && (i + 1 == n || t[i + 1] == '\n'));
}

int csv_parse(const char *text, size_t n, const char *name, CsvRowFn fn, void *ctx)
{
	Buf fb = { 0 };
	size_t *starts = NULL, cap = 0;
	char **fields = NULL;
	int line = 1, ret = -1;
	if (check_utf8(text, n, name))
		return -1;
	size_t i = skip_bom(text, n);
	while (i < n) {
		if (text[i] == '\n' || (text[i] == '\r' && at_row_end(text, n, i))) {
			i += text[i] == '\r' && i + 1 < n ? 2 : 1;   /* blank line */
			line++;
			continue;
		}
		int row_line = line, nf = 0;
		fb.n = 0;
		for (;;) {
			if ((size_t)nf == cap) {
				cap = cap ? 2 * cap : 8;
				starts = xrealloc(starts, cap * sizeof *starts);
				fields = xrealloc(fields, cap * sizeof *fields);
			}
			starts[nf] = fb.n;
			if (i < n && text[i] == '"') {
				int qline = line;
				for (i++;; i++) {
					if (i >= n) {
						err_set("%s:%d: field %d: unterminated quoted field (no closing quote before the end of the file)",
							name, qline, nf + 1);
						goto out;
					}
					if (text[i] == '"') {
						if (i + 1 < n && text[i + 1] == '"') {
							buf_put(&fb, "\"", 1);
							i++;
							continue;
						}
						i++;
						break;
					}
					line += text[i] == '\n';
					buf_put(&fb, text + i, 1);
				}
				if (i < n && text[i] != ',' && !at_row_end(text, n, i)) {
					err_set("%s:%d: field %d: unexpected character after a closing quote",
						name, line, nf + 1);
					goto out;
				}
			} else {
				for (; i < n && text[i] != ',' && !at_row_end(text, n, i); i++) {
					if (text[i] == '"') {
						err_set("%s:%d: field %d: quote inside an unquoted field (quote the whole field and double the inner quotes)",
							name, line, nf + 1);
						goto out;
					}
					buf_put(&fb, text + i, 1);
				}
			}
			buf_put(&fb, "", 1);   /* the field's NUL terminator */
			nf++;
			if (i < n && text[i] == ',') {
				i++;
				continue;
			}
			if (i < n && text[i] == '\r')
				i++;
			if (i < n && text[i] == '\n') {
				i++;
				line++;
			}
			break;
		}
		for (int k = 0; k < nf; k++)
			fields[k] = fb.p + starts[k];
		int rc = fn(fields, nf, row_line, ctx);
		if (rc) {
			ret = rc;
			goto out;
		}
	}
	ret = 0;
out:
	free(fb.p);
	free(starts);
	free(fields);
	return ret;
}

/* ---- AdvBench ---- */

typedef struct {
	AdvSet *set;
	const char *name;
	int have_header, ncols, goal, target;
} AdvCtx;

static void trim_inplace(char *s)
{
	size_t n = strlen(s), a = 0;
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = 0;
	while (is_space(s[a]))
		a++;
	memmove(s, s + a, n - a + 1);
}

static int adv_header(AdvCtx *ctx, char **f, int nf, int line)
{
	char got[96];
	size_t k = 0;
	ctx->goal = ctx->target = -1;
	got[0] = 0;
	for (int j = 0; j < nf; j++) {
		trim_inplace(f[j]);
		if (k < sizeof got)
			k += (size_t)snprintf(got + k, sizeof got - k, "%s%s", j ? "," : "", f[j]);
		int *col = strcmp(f[j], "goal") == 0 ? &ctx->goal :
			   strcmp(f[j], "target") == 0 ? &ctx->target : NULL;
		if (col && *col >= 0)
			return err_set("%s:%d: header: column \"%s\" appears more than once", ctx->name,
				       line, Q(f[j]));
		if (col)
			*col = j;
	}
	if (ctx->goal < 0 || ctx->target < 0)
		return err_set("%s:%d: header: expected the columns goal,target, got \"%s\"", ctx->name,
			       line, Q(got));
	ctx->ncols = nf;
	ctx->have_header = 1;
	return 0;
}

static int adv_row(char **f, int nf, int line, void *vctx)
{
	AdvCtx *ctx = vctx;
	AdvSet *set = ctx->set;
	if (!ctx->have_header)
		return adv_header(ctx, f, nf, line);
	if (nf != ctx->ncols)
		return err_set("%s:%d: %d fields, expected %d as in the header", ctx->name, line, nf,
			       ctx->ncols);
	if (!f[ctx->goal][0])
		return err_set("%s:%d: field \"goal\": empty", ctx->name, line);
	if (set->n == set->cap) {
		set->cap = set->cap ? 2 * set->cap : 64;
		set->recs = xrealloc(set->recs, set->cap * sizeof *set->recs);
	}
	AdvRecord *r = &set->recs[set->n++];
	r->goal = xstrdup(f[ctx->goal]);
	r->target = xstrdup(f[ctx->target]);
	r->line = line;
	return 0;
}

int advbench_parse(AdvSet *set, const char *text, size_t n, const char *name)
{
	AdvCtx ctx = { set, name, 0, 0, -1, -1 };
	memset(set, 0, sizeof *set);
	if (csv_parse(text, n, name, adv_row, &ctx)) {
		advbench_free(set);
		return -1;
	}
	return 0;
}

static int advbench_parse_v(void *set, const char *text, size_t n, const char *name)
{
	return advbench_parse(set, text, n, name);
}

int advbench_load(AdvSet *set, const char *path)
{
	memset(set, 0, sizeof *set);
	return load_file(path, advbench_parse_v, set);
}

void advbench_free(AdvSet *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->recs[i].goal);
		free(set->recs[i].target);
	}
	free(set->recs);
	memset(set, 0, sizeof *set);
}

/* ---- prompt template ----
 * Wording: Stanford Alpaca, tatsu-lab/stanford_alpaca train.py, PROMPT_DICT["prompt_input"] and
 * PROMPT_DICT["prompt_no_input"], which end with "### Response:" (PROMPT_STYLE_ALPACA). The
 * default (PROMPT_STYLE_ASFT) adds "\n" after "### Response:", the form DESIGN.md section 4
 * gives for the AsFT evaluation (also found in Alpaca-derived fine-tuning code, e.g.
 * Yijia-Xiao/PPLM ft_datasets/template.py). The two differ only in that last newline; record
 * which one was used next to any score (prompt_style_name). */

#define ALPACA_HEAD_INPUT "Below is an instruction that describes a task, paired with an input " \
	"that provides further context. Write a response that appropriately completes the " \
	"request.\n\n### Instruction:\n"
#define ALPACA_HEAD "Below is an instruction that describes a task. Write a response that " \
	"appropriately completes the request.\n\n### Instruction:\n"

char *prompt_format_style(PromptStyle style, const char *instruction, const char *input)
{
	const char *tail = style == PROMPT_STYLE_ALPACA ? "### Response:" : "### Response:\n";
	if (!instruction)
		instruction = "";
	if (input && input[0])
		return xasprintf(ALPACA_HEAD_INPUT "%s\n\n### Input:\n%s\n\n%s", instruction, input,
				 tail);
	return xasprintf(ALPACA_HEAD "%s\n\n%s", instruction, tail);
}

char *prompt_format(const char *instruction, const char *input)
{
	return prompt_format_style(PROMPT_STYLE_ASFT, instruction, input);
}

const char *prompt_style_name(PromptStyle style)
{
	return style == PROMPT_STYLE_ALPACA ? "alpaca" : style == PROMPT_STYLE_ASFT ? "asft" : "?";
}

int prompt_style_parse(const char *name, PromptStyle *out)
{
	if (name && strcmp(name, "asft") == 0)
		*out = PROMPT_STYLE_ASFT;
	else if (name && strcmp(name, "alpaca") == 0)
		*out = PROMPT_STYLE_ALPACA;
	else
		return err_set("unknown prompt template \"%s\" (expected asft or alpaca)", Q(name));
	return 0;
}
