/* tok_internal.h: small containers shared by the tokenizer files (tokenizer.c, tok_*.c,
 * bpe_train.c). Not a public interface. */
#ifndef ASFT_TOK_INTERNAL_H
#define ASFT_TOK_INTERNAL_H

#include "strbuf.h"

#include <stddef.h>
#include <stdint.h>

/* utf8_next: decodes the (valid) UTF-8 character at s[0..n), returns its byte length and stores
 * the code point in *cp. Input must have been validated. */
size_t tok_utf8_next(const char *s, size_t n, uint32_t *cp);

/* String -> int32 hash map with open addressing; keys are copied. */
typedef struct {
	char **keys;
	uint32_t *klen;
	int32_t *vals;
	size_t cap, n;
} TokStrMap;

void strmap_init(TokStrMap *m, size_t expect);
/* put: inserts or overwrites; returns 1 if the key was new, 0 if it existed. */
int strmap_put(TokStrMap *m, const char *k, size_t klen, int32_t v);
/* get: the value, or -1 when absent. */
int32_t strmap_get(const TokStrMap *m, const char *k, size_t klen);
void strmap_free(TokStrMap *m);

uint64_t tok_hash_bytes(const void *p, size_t n);

/* tok_unicode_stable (tok_unicode.c, generated): 1 if the valid UTF-8 s[0..n) is unchanged by
 * Unicode normalization form `form` (0 NFC, 1 NFD, 2 NFKC, 3 NFKD) by the quick check (no code
 * point that may change under it); else 0 and *bad (may be NULL) = the first such code point. */
int tok_unicode_stable(int form, const char *s, size_t n, uint32_t *bad);
extern const char tok_unicode_version[];

/* tok_hash_pair: mixes all 64 bits of a (left << 32 | right) pair key into the low bits. */
static inline uint64_t tok_hash_pair(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k;
}

#endif
