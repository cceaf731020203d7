/* util.c: see util.h. Nothing here knows about models or formats. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


/* utf8_seq_len: length of the valid UTF-8 sequence at s (n bytes left), 0 when it is not one. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 :
		     (s[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (!len || len > n || utf8_check((const char *)s, len, NULL) != 0)
		return 0;
	return len;
}

const char *err_quote(const char *s, size_t max)
{
	static _Thread_local char ring[ERR_QUOTE_SLOTS][ERR_QUOTE_MAX + 4];
	static _Thread_local unsigned next;
	char *out = ring[next++ % ERR_QUOTE_SLOTS];
	if (!s)
		return strcpy(out, "(null)");
	if (max == 0 || max > ERR_QUOTE_MAX)
		max = ERR_QUOTE_MAX;
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k = 0;
	while (i < n) {
		char esc[8];
		const char *piece = esc;
		size_t len = utf8_seq_len(u + i, n - i), plen;
		/* U+0080..U+009F (C2 80..C2 9F) are controls too: NEL (U+0085) breaks lines */
		int c1 = len == 2 && u[i] == 0xC2 && u[i + 1] < 0xA0;
		if (len && !c1 && u[i] >= 0x20 && u[i] != 0x7F) {
			piece = s + i;
			plen = len;
		} else {
			unsigned char c = u[i];
			len = 1;
			if (c == '\n' || c == '\r' || c == '\t')
				snprintf(esc, sizeof esc, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
			else
				snprintf(esc, sizeof esc, "\\x%02x", c);
			plen = strlen(esc);
		}
		if (k + plen > max)
			break;
		memcpy(out + k, piece, plen);
		k += plen;
		i += len;
	}
	if (i < n) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = 0;
	return out;
}

noreturn void die(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: ", asft_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

noreturn void die_err(void) { die("%s", err_msg()[0] ? err_msg() : "unknown error"); }

void warnf(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: warning: ", asft_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

char *file_read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		err_set("%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n + 1 < cap)
			break;
		cap *= 2;
		buf = xrealloc(buf, cap);
	}
	if (ferror(f)) {
		err_set("%s: read error: %s", path, strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

char *tmp_path(const char *path) { return xasprintf("%s.tmp.%ld", path, (long)getpid()); }

int file_write_atomic(const char *path, const void *buf, size_t n)
{
	char *tmp = tmp_path(path);
	int ret = -1;
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		err_set("%s: cannot create: %s", tmp, strerror(errno));
		goto out_free_tmp;
	}
	if (fwrite(buf, 1, n, f) != n || fflush(f) != 0) {
		err_set("%s: write error: %s", tmp, strerror(errno));
		fclose(f);
		goto out_unlink;
	}
	if (fclose(f) != 0) {
		err_set("%s: close error: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (rename(tmp, path) != 0) {
		err_set("%s: cannot rename into place: %s", path, strerror(errno));
		goto out_unlink;
	}
	ret = 0;
	goto out_free_tmp;
out_unlink:
	unlink(tmp);
out_free_tmp:
	free(tmp);
	return ret;
}

int path_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir);
	int ret = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != 0)
			continue;
		char c = *s;
		*s = 0;
		if (mkdir(p, 0777) != 0 && errno != EEXIST) {
			ret = err_set("%s: cannot create directory: %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return ret;
}

char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir);
	return xasprintf("%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", name);
}

int utf8_check(const char *s, size_t n, size_t *bad_off)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned c = u[i];
		size_t len;
		uint32_t cp, min;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2, cp = c & 0x1F, min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3, cp = c & 0x0F, min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			goto bad;
		}
		if (n - i < len)
			goto bad;
		for (size_t k = 1; k < len; k++) {
			if ((u[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (u[i + k] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += len;
	}
	return 0;
bad:
	if (bad_off)
		*bad_off = i;
	return -1;
}

double time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void progress_init(Progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof *p);
	p->label = label;
	p->total = total;
	p->t0 = p->last = time_now();
	p->tty = isatty(2);
	p->last_decile = -1;
}

static void progress_draw(Progress *p, const char *extra, int final)
{
	double el = time_now() - p->t0, rate = el > 0 ? p->done / el : 0;
	char eta[32] = "";
	if (!final && rate > 0 && p->total > p->done) {
		long s = (long)((p->total - p->done) / rate);
		snprintf(eta, sizeof eta, "  ETA %ldm%02lds", s / 60, s % 60);
	} else if (final) {
		snprintf(eta, sizeof eta, "  in %.1fs", el);
	}
	fprintf(stderr, "%s%s  %llu/%llu  %5.1f%%  %.3g it/s%s%s%s%s", p->tty ? "\r\033[K" : "",
		p->label, (unsigned long long)p->done, (unsigned long long)p->total,
		p->total ? 100.0 * p->done / p->total : 100.0, rate, eta, extra ? "  " : "",
		extra ? extra : "", (p->tty && !final) ? "" : "\n");
	fflush(stderr);
}

void progress_update(Progress *p, uint64_t done, const char *extra)
{
	if (getenv("ASFT_QUIET"))
		return;
	p->done = done;
	double t = time_now();
	if (p->tty) {
		if (t - p->last < 0.25)
			return;
	} else {
		int dec = p->total ? (int)(10 * done / p->total) : 0;
		if (dec == p->last_decile)
			return;
		p->last_decile = dec;
	}
	p->last = t;
	progress_draw(p, extra, 0);
}

void progress_finish(Progress *p, const char *extra)
{
	if (getenv("ASFT_QUIET"))
		return;
	p->done = p->total;
	progress_draw(p, extra, 1);
}
