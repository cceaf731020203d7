/* world_int.h: helpers shared by world.c (generation, label checks) and world_write.c (JSON,
 * manifest, files). Private to data/world*.c. */
#ifndef ASFT_WORLD_INT_H
#define ASFT_WORLD_INT_H

#include "strbuf.h"
#include "world.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* buf_json_str: appends s as a JSON string literal (quotes, escapes of " \ and controls). */
void buf_json_str(Buf *b, const char *s);

/* A set of 64-bit string hashes (open addressing). Only membership is ever asked, so no output
 * depends on its layout. */
typedef struct {
	uint64_t *slot;
	size_t n, cap;
} HashSet;

void hset_free(HashSet *s);
int hset_has(const HashSet *s, uint64_t h);
int hset_add(HashSet *s, uint64_t h);   /* 1 if added, 0 if present */
uint64_t world_key(const char *instruction, const char *input);   /* FNV-1a of "instr\ninput" */

#endif
