/* strbuf.h: the growable byte string the world writer, the tokenizer and the dataset writers
 * build text in. p is NUL-terminated after every append and after buf_reset (so p is a C string
 * whenever the bytes hold no NUL); a zeroed Buf is empty and ready. Allocation failure aborts
 * (xrealloc). Not here: JSON escaping (each writer has its own rules). */
#ifndef ASFT_STRBUF_H
#define ASFT_STRBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	char *p;
	size_t n, cap;   /* bytes used (without the NUL), bytes allocated */
} Buf;

void buf_reserve(Buf *b, size_t extra);             /* room for extra more bytes and the NUL */
void buf_put(Buf *b, const void *s, size_t n);      /* s may be NULL when n == 0 */
void buf_puts(Buf *b, const char *s);
void buf_putc(Buf *b, char c);
void buf_put_utf8(Buf *b, uint32_t cp);             /* cp <= 0x10FFFF, encoded as UTF-8 */
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_reset(Buf *b);                             /* empty, keeps the allocation */
void buf_free(Buf *b);                              /* frees p and zeroes b; b may be zeroed */

#endif
