/* tok_load.c: reading (and re-writing) tokenizer.json into a Tokenizer.
 *
 * The reader is strict: a field of the wrong type, an id out of range, a merge naming a token
 * that is not in the vocab, or any component tokenizer.c does not implement is refused with one
 * line naming the file, the JSON path and the fact. Field defaults follow the serde defaults of
 * the Rust library (ByteLevel add_prefix_space/trim_offsets/use_regex true, Metaspace
 * prepend_scheme always and split true, AddedToken normalized = !special). */
#include "tok_impl.h"
#include "util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Text from the file (a type name, a token, a JSON snippet) made fit for a one-line message
 * (DESIGN.md section 8); QN caps it at n bytes. */
#define Q(s) err_quote((s), 0)
#define QN(s, n) err_quote((s), (n))

/* \w of the Rust regex crate (Whitespace pre-tokenizer, single_word): Alphabetic, marks,
 * decimal digits, connector punctuation, joiners. PCRE2's own \w (letters, all numbers, _)
 * differs on marks and on non-decimal numbers such as superscripts. */
#define RUST_W_INNER "\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}"
#define RUST_W "[" RUST_W_INNER "]"

typedef struct {
	const char *name;       /* file name for messages */
	char where[160];        /* JSON path of the node being read */
} Rd;

static const cJSON *jget(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static int jnull(const cJSON *x) { return !x || cJSON_IsNull(x); }

/* Optional boolean: absent or null -> def. */
static int rd_bool(Rd *r, const cJSON *o, const char *k, int def, int *out)
{
	const cJSON *x = jget(o, k);
	if (jnull(x)) {
		*out = def;
		return 0;
	}
	if (!cJSON_IsBool(x))
		return err_set("%s: %s.%s: expected true or false", r->name, r->where, k);
	*out = cJSON_IsTrue(x);
	return 0;
}

/* Optional string: absent or null -> NULL. */
static int rd_str(Rd *r, const cJSON *o, const char *k, const char **out)
{
	const cJSON *x = jget(o, k);
	if (jnull(x)) {
		*out = NULL;
		return 0;
	}
	if (!cJSON_IsString(x))
		return err_set("%s: %s.%s: expected a string", r->name, r->where, k);
	*out = x->valuestring;
	return 0;
}

static int rd_int(Rd *r, const cJSON *x, const char *what, long min, long max, long *out)
{
	/* range first: converting an out-of-range double to long is undefined */
	if (!cJSON_IsNumber(x) || !(x->valuedouble >= (double)min && x->valuedouble <= (double)max) ||
	    x->valuedouble != (double)(long)x->valuedouble)
		return err_set("%s: %s%s: expected an integer in [%ld, %ld]", r->name, r->where, what,
			       min, max);
	*out = (long)x->valuedouble;
	return 0;
}

static const char *type_of(Rd *r, const cJSON *o)
{
	if (!cJSON_IsObject(o)) {
		err_set("%s: %s: expected an object", r->name, r->where);
		return NULL;
	}
	const char *t = NULL;
	if (rd_str(r, o, "type", &t) < 0)
		return NULL;
	if (!t)
		err_set("%s: %s.type: missing", r->name, r->where);
	return t;
}

/* Appends ".field" or "[i]" to the path for the duration of a nested read. */
static size_t rd_push(Rd *r, const char *fmt, const char *s, int i)
{
	size_t old = strlen(r->where);
	if (s)
		snprintf(r->where + old, sizeof(r->where) - old, fmt, s);
	else
		snprintf(r->where + old, sizeof(r->where) - old, fmt, i);
	return old;
}

static void rd_pop(Rd *r, size_t old) { r->where[old] = 0; }

/* ------------------------------------------------------------------------------------------ */

static int compile_regex(Rd *r, const char *src, pcre2_code **out)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
				       &ec, &eo, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		return err_set("%s: %s: regex does not compile at offset %zu: %s", r->name, r->where,
			       (size_t)eo, (char *)msg);
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter if absent */
	*out = re;
	return 0;
}

static void pattern_free(Pattern *p)
{
	free(p->lit);
	pcre2_code_free(p->re);
	memset(p, 0, sizeof(*p));
}

/* {"String": "..."} or {"Regex": "..."} */
static int rd_pattern(Rd *r, const cJSON *o, Pattern *p)
{
	memset(p, 0, sizeof(*p));
	const cJSON *x = jget(o, "pattern");
	size_t old = rd_push(r, "%s", ".pattern", 0);
	int rc = -1;
	const cJSON *s = cJSON_IsObject(x) ? jget(x, "String") : NULL;
	const cJSON *re = cJSON_IsObject(x) ? jget(x, "Regex") : NULL;
	if (cJSON_IsString(s)) {
		p->lit = xstrdup(s->valuestring);
		p->litlen = strlen(p->lit);
		rc = 0;
	} else if (cJSON_IsString(re)) {
		rc = compile_regex(r, re->valuestring, &p->re);
	} else {
		err_set("%s: %s: expected {\"String\": ...} or {\"Regex\": ...}", r->name, r->where);
	}
	rd_pop(r, old);
	return rc;
}

/* One character (Metaspace replacement, Strip content). */
static int rd_char(Rd *r, const cJSON *o, const char *k, char rep[8], uint32_t *cp)
{
	const char *s;
	if (rd_str(r, o, k, &s) < 0)
		return -1;
	size_t n = s ? strlen(s) : 0;
	uint32_t c = 0;
	if (n == 0 || n > 4 || utf8_check(s, n, NULL) < 0 || tok_utf8_next(s, n, &c) != n)
		return err_set("%s: %s.%s: expected a single character", r->name, r->where, k);
	if (rep)
		memcpy(rep, s, n + 1);
	if (cp)
		*cp = c;
	return 0;
}

static int rd_prepend_scheme(Rd *r, const cJSON *o, PrependScheme *ps)
{
	const char *s;
	int aps;
	if (rd_str(r, o, "prepend_scheme", &s) < 0 || rd_bool(r, o, "add_prefix_space", 1, &aps) < 0)
		return -1;
	*ps = PREPEND_ALWAYS;
	if (s) {
		if (!strcmp(s, "always"))
			*ps = PREPEND_ALWAYS;
		else if (!strcmp(s, "first"))
			*ps = PREPEND_FIRST;
		else if (!strcmp(s, "never"))
			*ps = PREPEND_NEVER;
		else
			return err_set("%s: %s.prepend_scheme: '%s' is not always, first or never",
				       r->name, r->where, Q(s));
	}
	/* metaspace.rs: legacy add_prefix_space false means never, and must agree */
	if (!aps) {
		if (s && *ps != PREPEND_NEVER)
			return err_set("%s: %s: add_prefix_space does not match declared prepend_scheme",
				       r->name, r->where);
		*ps = PREPEND_NEVER;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Normalizers */

static void norm_free(Norm *n)
{
	for (int i = 0; i < n->nkids; i++)
		norm_free(&n->kids[i]);
	free(n->kids);
	free(n->str);
	pattern_free(&n->pat);
}

static int rd_norm(Rd *r, const cJSON *o, Norm *n);

static int rd_norm_list(Rd *r, const cJSON *o, const char *key, Norm *n)
{
	const cJSON *arr = jget(o, key);
	if (!cJSON_IsArray(arr))
		return err_set("%s: %s.%s: expected an array", r->name, r->where, key);
	int cnt = cJSON_GetArraySize(arr);
	n->kids = xcalloc(cnt ? (size_t)cnt : 1, sizeof(Norm));
	int i = 0;
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		size_t old = rd_push(r, ".%s", key, 0);
		rd_push(r, "[%d]", NULL, i);
		int rc = rd_norm(r, it, &n->kids[i]);
		rd_pop(r, old);
		n->nkids = i + 1;
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int rd_norm(Rd *r, const cJSON *o, Norm *n)
{
	memset(n, 0, sizeof(*n));
	const char *t = type_of(r, o);
	if (!t)
		return -1;
	if (!strcmp(t, "Sequence")) {
		n->kind = NORM_SEQ;
		return rd_norm_list(r, o, "normalizers", n);
	}
	if (!strcmp(t, "Prepend")) {
		const char *s;
		n->kind = NORM_PREPEND;
		if (rd_str(r, o, "prepend", &s) < 0)
			return -1;
		if (!s)
			return err_set("%s: %s.prepend: missing", r->name, r->where);
		n->str = xstrdup(s);
		return 0;
	}
	if (!strcmp(t, "Replace")) {
		const char *s;
		n->kind = NORM_REPLACE;
		if (rd_str(r, o, "content", &s) < 0)
			return -1;
		if (!s)
			return err_set("%s: %s.content: missing", r->name, r->where);
		n->str = xstrdup(s);
		return rd_pattern(r, o, &n->pat);
	}
	static const char *const forms[] = {"NFC", "NFD", "NFKC", "NFKD"};
	for (int f = 0; f < 4; f++)
		if (!strcmp(t, forms[f])) {
			n->kind = NORM_UNICODE;
			n->form = f;
			return 0;
		}
	if (!strcmp(t, "Strip")) {
		n->kind = NORM_STRIP;
		return rd_bool(r, o, "strip_left", 1, &n->left) < 0 ||
		       rd_bool(r, o, "strip_right", 1, &n->right) < 0 ? -1 : 0;
	}
	return err_set("%s: %s: normalizer type '%s' is not supported (supported: Sequence, Prepend, "
		       "Replace, Strip, NFC, NFD, NFKC, NFKD)", r->name, r->where, Q(t));
}

/* ------------------------------------------------------------------------------------------ */
/* Pre-tokenizers */

static void pre_free(Pre *p)
{
	for (int i = 0; i < p->nkids; i++)
		pre_free(&p->kids[i]);
	free(p->kids);
	pattern_free(&p->pat);
}

static int rd_pre(Rd *r, const cJSON *o, Pre *p);

static int rd_behavior(Rd *r, const cJSON *o, SplitBehavior *b)
{
	const char *s;
	if (rd_str(r, o, "behavior", &s) < 0)
		return -1;
	static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious",
				      "MergedWithNext", "Contiguous"};
	for (int i = 0; s && i < 5; i++)
		if (!strcmp(s, names[i])) {
			*b = (SplitBehavior)i;
			return 0;
		}
	return err_set("%s: %s.behavior: expected Removed, Isolated, MergedWithPrevious, "
		       "MergedWithNext or Contiguous", r->name, r->where);
}

static int rd_pre(Rd *r, const cJSON *o, Pre *p)
{
	memset(p, 0, sizeof(*p));
	const char *t = type_of(r, o);
	if (!t)
		return -1;
	if (!strcmp(t, "Sequence")) {
		p->kind = PRE_SEQ;
		const cJSON *arr = jget(o, "pretokenizers");
		if (!cJSON_IsArray(arr))
			return err_set("%s: %s.pretokenizers: expected an array", r->name, r->where);
		int cnt = cJSON_GetArraySize(arr), i = 0;
		p->kids = xcalloc(cnt ? (size_t)cnt : 1, sizeof(Pre));
		for (const cJSON *it = arr->child; it; it = it->next, i++) {
			size_t old = rd_push(r, "%s", ".pretokenizers", 0);
			rd_push(r, "[%d]", NULL, i);
			int rc = rd_pre(r, it, &p->kids[i]);
			rd_pop(r, old);
			p->nkids = i + 1;
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	if (!strcmp(t, "ByteLevel")) {
		p->kind = PRE_BYTELEVEL;
		return rd_bool(r, o, "add_prefix_space", 1, &p->add_prefix_space) < 0 ||
		       rd_bool(r, o, "use_regex", 1, &p->use_regex) < 0 ? -1 : 0;
	}
	if (!strcmp(t, "Split")) {
		p->kind = PRE_SPLIT;
		if (rd_behavior(r, o, &p->behavior) < 0 || rd_bool(r, o, "invert", 0, &p->invert) < 0)
			return -1;
		return rd_pattern(r, o, &p->pat);
	}
	if (!strcmp(t, "Metaspace")) {
		p->kind = PRE_METASPACE;
		if (rd_char(r, o, "replacement", p->rep, NULL) < 0 ||
		    rd_prepend_scheme(r, o, &p->prepend_scheme) < 0 ||
		    rd_bool(r, o, "split", 1, &p->split) < 0)
			return -1;
		return 0;
	}
	if (!strcmp(t, "Whitespace")) {
		/* whitespace.rs: keep the matches of \w+|[^\w\s]+ (Invert + Removed) */
		p->kind = PRE_WHITESPACE;
		p->behavior = SPLIT_REMOVED;
		p->invert = 1;
		return compile_regex(r, RUST_W "+|[^" RUST_W_INNER "\\s]+", &p->pat.re);
	}
	if (!strcmp(t, "Digits")) {
		/* digits.rs: char::is_numeric, each digit alone or runs together */
		int individual;
		p->kind = PRE_SPLIT;
		if (rd_bool(r, o, "individual_digits", 0, &individual) < 0)
			return -1;
		p->behavior = individual ? SPLIT_ISOLATED : SPLIT_CONTIGUOUS;
		return compile_regex(r, "\\p{N}", &p->pat.re);
	}
	if (!strcmp(t, "Punctuation")) {
		/* punctuation.rs: ASCII punctuation or a Unicode P* character, one at a time */
		p->kind = PRE_SPLIT;
		p->behavior = SPLIT_ISOLATED;
		if (jget(o, "behavior") && rd_behavior(r, o, &p->behavior) < 0)
			return -1;
		return compile_regex(r, "[\\p{P}\\x{21}-\\x{2F}\\x{3A}-\\x{40}\\x{5B}-\\x{60}"
				     "\\x{7B}-\\x{7E}]", &p->pat.re);
	}
	if (!strcmp(t, "WhitespaceSplit")) {
		p->kind = PRE_WHITESPACE_SPLIT;
		return 0;
	}
	return err_set("%s: %s: pre_tokenizer type '%s' is not supported (supported: Sequence, "
		       "ByteLevel, Split, Metaspace, Whitespace, WhitespaceSplit, Digits, Punctuation)",
		       r->name, r->where, Q(t));
}

/* ------------------------------------------------------------------------------------------ */
/* Decoders */

static void dec_free(Dec *d)
{
	for (int i = 0; i < d->nkids; i++)
		dec_free(&d->kids[i]);
	free(d->kids);
	free(d->str);
	pattern_free(&d->pat);
}

static int rd_dec(Rd *r, const cJSON *o, Dec *d)
{
	memset(d, 0, sizeof(*d));
	const char *t = type_of(r, o);
	if (!t)
		return -1;
	if (!strcmp(t, "Sequence")) {
		d->kind = DEC_SEQ;
		const cJSON *arr = jget(o, "decoders");
		if (!cJSON_IsArray(arr))
			return err_set("%s: %s.decoders: expected an array", r->name, r->where);
		int cnt = cJSON_GetArraySize(arr), i = 0;
		d->kids = xcalloc(cnt ? (size_t)cnt : 1, sizeof(Dec));
		for (const cJSON *it = arr->child; it; it = it->next, i++) {
			size_t old = rd_push(r, "%s", ".decoders", 0);
			rd_push(r, "[%d]", NULL, i);
			int rc = rd_dec(r, it, &d->kids[i]);
			rd_pop(r, old);
			d->nkids = i + 1;
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	if (!strcmp(t, "ByteLevel")) {
		d->kind = DEC_BYTELEVEL;
		return 0;
	}
	if (!strcmp(t, "ByteFallback")) {
		d->kind = DEC_BYTEFALLBACK;
		return 0;
	}
	if (!strcmp(t, "Fuse")) {
		d->kind = DEC_FUSE;
		return 0;
	}
	if (!strcmp(t, "Metaspace")) {
		char rep[8];
		d->kind = DEC_METASPACE;
		if (rd_char(r, o, "replacement", rep, NULL) < 0 ||
		    rd_prepend_scheme(r, o, &d->prepend_scheme) < 0)
			return -1;
		d->str = xstrdup(rep);
		return 0;
	}
	if (!strcmp(t, "Replace")) {
		const char *s;
		d->kind = DEC_REPLACE;
		if (rd_str(r, o, "content", &s) < 0)
			return -1;
		if (!s)
			return err_set("%s: %s.content: missing", r->name, r->where);
		d->str = xstrdup(s);
		return rd_pattern(r, o, &d->pat);
	}
	if (!strcmp(t, "Strip")) {
		long st, sp;
		d->kind = DEC_STRIP;
		if (rd_char(r, o, "content", NULL, &d->cp) < 0 ||
		    rd_int(r, jget(o, "start"), ".start", 0, INT_MAX, &st) < 0 ||
		    rd_int(r, jget(o, "stop"), ".stop", 0, INT_MAX, &sp) < 0)
			return -1;
		d->start = (int)st;
		d->stop = (int)sp;
		return 0;
	}
	return err_set("%s: %s: decoder type '%s' is not supported (supported: Sequence, ByteLevel, "
		       "Metaspace, Replace, ByteFallback, Fuse, Strip)", r->name, r->where, Q(t));
}

/* ------------------------------------------------------------------------------------------ */
/* Model */

static int rd_vocab(Rd *r, Tokenizer *t, const cJSON *m, int32_t *max_id)
{
	const cJSON *v = jget(m, "vocab");
	if (!cJSON_IsObject(v))
		return err_set("%s: model.vocab: expected an object of token -> id", r->name);
	int cnt = cJSON_GetArraySize(v);
	strmap_init(&t->vocab, (size_t)cnt);
	*max_id = -1;
	uint8_t *seen = NULL;
	size_t seen_n = 0;
	for (const cJSON *it = v->child; it; it = it->next) {
		long id;
		snprintf(r->where, sizeof(r->where), "model.vocab[\"%s\"]", QN(it->string, 40));
		if (rd_int(r, it, "", 0, INT32_MAX - 1, &id) < 0)
			goto fail;
		if ((size_t)id >= seen_n) {
			size_t nn = seen_n ? seen_n : 1024;
			while (nn <= (size_t)id)
				nn *= 2;
			seen = xrealloc(seen, nn);
			memset(seen + seen_n, 0, nn - seen_n);
			seen_n = nn;
		}
		if (seen[id]) {
			err_set("%s: %s: id %ld is used by two tokens", r->name, r->where, id);
			goto fail;
		}
		seen[id] = 1;
		if (!strmap_put(&t->vocab, it->string, strlen(it->string), (int32_t)id)) {
			err_set("%s: %s: token appears twice", r->name, r->where);
			goto fail;
		}
		if (id > *max_id)
			*max_id = (int32_t)id;
	}
	free(seen);
	return 0;
fail:
	free(seen);
	return -1;
}

static void merges_put(Tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t nid)
{
	uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
	size_t i = (size_t)tok_hash_pair(key) & (t->mcap - 1);
	while (t->merge[i].key != UINT64_MAX && t->merge[i].key != key)
		i = (i + 1) & (t->mcap - 1);
	/* a repeated pair keeps its last rank, as a HashMap collect does */
	t->merge[i] = (MergeEnt){key, rank, nid};
}

static int rd_merges(Rd *r, Tokenizer *t, const cJSON *m)
{
	const cJSON *arr = jget(m, "merges");
	if (!cJSON_IsArray(arr))
		return err_set("%s: model.merges: expected an array", r->name);
	size_t n = (size_t)cJSON_GetArraySize(arr), cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	t->mcap = cap;
	t->merge = xmalloc(cap * sizeof(MergeEnt));
	for (size_t i = 0; i < cap; i++)
		t->merge[i].key = UINT64_MAX;
	Buf cat = {0};
	uint32_t rank = 0;
	int rc = -1;
	for (const cJSON *it = arr->child; it; it = it->next, rank++) {
		const char *a = NULL, *b = NULL;
		size_t al = 0, bl = 0;
		if (cJSON_IsString(it)) {
			/* "a b": exactly one space (serialization.rs splits on ' ' into 2 parts) */
			const char *sp = strchr(it->valuestring, ' ');
			if (!sp || strchr(sp + 1, ' ')) {
				err_set("%s: model.merges[%u]: '%s' is not two tokens separated by one "
					"space", r->name, rank, QN(it->valuestring, 40));
				goto out;
			}
			a = it->valuestring;
			al = (size_t)(sp - a);
			b = sp + 1;
			bl = strlen(b);
		} else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 &&
			   cJSON_IsString(it->child) && cJSON_IsString(it->child->next)) {
			a = it->child->valuestring;
			al = strlen(a);
			b = it->child->next->valuestring;
			bl = strlen(b);
		} else {
			err_set("%s: model.merges[%u]: expected \"a b\" or [\"a\", \"b\"]", r->name, rank);
			goto out;
		}
		int32_t ia = strmap_get(&t->vocab, a, al), ib = strmap_get(&t->vocab, b, bl);
		if (ia < 0 || ib < 0) {
			/* a of "a b" is not NUL-terminated: copy it (capped) to quote it */
			char tokc[64];
			size_t tl = ia < 0 ? al : bl;
			if (tl >= sizeof(tokc))
				tl = sizeof(tokc) - 1;
			memcpy(tokc, ia < 0 ? a : b, tl);
			tokc[tl] = 0;
			err_set("%s: model.merges[%u]: token '%s' is not in the vocab", r->name, rank,
				QN(tokc, 40));
			goto out;
		}
		cat.n = 0;
		buf_put(&cat, a, al);
		buf_put(&cat, b, bl);
		int32_t nid = strmap_get(&t->vocab, cat.p, cat.n);
		if (nid < 0) {
			err_set("%s: model.merges[%u]: merged token '%s' is not in the vocab", r->name,
				rank, QN(cat.p, 60));
			goto out;
		}
		merges_put(t, ia, ib, rank, nid);
	}
	rc = 0;
out:
	buf_free(&cat);
	return rc;
}

static int rd_model(Rd *r, Tokenizer *t, const cJSON *m, int32_t *max_id)
{
	snprintf(r->where, sizeof(r->where), "model");
	if (!cJSON_IsObject(m))
		return err_set("%s: model: expected an object", r->name);
	const char *type;
	if (rd_str(r, m, "type", &type) < 0)
		return -1;
	if (!type && jget(m, "merges"))
		type = "BPE";   /* files written before models carried a type */
	if (!type)
		return err_set("%s: model.type: missing", r->name);
	const char *unk;
	if (!strcmp(type, "BPE")) {
		t->model = MODEL_BPE;
		const cJSON *dr = jget(m, "dropout");
		if (!jnull(dr))
			return err_set("%s: model.dropout: only null is supported (BPE dropout is random)",
				       r->name);
		const char *pre, *suf;
		if (rd_str(r, m, "continuing_subword_prefix", &pre) < 0 ||
		    rd_str(r, m, "end_of_word_suffix", &suf) < 0)
			return -1;
		if (pre && *pre)
			return err_set("%s: model.continuing_subword_prefix: '%s' is not supported "
				       "(only null or \"\")", r->name, Q(pre));
		if (suf && *suf)
			return err_set("%s: model.end_of_word_suffix: '%s' is not supported (only null or "
				       "\"\")", r->name, Q(suf));
		if (rd_bool(r, m, "fuse_unk", 0, &t->fuse_unk) < 0 ||
		    rd_bool(r, m, "byte_fallback", 0, &t->byte_fallback) < 0 ||
		    rd_bool(r, m, "ignore_merges", 0, &t->ignore_merges) < 0 ||
		    rd_str(r, m, "unk_token", &unk) < 0)
			return -1;
		if (rd_vocab(r, t, m, max_id) < 0 || rd_merges(r, t, m) < 0)
			return -1;
		if (unk) {
			t->unk_id = strmap_get(&t->vocab, unk, strlen(unk));
			if (t->unk_id < 0)
				return err_set("%s: model.unk_token: '%s' is not in the vocab", r->name,
					       Q(unk));
		}
	} else if (!strcmp(type, "WordLevel")) {
		t->model = MODEL_WORDLEVEL;
		if (rd_str(r, m, "unk_token", &unk) < 0 || rd_vocab(r, t, m, max_id) < 0)
			return -1;
		if (unk)
			t->unk_id = strmap_get(&t->vocab, unk, strlen(unk));
	} else {
		return err_set("%s: model.type: model '%s' is not supported (supported: BPE, WordLevel)",
			       r->name, Q(type));
	}
	/* one-character tokens get a direct table; <0xNN> tokens feed byte_fallback */
	t->cp_id = xmalloc(65536 * sizeof(int32_t));
	for (int i = 0; i < 65536; i++)
		t->cp_id[i] = -1;
	for (size_t i = 0; i < t->vocab.cap; i++) {
		const char *k = t->vocab.keys[i];
		if (!k)
			continue;
		uint32_t cp;
		size_t l = t->vocab.klen[i];
		if (l > 0 && utf8_check(k, l, NULL) == 0 && tok_utf8_next(k, l, &cp) == l &&
		    cp < 0x10000)
			t->cp_id[cp] = t->vocab.vals[i];
	}
	for (int b = 0; b < 256; b++) {
		char name[8];
		snprintf(name, sizeof(name), "<0x%02X>", b);
		t->bf_id[b] = strmap_get(&t->vocab, name, 6);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Added tokens */

static int rd_added(Rd *r, Tokenizer *t, const cJSON *arr, int32_t *max_id)
{
	strmap_init(&t->added_map, 16);
	if (jnull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return err_set("%s: added_tokens: expected an array", r->name);
	int cnt = cJSON_GetArraySize(arr), i = 0;
	t->added = xcalloc(cnt ? (size_t)cnt : 1, sizeof(Added));
	for (const cJSON *it = arr->child; it; it = it->next, i++) {
		snprintf(r->where, sizeof(r->where), "added_tokens[%d]", i);
		Added *a = &t->added[i];
		t->nadded = i + 1;
		const char *content;
		long id;
		if (!cJSON_IsObject(it))
			return err_set("%s: %s: expected an object", r->name, r->where);
		if (rd_str(r, it, "content", &content) < 0 ||
		    rd_int(r, jget(it, "id"), ".id", 0, INT32_MAX - 1, &id) < 0 ||
		    rd_bool(r, it, "special", 0, &a->special) < 0 ||
		    rd_bool(r, it, "normalized", !a->special, &a->normalized) < 0 ||
		    rd_bool(r, it, "lstrip", 0, &a->lstrip) < 0 ||
		    rd_bool(r, it, "rstrip", 0, &a->rstrip) < 0 ||
		    rd_bool(r, it, "single_word", 0, &a->single_word) < 0)
			return -1;
		if (!content || !*content)
			return err_set("%s: %s.content: missing or empty", r->name, r->where);
		a->content = xstrdup(content);
		a->id = (int32_t)id;
		if (!strmap_put(&t->added_map, content, strlen(content), a->id))
			return err_set("%s: %s: '%s' is listed twice", r->name, r->where,
					       Q(content));
	}
	/* The library re-adds these tokens in id order and gives each the model's id for its
	 * content, or the next free id after the vocab (added_vocabulary.rs add_tokens). A file
	 * whose ids disagree would encode differently there, so it is refused here. */
	int *order = xmalloc((size_t)(t->nadded ? t->nadded : 1) * sizeof(int));
	for (int k = 0; k < t->nadded; k++)
		order[k] = k;
	for (int k = 1; k < t->nadded; k++)     /* insertion sort by id: lists are short */
		for (int j = k; j > 0 && t->added[order[j]].id < t->added[order[j - 1]].id; j--) {
			int x = order[j];
			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	int64_t model_size = (int64_t)t->vocab.n, max_added = -1;
	for (int k = 0; k < t->nadded; k++) {
		Added *a = &t->added[order[k]];
		int32_t expect = strmap_get(&t->vocab, a->content, strlen(a->content));
		if (expect < 0) {
			if (max_added < 0)
				expect = (int32_t)model_size;
			else if (max_added >= model_size || model_size == 0)
				expect = (int32_t)(max_added + 1);
			else
				expect = (int32_t)model_size;
		}
		if (a->id != expect) {
			free(order);
			return err_set("%s: added_tokens: '%s' has id %d but the tokenizers library would "
				       "give it id %d", r->name, Q(a->content), a->id, expect);
		}
		strmap_put(&t->added_map, a->content, strlen(a->content), a->id);
		if (a->id > max_added)
			max_added = a->id;
		if (a->id > *max_id)
			*max_id = a->id;
	}
	free(order);
	return 0;
}

/* Match patterns: normalized tokens are matched in their normalized form. */
static int build_added_sets(Tokenizer *t)
{
	for (int s = 0; s < 2; s++)
		t->set[s] = xmalloc((size_t)(t->nadded ? t->nadded : 1) * sizeof(int));
	for (int i = 0; i < t->nadded; i++) {
		Added *a = &t->added[i];
		int s = a->normalized ? 1 : 0;
		if (a->normalized && t->norm) {
			Buf nb = {0};
			if (tok_normalize_string(t, a->content, strlen(a->content), &nb) < 0) {
				buf_free(&nb);
				return -1;
			}
			a->pat = nb.p ? nb.p : xstrdup("");
			a->patlen = nb.n;
		} else {
			a->pat = xstrdup(a->content);
			a->patlen = strlen(a->content);
		}
		if (a->patlen == 0)
			continue;
		t->set[s][t->nset[s]++] = i;
		t->first[s][(unsigned char)a->pat[0]] = 1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Post-processor */

static int tpl_append(int32_t **v, size_t *n, const int32_t *ids, size_t k)
{
	*v = xrealloc(*v, (*n + k + 1) * sizeof(int32_t));
	memcpy(*v + *n, ids, k * sizeof(int32_t));
	*n += k;
	return 0;
}

static int rd_template(Rd *r, Tokenizer *t, const cJSON *o)
{
	if (t->has_template)
		return err_set("%s: %s: more than one TemplateProcessing is not supported", r->name,
			       r->where);
	t->has_template = 1;
	const cJSON *single = jget(o, "single"), *sp = jget(o, "special_tokens");
	if (!cJSON_IsArray(single))
		return err_set("%s: %s.single: expected an array of pieces", r->name, r->where);
	if (!jnull(sp) && !cJSON_IsObject(sp))
		return err_set("%s: %s.special_tokens: expected an object", r->name, r->where);
	int seen_a = 0, i = 0;
	for (const cJSON *it = single->child; it; it = it->next, i++) {
		const cJSON *st = cJSON_IsObject(it) ? jget(it, "SpecialToken") : NULL;
		const cJSON *sq = cJSON_IsObject(it) ? jget(it, "Sequence") : NULL;
		if (sq) {
			const char *id = NULL;
			if (rd_str(r, sq, "id", &id) < 0)
				return -1;
			if (!id || strcmp(id, "A") != 0)
				return err_set("%s: %s.single[%d]: sequence '%s' is not supported in a "
					       "single template (only A)", r->name, r->where, i,
					       id ? Q(id) : "(none)");
			if (seen_a)
				return err_set("%s: %s.single[%d]: sequence A appears twice", r->name,
					       r->where, i);
			seen_a = 1;
			continue;
		}
		if (!st)
			return err_set("%s: %s.single[%d]: expected {\"SpecialToken\": ...} or "
				       "{\"Sequence\": ...}", r->name, r->where, i);
		const char *name = NULL;
		if (rd_str(r, st, "id", &name) < 0)
			return -1;
		const cJSON *def = name && cJSON_IsObject(sp) ? jget(sp, name) : NULL;
		const cJSON *ids = def ? jget(def, "ids") : NULL;
		if (!cJSON_IsArray(ids))
			return err_set("%s: %s.special_tokens: no ids for special token '%s'", r->name,
				       r->where, name ? Q(name) : "(none)");
		for (const cJSON *x = ids->child; x; x = x->next) {
			long v;
			if (rd_int(r, x, ".special_tokens ids", 0, INT32_MAX - 1, &v) < 0)
				return -1;
			int32_t id = (int32_t)v;
			if (seen_a)
				tpl_append(&t->tpl_post, &t->ntpl_post, &id, 1);
			else
				tpl_append(&t->tpl_pre, &t->ntpl_pre, &id, 1);
		}
	}
	if (!seen_a)
		return err_set("%s: %s.single: no {\"Sequence\": {\"id\": \"A\"}} piece", r->name,
			       r->where);
	return 0;
}

static int rd_post(Rd *r, Tokenizer *t, const cJSON *o)
{
	const char *type = type_of(r, o);
	if (!type)
		return -1;
	if (!strcmp(type, "TemplateProcessing"))
		return rd_template(r, t, o);
	if (!strcmp(type, "ByteLevel"))
		return 0;       /* only trims offsets; ids are unchanged */
	if (!strcmp(type, "Sequence")) {
		const cJSON *arr = jget(o, "processors");
		if (!cJSON_IsArray(arr))
			return err_set("%s: %s.processors: expected an array", r->name, r->where);
		int i = 0;
		for (const cJSON *it = arr->child; it; it = it->next, i++) {
			size_t old = rd_push(r, "%s", ".processors", 0);
			rd_push(r, "[%d]", NULL, i);
			int rc = rd_post(r, t, it);
			rd_pop(r, old);
			if (rc < 0)
				return -1;
		}
		return 0;
	}
	return err_set("%s: %s: post_processor type '%s' is not supported (supported: "
		       "TemplateProcessing, ByteLevel, Sequence)", r->name, r->where, Q(type));
}

/* ------------------------------------------------------------------------------------------ */

static int32_t find_named(const Tokenizer *t, const char *const *names)
{
	for (int i = 0; names[i]; i++) {
		int32_t id = tokenizer_token_to_id(t, names[i]);
		if (id >= 0)
			return id;
	}
	return -1;
}

static int finish(Rd *r, Tokenizer *t, int32_t max_id)
{
	t->nid = (size_t)(max_id + 1);
	t->id_tok = xcalloc(t->nid ? t->nid : 1, sizeof(char *));
	t->special = xcalloc(t->nid ? t->nid : 1, 1);
	for (size_t i = 0; i < t->vocab.cap; i++)
		if (t->vocab.keys[i])
			t->id_tok[t->vocab.vals[i]] = t->vocab.keys[i];
	for (int i = 0; i < t->nadded; i++) {
		t->id_tok[t->added[i].id] = t->added[i].content;
		t->special[t->added[i].id] = (uint8_t)t->added[i].special;
	}
	for (size_t i = 0; i < t->ntpl_pre; i++)
		if ((size_t)t->tpl_pre[i] >= t->nid)
			return err_set("%s: post_processor: special token id %d is past the vocab (%zu)",
				       r->name, t->tpl_pre[i], t->nid);
	for (size_t i = 0; i < t->ntpl_post; i++)
		if ((size_t)t->tpl_post[i] >= t->nid)
			return err_set("%s: post_processor: special token id %d is past the vocab (%zu)",
				       r->name, t->tpl_post[i], t->nid);
	static const char *const bos[] = {"<s>", "<|begin_of_text|>", "<|startoftext|>", "<bos>",
					  "<|endoftext|>", NULL};
	static const char *const eos[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "<eos>", NULL};
	static const char *const pad[] = {"<pad>", "<|pad|>", "[PAD]", NULL};
	t->bos = t->ntpl_pre ? t->tpl_pre[0] : find_named(t, bos);
	t->eos = t->ntpl_post ? t->tpl_post[t->ntpl_post - 1] : find_named(t, eos);
	t->pad = find_named(t, pad);
	return 0;
}

Tokenizer *tokenizer_from_json(const char *json, size_t len, const char *name)
{
	tok_byte_tables_init();
	static uint64_t serial;
	Tokenizer *t = xcalloc(1, sizeof(*t));
	t->serial = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
	t->name = xstrdup(name ? name : "tokenizer.json");
	t->unk_id = t->bos = t->eos = t->pad = -1;
	Rd r = {.name = t->name};
	int32_t max_id = -1;
	t->root = cJSON_ParseWithLength(json, len);
	if (!t->root || !cJSON_IsObject(t->root)) {
		/* the error pointer is inside json, which need not be NUL-terminated */
		const char *ep = t->root ? NULL : cJSON_GetErrorPtr();
		size_t off = ep && ep >= json && ep <= json + len ? (size_t)(ep - json) : len;
		char near[40];
		size_t show = len - off < 32 ? len - off : 32;
		memcpy(near, json + off, show);
		near[show] = 0;
		err_set("%s: not a JSON object (near byte %zu: '%s')", t->name, off, Q(near));
		goto fail;
	}
	const cJSON *root = t->root;
	if (!jnull(jget(root, "truncation"))) {
		err_set("%s: truncation: only null is supported (truncate the ids instead)", t->name);
		goto fail;
	}
	if (!jnull(jget(root, "padding"))) {
		err_set("%s: padding: only null is supported (pad the ids instead)", t->name);
		goto fail;
	}
	if (rd_model(&r, t, jget(root, "model"), &max_id) < 0)
		goto fail;
	const cJSON *x = jget(root, "normalizer");
	if (!jnull(x)) {
		snprintf(r.where, sizeof(r.where), "normalizer");
		t->norm = xcalloc(1, sizeof(Norm));
		if (rd_norm(&r, x, t->norm) < 0)
			goto fail;
	}
	x = jget(root, "pre_tokenizer");
	if (!jnull(x)) {
		snprintf(r.where, sizeof(r.where), "pre_tokenizer");
		t->pre = xcalloc(1, sizeof(Pre));
		if (rd_pre(&r, x, t->pre) < 0)
			goto fail;
	}
	x = jget(root, "decoder");
	if (!jnull(x)) {
		snprintf(r.where, sizeof(r.where), "decoder");
		t->dec = xcalloc(1, sizeof(Dec));
		if (rd_dec(&r, x, t->dec) < 0)
			goto fail;
	}
	x = jget(root, "post_processor");
	if (!jnull(x)) {
		snprintf(r.where, sizeof(r.where), "post_processor");
		if (rd_post(&r, t, x) < 0)
			goto fail;
	}
	snprintf(r.where, sizeof(r.where), "(internal)");
	if (compile_regex(&r, tokenizer_gpt2_pattern, &t->gpt2.re) < 0 ||
	    compile_regex(&r, "^" RUST_W, &t->wordch) < 0)
		goto fail;
	if (rd_added(&r, t, jget(root, "added_tokens"), &max_id) < 0)
		goto fail;
	if (build_added_sets(t) < 0 || finish(&r, t, max_id) < 0)
		goto fail;
	return t;
fail:
	tokenizer_free(t);
	return NULL;
}

Tokenizer *tokenizer_load(const char *path)
{
	size_t n;
	char *text = file_read_all(path, &n);
	if (!text)
		return NULL;
	Tokenizer *t = tokenizer_from_json(text, n, path);
	free(text);
	return t;
}

int tokenizer_save(const Tokenizer *tok, const char *path)
{
	char *s = cJSON_Print(tok->root);
	if (!s)
		return err_set("%s: cannot serialize the tokenizer JSON", path);
	size_t n = strlen(s);
	Buf b = {0};
	buf_put(&b, s, n);
	buf_putc(&b, '\n');
	cJSON_free(s);
	int rc = file_write_atomic(path, b.p, b.n);
	buf_free(&b);
	return rc;
}

void tokenizer_free(Tokenizer *t)
{
	if (!t)
		return;
	cJSON_Delete(t->root);
	strmap_free(&t->vocab);
	strmap_free(&t->added_map);
	free(t->id_tok);
	free(t->special);
	free(t->cp_id);
	free(t->merge);
	if (t->norm) {
		norm_free(t->norm);
		free(t->norm);
	}
	if (t->pre) {
		pre_free(t->pre);
		free(t->pre);
	}
	if (t->dec) {
		dec_free(t->dec);
		free(t->dec);
	}
	free(t->tpl_pre);
	free(t->tpl_post);
	for (int i = 0; i < t->nadded; i++) {
		free(t->added[i].content);
		free(t->added[i].pat);
	}
	free(t->added);
	free(t->set[0]);
	free(t->set[1]);
	pcre2_code_free(t->wordch);
	pattern_free(&t->gpt2);
	free(t->name);
	free(t);
}
