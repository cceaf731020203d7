/* corpus.c: see corpus.h. */
#include "corpus.h"

#include "dataset.h"
#include "util.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- documents */

static void doc_free(Doc *d)
{
	free(d->text);
	free(d->instruction);
	free(d->input);
	free(d->output);
	free(d->task);
	free(d->label);
	free(d->compliant);
	free(d->refusal);
}

void docs_free(DocSet *s)
{
	for (size_t i = 0; i < s->n; i++)
		doc_free(&s->d[i]);
	free(s->d);
	memset(s, 0, sizeof(*s));
}

void docs_truncate(DocSet *s, size_t n)
{
	for (size_t i = n; i < s->n; i++)
		doc_free(&s->d[i]);
	if (n < s->n)
		s->n = n;
}

/* get_str: field key of o as a new string into *out (NULL when absent or null). -1 when it is
 * there with another type. */
static int get_str(const cJSON *o, const char *key, char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return -1;
	*out = xstrdup(v->valuestring);
	return 0;
}

static int doc_from_json(Doc *d, const cJSON *o, const char *name, int line, size_t idx)
{
	memset(d, 0, sizeof(*d));
	d->line = line;
	if (!cJSON_IsObject(o))
		return err_set("%s:%d: record %zu: not a JSON object", name, line, idx);
	static const char *keys[] = { "text", "instruction", "input", "output", "task", "label",
				      "compliant", "refusal", "prompt", "answer" };
	char *v[10];
	for (int k = 0; k < 10; k++) {
		if (get_str(o, keys[k], &v[k])) {
			for (int j = 0; j < k; j++)
				free(v[j]);
			return err_set("%s:%d: record %zu: field \"%s\" is not a string", name, line,
				       idx, keys[k]);
		}
	}
	d->text = v[0];
	d->instruction = v[1];
	d->input = v[2];
	d->output = v[3];
	d->task = v[4];
	d->label = v[5];
	d->compliant = v[6];
	d->refusal = v[7];
	if (!d->instruction && v[8]) {          /* judge record: prompt / answer */
		d->instruction = v[8];
		v[8] = NULL;
	}
	if (!d->output && v[9]) {
		d->output = v[9];
		v[9] = NULL;
	}
	free(v[8]);
	free(v[9]);
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "harmful");
	d->harmful = cJSON_IsTrue(h);
	if (!d->text && !d->instruction) {
		doc_free(d);
		return err_set("%s:%d: record %zu: no \"text\", \"instruction\" or \"prompt\" string",
			       name, line, idx);
	}
	return 0;
}

static void docs_push(DocSet *s, const Doc *d)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 256;
		s->d = xrealloc(s->d, s->cap * sizeof(*s->d));
	}
	s->d[s->n++] = *d;
}

int docs_parse(DocSet *s, const char *text, size_t n, const char *name)
{
	memset(s, 0, sizeof(*s));
	size_t bad;
	if (utf8_check(text, n, &bad))
		return err_set("%s: invalid UTF-8 at byte %zu", name, bad);
	size_t i = 0;
	while (i < n && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
		i++;
	if (i == n)
		return 0;
	if (text[i] == '[') {
		cJSON *arr = cJSON_ParseWithLength(text + i, n - i);
		if (!arr || !cJSON_IsArray(arr)) {
			cJSON_Delete(arr);
			return err_set("%s: not a valid JSON array", name);
		}
		size_t k = 0;
		const cJSON *o;
		cJSON_ArrayForEach(o, arr) {
			Doc d;
			if (doc_from_json(&d, o, name, (int)k + 1, k)) {
				cJSON_Delete(arr);
				docs_free(s);
				return -1;
			}
			docs_push(s, &d);
			k++;
		}
		cJSON_Delete(arr);
		return 0;
	}
	int line = 1;
	size_t p = 0;
	while (p < n) {
		size_t e = p;
		while (e < n && text[e] != '\n')
			e++;
		size_t q = p;
		while (q < e && (text[q] == ' ' || text[q] == '\t' || text[q] == '\r'))
			q++;
		if (q < e) {
			cJSON *o = cJSON_ParseWithLength(text + p, e - p);
			if (!o) {
				size_t idx = s->n;
				docs_free(s);
				return err_set("%s:%d: record %zu: not valid JSON", name, line, idx);
			}
			Doc d;
			int rc = doc_from_json(&d, o, name, line, s->n);
			cJSON_Delete(o);
			if (rc) {
				docs_free(s);
				return -1;
			}
			docs_push(s, &d);
		}
		p = e + 1;
		line++;
	}
	return 0;
}

int docs_load(DocSet *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	size_t n;
	char *text = file_read_all(path, &n);
	if (!text)
		return -1;
	int rc = docs_parse(s, text, n, path);
	free(text);
	return rc;
}

/* ---------------------------------------------------------------- corpus */

void corpus_init(Corpus *c, int T)
{
	memset(c, 0, sizeof(*c));
	c->T = T < 2 ? 2 : T;
	c->cap_seq = 64;
	c->off = xmalloc(c->cap_seq * sizeof(*c->off));
	c->off[0] = 0;
}

void corpus_free(Corpus *c)
{
	free(c->ids);
	free(c->mask);
	free(c->off);
	memset(c, 0, sizeof(*c));
}

static void corpus_reserve(Corpus *c, size_t extra)
{
	if (c->n_tok + extra <= c->cap_tok)
		return;
	size_t cap = c->cap_tok ? c->cap_tok : 4096;
	while (cap < c->n_tok + extra)
		cap *= 2;
	c->ids = xrealloc(c->ids, cap * sizeof(*c->ids));
	c->mask = xrealloc(c->mask, cap);
	c->cap_tok = cap;
}

static void corpus_push(Corpus *c, const int32_t *ids, const uint8_t *mask, size_t n)
{
	corpus_reserve(c, n);
	memcpy(c->ids + c->n_tok, ids, n * sizeof(*ids));
	memcpy(c->mask + c->n_tok, mask, n);
	for (size_t i = 0; i < n; i++)
		c->n_targets += mask[i] != 0;
	c->n_tok += n;
	if (c->n_seq + 2 > c->cap_seq) {
		c->cap_seq *= 2;
		c->off = xrealloc(c->off, c->cap_seq * sizeof(*c->off));
	}
	c->off[++c->n_seq] = c->n_tok;
}

int corpus_encode_prompt(const Tokenizer *tok, const char *instruction, const char *input,
			 int32_t **ids, size_t *n)
{
	char *p = prompt_format(instruction, input);
	int rc = tokenizer_encode(tok, p, strlen(p), 1, ids, n);
	free(p);
	return rc;
}

/* sft_tokens: prompt ids (with BOS) then output ids then EOS, with the response mask. */
static int sft_tokens(const Tokenizer *tok, const char *instruction, const char *input,
		      const char *output, int32_t **ids, uint8_t **mask, size_t *n, size_t *n_prompt)
{
	int32_t *p = NULL, *r = NULL;
	size_t np = 0, nr = 0;
	if (corpus_encode_prompt(tok, instruction, input, &p, &np))
		return -1;
	const char *out = output ? output : "";
	if (tokenizer_encode(tok, out, strlen(out), 0, &r, &nr)) {
		free(p);
		return -1;
	}
	int32_t eos = tokenizer_eos_id(tok);
	size_t tot = np + nr + (eos >= 0);
	*ids = xmalloc((tot ? tot : 1) * sizeof(**ids));
	*mask = xmalloc(tot ? tot : 1);
	if (np)
		memcpy(*ids, p, np * sizeof(*p));
	if (nr)
		memcpy(*ids + np, r, nr * sizeof(*r));
	if (eos >= 0)
		(*ids)[np + nr] = eos;
	memset(*mask, 0, np);
	memset(*mask + np, 1, tot - np);
	*n = tot;
	*n_prompt = np;
	free(p);
	free(r);
	return 0;
}

int corpus_add_sft(Corpus *c, const Tokenizer *tok, const char *instruction, const char *input,
		   const char *output, int response_only)
{
	int32_t *ids;
	uint8_t *mask;
	size_t n, np;
	if (sft_tokens(tok, instruction, input, output, &ids, &mask, &n, &np))
		return -1;
	if (np >= (size_t)c->T) {
		c->skipped++;
	} else {
		if (n > (size_t)c->T) {
			n = (size_t)c->T;
			c->truncated++;
		}
		if (!response_only)
			memset(mask, 1, n);
		corpus_push(c, ids, mask, n);
	}
	free(ids);
	free(mask);
	return 0;
}

long corpus_add_docs_sft(Corpus *c, const Tokenizer *tok, const DocSet *docs, int response_only)
{
	long added = 0;
	for (size_t i = 0; i < docs->n; i++) {
		const Doc *d = &docs->d[i];
		if (!d->instruction || !d->output)
			continue;
		size_t before = c->n_seq;
		if (corpus_add_sft(c, tok, d->instruction, d->input, d->output, response_only))
			return err_prefix("record %zu", i), -1;
		added += c->n_seq > before;
	}
	return added;
}

long corpus_add_docs_packed(Corpus *c, const Tokenizer *tok, const DocSet *docs)
{
	size_t T = (size_t)c->T, cap = 4096, n = 0;
	int32_t *stream = xmalloc(cap * sizeof(*stream));
	int32_t eos = tokenizer_eos_id(tok);
	for (size_t i = 0; i < docs->n; i++) {
		const Doc *d = &docs->d[i];
		int32_t *ids = NULL;
		uint8_t *mask = NULL;
		size_t k = 0, np;
		if (d->text) {
			if (tokenizer_encode(tok, d->text, strlen(d->text), 1, &ids, &k)) {
				free(stream);
				return err_prefix("record %zu", i), -1;
			}
			if (eos >= 0) {
				ids = xrealloc(ids, (k + 1) * sizeof(*ids));
				ids[k++] = eos;
			}
		} else if (d->instruction && d->output) {
			if (sft_tokens(tok, d->instruction, d->input, d->output, &ids, &mask, &k, &np)) {
				free(stream);
				return err_prefix("record %zu", i), -1;
			}
		}
		if (n + k > cap) {
			while (n + k > cap)
				cap *= 2;
			stream = xrealloc(stream, cap * sizeof(*stream));
		}
		if (k)
			memcpy(stream + n, ids, k * sizeof(*ids));
		n += k;
		free(ids);
		free(mask);
	}
	uint8_t *ones = xmalloc(T);
	memset(ones, 1, T);
	long windows = 0;
	for (size_t s = 0; s + T <= n; s += T, windows++)
		corpus_push(c, stream + s, ones, T);
	free(ones);
	free(stream);
	return windows;
}
