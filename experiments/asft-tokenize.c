/* asft-tokenize: a thin probe of the tokenizer, for tests and for checking parity with the
 * Python `tokenizers` library.
 *
 *   asft-tokenize --tokenizer FILE [--no-special] < strings.json   -> [[ids...], ...]
 *   asft-tokenize --tokenizer FILE --decode [--skip-special] < ids.json -> ["text", ...]
 *   asft-tokenize --tokenizer FILE --bench TEXTFILE                 -> encoding speed
 *   asft-tokenize --tokenizer FILE --info                            -> vocab size, BOS/EOS/...
 *
 * Input is one JSON array on stdin; output is one JSON array on stdout. */
#include "cli.h"
#include "tokenizer.h"
#include "util.h"

#include <cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char *read_stdin(size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = xmalloc(cap);
	size_t got;
	while ((got = fread(buf + n, 1, cap - n - 1, stdin)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

static void do_encode(const Tokenizer *tok, const cJSON *in, int special)
{
	if (!cJSON_IsArray(in))
		die("stdin: expected a JSON array of strings");
	fputc('[', stdout);
	int i = 0;
	for (const cJSON *it = in->child; it; it = it->next, i++) {
		if (!cJSON_IsString(it))
			die("stdin: element %d is not a string", i);
		int32_t *ids;
		size_t n;
		if (tokenizer_encode(tok, it->valuestring, strlen(it->valuestring), special, &ids, &n) < 0)
			die("element %d: %s", i, err_msg());
		printf("%s[", i ? "," : "");
		for (size_t k = 0; k < n; k++)
			printf("%s%d", k ? "," : "", ids[k]);
		fputc(']', stdout);
		free(ids);
	}
	fputs("]\n", stdout);
}

static void do_decode(const Tokenizer *tok, const cJSON *in, int skip)
{
	if (!cJSON_IsArray(in))
		die("stdin: expected a JSON array of arrays of ids");
	cJSON *out = cJSON_CreateArray();
	int i = 0;
	for (const cJSON *it = in->child; it; it = it->next, i++) {
		if (!cJSON_IsArray(it))
			die("stdin: element %d is not an array of ids", i);
		size_t n = (size_t)cJSON_GetArraySize(it), k = 0;
		int32_t *ids = xmalloc((n ? n : 1) * sizeof(int32_t));
		for (const cJSON *x = it->child; x; x = x->next, k++) {
			if (!cJSON_IsNumber(x) || !(x->valuedouble >= INT32_MIN && x->valuedouble <= INT32_MAX) ||
			    x->valuedouble != (double)(int32_t)x->valuedouble)
				die("stdin: element %d, id %zu is not a 32-bit integer", i, k);
			ids[k] = (int32_t)x->valuedouble;
		}
		char *s = tokenizer_decode(tok, ids, n, skip, NULL);
		cJSON_AddItemToArray(out, cJSON_CreateString(s));
		free(s);
		free(ids);
	}
	char *txt = cJSON_PrintUnformatted(out);
	puts(txt);
	cJSON_free(txt);
	cJSON_Delete(out);
}

/* Encodes a text file line by line (newline kept with its line), as training data is fed;
 * best of 3 passes in CPU time, so other processes on the machine do not count. */
static void do_bench(const Tokenizer *tok, const char *path, int special)
{
	size_t len;
	char *text = file_read_all(path, &len);
	if (!text)
		die_err();
	if (utf8_check(text, len, NULL) < 0)
		die("%s: not valid UTF-8", path);
	size_t ntok = 0, lines = 0;
	double best = 1e30;
	for (int rep = 0; rep < 3; rep++) {
		double t0 = cpu_now();
		ntok = lines = 0;
		for (size_t a = 0; a < len;) {
			const char *nl = memchr(text + a, '\n', len - a);
			size_t b = nl ? (size_t)(nl - text) + 1 : len;
			int32_t *ids;
			size_t n;
			if (tokenizer_encode(tok, text + a, b - a, special, &ids, &n) < 0)
				die_err();
			ntok += n;
			lines++;
			free(ids);
			a = b;
		}
		double dt = cpu_now() - t0;
		if (dt < best)
			best = dt;
	}
	printf("{\"bytes\": %zu, \"lines\": %zu, \"tokens\": %zu, \"cpu_seconds\": %.4f, "
	       "\"mb_per_s\": %.2f, \"bytes_per_token\": %.3f}\n",
	       len, lines, ntok, best, len / 1e6 / (best > 0 ? best : 1e-9),
	       ntok ? (double)len / ntok : 0.0);
	free(text);
}

int main(int argc, char **argv)
{
	const char *path = NULL, *bench = NULL;
	int special = 1, decode = 0, skip = 0, info = 0;
	CliOpt opts[] = {
		{"tokenizer", CLI_STR, &path, "FILE", "tokenizer.json to load (required)"},
		{"special", CLI_BOOL, &special, NULL, "apply the post-processor (BOS/EOS) when encoding"},
		{"decode", CLI_BOOL, &decode, NULL, "decode arrays of ids instead of encoding strings"},
		{"skip-special", CLI_BOOL, &skip, NULL, "drop special tokens when decoding"},
		{"bench", CLI_STR, &bench, "TEXTFILE", "time encoding of a text file, line by line"},
		{"info", CLI_BOOL, &info, NULL, "print vocab size and the BOS/EOS/PAD/UNK ids"},
		{NULL, 0, NULL, NULL, NULL},
	};
	cli_parse(argc, argv, opts,
		  "usage: asft-tokenize --tokenizer FILE [--no-special] < strings.json\n"
		  "       asft-tokenize --tokenizer FILE --decode < ids.json\n"
		  "       asft-tokenize --tokenizer FILE --bench TEXTFILE | --info\n"
		  "Encodes a JSON array of strings to a JSON array of id arrays, or decodes back.",
		  NULL);
	if (!path)
		die("--tokenizer FILE is required");
	Tokenizer *tok = tokenizer_load(path);
	if (!tok)
		die_err();
	if (info) {
		printf("{\"vocab_size\": %zu, \"bos\": %d, \"eos\": %d, \"pad\": %d, \"unk\": %d}\n",
		       tokenizer_vocab_size(tok), tokenizer_bos_id(tok), tokenizer_eos_id(tok),
		       tokenizer_pad_id(tok), tokenizer_unk_id(tok));
	} else if (bench) {
		do_bench(tok, bench, special);
	} else {
		size_t len;
		char *text = read_stdin(&len);
		cJSON *in = cJSON_ParseWithLength(text, len);
		if (!in)
			die("stdin: not valid JSON near '%.32s'", cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "");
		if (decode)
			do_decode(tok, in, skip);
		else
			do_encode(tok, in, special);
		cJSON_Delete(in);
		free(text);
	}
	tokenizer_free(tok);
	return 0;
}
