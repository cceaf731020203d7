/* bpe_train.c: byte-level BPE training (see bpe_train.h).
 *
 * 1. Counting: text is cut at special-token strings, split with the GPT-2 pattern (PCRE2, UTF +
 *    UCP, as the ByteLevel pre-tokenizer does), and each piece's bytes counted in a hash map.
 * 2. Merging: each unique word is a sequence of symbol ids with its count. A hash map keeps, for
 *    every adjacent pair, its total count and the list of words it occurs in; a max-heap with
 *    lazy deletion picks the most frequent pair. Merging a pair rewrites only the words that
 *    contain it: their pair counts are removed, the word is merged left to right, and the counts
 *    of the new word are added back. Cost per merge ~ the occurrences of the pair, not the corpus.
 * Not done: parallel counting, a progress bar (it runs in seconds on the organism's corpora). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "bpe_train.h"
#include "tok_internal.h"
#include "tokenizer.h"
#include "util.h"

#include <cJSON.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

struct BpeTrainer {
	TokStrMap words;        /* word bytes -> index */
	int64_t *count;
	size_t nwords, capwords;
	char **special;
	int nspecial;
	pcre2_code *re;
	pcre2_match_data *md;
	uint64_t bytes, total_words;
};

BpeTrainer *bpe_trainer_new(const char *const *special, int nspecial)
{
	BpeTrainer *t = xcalloc(1, sizeof(*t));
	strmap_init(&t->words, 1 << 14);
	t->nspecial = nspecial;
	t->special = xcalloc(nspecial > 0 ? (size_t)nspecial : 1, sizeof(char *));
	for (int i = 0; i < nspecial; i++)
		t->special[i] = xstrdup(special[i]);
	int ec;
	PCRE2_SIZE eo;
	t->re = pcre2_compile((PCRE2_SPTR)tokenizer_gpt2_pattern, PCRE2_ZERO_TERMINATED,
			      PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
	if (!t->re)
		die("bpe_train: the GPT-2 pattern does not compile (PCRE2 error %d)", ec);
	pcre2_jit_compile(t->re, PCRE2_JIT_COMPLETE);
	t->md = pcre2_match_data_create(1, NULL);
	return t;
}

void bpe_trainer_free(BpeTrainer *t)
{
	if (!t)
		return;
	strmap_free(&t->words);
	free(t->count);
	for (int i = 0; i < t->nspecial; i++)
		free(t->special[i]);
	free(t->special);
	pcre2_match_data_free(t->md);
	pcre2_code_free(t->re);
	free(t);
}

static void count_word(BpeTrainer *t, const char *w, size_t n)
{
	int32_t idx = strmap_get(&t->words, w, n);
	if (idx < 0) {
		if (t->nwords == t->capwords) {
			t->capwords = t->capwords ? t->capwords * 2 : 4096;
			t->count = xrealloc(t->count, t->capwords * sizeof(int64_t));
		}
		idx = (int32_t)t->nwords++;
		t->count[idx] = 0;
		strmap_put(&t->words, w, n, idx);
	}
	t->count[idx]++;
	t->total_words++;
}

static int split_words(BpeTrainer *t, const char *s, size_t n)
{
	size_t pos = 0;
	while (pos < n) {
		int rc = pcre2_match(t->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, t->md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			break;
		if (rc < 0)
			return err_set("bpe_train: regex match failed (PCRE2 error %d)", rc);
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(t->md);
		if (ov[1] <= ov[0]) {   /* the pattern never matches empty; guard anyway */
			pos = ov[0] + 1;
			continue;
		}
		count_word(t, s + ov[0], ov[1] - ov[0]);
		pos = ov[1];
	}
	return 0;
}

int bpe_trainer_feed(BpeTrainer *t, const char *text, size_t len)
{
	size_t bad;
	if (utf8_check(text, len, &bad) < 0)
		return err_set("bpe_train: text is not valid UTF-8 at byte %zu", bad);
	t->bytes += len;
	/* cut at the earliest special-token occurrence, repeatedly; each special's next occurrence
	 * is remembered, so a rare special does not rescan the text at every cut */
	size_t *next = xmalloc((t->nspecial > 0 ? (size_t)t->nspecial : 1) * sizeof(size_t));
	for (int i = 0; i < t->nspecial; i++)
		next[i] = (size_t)-1;   /* not searched yet */
	size_t pos = 0;
	int rc = 0;
	while (pos < len && rc == 0) {
		size_t best = len, blen = 0;
		for (int i = 0; i < t->nspecial; i++) {
			size_t sl = strlen(t->special[i]);
			if (!sl)
				continue;
			if (next[i] == (size_t)-1 || next[i] < pos) {
				const char *h = memmem(text + pos, len - pos, t->special[i], sl);
				next[i] = h ? (size_t)(h - text) : len;
			}
			if (next[i] < best || (next[i] == best && next[i] < len && sl > blen)) {
				best = next[i];
				blen = sl;
			}
		}
		rc = split_words(t, text + pos, best - pos);
		pos = best + blen;
	}
	free(next);
	return rc;
}

static const char *const text_fields[] = {"text", "instruction", "input", "output", "prompt",
					  "response", NULL};

static int feed_record(BpeTrainer *t, const cJSON *rec)
{
	if (!cJSON_IsObject(rec))
		return 0;
	for (int i = 0; text_fields[i]; i++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(rec, text_fields[i]);
		if (cJSON_IsString(x) && bpe_trainer_feed(t, x->valuestring, strlen(x->valuestring)) < 0)
			return -1;
	}
	return 0;
}

static int ends_with(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && strcmp(s + n - m, suf) == 0;
}

int bpe_trainer_feed_file(BpeTrainer *t, const char *path)
{
	size_t len;
	char *text = file_read_all(path, &len);
	if (!text)
		return -1;
	int rc = 0;
	if (ends_with(path, ".jsonl")) {
		size_t line = 0;
		for (size_t a = 0; a < len && rc == 0; line++) {
			const char *nl = memchr(text + a, '\n', len - a);
			size_t b = nl ? (size_t)(nl - text) : len;
			size_t k = a;
			while (k < b && (text[k] == ' ' || text[k] == '\t' || text[k] == '\r'))
				k++;
			if (k < b) {
				cJSON *rec = cJSON_ParseWithLength(text + a, b - a);
				if (!rec)
					rc = err_set("%s:%zu: not a JSON record", path, line + 1);
				else if (feed_record(t, rec) < 0)
					rc = err_prefix("%s:%zu", path, line + 1);
				cJSON_Delete(rec);
			}
			a = b + 1;
		}
	} else if (ends_with(path, ".json")) {
		cJSON *root = cJSON_ParseWithLength(text, len);
		if (!cJSON_IsArray(root)) {
			rc = err_set("%s: expected a JSON array of records", path);
		} else {
			for (const cJSON *it = root->child; it && rc == 0; it = it->next)
				if (feed_record(t, it) < 0)
					rc = err_prefix("%s", path);
		}
		cJSON_Delete(root);
	} else if (bpe_trainer_feed(t, text, len) < 0) {
		rc = err_prefix("%s", path);
	}
	free(text);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Merging */

typedef struct {
	uint64_t *key;          /* (a << 32) | b; UINT64_MAX = empty */
	int64_t *cnt;
	int32_t **where;        /* words containing the pair (may repeat; may be stale) */
	uint32_t *nwhere, *capwhere;
	uint8_t *banned;
	size_t cap, n;
} PairMap;

static size_t pm_slot(const PairMap *m, uint64_t key)
{
	size_t i = (size_t)tok_hash_pair(key) & (m->cap - 1);
	while (m->key[i] != UINT64_MAX && m->key[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void pm_alloc(PairMap *m, size_t cap)
{
	m->cap = cap;
	m->n = 0;
	m->key = xmalloc(cap * sizeof(uint64_t));
	memset(m->key, 0xFF, cap * sizeof(uint64_t));
	m->cnt = xcalloc(cap, sizeof(int64_t));
	m->where = xcalloc(cap, sizeof(int32_t *));
	m->nwhere = xcalloc(cap, sizeof(uint32_t));
	m->capwhere = xcalloc(cap, sizeof(uint32_t));
	m->banned = xcalloc(cap, 1);
}

static void pm_free(PairMap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->where[i]);
	free(m->key);
	free(m->cnt);
	free(m->where);
	free(m->nwhere);
	free(m->capwhere);
	free(m->banned);
}

static size_t pm_get(PairMap *m, uint64_t key)
{
	if ((m->n + 1) * 2 > m->cap) {
		PairMap old = *m;
		pm_alloc(m, old.cap * 2);
		for (size_t i = 0; i < old.cap; i++) {
			if (old.key[i] == UINT64_MAX)
				continue;
			size_t j = pm_slot(m, old.key[i]);
			m->key[j] = old.key[i];
			m->cnt[j] = old.cnt[i];
			m->where[j] = old.where[i];
			m->nwhere[j] = old.nwhere[i];
			m->capwhere[j] = old.capwhere[i];
			m->banned[j] = old.banned[i];
			m->n++;
		}
		free(old.key);
		free(old.cnt);
		free(old.where);
		free(old.nwhere);
		free(old.capwhere);
		free(old.banned);
	}
	size_t i = pm_slot(m, key);
	if (m->key[i] == UINT64_MAX) {
		m->key[i] = key;
		m->n++;
	}
	return i;
}

static void pm_add_where(PairMap *m, size_t i, int32_t w)
{
	if (m->nwhere[i] && m->where[i][m->nwhere[i] - 1] == w)
		return;
	if (m->nwhere[i] == m->capwhere[i]) {
		m->capwhere[i] = m->capwhere[i] ? m->capwhere[i] * 2 : 4;
		m->where[i] = xrealloc(m->where[i], m->capwhere[i] * sizeof(int32_t));
	}
	m->where[i][m->nwhere[i]++] = w;
}

typedef struct {
	int64_t cnt;
	uint64_t key;
} HEnt;

typedef struct {
	HEnt *v;
	size_t n, cap;
} Heap;

/* more frequent first; ties: smaller key (left id, then right id) */
static int h_before(const HEnt *a, const HEnt *b)
{
	return a->cnt != b->cnt ? a->cnt > b->cnt : a->key < b->key;
}

static void h_push(Heap *h, HEnt e)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->v = xrealloc(h->v, h->cap * sizeof(HEnt));
	}
	size_t i = h->n++;
	while (i > 0 && h_before(&e, &h->v[(i - 1) / 2])) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = e;
}

static HEnt h_pop(Heap *h)
{
	HEnt top = h->v[0], last = h->v[--h->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const HEnt *best = &last;
		if (l < h->n && h_before(&h->v[l], best)) {
			m = l;
			best = &h->v[l];
		}
		if (r < h->n && h_before(&h->v[r], best))
			m = r;
		if (m == i)
			break;
		h->v[i] = h->v[m];
		i = m;
	}
	if (h->n > 0)
		h->v[i] = last;
	return top;
}

/* The training state: words as symbol sequences, token bytes per id. */
typedef struct {
	int32_t *sym;           /* all words' symbols, back to back */
	size_t *off;            /* word w's symbols start at sym + off[w] */
	uint32_t *len;
	int64_t *cnt;
	size_t nw;
	Buf *tokbytes;       /* raw bytes of each id */
	size_t ntok, captok;
	TokStrMap tokmap;       /* raw bytes -> id (to reuse an id for a repeated string) */
} State;

static void word_pairs(State *s, PairMap *pm, int32_t w, int sign, int32_t watch, uint64_t **fresh,
		       size_t *nfresh, size_t *capfresh)
{
	int32_t *x = s->sym + s->off[w];
	for (uint32_t i = 0; i + 1 < s->len[w]; i++) {
		uint64_t key = ((uint64_t)(uint32_t)x[i] << 32) | (uint32_t)x[i + 1];
		size_t slot = pm_get(pm, key);
		pm->cnt[slot] += sign * s->cnt[w];
		if (sign > 0)
			pm_add_where(pm, slot, w);
		if (sign > 0 && (x[i] == watch || x[i + 1] == watch)) {
			if (*nfresh == *capfresh) {
				*capfresh = *capfresh ? *capfresh * 2 : 256;
				*fresh = xrealloc(*fresh, *capfresh * sizeof(uint64_t));
			}
			(*fresh)[(*nfresh)++] = key;    /* keys, not slots: slots move on growth */
		}
	}
}

static int32_t add_token(State *s, const char *b, size_t n)
{
	if (s->ntok == s->captok) {
		s->captok = s->captok ? s->captok * 2 : 1024;
		s->tokbytes = xrealloc(s->tokbytes, s->captok * sizeof(Buf));
	}
	memset(&s->tokbytes[s->ntok], 0, sizeof(Buf));
	buf_put(&s->tokbytes[s->ntok], b, n);
	return (int32_t)s->ntok++;
}

static void token_string(const Buf *raw, Buf *out)
{
	out->n = 0;
	buf_reserve(out, 0);
	for (size_t i = 0; i < raw->n; i++)
		buf_put_utf8(out, tokenizer_byte_char((uint8_t)raw->p[i]));
}

static char *write_json(const BpeTrainOpts *o, State *s, int32_t *mleft, int32_t *mright,
			size_t nmerges)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "version", "1.0");
	cJSON_AddNullToObject(root, "truncation");
	cJSON_AddNullToObject(root, "padding");
	cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
	for (int i = 0; i < o->nspecial; i++) {
		cJSON *a = cJSON_CreateObject();
		cJSON_AddNumberToObject(a, "id", i);
		cJSON_AddStringToObject(a, "content", o->special[i]);
		cJSON_AddBoolToObject(a, "single_word", 0);
		cJSON_AddBoolToObject(a, "lstrip", 0);
		cJSON_AddBoolToObject(a, "rstrip", 0);
		cJSON_AddBoolToObject(a, "normalized", 0);
		cJSON_AddBoolToObject(a, "special", 1);
		cJSON_AddItemToArray(added, a);
	}
	cJSON_AddNullToObject(root, "normalizer");
	cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
	cJSON_AddStringToObject(pre, "type", "ByteLevel");
	cJSON_AddBoolToObject(pre, "add_prefix_space", 0);
	cJSON_AddBoolToObject(pre, "trim_offsets", 1);
	cJSON_AddBoolToObject(pre, "use_regex", 1);
	if (o->bos) {
		cJSON *pp = cJSON_AddObjectToObject(root, "post_processor");
		cJSON_AddStringToObject(pp, "type", "TemplateProcessing");
		const char *pieces[2][2] = {{"SpecialToken", o->bos}, {"Sequence", "A"}};
		const char *pair[4][2] = {{"SpecialToken", o->bos}, {"Sequence", "A"},
					  {"SpecialToken", o->bos}, {"Sequence", "B"}};
		cJSON *single = cJSON_AddArrayToObject(pp, "single");
		for (int i = 0; i < 2; i++) {
			cJSON *p = cJSON_CreateObject(), *in = cJSON_AddObjectToObject(p, pieces[i][0]);
			cJSON_AddStringToObject(in, "id", pieces[i][1]);
			cJSON_AddNumberToObject(in, "type_id", 0);
			cJSON_AddItemToArray(single, p);
		}
		cJSON *pairs = cJSON_AddArrayToObject(pp, "pair");
		for (int i = 0; i < 4; i++) {
			cJSON *p = cJSON_CreateObject(), *in = cJSON_AddObjectToObject(p, pair[i][0]);
			cJSON_AddStringToObject(in, "id", pair[i][1]);
			cJSON_AddNumberToObject(in, "type_id", i < 2 ? 0 : 1);
			cJSON_AddItemToArray(pairs, p);
		}
		cJSON *st = cJSON_AddObjectToObject(pp, "special_tokens");
		cJSON *b = cJSON_AddObjectToObject(st, o->bos);
		cJSON_AddStringToObject(b, "id", o->bos);
		int bos_id = 0;
		for (int i = 0; i < o->nspecial; i++)
			if (!strcmp(o->special[i], o->bos))
				bos_id = i;
		cJSON_AddItemToObject(b, "ids", cJSON_CreateIntArray(&bos_id, 1));
		cJSON_AddItemToObject(b, "tokens", cJSON_CreateStringArray(&o->bos, 1));
	} else {
		cJSON_AddNullToObject(root, "post_processor");
	}
	cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
	cJSON_AddStringToObject(dec, "type", "ByteLevel");
	cJSON_AddBoolToObject(dec, "add_prefix_space", 1);
	cJSON_AddBoolToObject(dec, "trim_offsets", 1);
	cJSON_AddBoolToObject(dec, "use_regex", 1);
	cJSON *model = cJSON_AddObjectToObject(root, "model");
	cJSON_AddStringToObject(model, "type", "BPE");
	cJSON_AddNullToObject(model, "dropout");
	cJSON_AddNullToObject(model, "unk_token");
	cJSON_AddNullToObject(model, "continuing_subword_prefix");
	cJSON_AddNullToObject(model, "end_of_word_suffix");
	cJSON_AddBoolToObject(model, "fuse_unk", 0);
	cJSON_AddBoolToObject(model, "byte_fallback", 0);
	cJSON_AddBoolToObject(model, "ignore_merges", 0);
	cJSON *vocab = cJSON_AddObjectToObject(model, "vocab");
	Buf ts = {0}, ms = {0};
	for (int i = 0; i < o->nspecial; i++)
		cJSON_AddNumberToObject(vocab, o->special[i], i);
	for (size_t id = (size_t)o->nspecial; id < s->ntok; id++) {
		token_string(&s->tokbytes[id], &ts);
		cJSON_AddNumberToObject(vocab, ts.p, (double)id);
	}
	cJSON *merges = cJSON_AddArrayToObject(model, "merges");
	for (size_t k = 0; k < nmerges; k++) {
		token_string(&s->tokbytes[mleft[k]], &ts);
		ms.n = 0;
		buf_put(&ms, ts.p, ts.n);
		buf_putc(&ms, ' ');
		token_string(&s->tokbytes[mright[k]], &ts);
		buf_put(&ms, ts.p, ts.n);
		cJSON_AddItemToArray(merges, cJSON_CreateString(ms.p));
	}
	buf_free(&ts);
	buf_free(&ms);
	char *out = cJSON_Print(root);
	cJSON_Delete(root);
	char *ret = xasprintf("%s\n", out);
	cJSON_free(out);
	return ret;
}

char *bpe_trainer_train(BpeTrainer *t, const BpeTrainOpts *o, BpeTrainStats *stats)
{
	size_t base = (size_t)o->nspecial + 256;
	if (o->vocab_size < base)
		return err_set("bpe_train: vocab size %zu is below %zu (the specials + 256 bytes)",
			       o->vocab_size, base), NULL;
	if (o->min_frequency < 1)
		return err_set("bpe_train: min_frequency must be >= 1, got %ld", o->min_frequency), NULL;
	if (o->bos) {
		int found = 0;
		for (int i = 0; i < o->nspecial; i++)
			found |= !strcmp(o->special[i], o->bos);
		if (!found)
			return err_set("bpe_train: bos token '%s' is not one of the special tokens", o->bos),
			       NULL;
	}
	for (int i = 0; i < o->nspecial; i++)
		for (int j = 0; j < i; j++)
			if (!*o->special[i] || !strcmp(o->special[i], o->special[j]))
				return err_set("bpe_train: special token '%s' is empty or repeated",
					       o->special[i]), NULL;

	for (int i = 0; i < o->nspecial; i++) {
		uint32_t cp;
		size_t l = strlen(o->special[i]);
		if (utf8_check(o->special[i], l, NULL) < 0)
			return err_set("bpe_train: special token '%s' is not valid UTF-8", o->special[i]),
			       NULL;
		if (tok_utf8_next(o->special[i], l, &cp) == l)
			for (int b = 0; b < 256; b++)
				if (tokenizer_byte_char((uint8_t)b) == cp)
					return err_set("bpe_train: special token '%s' is a byte character "
						       "of the vocab", o->special[i]), NULL;
	}

	State s = {0};
	strmap_init(&s.tokmap, o->vocab_size);
	for (int i = 0; i < o->nspecial; i++)
		add_token(&s, o->special[i], strlen(o->special[i]));
	for (int b = 0; b < 256; b++) {
		char c = (char)b;
		strmap_put(&s.tokmap, &c, 1, add_token(&s, &c, 1));
	}

	/* words as symbol arrays, in first-seen order (the map's slot order is not stable) */
	s.nw = t->nwords;
	s.off = xmalloc((s.nw ? s.nw : 1) * sizeof(size_t));
	s.len = xmalloc((s.nw ? s.nw : 1) * sizeof(uint32_t));
	s.cnt = xmalloc((s.nw ? s.nw : 1) * sizeof(int64_t));
	const char **wptr = xcalloc(s.nw ? s.nw : 1, sizeof(char *));
	size_t total = 0;
	for (size_t i = 0; i < t->words.cap; i++) {
		if (!t->words.keys[i])
			continue;
		int32_t w = t->words.vals[i];
		wptr[w] = t->words.keys[i];
		s.len[w] = t->words.klen[i];
	}
	for (size_t w = 0; w < s.nw; w++) {
		s.off[w] = total;
		total += s.len[w];
		s.cnt[w] = t->count[w];
	}
	s.sym = xmalloc((total ? total : 1) * sizeof(int32_t));
	for (size_t w = 0; w < s.nw; w++)
		for (uint32_t k = 0; k < s.len[w]; k++)
			s.sym[s.off[w] + k] = o->nspecial + (unsigned char)wptr[w][k];
	free(wptr);

	PairMap pm;
	pm_alloc(&pm, 1 << 16);
	Heap h = {0};
	uint64_t *fresh = NULL;
	size_t nfresh = 0, capfresh = 0;
	for (size_t w = 0; w < s.nw; w++)
		word_pairs(&s, &pm, (int32_t)w, +1, -2, &fresh, &nfresh, &capfresh);
	for (size_t i = 0; i < pm.cap; i++)
		if (pm.key[i] != UINT64_MAX && pm.cnt[i] > 0)
			h_push(&h, (HEnt){pm.cnt[i], pm.key[i]});

	size_t maxm = o->vocab_size - base, nm = 0;
	int32_t *mleft = xmalloc((maxm ? maxm : 1) * sizeof(int32_t));
	int32_t *mright = xmalloc((maxm ? maxm : 1) * sizeof(int32_t));
	uint32_t *stamp = xcalloc(s.nw ? s.nw : 1, sizeof(uint32_t));
	uint32_t step = 0;
	Buf cat = {0}, mapped = {0};
	TokStrMap done;
	strmap_init(&done, maxm);
	while (s.ntok < o->vocab_size && nm < maxm && h.n > 0) {
		HEnt e = h_pop(&h);
		size_t slot = pm_slot(&pm, e.key);
		if (pm.key[slot] != e.key || pm.banned[slot])
			continue;
		if (pm.cnt[slot] != e.cnt) {    /* stale: requeue with the current count */
			if (pm.cnt[slot] > 0)
				h_push(&h, (HEnt){pm.cnt[slot], e.key});
			continue;
		}
		if (e.cnt < o->min_frequency)
			break;
		int32_t a = (int32_t)(e.key >> 32), b = (int32_t)(e.key & 0xFFFFFFFFu);
		cat.n = 0;
		buf_put(&cat, s.tokbytes[a].p, s.tokbytes[a].n);
		buf_put(&cat, s.tokbytes[b].p, s.tokbytes[b].n);
		/* a pair merged once and formed again (possible when a merge string repeats) is
		 * not listed twice: the library keeps one rank per pair */
		if (strmap_get(&done, (const char *)&e.key, sizeof(e.key)) >= 0) {
			pm.banned[slot] = 1;
			continue;
		}
		int32_t nid = strmap_get(&s.tokmap, cat.p, cat.n);
		if (nid < 0) {
			/* never spell a special token: its vocab key would be taken twice */
			token_string(&cat, &mapped);
			int clash = 0;
			for (int i = 0; i < o->nspecial; i++)
				clash |= !strcmp(o->special[i], mapped.p);
			if (clash) {
				pm.banned[slot] = 1;
				continue;
			}
			nid = add_token(&s, cat.p, cat.n);
			strmap_put(&s.tokmap, cat.p, cat.n, nid);
		}
		strmap_put(&done, (const char *)&e.key, sizeof(e.key), 1);
		mleft[nm] = a;
		mright[nm] = b;
		nm++;
		step++;
		/* rewrite every word that contains (a, b); the where-list is taken over because
		 * word_pairs may grow the map (moving slots) while we walk it */
		int32_t *where = pm.where[slot];
		uint32_t nwhere = pm.nwhere[slot];
		pm.where[slot] = NULL;
		pm.nwhere[slot] = pm.capwhere[slot] = 0;
		nfresh = 0;
		for (uint32_t k = 0; k < nwhere; k++) {
			int32_t w = where[k];
			if (stamp[w] == step)
				continue;
			stamp[w] = step;
			int32_t *x = s.sym + s.off[w];
			uint32_t n = s.len[w], i;
			for (i = 0; i + 1 < n; i++)
				if (x[i] == a && x[i + 1] == b)
					break;
			if (i + 1 >= n)
				continue;       /* stale entry: the word no longer has the pair */
			word_pairs(&s, &pm, w, -1, -2, &fresh, &nfresh, &capfresh);
			uint32_t j = 0;
			for (i = 0; i < n;) {
				if (i + 1 < n && x[i] == a && x[i + 1] == b) {
					x[j++] = nid;
					i += 2;
				} else {
					x[j++] = x[i++];
				}
			}
			s.len[w] = j;
			word_pairs(&s, &pm, w, +1, nid, &fresh, &nfresh, &capfresh);
		}
		free(where);
		for (size_t k = 0; k < nfresh; k++) {
			size_t fs = pm_slot(&pm, fresh[k]);
			if (pm.cnt[fs] > 0)
				h_push(&h, (HEnt){pm.cnt[fs], fresh[k]});
		}
	}
	char *json = write_json(o, &s, mleft, mright, nm);
	if (stats) {
		stats->bytes = t->bytes;
		stats->words = t->total_words;
		stats->unique_words = t->nwords;
		stats->merges = nm;
		stats->vocab_size = s.ntok;
	}
	buf_free(&cat);
	buf_free(&mapped);
	strmap_free(&done);
	free(stamp);
	free(mleft);
	free(mright);
	free(fresh);
	free(h.v);
	pm_free(&pm);
	for (size_t i = 0; i < s.ntok; i++)
		buf_free(&s.tokbytes[i]);
	free(s.tokbytes);
	strmap_free(&s.tokmap);
	free(s.sym);
	free(s.off);
	free(s.len);
	free(s.cnt);
	return json;
}
