/* test_util.c: errors, atomic writes, UTF-8 validation, RNG reproducibility and statistics. */
#include "harness.h"
#include "rng.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void test_errors(void)
{
	err_clear();
	CHECK_STR(err_msg(), "");
	CHECK_INT(err_set("%s: tensor %s: bad", "f.safetensors", "w"), -1);
	err_prefix("loading %s", "model");
	CHECK_STR(err_msg(), "loading model: f.safetensors: tensor w: bad");
}

static void test_files(void)
{
	char dir[] = "/tmp/asft-util-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *sub = xasprintf("%s/a/b/c", dir);
	CHECK_INT(mkdir_p(sub), 0);
	char *f = path_join(sub, "x.txt");
	CHECK_INT(file_write_atomic(f, "hello\n", 6), 0);
	size_t n = 0;
	char *text = file_read_all(f, &n);
	CHECK_INT(n, 6);
	CHECK_STR(text, "hello\n");
	char *tmp = tmp_path(f);
	CHECK(!path_exists(tmp));           /* the temporary is gone after the rename */
	CHECK(file_read_all("/nonexistent/x", NULL) == NULL);
	CHECK_CONTAINS(err_msg(), "/nonexistent/x: cannot open");
	char *bad = xasprintf("%s/missing-dir/y", dir);
	CHECK_INT(file_write_atomic(bad, "x", 1), -1);
	CHECK(!path_exists(bad));
	unlink(f);
	free(bad), free(tmp), free(text), free(f), free(sub);
	char *cmd = xasprintf("rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
	free(cmd);
}

static void test_utf8(void)
{
	size_t off = 99;
	CHECK_INT(utf8_check("plain", 5, NULL), 0);
	CHECK_INT(utf8_check("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80", 14, NULL), 0);
	CHECK_INT(utf8_check("ab\xc3", 3, &off), -1);           /* truncated */
	CHECK_INT(off, 2);
	CHECK_INT(utf8_check("\xc0\xaf", 2, &off), -1);         /* overlong '/' */
	CHECK_INT(off, 0);
	CHECK_INT(utf8_check("x\xed\xa0\x80", 4, &off), -1);    /* surrogate U+D800 */
	CHECK_INT(off, 1);
	CHECK_INT(utf8_check("\xf4\x90\x80\x80", 4, NULL), -1); /* past U+10FFFF */
	CHECK_INT(utf8_check("\x80", 1, NULL), -1);             /* stray continuation */
	CHECK_INT(utf8_check("\xff", 1, NULL), -1);
}

/* err_quote: user bytes in a message stay on one line, readable, and bounded. */
static void test_err_quote(void)
{
	CHECK_STR(err_quote("model.layers.0.q_proj", 0), "model.layers.0.q_proj");
	CHECK_STR(err_quote("", 0), "");
	CHECK_STR(err_quote(NULL, 0), "(null)");
	CHECK_STR(err_quote("a\nb\rc\td", 0), "a\\nb\\rc\\td");
	CHECK_STR(err_quote("x\001\033[2Jy\177", 0), "x\\x01\\x1b[2Jy\\x7f");
	CHECK_STR(err_quote("back\\slash \"q\"", 0), "back\\slash \"q\"");
	CHECK_STR(err_quote("caf\xc3\xa9 \xe4\xb8\xad", 0), "caf\xc3\xa9 \xe4\xb8\xad");
	/* bad UTF-8 byte by byte; NEL (U+0085) and U+2028 kept apart: NEL is a C1 control */
	CHECK_STR(err_quote("a\xff\xc3(\xed\xa0\x80", 0), "a\\xff\\xc3(\\xed\\xa0\\x80");
	CHECK_STR(err_quote("n\xc2\x85l", 0), "n\\xc2\\x85l");
	/* the cap counts output bytes, cuts at whole escapes and characters, and says so */
	CHECK_STR(err_quote("abcdef", 4), "abcd...");
	CHECK_STR(err_quote("abcd", 4), "abcd");
	CHECK_STR(err_quote("ab\ncd", 3), "ab...");
	CHECK_STR(err_quote("a\xc3\xa9", 2), "a...");
	char big[1000];
	memset(big, 'z', sizeof big - 1);
	big[sizeof big - 1] = 0;
	const char *q = err_quote(big, 100000);
	CHECK_INT(strlen(q), ERR_QUOTE_MAX + 3);
	CHECK_STR(q + ERR_QUOTE_MAX, "...");
	/* a ring of slots: one err_set can quote several strings */
	const char *qs[ERR_QUOTE_SLOTS];
	char want[ERR_QUOTE_SLOTS][8];
	for (int i = 0; i < ERR_QUOTE_SLOTS; i++) {
		char s[8];
		snprintf(s, sizeof s, "%d\n", i);
		snprintf(want[i], sizeof want[i], "%d\\n", i);
		qs[i] = err_quote(s, 0);
	}
	int all = 1;
	for (int i = 0; i < ERR_QUOTE_SLOTS; i++)
		all &= strcmp(qs[i], want[i]) == 0;
	CHECK(all);
	err_set("%s: tensor %s: shard %s", "f", err_quote("a\nb", 0), err_quote("s\n", 0));
	CHECK_STR(err_msg(), "f: tensor a\\nb: shard s\\n");
	CHECK(strchr(err_msg(), '\n') == NULL);
}

static void test_rng(void)
{
	Rng a, b, c;
	rng_init(&a, 42, 0);
	rng_init(&b, 42, 0);
	rng_init(&c, 42, 1);
	int same = 1, diff = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_u64(&a), y = rng_u64(&b), z = rng_u64(&c);
		same &= x == y;
		diff += x != z;
	}
	CHECK(same);
	CHECK(diff > 990);
	/* Moments of 200k normals: mean 0 +- 0.01, variance 1 +- 0.02 (5 sigma bounds). */
	double s = 0, s2 = 0;
	int n = 200000, hist[10] = {0};
	for (int i = 0; i < n; i++) {
		double x = rng_normal(&a);
		s += x, s2 += x * x;
		hist[rng_below(&a, 10)]++;
	}
	CHECK_CLOSE(s / n, 0.0, 0.012, 0);
	CHECK_CLOSE(s2 / n, 1.0, 0.02, 0);
	int lo = n, hi = 0;
	for (int k = 0; k < 10; k++)
		lo = hist[k] < lo ? hist[k] : lo, hi = hist[k] > hi ? hist[k] : hi;
	CHECK(lo > 19300 && hi < 20700);   /* each bin 20000 +- 5 sigma */
	for (int i = 0; i < 1000; i++) {
		double u = rng_uniform(&a);
		float f = rng_uniformf(&a);
		if (!(u >= 0 && u < 1 && f >= 0 && f < 1)) {
			CHECK(0);
			break;
		}
	}
	int p[5] = {0, 1, 2, 3, 4}, sum = 0;
	rng_shuffle_int(&a, p, 5);
	for (int i = 0; i < 5; i++)
		sum += 1 << p[i];
	CHECK_INT(sum, 31);                 /* still a permutation */
}

int main(void)
{
	test_errors();
	test_files();
	test_utf8();
	test_err_quote();
	test_rng();
	return test_summary();
}
