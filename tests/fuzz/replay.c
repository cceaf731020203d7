/* replay.c: main() for a fuzz target in `make test` (no libFuzzer needed).
 *
 *   test_fuzz_NAME                 seeds of tests/fuzz/corpus/NAME, then fixed mutations of them
 *   test_fuzz_NAME FILE|DIR...     only those inputs (reproduce a libFuzzer crash-* file)
 *   test_fuzz_NAME --make-seeds DIR   write the target's generated seeds (if it has a generator)
 *
 * The mutations are drawn from rng.h with a seed fixed per seed file (a hash of its name), so a
 * run is the same every time and a failure reproduces: bit flips, bytes replaced by values that
 * matter to the parsers (NUL, 0xff, quotes, brackets, digits, UTF-8 lead bytes), every
 * truncation of a small seed (sampled lengths for a big one), splices of two seeds, numbers
 * replaced by extreme ones (18446744073709551615, -1, 1e309, ...), JSON tokens and deep nesting
 * inserted, ranges deleted or duplicated, 64-bit little-endian lengths overwritten (the
 * safetensors header length), and stacks of these. Each input is given to
 * LLVMFuzzerTestOneInput in a heap block of exactly its size, so ASan sees any read past it.
 * A crash or a target's abort() ends the program, which tests/run.sh counts as a failure; the
 * input is then saved to $TMPDIR/asft-fuzz-crash-NAME. Checks counted in "N passed": one per
 * seed file (it ran clean) and one per mutation family (all its inputs ran clean), so the
 * suite's total is not swamped by thousands of generated inputs; the number of inputs run is
 * printed on an informational line of its own. Under ASan, ASFT_FUZZ_LEAKS=1 runs a leak check after every
 * input to name the one that leaked. Not done: coverage guidance (that is make fuzz). */
#define FUZZ_REPLAY 1
#include "fuzz.h"
#include "rng.h"
#include "util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Sanitizer runtimes call this (if linked) before they end the program on an error. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));
/* LeakSanitizer: leak check now, nonzero if something leaked (linked with ASan only). */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));
static int leak_each;           /* ASFT_FUZZ_LEAKS=1: leak check after every input (slow) */

/* Mutated inputs per seed file: the total (fuzz_replay_total if the target sets it, else
 * TOTAL_DEFAULT) spread over the seeds, at least PER_SEED_MIN each. ASFT_FUZZ_INPUTS
 * overrides the total (a longer local run). */
#define TOTAL_DEFAULT 2400
#define PER_SEED_MIN 150
#define FULL_TRUNC_MAX 1024     /* seeds up to this size are cut at every length */
#define SAMPLED_TRUNCS 160
#define MAX_LEN (1u << 20)    /* mutations never grow an input past this */

typedef struct {
	uint8_t *p;
	size_t n;
	char *name;
} Seed;

typedef struct {
	uint8_t *p;
	size_t n, cap;
} Buf;

/* Mutation families, each one check: an input made by one mutation counts for that mutation's
 * family, one made by a stack of them for FAM_STACK. */
enum {
	FAM_TRUNC, FAM_FLIP, FAM_BYTE, FAM_RANDOM_BYTE, FAM_NUMBER, FAM_TOKEN, FAM_NEST,
	FAM_DELETE, FAM_DUP, FAM_U64, FAM_SPLICE, FAM_STACK, N_FAM
};
static const char *const fam_names[N_FAM] = {
	[FAM_TRUNC] = "truncations", [FAM_FLIP] = "bit-flip mutations",
	[FAM_BYTE] = "interesting-byte mutations", [FAM_RANDOM_BYTE] = "random-byte mutations",
	[FAM_NUMBER] = "extreme-number mutations", [FAM_TOKEN] = "JSON-token mutations",
	[FAM_NEST] = "deep-nesting mutations", [FAM_DELETE] = "range deletions",
	[FAM_DUP] = "range duplications", [FAM_U64] = "64-bit integer overwrites",
	[FAM_SPLICE] = "splices of two seeds", [FAM_STACK] = "stacks of 2-5 mutations",
};
static size_t fam_inputs[N_FAM];

static size_t n_inputs;
static const char *current;     /* the seed the running input derives from */
static const uint8_t *cur_data; /* the running input, saved to crash_path if it kills us */
static size_t cur_n;
static char crash_path[512];

static void run_input(const uint8_t *data, size_t n)
{
	uint8_t *copy = xmalloc(n ? n : 1);
	if (n)
		memcpy(copy, data, n);
	cur_data = copy;
	cur_n = n;
	LLVMFuzzerTestOneInput(copy, n);
	if (leak_each && __lsan_do_recoverable_leak_check && __lsan_do_recoverable_leak_check()) {
		fprintf(stderr, "replay: input %zu leaked (ASFT_FUZZ_LEAKS=1)\n", n_inputs);
		abort();
	}
	cur_data = NULL;
	free(copy);
	n_inputs++;
}

static void say(const char *s)
{
	ssize_t k = write(2, s, strlen(s));
	(void)k;
}

/* save_crash: writes the running input to crash_path (async-signal-safe calls only), so
 * `test_fuzz_NAME crash_path` reproduces the failure. */
static void save_crash(void)
{
	if (!cur_data || !crash_path[0])
		return;
	int fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		const uint8_t *p = cur_data;
		size_t left = cur_n;
		while (left > 0) {
			ssize_t k = write(fd, p, left);
			if (k <= 0)
				break;
			p += k;
			left -= (size_t)k;
		}
		close(fd);
	}
	say("replay: the failing input (derived from seed ");
	say(current ? current : "?");
	say(") is saved in ");
	say(crash_path);
	say("\n");
	cur_data = NULL;
}

static void on_signal(int sig)
{
	save_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch_crashes(const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(crash_path, sizeof crash_path, "%s/asft-fuzz-crash-%s", t && *t ? t : "/tmp", name);
	static const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], on_signal);
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(save_crash);
}

static void buf_reserve(Buf *b, size_t extra)
{
	if (b->n + extra <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->n + extra)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void buf_set(Buf *b, const uint8_t *p, size_t n)
{
	b->n = 0;
	buf_reserve(b, n);
	if (n)
		memcpy(b->p, p, n);
	b->n = n;
}

/* buf_splice: replaces b[off, off+del) by the n bytes at p. */
static void buf_splice(Buf *b, size_t off, size_t del, const void *p, size_t n)
{
	if (b->n - del + n > MAX_LEN)
		return;
	buf_reserve(b, n);
	memmove(b->p + off + n, b->p + off + del, b->n - off - del);
	if (n)
		memcpy(b->p + off, p, n);
	b->n = b->n - del + n;
}

static const uint8_t interesting_bytes[] = {
	0x00, 0xff, '"', '[', '{', ']', '}', ',', ':', '\\', '0', '1', '9', '-', '+', '.', 'e',
	'E', ' ', '\n', '\r', '\t', 0x7f, 0x80, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8,
	'<', '|', 'n', 't', 'u',
};

static const char *const interesting_numbers[] = {
	"18446744073709551615", "18446744073709551616", "9223372036854775807",
	"9223372036854775808", "-9223372036854775809", "-1", "0", "-0", "1e309", "-1e309",
	"1e-400", "2147483647", "2147483648", "-2147483649", "4294967296", "65536", "0.5", "3.0",
	"1e5", "NaN", "Infinity", "-Infinity", "1.7976931348623157e308", "4.9e-324", "00", "1e",
	"123456789012345678901234567890",
};

static const char *const interesting_tokens[] = {
	"null", "true", "false", "\"\"", "[]", "{}", "[", "{", "\"", ",", ":", "\\", "\"\\u0000\"",
	"\"\\ud800\"", "\"\\udc00\\ud800\"", "\"\\uZZZZ\"", "\xff", "\xc3", "\xed\xa0\x80",
	"\xf4\x90\x80\x80", "\xc0\xaf", "\xef\xbb\xbf", "\r\n", "\n\n", "{\"a\":1}", "[1,2,3]",
	"\"__metadata__\"", "\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"F32\"", "\"BF16\"",
	"\"instruction\"", "\"output\"", "\"target_modules\"", "\"r\"", "\"vocab\"", "\"merges\"",
	"\"type\"", "\"BPE\"", "\"Regex\"", "(?:", "\\p{L}", "(a+)+$", "\"\",\"\"", "\"\"\"",
	"\xe2\x96\x81", "<s>", "</s>", "<|endoftext|>", "<0x0A>", "HDF",
};

static const uint64_t interesting_u64[] = {
	0, 1, 2, 7, 8, 9, 16, 255, 256, 4096, 65535, 0x7fffffffull, 0xffffffffull,
	0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull,
	0xfffffffffffffff8ull, 100000000ull,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static size_t pick(Rng *r, size_t n)    /* uniform in [0, n), n > 0 */
{
	return n <= UINT32_MAX ? rng_below(r, (uint32_t)n) : (size_t)(rng_u64(r) % n);
}

static void m_flip(Rng *r, Buf *b)
{
	if (!b->n)
		return;
	int k = 1 + (int)rng_below(r, 4);
	for (int i = 0; i < k; i++)
		b->p[pick(r, b->n)] ^= (uint8_t)(1u << rng_below(r, 8));
}

static void m_byte(Rng *r, Buf *b)
{
	if (!b->n)
		return;
	int k = 1 + (int)rng_below(r, 3);
	for (int i = 0; i < k; i++)
		b->p[pick(r, b->n)] = interesting_bytes[rng_below(r, NELEM(interesting_bytes))];
}

static void m_random_byte(Rng *r, Buf *b)
{
	if (b->n)
		b->p[pick(r, b->n)] = (uint8_t)rng_below(r, 256);
}

/* m_number: a run of digits (with sign, '.', exponent) replaced by an extreme number; inserted
 * at a random place when the input has no digits. */
static void m_number(Rng *r, Buf *b)
{
	const char *num = interesting_numbers[rng_below(r, NELEM(interesting_numbers))];
	size_t nd = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->p[i] >= '0' && b->p[i] <= '9' && (i == 0 || b->p[i - 1] < '0' || b->p[i - 1] > '9'))
			nd++;
	if (!nd) {
		buf_splice(b, b->n ? pick(r, b->n + 1) : 0, 0, num, strlen(num));
		return;
	}
	size_t want = pick(r, nd), seen = 0;
	for (size_t i = 0; i < b->n; i++) {
		if (!(b->p[i] >= '0' && b->p[i] <= '9' && (i == 0 || b->p[i - 1] < '0' || b->p[i - 1] > '9')))
			continue;
		if (seen++ != want)
			continue;
		size_t s = i, e = i;
		if (s > 0 && b->p[s - 1] == '-')
			s--;
		while (e < b->n && ((b->p[e] >= '0' && b->p[e] <= '9') || b->p[e] == '.' ||
				    b->p[e] == 'e' || b->p[e] == 'E' ||
				    ((b->p[e] == '-' || b->p[e] == '+') && e > 0 &&
				     (b->p[e - 1] == 'e' || b->p[e - 1] == 'E'))))
			e++;
		buf_splice(b, s, e - s, num, strlen(num));
		return;
	}
}

static void m_token(Rng *r, Buf *b)
{
	const char *t = interesting_tokens[rng_below(r, NELEM(interesting_tokens))];
	size_t off = pick(r, b->n + 1);
	if (rng_below(r, 2) && b->n) {         /* replace a short range instead of inserting */
		size_t del = 1 + pick(r, b->n - off < 8 ? b->n - off + 1 : 8);
		if (off + del > b->n)
			del = b->n - off;
		buf_splice(b, off, del, t, strlen(t));
	} else {
		buf_splice(b, off, 0, t, strlen(t));
	}
}

/* m_nest: deep nesting (parsers recursing without a limit overflow the stack). */
static void m_nest(Rng *r, Buf *b)
{
	static const size_t depths[] = { 64, 1000, 1001, 5000, 100000 };
	size_t depth = depths[rng_below(r, NELEM(depths))];
	char open = rng_below(r, 2) ? '[' : '{';
	char *s = xmalloc(depth * 5);
	size_t n = 0;
	for (size_t i = 0; i < depth; i++) {
		if (open == '{') {
			memcpy(s + n, "{\"a\":", 5);
			n += 5;
		} else {
			s[n++] = '[';
		}
	}
	buf_splice(b, pick(r, b->n + 1), 0, s, n);
	free(s);
}

static void m_delete(Rng *r, Buf *b)
{
	if (!b->n)
		return;
	size_t off = pick(r, b->n);
	size_t max = b->n - off < 64 ? b->n - off : 64;
	buf_splice(b, off, 1 + pick(r, max), NULL, 0);
}

static void m_dup(Rng *r, Buf *b)
{
	if (!b->n)
		return;
	size_t off = pick(r, b->n);
	size_t max = b->n - off < 256 ? b->n - off : 256;
	size_t len = 1 + pick(r, max);
	uint8_t *tmp = xmalloc(len);
	memcpy(tmp, b->p + off, len);
	int times = 1 + (int)rng_below(r, 3);
	for (int i = 0; i < times; i++)
		buf_splice(b, pick(r, b->n + 1), 0, tmp, len);
	free(tmp);
}

/* m_u64: 8 bytes overwritten by an extreme little-endian integer, at offset 0 half of the time
 * (the safetensors header length) or relative to the input size. */
static void m_u64(Rng *r, Buf *b)
{
	if (b->n < 8)
		return;
	uint64_t v;
	uint32_t k = rng_below(r, NELEM(interesting_u64) + 4);
	if (k < NELEM(interesting_u64))
		v = interesting_u64[k];
	else
		v = (uint64_t)b->n - 8 + (k - NELEM(interesting_u64)) - 1;   /* size-9 .. size-6 */
	size_t off = rng_below(r, 2) ? 0 : pick(r, b->n - 7);
	for (int i = 0; i < 8; i++)
		b->p[off + i] = (uint8_t)(v >> (8 * i));
}

static void m_splice(Rng *r, Buf *b, const Seed *seeds, int n_seeds)
{
	const Seed *o = &seeds[rng_below(r, (uint32_t)n_seeds)];
	size_t a = pick(r, b->n + 1), c = pick(r, o->n + 1);
	buf_splice(b, a, b->n - a, o->p + c, o->n - c);
}

/* mutate_once: one mutation of b; returns its family (FAM_*). */
static int mutate_once(Rng *r, Buf *b, const Seed *seeds, int n_seeds)
{
	switch (rng_below(r, 11)) {
	case 0: m_flip(r, b); return FAM_FLIP;
	case 1: m_byte(r, b); return FAM_BYTE;
	case 2: m_random_byte(r, b); return FAM_RANDOM_BYTE;
	case 3: m_number(r, b); return FAM_NUMBER;
	case 4: m_number(r, b); return FAM_NUMBER;
	case 5: m_token(r, b); return FAM_TOKEN;
	case 6: m_delete(r, b); return FAM_DELETE;
	case 7: m_dup(r, b); return FAM_DUP;
	case 8: m_u64(r, b); return FAM_U64;
	case 9: m_splice(r, b, seeds, n_seeds); return FAM_SPLICE;
	default:
		if (rng_below(r, 8) == 0) {
			m_nest(r, b);
			return FAM_NEST;
		}
		m_flip(r, b);
		return FAM_FLIP;
	}
}

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static int cmp_seed(const void *a, const void *b)
{
	return strcmp(((const Seed *)a)->name, ((const Seed *)b)->name);
}

/* load_dir: every regular file of dir (sorted by name) appended to *seeds. */
static int load_path(Seed **seeds, int *n, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return err_set("%s: cannot stat", path);
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d)
			return err_set("%s: cannot open folder", path);
		int first = *n;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char *p = path_join(path, e->d_name);
			struct stat fs;
			if (stat(p, &fs) == 0 && S_ISREG(fs.st_mode)) {
				size_t len;
				char *data = file_read_all(p, &len);
				if (!data) {
					free(p);
					closedir(d);
					return -1;
				}
				*seeds = xrealloc(*seeds, (size_t)(*n + 1) * sizeof **seeds);
				(*seeds)[(*n)++] = (Seed){ (uint8_t *)data, len, xstrdup(e->d_name) };
			}
			free(p);
		}
		closedir(d);
		qsort(*seeds + first, (size_t)(*n - first), sizeof **seeds, cmp_seed);
		return 0;
	}
	size_t len;
	char *data = file_read_all(path, &len);
	if (!data)
		return -1;
	*seeds = xrealloc(*seeds, (size_t)(*n + 1) * sizeof **seeds);
	(*seeds)[(*n)++] = (Seed){ (uint8_t *)data, len, xstrdup(path) };
	return 0;
}

static void free_seeds(Seed *seeds, int n)
{
	for (int i = 0; i < n; i++) {
		free(seeds[i].p);
		free(seeds[i].name);
	}
	free(seeds);
}

/* fuzz_seed: the seed itself, its truncations, then per_seed mutations (a quarter of them
 * stacks of 2-5 mutations). */
static void fuzz_seed(const Seed *s, const Seed *seeds, int n_seeds, size_t per_seed)
{
	Rng r;
	rng_init(&r, 0xf022ull, fnv1a(s->name));
	Buf b = {0};
	current = s->name;
	run_input(s->p, s->n);
	size_t before = n_inputs;
	if (s->n <= FULL_TRUNC_MAX) {
		for (size_t len = 0; len < s->n; len++)
			run_input(s->p, len);
	} else {
		for (size_t i = 0; i < 16; i++)      /* the very short and the nearly whole */
			run_input(s->p, i < 8 ? i : s->n - (i - 7));
		for (int i = 0; i < SAMPLED_TRUNCS; i++)
			run_input(s->p, pick(&r, s->n));
	}
	fam_inputs[FAM_TRUNC] += n_inputs - before;
	for (size_t i = 0; i < per_seed; i++) {
		buf_set(&b, s->p, s->n);
		int k = rng_below(&r, 4) == 0 ? 2 + (int)rng_below(&r, 4) : 1, fam = FAM_STACK;
		for (int j = 0; j < k; j++)
			fam = mutate_once(&r, &b, seeds, n_seeds);
		run_input(b.p, b.n);
		fam_inputs[k == 1 ? fam : FAM_STACK]++;
	}
	free(b.p);
	current = NULL;
}

/* target_name: "NAME" from argv[0] ".../test_fuzz_NAME". */
static const char *target_name(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	base = base ? base + 1 : argv0;
	const char *p = strstr(base, "test_fuzz_");
	return p ? p + strlen("test_fuzz_") : base;
}

int main(int argc, char **argv)
{
	const char *name = target_name(argv[0]);
	const char *leaks = getenv("ASFT_FUZZ_LEAKS");
	leak_each = leaks && !strcmp(leaks, "1");
	Seed *seeds = NULL;
	int n_seeds = 0;

	if (argc == 3 && !strcmp(argv[1], "--make-seeds")) {
		if (!fuzz_make_seeds) {
			fprintf(stderr, "fuzz %s: this target has no seed generator\n", name);
			return 2;
		}
		if (mkdir_p(argv[2]) != 0 || fuzz_make_seeds(argv[2]) != 0) {
			fprintf(stderr, "fuzz %s: %s\n", name, err_msg());
			return 1;
		}
		return 0;
	}
	if (argc > 1) {         /* replay the given files only */
		for (int i = 1; i < argc; i++) {
			if (load_path(&seeds, &n_seeds, argv[i]) != 0) {
				fprintf(stderr, "fuzz %s: %s\n", name, err_msg());
				printf("0 passed, 1 failed\n");
				return 1;
			}
		}
		for (int i = 0; i < n_seeds; i++) {
			current = seeds[i].name;
			run_input(seeds[i].p, seeds[i].n);
			printf("fuzz %s: %s ok\n", name, seeds[i].name);
		}
		current = NULL;
		free_seeds(seeds, n_seeds);
		printf("%zu passed, 0 failed\n", n_inputs);
		return 0;
	}

	char *dir = xasprintf("tests/fuzz/corpus/%s", name);
	if (load_path(&seeds, &n_seeds, dir) != 0 || n_seeds == 0) {
		fprintf(stderr, "fuzz %s: no seeds in %s (run from the project root): %s\n", name,
			dir, err_msg());
		printf("0 passed, 1 failed\n");
		free(dir);
		free_seeds(seeds, n_seeds);
		return 1;
	}
	size_t total = &fuzz_replay_total ? fuzz_replay_total : TOTAL_DEFAULT;
	const char *env = getenv("ASFT_FUZZ_INPUTS");
	if (env && atol(env) > 0)
		total = (size_t)atol(env);
	size_t per_seed = total / (size_t)n_seeds;
	if (per_seed < PER_SEED_MIN)
		per_seed = PER_SEED_MIN;

	catch_crashes(name);
	double t0 = time_now();
	int checks = 0;
	for (int i = 0; i < n_seeds; i++) {
		fuzz_seed(&seeds[i], seeds, n_seeds, per_seed);
		printf("fuzz %s: seed %s (%zu bytes) ran clean\n", name, seeds[i].name, seeds[i].n);
		checks++;
	}
	for (int f = 0; f < N_FAM; f++)
		if (fam_inputs[f]) {
			printf("fuzz %s: all %zu %s ran clean\n", name, fam_inputs[f], fam_names[f]);
			checks++;
		}
	/* informational: inputs run (deliberately not in the "N passed" form) */
	printf("fuzz %s: %d seeds from %s, %zu inputs in %.2f s\n", name, n_seeds, dir, n_inputs,
	       time_now() - t0);
	free(dir);
	free_seeds(seeds, n_seeds);
	printf("%d passed, 0 failed\n", checks);
	return 0;
}
