/* tokenizer.c: loading tokenizer.json and running the Hugging Face `tokenizers` pipeline:
 * added tokens -> normalizer -> pre-tokenizer -> model -> post-processor, and the decoder chain.
 *
 * Every behaviour follows the Rust library (tokenizer/added_vocabulary.rs, normalizers/,
 * pre_tokenizers/, models/bpe, models/wordlevel, processors/template.rs, decoders/): the
 * comments name the rule each step reproduces. Offsets are not tracked; the Metaspace
 * prepend_scheme "first" test ("does this piece start at original offset 0") is computed from
 * the piece boundaries, which is exact unless a normalizer inserts text that a later split cuts.
 * The parts that read JSON are in tok_load.c. */
#include "tok_impl.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* The GPT-2 byte <-> unicode map (bytes_to_unicode in the GPT-2 encoder and byte_level.rs). */

const char tokenizer_gpt2_pattern[] =
	"'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

uint32_t tokenizer_byte_char(uint8_t b)
{
	if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174)
		return b;
	/* the others, in byte order, take 256, 257, ... */
	uint32_t k = 0;
	for (unsigned x = 0; x < b; x++)
		if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174))
			k++;
	return 256 + k;
}

/* char_byte: inverse map, -1 for code points that are not byte stand-ins. */
static int16_t char_byte_tab[512];
static uint32_t byte_char_tab[256];
static pthread_once_t byte_tabs_once = PTHREAD_ONCE_INIT;

static void byte_tables_build(void)
{
	for (int i = 0; i < 512; i++)
		char_byte_tab[i] = -1;
	for (int b = 0; b < 256; b++) {
		byte_char_tab[b] = tokenizer_byte_char((uint8_t)b);
		char_byte_tab[byte_char_tab[b]] = (int16_t)b;
	}
}

void tok_byte_tables_init(void) { pthread_once(&byte_tabs_once, byte_tables_build); }

/* Unicode White_Space (what Rust's char::is_whitespace tests). */
int tok_is_space(uint32_t c)
{
	return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
	       c == 0x205F || c == 0x3000;
}

/* ------------------------------------------------------------------------------------------ */
/* Pieces: a list of strings stored back to back in one buffer. */

static void pieces_clear(Pieces *p)
{
	p->text.n = 0;
	if (p->text.p)
		p->text.p[0] = 0;
	p->n = 0;
}

static void pieces_add(Pieces *p, const char *s, size_t n, int at_start)
{
	if (n == 0)
		return;     /* PreTokenizedString::split drops empty splits */
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n].off = p->text.n;
	p->v[p->n].len = n;
	p->v[p->n].at_start = at_start;
	p->n++;
	buf_put(&p->text, s, n);
}

/* Starts a piece whose bytes are appended with buf_* on p->text; end it with pieces_end. */
static size_t pieces_begin(Pieces *p) { return p->text.n; }

static void pieces_end(Pieces *p, size_t start, int at_start)
{
	size_t n = p->text.n - start;
	if (n == 0)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n].off = start;
	p->v[p->n].len = n;
	p->v[p->n].at_start = at_start;
	p->n++;
}

static void pieces_free(Pieces *p)
{
	buf_free(&p->text);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static void ctx_init(Ctx *c, const Tokenizer *tok)
{
	memset(c, 0, sizeof(*c));
	c->tok = tok;
	c->md = pcre2_match_data_create(1, NULL);
}

/* Scratch buffers stay with the thread between calls, so short strings cost no allocation. */
static _Thread_local Ctx tl_ctx;
static _Thread_local int tl_busy;

static void tl_register(void);

static Ctx *ctx_acquire(const Tokenizer *tok, Ctx *local)
{
	if (tl_busy) {
		ctx_init(local, tok);
		return local;
	}
	tl_register();
	tl_busy = 1;
	if (!tl_ctx.md)
		tl_ctx.md = pcre2_match_data_create(1, NULL);
	tl_ctx.tok = tok;
	return &tl_ctx;
}

static void ctx_free(Ctx *c);

static void ctx_release(Ctx *c)
{
	if (c == &tl_ctx)
		tl_busy = 0;
	else
		ctx_free(c);
}

static void ctx_free(Ctx *c)
{
	pcre2_match_data_free(c->md);
	buf_free(&c->norm);
	pieces_free(&c->a);
	pieces_free(&c->b);
	pieces_free(&c->c);
	buf_free(&c->tmp);
	buf_free(&c->tmp2);
	free(c->segs);
	free(c->sym);
	free(c->heap);
}

/* ------------------------------------------------------------------------------------------ */
/* Patterns: a literal string or a PCRE2 regex; pat_find returns the next non-empty match. */

static int pat_find(Ctx *c, const Pattern *pt, const char *s, size_t n, size_t from,
		    size_t *ms, size_t *me)
{
	if (!pt->re) {
		if (pt->litlen == 0 || from >= n)
			return 0;
		const char *hit = memmem(s + from, n - from, pt->lit, pt->litlen);
		if (!hit)
			return 0;
		*ms = (size_t)(hit - s);
		*me = *ms + pt->litlen;
		return 1;
	}
	while (from <= n) {
		int rc = pcre2_match(pt->re, (PCRE2_SPTR)s, n, from, PCRE2_NO_UTF_CHECK, c->md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			return 0;
		if (rc < 0) {
			PCRE2_UCHAR msg[120];
			pcre2_get_error_message(rc, msg, sizeof(msg));
			return err_set("%s: regex match failed: %s", c->tok->name, (char *)msg);
		}
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
		if (ov[1] > ov[0]) {
			*ms = ov[0];
			*me = ov[1];
			return 1;
		}
		/* An empty match splits nothing: step one character and look again. */
		if (from >= n)
			return 0;
		uint32_t cp;
		from += tok_utf8_next(s + from, n - from, &cp);
	}
	return 0;
}

/* Segments of s: matches and the gaps between them, in order (pattern.rs find_matches). */
static int pat_segments(Ctx *c, const Pattern *pt, const char *s, size_t n, int invert,
			Seg **segs, size_t *nseg, size_t *cap)
{
	size_t prev = 0, ms, me;
	*nseg = 0;
	for (;;) {
		int rc = pat_find(c, pt, s, n, prev, &ms, &me);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		if (*nseg + 2 > *cap) {
			*cap = *cap ? *cap * 2 : 32;
			*segs = xrealloc(*segs, *cap * sizeof(Seg));
		}
		if (ms > prev)
			(*segs)[(*nseg)++] = (Seg){prev, ms, invert};
		(*segs)[(*nseg)++] = (Seg){ms, me, !invert};
		prev = me;
	}
	if (prev < n) {
		if (*nseg + 1 > *cap) {
			*cap = *cap ? *cap * 2 : 32;
			*segs = xrealloc(*segs, *cap * sizeof(Seg));
		}
		(*segs)[(*nseg)++] = (Seg){prev, n, invert};
	}
	return 0;
}

/* join_runs: emits the segments, a match joining the piece before it when the segment before
 * was a match (after_match = 1, Contiguous) or was not (after_match = 0, MergedWithPrevious). */
static void join_runs(Pieces *out, const char *s, const Seg *sg, size_t n, int at_start,
		      int after_match)
{
	size_t ps = 0, pe = 0;
	int have = 0, prev_match = 0;
	for (size_t i = 0; i < n; i++) {
		if (sg[i].match && prev_match == after_match && have) {
			pe = sg[i].e;
		} else {
			if (have)
				pieces_add(out, s + ps, pe - ps, at_start && ps == 0);
			ps = sg[i].s;
			pe = sg[i].e;
			have = 1;
		}
		prev_match = sg[i].match != 0;
	}
	if (have)
		pieces_add(out, s + ps, pe - ps, at_start && ps == 0);
}

/* Applies a SplitDelimiterBehavior to segments (normalizer.rs NormalizedString::split). */
static void split_emit(Pieces *out, const char *s, const Seg *sg, size_t n, SplitBehavior b,
		       int at_start)
{
	size_t i = 0;
	switch (b) {
	case SPLIT_REMOVED:
		for (i = 0; i < n; i++)
			if (!sg[i].match)
				pieces_add(out, s + sg[i].s, sg[i].e - sg[i].s, at_start && sg[i].s == 0);
		return;
	case SPLIT_ISOLATED:
		for (i = 0; i < n; i++)
			pieces_add(out, s + sg[i].s, sg[i].e - sg[i].s, at_start && sg[i].s == 0);
		return;
	case SPLIT_MERGED_PREV:
		/* a match joins the piece before it unless that piece was itself a match */
		join_runs(out, s, sg, n, at_start, 0);
		return;
	case SPLIT_MERGED_NEXT: {
		/* a match joins the piece after it unless that piece was itself a match: walk
		 * backwards as the library does, collecting spans, then emit in order */
		Seg *tmp = xmalloc((n ? n : 1) * sizeof(Seg));
		size_t m = 0;
		int prev_match = 0;
		for (size_t k = n; k-- > 0;) {
			if (sg[k].match && !prev_match && m > 0)
				tmp[m - 1].s = sg[k].s;
			else
				tmp[m++] = sg[k];
			prev_match = sg[k].match;
		}
		while (m-- > 0)
			pieces_add(out, s + tmp[m].s, tmp[m].e - tmp[m].s, at_start && tmp[m].s == 0);
		free(tmp);
		return;
	}
	case SPLIT_CONTIGUOUS:
		/* consecutive matches join into one piece */
		join_runs(out, s, sg, n, at_start, 1);
		return;
	}
}

static int split_piece(Ctx *c, const Pattern *pt, SplitBehavior b, int invert, const char *s,
		       size_t n, int at_start, Pieces *out)
{
	if (pat_segments(c, pt, s, n, invert, &c->segs, &c->nseg, &c->segcap) < 0)
		return -1;
	split_emit(out, s, c->segs, c->nseg, b, at_start);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Normalizers: whole-string rewrites. */

static size_t utf8_prev(const char *s, size_t pos)
{
	size_t p = pos - 1;
	while (p > 0 && ((unsigned char)s[p] & 0xC0) == 0x80)
		p--;
	return p;
}


static int replace_all(Ctx *c, const Pattern *pt, const char *content, const char *s, size_t n,
		       Buf *out)
{
	size_t prev = 0, ms, me;
	size_t clen = strlen(content);
	for (;;) {
		int rc = pat_find(c, pt, s, n, prev, &ms, &me);
		if (rc < 0)
			return -1;
		if (rc == 0)
			break;
		buf_put(out, s + prev, ms - prev);
		buf_put(out, content, clen);
		prev = me;
	}
	buf_put(out, s + prev, n - prev);
	return 0;
}

/* normalize: out = normalizer(s); out is reset first. */
static int normalize(Ctx *c, const Norm *nm, const char *s, size_t n, Buf *out)
{
	out->n = 0;
	if (!nm) {
		buf_put(out, s, n);
		return 0;
	}
	switch (nm->kind) {
	case NORM_PREPEND:
		if (n > 0)      /* prepend.rs: an empty string stays empty */
			buf_put(out, nm->str, strlen(nm->str));
		buf_put(out, s, n);
		return 0;
	case NORM_REPLACE:
		return replace_all(c, &nm->pat, nm->str, s, n, out);
	case NORM_UNICODE: {
		/* Only text the form leaves unchanged (the UAX #15 quick check) is accepted: the
		 * composition / decomposition algorithm itself is not implemented, and guessing
		 * would give ids the library does not. */
		static const char *const forms[] = {"NFC", "NFD", "NFKC", "NFKD"};
		uint32_t bad = 0;
		if (!tok_unicode_stable(nm->form, s, n, &bad))
			return err_set("%s: normalizer %s: U+%04X may change under %s, which is only "
				       "implemented for text it leaves unchanged (Unicode %s quick check)",
				       c->tok->name, forms[nm->form], (unsigned)bad, forms[nm->form],
				       tok_unicode_version);
		buf_put(out, s, n);
		return 0;
	}
	case NORM_STRIP: {
		/* strip.rs: trim_start / trim_end, i.e. Unicode White_Space */
		size_t b = 0, e = n;
		uint32_t cp;
		while (nm->left && b < e) {
			size_t l = tok_utf8_next(s + b, e - b, &cp);
			if (!tok_is_space(cp))
				break;
			b += l;
		}
		while (nm->right && e > b) {
			size_t p = utf8_prev(s, e);
			tok_utf8_next(s + p, e - p, &cp);
			if (!tok_is_space(cp))
				break;
			e = p;
		}
		buf_put(out, s + b, e - b);
		return 0;
	}
	case NORM_SEQ: {
		Buf cur = {0}, nxt = {0};
		buf_put(&cur, s, n);
		for (int i = 0; i < nm->nkids; i++) {
			if (normalize(c, &nm->kids[i], cur.p, cur.n, &nxt) < 0) {
				buf_free(&cur);
				buf_free(&nxt);
				return -1;
			}
			Buf t = cur;
			cur = nxt;
			nxt = t;
		}
		buf_put(out, cur.p, cur.n);
		buf_free(&cur);
		buf_free(&nxt);
		return 0;
	}
	}
	return 0;
}

int tok_normalize_string(const Tokenizer *tok, const char *s, size_t n, Buf *out)
{
	Ctx c;
	ctx_init(&c, tok);
	int rc = normalize(&c, tok->norm, s, n, out);
	ctx_free(&c);
	return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Pre-tokenizers: each maps the pieces in `in` to pieces in `out`. */

static int pre_apply(Ctx *c, const Pre *p, Pieces *in, Pieces *out);

static int pre_bytelevel(Ctx *c, const Pre *p, Pieces *in, Pieces *out)
{
	Pieces *split = &c->c;
	pieces_clear(split);
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->text.p + in->v[i].off;
		size_t n = in->v[i].len;
		const char *src = s;
		if (p->add_prefix_space && s[0] != ' ') {   /* byte_level.rs: a literal space */
			c->tmp.n = 0;
			buf_putc(&c->tmp, ' ');
			buf_put(&c->tmp, s, n);
			src = c->tmp.p;
			n = c->tmp.n;
		}
		if (p->use_regex) {
			if (split_piece(c, &c->tok->gpt2, SPLIT_ISOLATED, 0, src, n, in->v[i].at_start,
					split) < 0)
				return -1;
		} else {
			pieces_add(split, src, n, in->v[i].at_start);
		}
	}
	/* then every byte becomes its stand-in character */
	for (size_t i = 0; i < split->n; i++) {
		const unsigned char *s = (const unsigned char *)split->text.p + split->v[i].off;
		size_t n = split->v[i].len;
		size_t st = pieces_begin(out);
		buf_reserve(&out->text, 2 * n);
		for (size_t k = 0; k < n; k++) {
			uint32_t cp = byte_char_tab[s[k]];
			if (cp < 0x80) {
				out->text.p[out->text.n++] = (char)cp;
			} else {
				out->text.p[out->text.n++] = (char)(0xC0 | (cp >> 6));
				out->text.p[out->text.n++] = (char)(0x80 | (cp & 0x3F));
			}
		}
		out->text.p[out->text.n] = 0;
		pieces_end(out, st, split->v[i].at_start);
	}
	return 0;
}

static int pre_metaspace(Ctx *c, const Pre *p, Pieces *in, Pieces *out)
{
	size_t rl = strlen(p->rep);
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->text.p + in->v[i].off;
		size_t n = in->v[i].len;
		int at_start = in->v[i].at_start;
		Buf *t = &c->tmp;
		t->n = 0;
		for (size_t k = 0; k < n; k++) {
			if (s[k] == ' ')
				buf_put(t, p->rep, rl);
			else
				buf_putc(t, s[k]);
		}
		int starts = t->n >= rl && memcmp(t->p, p->rep, rl) == 0;
		int prepend = (p->prepend_scheme == PREPEND_ALWAYS && !starts) ||
			      (p->prepend_scheme == PREPEND_FIRST && !starts && at_start);
		if (prepend) {
			c->tmp2.n = 0;
			buf_put(&c->tmp2, p->rep, rl);
			buf_put(&c->tmp2, t->p, t->n);
			t = &c->tmp2;
		}
		if (p->split) {
			Pattern lit = {.lit = (char *)p->rep, .litlen = rl};
			if (split_piece(c, &lit, SPLIT_MERGED_NEXT, 0, t->p, t->n, at_start, out) < 0)
				return -1;
		} else {
			pieces_add(out, t->p, t->n, at_start);
		}
	}
	return 0;
}

static int pre_whitespace_split(Ctx *c, Pieces *in, Pieces *out)
{
	(void)c;
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->text.p + in->v[i].off;
		size_t n = in->v[i].len, k = 0, ws = 0;
		int inword = 0;
		while (k < n) {
			uint32_t cp;
			size_t l = tok_utf8_next(s + k, n - k, &cp);
			if (tok_is_space(cp)) {
				if (inword)
					pieces_add(out, s + ws, k - ws, in->v[i].at_start && ws == 0);
				inword = 0;
			} else if (!inword) {
				inword = 1;
				ws = k;
			}
			k += l;
		}
		if (inword)
			pieces_add(out, s + ws, n - ws, in->v[i].at_start && ws == 0);
	}
	return 0;
}

static int pre_apply(Ctx *c, const Pre *p, Pieces *in, Pieces *out)
{
	switch (p->kind) {
	case PRE_BYTELEVEL:
		return pre_bytelevel(c, p, in, out);
	case PRE_METASPACE:
		return pre_metaspace(c, p, in, out);
	case PRE_SPLIT:
	case PRE_WHITESPACE:
		for (size_t i = 0; i < in->n; i++)
			if (split_piece(c, &p->pat, p->behavior, p->invert, in->text.p + in->v[i].off,
					in->v[i].len, in->v[i].at_start, out) < 0)
				return -1;
		return 0;
	case PRE_WHITESPACE_SPLIT:
		return pre_whitespace_split(c, in, out);
	case PRE_SEQ: {
		/* each stage reads the previous one's pieces; two scratch lists alternate */
		Pieces cur = {0}, nxt = {0};
		for (size_t i = 0; i < in->n; i++)
			pieces_add(&cur, in->text.p + in->v[i].off, in->v[i].len, in->v[i].at_start);
		for (int k = 0; k < p->nkids; k++) {
			pieces_clear(&nxt);
			if (pre_apply(c, &p->kids[k], &cur, &nxt) < 0) {
				pieces_free(&cur);
				pieces_free(&nxt);
				return -1;
			}
			Pieces t = cur;
			cur = nxt;
			nxt = t;
		}
		for (size_t i = 0; i < cur.n; i++)
			pieces_add(out, cur.text.p + cur.v[i].off, cur.v[i].len, cur.v[i].at_start);
		pieces_free(&cur);
		pieces_free(&nxt);
		return 0;
	}
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Models. */

static void ivec_push(IVec *v, int32_t x)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->p = xrealloc(v->p, v->cap * sizeof(int32_t));
	}
	v->p[v->n++] = x;
}

int tok_merge_get(const Tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *new_id)
{
	if (!t->mcap)
		return 0;
	uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
	size_t i = (size_t)tok_hash_pair(key) & (t->mcap - 1);
	while (t->merge[i].key != UINT64_MAX) {
		if (t->merge[i].key == key) {
			*rank = t->merge[i].rank;
			*new_id = t->merge[i].new_id;
			return 1;
		}
		i = (i + 1) & (t->mcap - 1);
	}
	return 0;
}

/* Heap of candidate merges ordered by (rank, position): models/bpe/word.rs merge_all pops the
 * lowest rank and, among equal ranks, the leftmost pair. */
static int heap_less(const HeapEnt *a, const HeapEnt *b)
{
	return a->rank != b->rank ? a->rank < b->rank : a->pos < b->pos;
}

static void heap_push(Ctx *c, HeapEnt e)
{
	if (c->nheap == c->heapcap) {
		c->heapcap = c->heapcap ? c->heapcap * 2 : 64;
		c->heap = xrealloc(c->heap, c->heapcap * sizeof(HeapEnt));
	}
	size_t i = c->nheap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!heap_less(&e, &c->heap[up]))
			break;
		c->heap[i] = c->heap[up];
		i = up;
	}
	c->heap[i] = e;
}

static HeapEnt heap_pop(Ctx *c)
{
	HeapEnt top = c->heap[0], last = c->heap[--c->nheap];
	size_t i = 0, n = c->nheap;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const HeapEnt *best = &last;
		if (l < n && heap_less(&c->heap[l], best)) {
			m = l;
			best = &c->heap[l];
		}
		if (r < n && heap_less(&c->heap[r], best))
			m = r;
		if (m == i)
			break;
		c->heap[i] = c->heap[m];
		i = m;
	}
	if (n > 0)
		c->heap[i] = last;
	return top;
}

static void sym_push(Ctx *c, int32_t id)
{
	if (c->nsym == c->symcap) {
		c->symcap = c->symcap ? c->symcap * 2 : 64;
		c->sym = xrealloc(c->sym, c->symcap * sizeof(Sym));
	}
	c->sym[c->nsym] = (Sym){id, (int)c->nsym - 1, (int)c->nsym + 1};
	c->nsym++;
}

static int32_t char_id(const Tokenizer *t, const char *s, size_t l, uint32_t cp)
{
	if (cp < 0x10000)
		return t->cp_id[cp];
	return strmap_get(&t->vocab, s, l);
}

/* bpe_word: ids of one pre-token (models/bpe/model.rs tokenize + merge_word). */
static void bpe_word(Ctx *c, const char *w, size_t n, IVec *out)
{
	const Tokenizer *t = c->tok;
	if (t->ignore_merges) {
		int32_t id = strmap_get(&t->vocab, w, n);
		if (id >= 0) {
			ivec_push(out, id);
			return;
		}
	}
	c->nsym = 0;
	int last_unk = 0;   /* the previous symbol is an unk that fuse_unk may extend */
	for (size_t k = 0; k < n;) {
		uint32_t cp;
		size_t l = tok_utf8_next(w + k, n - k, &cp);
		int32_t id = char_id(t, w + k, l, cp);
		if (id >= 0) {
			sym_push(c, id);
			last_unk = 0;
		} else {
			int ok = t->byte_fallback;
			for (size_t j = 0; ok && j < l; j++)
				ok = t->bf_id[(unsigned char)w[k + j]] >= 0;
			if (ok) {
				for (size_t j = 0; j < l; j++)
					sym_push(c, t->bf_id[(unsigned char)w[k + j]]);
				last_unk = 0;
			} else if (t->unk_id >= 0) {
				if (!(t->fuse_unk && last_unk))
					sym_push(c, t->unk_id);
				last_unk = 1;
			}
			/* no unk token: the library drops the character */
		}
		k += l;
	}
	if (c->nsym == 0)
		return;
	c->sym[c->nsym - 1].next = -1;
	c->nheap = 0;
	for (size_t i = 0; i + 1 < c->nsym; i++) {
		uint32_t rank;
		int32_t nid;
		if (tok_merge_get(t, c->sym[i].id, c->sym[i + 1].id, &rank, &nid))
			heap_push(c, (HeapEnt){rank, (int)i, nid});
	}
	while (c->nheap > 0) {
		HeapEnt e = heap_pop(c);
		Sym *s = &c->sym[e.pos];
		if (s->id < 0 || s->next < 0)
			continue;
		uint32_t rank;
		int32_t nid;
		/* stale entry: the pair at pos changed since it was pushed */
		if (!tok_merge_get(t, s->id, c->sym[s->next].id, &rank, &nid) || rank != e.rank ||
		    nid != e.new_id)
			continue;
		int right = s->next;
		s->id = nid;
		s->next = c->sym[right].next;
		c->sym[right].id = -1;
		if (s->next >= 0)
			c->sym[s->next].prev = e.pos;
		if (s->prev >= 0 &&
		    tok_merge_get(t, c->sym[s->prev].id, s->id, &rank, &nid))
			heap_push(c, (HeapEnt){rank, s->prev, nid});
		if (s->next >= 0 && tok_merge_get(t, s->id, c->sym[s->next].id, &rank, &nid))
			heap_push(c, (HeapEnt){rank, e.pos, nid});
	}
	for (int i = 0; i >= 0; i = c->sym[i].next)
		ivec_push(out, c->sym[i].id);
}

/* Word cache, as models/bpe/cache.rs: the ids of recent words. Per thread (so encoding stays
 * lock-free), a few slots each tied to one tokenizer by its serial number (so alternating
 * between two tokenizers does not thrash); a slot is emptied when it fills. */
#define CACHE_SLOTS 4
#define CACHE_MAX_WORDS 32768
#define CACHE_MAX_IDS (1u << 20)
#define CACHE_MAX_WORD_LEN 64
typedef struct {
	uint64_t serial, used;
	TokStrMap map;          /* word -> entry */
	uint32_t *off;
	uint16_t *len;
	IVec ids;
	size_t n;
} WordCache;

static _Thread_local WordCache wcache[CACHE_SLOTS];
static _Thread_local uint64_t wcache_clock;

/* Thread exit frees the thread's scratch and caches (a pthread key destructor runs in the
 * exiting thread, while its thread-locals are still there). */
static pthread_key_t tl_key;
static pthread_once_t tl_once = PTHREAD_ONCE_INIT;
static _Thread_local int tl_registered;

static void tl_destroy(void *unused)
{
	(void)unused;
	if (tl_ctx.md)
		ctx_free(&tl_ctx);
	memset(&tl_ctx, 0, sizeof(tl_ctx));
	for (int i = 0; i < CACHE_SLOTS; i++) {
		strmap_free(&wcache[i].map);
		free(wcache[i].off);
		free(wcache[i].len);
		free(wcache[i].ids.p);
		memset(&wcache[i], 0, sizeof(wcache[i]));
	}
	tl_registered = 0;
}

static void tl_key_init(void) { pthread_key_create(&tl_key, tl_destroy); }

static void tl_register(void)
{
	if (tl_registered)
		return;
	pthread_once(&tl_once, tl_key_init);
	pthread_setspecific(tl_key, &tl_registered);
	tl_registered = 1;
}

static WordCache *cache_for(const Tokenizer *t)
{
	tl_register();
	WordCache *wc = NULL;
	for (int i = 0; i < CACHE_SLOTS && !wc; i++)
		if (wcache[i].serial == t->serial)
			wc = &wcache[i];
	if (!wc) {      /* take the least recently used slot */
		wc = &wcache[0];
		for (int i = 1; i < CACHE_SLOTS; i++)
			if (wcache[i].used < wc->used)
				wc = &wcache[i];
		wc->serial = 0;
	}
	wc->used = ++wcache_clock;
	if (wc->serial != t->serial || wc->n >= CACHE_MAX_WORDS || wc->ids.n > CACHE_MAX_IDS) {
		strmap_free(&wc->map);
		if (!wc->off) {
			wc->off = xmalloc(CACHE_MAX_WORDS * sizeof(uint32_t));
			wc->len = xmalloc(CACHE_MAX_WORDS * sizeof(uint16_t));
		}
		strmap_init(&wc->map, CACHE_MAX_WORDS);
		wc->ids.n = 0;
		wc->n = 0;
		wc->serial = t->serial;
	}
	return wc;
}

static int model_piece(Ctx *c, const char *w, size_t n, IVec *out)
{
	const Tokenizer *t = c->tok;
	if (t->model == MODEL_BPE) {
		if (n > CACHE_MAX_WORD_LEN) {
			bpe_word(c, w, n, out);
			return 0;
		}
		WordCache *wc = cache_for(t);
		int32_t e = strmap_get(&wc->map, w, n);
		if (e >= 0) {
			for (uint16_t k = 0; k < wc->len[e]; k++)
				ivec_push(out, wc->ids.p[wc->off[e] + k]);
			return 0;
		}
		size_t start = out->n;
		bpe_word(c, w, n, out);
		wc->off[wc->n] = (uint32_t)wc->ids.n;
		wc->len[wc->n] = (uint16_t)(out->n - start);
		for (size_t k = start; k < out->n; k++)
			ivec_push(&wc->ids, out->p[k]);
		strmap_put(&wc->map, w, n, (int32_t)wc->n);
		wc->n++;
		return 0;
	}
	int32_t id = strmap_get(&t->vocab, w, n);
	if (id < 0)
		id = t->unk_id;
	if (id < 0) {
		char word[64];          /* w is not NUL-terminated: copy it (capped) to quote it */
		size_t k = n < sizeof(word) ? n : sizeof(word) - 1;
		memcpy(word, w, k);
		word[k] = 0;
		return err_set("%s: WordLevel: '%s' is not in the vocab and there is no unk_token",
			       t->name, err_quote(word, 40));
	}
	ivec_push(out, id);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Added tokens (added_vocabulary.rs find_matches): leftmost-longest matches; single_word
 * discards a match touching a word character; lstrip / rstrip swallow the whitespace around. */

static int is_word_char(const Tokenizer *t, const char *s, size_t l)
{
	/* added_vocabulary.rs: regex-crate \w at the boundary */
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc = pcre2_match(t->wordch, (PCRE2_SPTR)s, l, 0, PCRE2_NO_UTF_CHECK, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}


/* Calls emit for every split of s: id >= 0 for an added token, -1 for text between them. */
typedef int (*SplitFn)(Ctx *c, const char *s, size_t n, int32_t id, size_t off, void *arg);

static int added_split(Ctx *c, int set, const char *s, size_t n, SplitFn emit, void *arg)
{
	const Tokenizer *t = c->tok;
	size_t start_off = 0, pos = 0;
	if (t->nset[set] > 0) {
		while (pos < n) {
			unsigned char b = (unsigned char)s[pos];
			if (!t->first[set][b]) {
				pos++;
				continue;
			}
			int best = -1;
			size_t blen = 0;
			for (int k = 0; k < t->nset[set]; k++) {
				const Added *a = &t->added[t->set[set][k]];
				if (a->patlen > blen && a->patlen <= n - pos &&
				    memcmp(a->pat, s + pos, a->patlen) == 0) {
					best = t->set[set][k];
					blen = a->patlen;
				}
			}
			if (best < 0) {
				pos++;
				continue;
			}
			const Added *a = &t->added[best];
			size_t ms = pos, me = pos + blen;
			pos = me;
			if (a->single_word) {
				int left_ok = ms == 0 || !is_word_char(t, s + utf8_prev(s, ms),
								       ms - utf8_prev(s, ms));
				uint32_t cp;
				int right_ok = me == n ||
					       !is_word_char(t, s + me, tok_utf8_next(s + me, n - me, &cp));
				if (!left_ok || !right_ok)
					continue;
			}
			if (a->lstrip) {
				size_t ns = ms;
				while (ns > 0) {
					size_t p = utf8_prev(s, ns);
					uint32_t cp;
					tok_utf8_next(s + p, ns - p, &cp);
					if (!tok_is_space(cp))
						break;
					ns = p;
				}
				ms = ns > start_off ? ns : start_off;
			}
			if (a->rstrip) {
				while (me < n) {
					uint32_t cp;
					size_t l = tok_utf8_next(s + me, n - me, &cp);
					if (!tok_is_space(cp))
						break;
					me += l;
				}
				pos = me;
			}
			if (start_off < ms && emit(c, s + start_off, ms - start_off, -1, start_off, arg) < 0)
				return -1;
			if (emit(c, s + ms, me - ms, a->id, ms, arg) < 0)
				return -1;
			start_off = me;
		}
	}
	if (start_off < n && emit(c, s + start_off, n - start_off, -1, start_off, arg) < 0)
		return -1;
	return 0;
}

/* Second level: a piece of normalized text, split on the normalized added tokens. */
typedef struct {
	IVec *out;
	int at_start;
} Level2;

static int run_model_on(Ctx *c, Pieces *words, IVec *out)
{
	for (size_t i = 0; i < words->n; i++)
		if (model_piece(c, words->text.p + words->v[i].off, words->v[i].len, out) < 0)
			return -1;
	return 0;
}

static int emit_level2(Ctx *c, const char *s, size_t n, int32_t id, size_t off, void *arg)
{
	Level2 *l2 = arg;
	if (id >= 0) {
		ivec_push(l2->out, id);
		return 0;
	}
	/* pre-tokenize this piece, then run the model on every word */
	pieces_clear(&c->a);
	pieces_add(&c->a, s, n, l2->at_start && off == 0);
	Pieces *words = &c->a;
	if (c->tok->pre) {
		pieces_clear(&c->b);
		if (pre_apply(c, c->tok->pre, &c->a, &c->b) < 0)
			return -1;
		words = &c->b;
	}
	return run_model_on(c, words, l2->out);
}

static int emit_level1(Ctx *c, const char *s, size_t n, int32_t id, size_t off, void *arg)
{
	IVec *out = arg;
	if (id >= 0) {
		ivec_push(out, id);
		return 0;
	}
	Buf *norm = &c->norm;
	if (normalize(c, c->tok->norm, s, n, norm) < 0)
		return -1;
	Level2 l2 = {out, off == 0};
	return norm->n > 0 ? added_split(c, 1, norm->p, norm->n, emit_level2, &l2) : 0;
}

int tokenizer_encode(const Tokenizer *tok, const char *text, size_t len, int add_special,
		     int32_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	size_t bad;
	if (utf8_check(text, len, &bad) < 0)
		return err_set("%s: encode: input is not valid UTF-8 at byte %zu", tok->name, bad);
	Ctx local, *c = ctx_acquire(tok, &local);
	IVec out = {0};
	if (add_special && tok->has_template)
		for (size_t i = 0; i < tok->ntpl_pre; i++)
			ivec_push(&out, tok->tpl_pre[i]);
	int rc = len > 0 ? added_split(c, 0, text, len, emit_level1, &out) : 0;
	if (rc == 0 && add_special && tok->has_template)
		for (size_t i = 0; i < tok->ntpl_post; i++)
			ivec_push(&out, tok->tpl_post[i]);
	ctx_release(c);
	if (rc < 0) {
		free(out.p);
		return -1;
	}
	*ids = out.p;
	*n = out.n;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Decoders: each maps a list of token strings to a list of strings (decode_chain). */

/* String::from_utf8_lossy: each maximal invalid subsequence becomes one U+FFFD. */
void tok_utf8_lossy(const unsigned char *s, size_t n, Buf *out)
{
	size_t i = 0;
	while (i < n) {
		unsigned char b = s[i];
		size_t need = 0;
		unsigned char lo = 0x80, hi = 0xBF;
		if (b < 0x80) {
			buf_putc(out, (char)b);
			i++;
			continue;
		} else if (b >= 0xC2 && b <= 0xDF) {
			need = 1;
		} else if (b >= 0xE0 && b <= 0xEF) {
			need = 2;
			if (b == 0xE0) lo = 0xA0;
			if (b == 0xED) hi = 0x9F;
		} else if (b >= 0xF0 && b <= 0xF4) {
			need = 3;
			if (b == 0xF0) lo = 0x90;
			if (b == 0xF4) hi = 0x8F;
		} else {
			buf_put(out, "\xEF\xBF\xBD", 3);
			i++;
			continue;
		}
		size_t j = 1;
		for (; j <= need && i + j < n; j++) {
			unsigned char x = s[i + j];
			unsigned char l = j == 1 ? lo : 0x80, h = j == 1 ? hi : 0xBF;
			if (x < l || x > h)
				break;
		}
		if (j == need + 1) {
			buf_put(out, s + i, need + 1);
		} else {
			buf_put(out, "\xEF\xBF\xBD", 3);
		}
		i += j;
	}
}

static int dec_apply(Ctx *c, const Dec *d, Pieces *in, Pieces *out);

static void dec_bytelevel(const Pieces *in, Pieces *out)
{
	/* byte_level.rs decode_chain: each token's characters back to bytes (a token with any
	 * character outside the map contributes its UTF-8 bytes), all tokens concatenated, then
	 * one lossy UTF-8 conversion */
	Buf bytes = {0};
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->text.p + in->v[i].off;
		size_t n = in->v[i].len, k = 0, mark = bytes.n;
		int ok = 1;
		while (k < n) {
			uint32_t cp;
			k += tok_utf8_next(s + k, n - k, &cp);
			if (cp >= 512 || char_byte_tab[cp] < 0) {
				ok = 0;
				break;
			}
			buf_putc(&bytes, (char)char_byte_tab[cp]);
		}
		if (!ok) {
			bytes.n = mark;
			buf_put(&bytes, s, n);
		}
	}
	Buf txt = {0};
	tok_utf8_lossy((const unsigned char *)bytes.p, bytes.n, &txt);
	pieces_add(out, txt.p ? txt.p : "", txt.n, 0);
	buf_free(&bytes);
	buf_free(&txt);
}

static void flush_bytes(Buf *bytes, Pieces *out)
{
	if (bytes->n == 0)
		return;
	if (utf8_check(bytes->p, bytes->n, NULL) == 0) {
		pieces_add(out, bytes->p, bytes->n, 0);
	} else {
		for (size_t k = 0; k < bytes->n; k++)
			pieces_add(out, "\xEF\xBF\xBD", 3, 0);
	}
	bytes->n = 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9') return ch - '0';
	if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
	return -1;
}

static void dec_bytefallback(const Pieces *in, Pieces *out)
{
	Buf bytes = {0};
	for (size_t i = 0; i < in->n; i++) {
		const char *s = in->text.p + in->v[i].off;
		size_t n = in->v[i].len;
		if (n == 6 && memcmp(s, "<0x", 3) == 0 && s[5] == '>' && hexval(s[3]) >= 0 &&
		    hexval(s[4]) >= 0) {
			buf_putc(&bytes, (char)(hexval(s[3]) * 16 + hexval(s[4])));
			continue;
		}
		flush_bytes(&bytes, out);
		pieces_add(out, s, n, 0);
	}
	flush_bytes(&bytes, out);
	buf_free(&bytes);
}

/* Decoders keep empty strings in their lists (a token may decode to ""), so they append with
 * this instead of pieces_add. */
static void list_add(Pieces *p, const char *s, size_t n)
{
	size_t st = pieces_begin(p);
	buf_put(&p->text, s, n);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n++] = (PieceRef){st, n, 0};
}

static int dec_apply(Ctx *c, const Dec *d, Pieces *in, Pieces *out)
{
	switch (d->kind) {
	case DEC_BYTELEVEL:
		dec_bytelevel(in, out);
		return 0;
	case DEC_BYTEFALLBACK:
		dec_bytefallback(in, out);
		return 0;
	case DEC_FUSE:
		/* fuse.rs: all tokens joined into one */
		c->tmp.n = 0;
		buf_reserve(&c->tmp, 0);
		for (size_t i = 0; i < in->n; i++)
			buf_put(&c->tmp, in->text.p + in->v[i].off, in->v[i].len);
		list_add(out, c->tmp.p, c->tmp.n);
		return 0;
	case DEC_REPLACE:
		for (size_t i = 0; i < in->n; i++) {
			c->tmp.n = 0;
			if (replace_all(c, &d->pat, d->str, in->text.p + in->v[i].off, in->v[i].len,
					&c->tmp) < 0)
				return -1;
			list_add(out, c->tmp.p ? c->tmp.p : "", c->tmp.n);
		}
		return 0;
	case DEC_STRIP:
		for (size_t i = 0; i < in->n; i++) {
			const char *s = in->text.p + in->v[i].off;
			size_t n = in->v[i].len, b = 0, e = n;
			uint32_t cp;
			/* up to `start` leading and `stop` trailing copies of content */
			for (int k = 0; k < d->start && b < n; k++) {
				size_t l = tok_utf8_next(s + b, n - b, &cp);
				if (cp != d->cp)
					break;
				b += l;
			}
			for (int k = 0; k < d->stop && e > b; k++) {
				size_t p = utf8_prev(s, e);
				tok_utf8_next(s + p, e - p, &cp);
				if (cp != d->cp)
					break;
				e = p;
			}
			list_add(out, s + b, e - b);
		}
		return 0;
	case DEC_METASPACE: {
		size_t rl = strlen(d->str);
		for (size_t i = 0; i < in->n; i++) {
			const char *s = in->text.p + in->v[i].off;
			size_t n = in->v[i].len;
			c->tmp.n = 0;
			buf_reserve(&c->tmp, n);
			for (size_t k = 0; k < n;) {
				if (n - k >= rl && memcmp(s + k, d->str, rl) == 0) {
					/* metaspace.rs: every replacement char of the first token is
					 * dropped unless prepend_scheme is never */
					if (!(i == 0 && d->prepend_scheme != PREPEND_NEVER))
						buf_putc(&c->tmp, ' ');
					k += rl;
				} else {
					buf_putc(&c->tmp, s[k]);
					k++;
				}
			}
			list_add(out, c->tmp.p ? c->tmp.p : "", c->tmp.n);
		}
		return 0;
	}
	case DEC_SEQ: {
		Pieces cur = {0}, nxt = {0};
		for (size_t i = 0; i < in->n; i++)
			list_add(&cur, in->text.p + in->v[i].off, in->v[i].len);
		for (int k = 0; k < d->nkids; k++) {
			pieces_clear(&nxt);
			if (dec_apply(c, &d->kids[k], &cur, &nxt) < 0) {
				pieces_free(&cur);
				pieces_free(&nxt);
				return -1;
			}
			Pieces t = cur;
			cur = nxt;
			nxt = t;
		}
		for (size_t i = 0; i < cur.n; i++)
			list_add(out, cur.text.p + cur.v[i].off, cur.v[i].len);
		pieces_free(&cur);
		pieces_free(&nxt);
		return 0;
	}
	}
	return 0;
}

char *tokenizer_decode(const Tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
		       size_t *len)
{
	Ctx c;
	ctx_init(&c, tok);
	Pieces toks = {0}, res = {0};
	for (size_t i = 0; i < n; i++) {
		const char *s = tokenizer_id_to_token(tok, ids[i]);
		if (!s)
			continue;       /* tokenizer/mod.rs decode: filter_map drops unknown ids */
		if (skip_special && tokenizer_is_special(tok, ids[i]))
			continue;
		list_add(&toks, s, strlen(s));
	}
	Buf out = {0};
	buf_reserve(&out, 0);
	out.p[0] = 0;
	if (tok->dec) {
		if (dec_apply(&c, tok->dec, &toks, &res) == 0)
			for (size_t i = 0; i < res.n; i++)
				buf_put(&out, res.text.p + res.v[i].off, res.v[i].len);
	} else {
		for (size_t i = 0; i < toks.n; i++) {
			if (i)
				buf_putc(&out, ' ');
			buf_put(&out, toks.text.p + toks.v[i].off, toks.v[i].len);
		}
	}
	pieces_free(&toks);
	pieces_free(&res);
	ctx_free(&c);
	if (len)
		*len = out.n;
	return out.p;
}

/* ------------------------------------------------------------------------------------------ */
/* Lookups. */

int32_t tokenizer_token_to_id(const Tokenizer *tok, const char *token)
{
	size_t n = strlen(token);
	int32_t id = strmap_get(&tok->added_map, token, n);
	return id >= 0 ? id : strmap_get(&tok->vocab, token, n);
}

const char *tokenizer_id_to_token(const Tokenizer *tok, int32_t id)
{
	if (id < 0 || (size_t)id >= tok->nid)
		return NULL;
	return tok->id_tok[id];
}

size_t tokenizer_vocab_size(const Tokenizer *tok) { return tok->nid; }

int tokenizer_is_special(const Tokenizer *tok, int32_t id)
{
	return id >= 0 && (size_t)id < tok->nid && tok->special[id];
}

int32_t tokenizer_bos_id(const Tokenizer *tok) { return tok->bos; }
int32_t tokenizer_eos_id(const Tokenizer *tok) { return tok->eos; }
int32_t tokenizer_pad_id(const Tokenizer *tok) { return tok->pad; }
int32_t tokenizer_unk_id(const Tokenizer *tok) { return tok->unk_id; }
