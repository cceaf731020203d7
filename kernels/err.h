/* err.h: the calling thread's last error message and aborting allocation: the only
 * non-numeric code in kernels/, shared by every layer above (data/util.h includes it).
 *
 * Library functions that read user input report with err_set() and return -1 / NULL, so a
 * test can feed them bad bytes and read err_msg(); tools print it with die_err() (util.h).
 * Allocation failure is not an input error: x*alloc print and abort, as redis' zmalloc does.
 * No I/O besides that last-gasp message. */
#ifndef ASFT_ERR_H
#define ASFT_ERR_H

#include <stddef.h>

/* err_set: formats the calling thread's last error message (one line, no newline) and returns
 * -1, so `return err_set("%s: ...", path);` reports and fails in one statement. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* err_prefix: prepends "text: " to the current message (adds context on the way up). */
int err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);          /* the last message; "" if none. Valid until the next set. */
void err_clear(void);
/* Name printed before tool errors and allocation failures; cli_parse sets it from argv[0]. */
extern const char *asft_prog;

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Overflow-checked n*size for user-controlled sizes: 0 on success, -1 on overflow. */
int mul_overflow_size(size_t a, size_t b, size_t *out);

#endif
