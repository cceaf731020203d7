/* tok_util.c: UTF-8 stepping and the string hash map the tokenizer files share (their byte
 * buffer is Buf, strbuf.c). */
#include "tok_internal.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

size_t tok_utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	if (u[0] < 0x80 || n < 2) {
		*cp = u[0];
		return 1;
	}
	if (u[0] < 0xE0) {
		*cp = ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
		return 2;
	}
	if (u[0] < 0xF0 && n >= 3) {
		*cp = ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
		return 3;
	}
	if (n >= 4) {
		*cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
		      ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
		return 4;
	}
	*cp = u[0];
	return 1;
}

uint64_t tok_hash_bytes(const void *p, size_t n)
{
	/* FNV-1a, then a murmur finalizer so the low bits used for the slot mix well. */
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

void strmap_init(TokStrMap *m, size_t expect)
{
	size_t cap = 16;
	while (cap < expect * 2)
		cap *= 2;
	m->cap = cap;
	m->n = 0;
	m->keys = xcalloc(cap, sizeof(char *));
	m->klen = xcalloc(cap, sizeof(uint32_t));
	m->vals = xcalloc(cap, sizeof(int32_t));
}

static size_t strmap_slot(const TokStrMap *m, const char *k, size_t klen)
{
	size_t i = tok_hash_bytes(k, klen) & (m->cap - 1);
	while (m->keys[i] && !(m->klen[i] == klen && memcmp(m->keys[i], k, klen) == 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void strmap_grow(TokStrMap *m)
{
	TokStrMap old = *m;
	m->cap = old.cap * 2;
	m->keys = xcalloc(m->cap, sizeof(char *));
	m->klen = xcalloc(m->cap, sizeof(uint32_t));
	m->vals = xcalloc(m->cap, sizeof(int32_t));
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.keys[i])
			continue;
		size_t j = strmap_slot(m, old.keys[i], old.klen[i]);
		m->keys[j] = old.keys[i];
		m->klen[j] = old.klen[i];
		m->vals[j] = old.vals[i];
	}
	free(old.keys);
	free(old.klen);
	free(old.vals);
}

int strmap_put(TokStrMap *m, const char *k, size_t klen, int32_t v)
{
	if ((m->n + 1) * 2 > m->cap)
		strmap_grow(m);
	size_t i = strmap_slot(m, k, klen);
	if (m->keys[i]) {
		m->vals[i] = v;
		return 0;
	}
	char *key = xmalloc(klen + 1);
	memcpy(key, k, klen);
	key[klen] = 0;
	m->keys[i] = key;
	m->klen[i] = (uint32_t)klen;
	m->vals[i] = v;
	m->n++;
	return 1;
}

int32_t strmap_get(const TokStrMap *m, const char *k, size_t klen)
{
	if (!m->cap)
		return -1;
	size_t i = strmap_slot(m, k, klen);
	return m->keys[i] ? m->vals[i] : -1;
}

void strmap_free(TokStrMap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->klen);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
