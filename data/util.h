/* util.h: error reporting for tools, whole-file I/O, atomic writes, UTF-8 checks, timing, progress.
 *
 * Two tiers of errors (see STYLE.md): library functions that read user input report with
 * err_set() and return -1 / NULL, so a test can feed them bad bytes and read err_msg(); tools
 * turn that into one line on stderr with die_err(). err_set and the x*alloc family live in
 * kernels/err.h (included here) because the engine reports errors too and kernels/ depends on
 * nothing above it. */
#ifndef ASFT_UTIL_H
#define ASFT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "err.h"

#define ASFT_VERSION "0.1.0"
extern const char asft_git_rev[];   /* `git describe --always --dirty` at build time */

/* err_quote: s (user bytes: a tensor name, a JSON string, a CSV field) made fit for a one-line
 * message (DESIGN.md section 8): "\n" "\r" "\t" become those two-character escapes, other
 * control bytes (C0, DEL, UTF-8 encoded C1) and bytes that are not valid UTF-8 become \xNN,
 * valid UTF-8 text (backslashes included) is kept as is; at most max output bytes (0 or more
 * than ERR_QUOTE_MAX means ERR_QUOTE_MAX), cut at a whole character and followed by "..." when
 * s was longer. NULL gives "(null)". The result is a thread-local buffer from a ring of
 * ERR_QUOTE_SLOTS, so one err_set may quote up to that many strings; it stays valid until as
 * many further calls in the same thread. Never fails. */
#define ERR_QUOTE_MAX 200
#define ERR_QUOTE_SLOTS 8
const char *err_quote(const char *s, size_t max);

noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void die_err(void);        /* die("%s", err_msg()) */
void warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* "prog: warning: ..." */

/* file_read_all: whole file into a new NUL-terminated buffer (caller frees); *len (may be NULL)
 * gets the byte count without the NUL. NULL with err_set on failure. */
char *file_read_all(const char *path, size_t *len);
/* file_write_atomic: writes buf to "path.tmp.PID" then renames it over path, so readers never
 * see a half-written file. 0 ok, -1 with err_set. */
int file_write_atomic(const char *path, const void *buf, size_t n);
/* tmp_path: the temporary name used for path by this process ("path.tmp.PID"); caller frees. */
char *tmp_path(const char *path);
int path_exists(const char *path);
int mkdir_p(const char *dir);       /* like mkdir -p; 0 ok, -1 with err_set */
char *path_join(const char *dir, const char *name);   /* "dir/name"; caller frees */

/* utf8_check: 0 if s[0..n) is valid UTF-8 (no overlongs, surrogates or code points past
 * U+10FFFF); else -1 and *bad_off (may be NULL) = byte offset of the first bad sequence. */
int utf8_check(const char *s, size_t n, size_t *bad_off);

double time_now(void);              /* monotonic seconds */

/* Progress line on stderr for work longer than a few seconds:
 *   label  1234/5000  24.7%  12.3 it/s  ETA 5m06s  [extra]
 * Redrawn at most 4 times a second on a terminal, every 10% otherwise (so logs stay short);
 * silent when ASFT_QUIET is set. */
typedef struct {
	const char *label;
	uint64_t total, done;
	double t0, last;
	int tty, last_decile;
} Progress;
void progress_init(Progress *p, const char *label, uint64_t total);
void progress_update(Progress *p, uint64_t done, const char *extra);
void progress_finish(Progress *p, const char *extra);

#endif
