/* err.c: see err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdnoreturn.h>
#include <string.h>

#define ERR_MAX 1024
static _Thread_local char err_buf[ERR_MAX];
const char *asft_prog = "asft";

int err_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof err_buf, fmt, ap);
	va_end(ap);
	return -1;
}

int err_prefix(const char *fmt, ...)
{
	char head[ERR_MAX / 2], old[ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(head, sizeof head, fmt, ap);
	va_end(ap);
	memcpy(old, err_buf, sizeof old);
	size_t n = strlen(head);
	if (n + 2 < sizeof err_buf) {
		memcpy(err_buf, head, n);
		memcpy(err_buf + n, ": ", 2);
		size_t room = sizeof err_buf - n - 3, m = strlen(old);
		m = m < room ? m : room;    /* truncation is fine: the head is what matters */
		memcpy(err_buf + n + 2, old, m);
		err_buf[n + 2 + m] = 0;
	}
	return -1;
}

const char *err_msg(void) { return err_buf; }
void err_clear(void) { err_buf[0] = 0; }

static noreturn void oom(size_t n)
{
	fprintf(stderr, "%s: out of memory allocating %zu bytes\n", asft_prog, n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xmalloc(n), s, n);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

int mul_overflow_size(size_t a, size_t b, size_t *out)
{
	return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
