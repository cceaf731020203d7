/* fuzz.h: what the fuzz targets share (header-only, because `make fuzz` links one
 * tests/fuzz/fuzz_NAME.c with libasft.a and nothing else).
 *
 * - fuzz_write: puts the input bytes into a file of a private temporary folder, for parsers that
 *   only read from a path (st_open, adapter_config_load, h5s_open). The folder is made once per
 *   process and removed at exit.
 * - FUZZ_CHECK: a property the target asserts; a violation abort()s, which libFuzzer and the
 *   replay driver both report as a crash (so it is a real check, not a log line).
 * - fuzz_make_seeds, fuzz_replay_total: optional; a target that can write its seed corpus with the project's own
 *   writers defines it, and `build/tests/test_fuzz_NAME --make-seeds DIR` calls it.
 * Deliberately not here: any mutation logic (libFuzzer has its own; replay.c has the fixed one). */
#ifndef ASFT_FUZZ_H
#define ASFT_FUZZ_H

#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_make_seeds(const char *dir) __attribute__((weak));   /* 0 ok; some targets only */
/* fuzz_replay_total: mutated inputs the replay driver makes per run (default 2400); a fast
 * target raises it, a slow one lowers it, to stay near 1-2 s under the sanitizers. */
extern const size_t fuzz_replay_total __attribute__((weak));

#define FUZZ_CHECK(cond, ...) do {                                              \
	if (!(cond)) {                                                          \
		fprintf(stderr, "%s:%d: fuzz check failed: %s: ", __FILE__,     \
			__LINE__, #cond);                                       \
		fprintf(stderr, __VA_ARGS__);                                   \
		fputc('\n', stderr);                                            \
		abort();                                                        \
	}                                                                       \
} while (0)

/* A failed parse must say why: err_msg() non-empty (call err_clear() before the parser), on
 * one line (DESIGN.md section 8: parsers quote user bytes with err_quote). The one-line check
 * is on for every target (a target may define FUZZ_ONE_LINE_DEFAULT 0 before including this
 * header; none does); ASFT_FUZZ_ONE_LINE=1 or =0 overrides it either way. */
#ifndef FUZZ_ONE_LINE_DEFAULT
#define FUZZ_ONE_LINE_DEFAULT 1
#endif
static inline int fuzz_one_line_(void)
{
	static int v = -1;
	if (v < 0) {
		const char *e = getenv("ASFT_FUZZ_ONE_LINE");
		v = e && (!strcmp(e, "0") || !strcmp(e, "1")) ? e[0] == '1' : FUZZ_ONE_LINE_DEFAULT;
	}
	return v;
}

#define FUZZ_CHECK_ERR(what) do {                                                       \
	FUZZ_CHECK(err_msg()[0] != '\0', "%s failed without an error message", what);   \
	FUZZ_CHECK(!fuzz_one_line_() || !strchr(err_msg(), '\n'),                       \
		   "%s: error message spans lines: %s", what, err_msg());                 \
} while (0)

/* UBSan: stop at the first report. `make fuzz` compiles with recoverable UBSan checks, where a
 * report would otherwise scroll by while libFuzzer carries on; stopping makes it a crash with
 * a saved input. Defined once per program: in the target, not in replay.c (which defines
 * FUZZ_REPLAY before including this header). */
#ifndef FUZZ_REPLAY
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}
#endif

static char fuzz_tmp_[4096];

static inline void fuzz_rm_tree_(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p = path_join(dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			fuzz_rm_tree_(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(dir);
}

static inline void fuzz_cleanup_(void)
{
	if (fuzz_tmp_[0])
		fuzz_rm_tree_(fuzz_tmp_);
}

/* fuzz_dir: this process's scratch folder, created on first use: under $TMPDIR if set, else
 * /dev/shm when writable (a disk-backed /tmp makes thousands of small rewrites 25x slower),
 * else /tmp. */
static inline const char *fuzz_dir(void)
{
	if (!fuzz_tmp_[0]) {
		const char *t = getenv("TMPDIR");
		if (!t || !*t)
			t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(fuzz_tmp_, sizeof fuzz_tmp_, "%s/asft-fuzz-XXXXXX", t);
		if (!mkdtemp(fuzz_tmp_)) {
			perror(fuzz_tmp_);
			abort();
		}
		atexit(fuzz_cleanup_);
	}
	return fuzz_tmp_;
}

/* fuzz_write_at: path = a new file holding the size bytes (unlinked first: rewriting a file in
 * place on ext4 flushes it at close); aborts on I/O failure, which is the harness's fault,
 * not the parser's. */
static inline void fuzz_write_at(const char *path, const void *data, size_t size)
{
	unlink(path);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror(path);
		abort();
	}
	const char *p = data;
	while (size > 0) {
		ssize_t k = write(fd, p, size);
		if (k <= 0) {
			perror(path);
			abort();
		}
		p += k;
		size -= (size_t)k;
	}
	close(fd);
}

/* fuzz_path: "<scratch>/name" (caller frees); fuzz_write: the same path, holding the bytes. */
static inline char *fuzz_path(const char *name)
{
	return path_join(fuzz_dir(), name);
}

static inline char *fuzz_write(const char *name, const void *data, size_t size)
{
	char *path = fuzz_path(name);
	fuzz_write_at(path, data, size);
	return path;
}

#endif
