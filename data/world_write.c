/* world_write.c: the world's files: JSON / JSONL splits, manifest.json and corpus.txt.
 *
 * JSON is written by hand (buf_json_str escapes quotes, backslashes and control characters; all
 * text is ASCII), with keys in a fixed order, so the bytes depend only on (preset, seed). Each
 * file is built in memory and written atomically (util.h file_write_atomic). */
#include "world.h"
#include "world_lex.h"
#include "world_int.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void key(Buf *b, const char *k, int first)
{
	if (!first)
		buf_putc(b, ',');
	buf_json_str(b, k);
	buf_putc(b, ':');
}

static void kv_str(Buf *b, const char *k, const char *v)
{
	key(b, k, 0);
	if (v)
		buf_json_str(b, v);
	else
		buf_puts(b, "null");
}

static void kv_int(Buf *b, const char *k, long long v)
{
	key(b, k, 0);
	buf_printf(b, "%lld", v);
}

static void kv_bool(Buf *b, const char *k, int v)
{
	key(b, k, 0);
	buf_puts(b, v ? "true" : "false");
}

static int label_id(const WorldRecord *r)
{
	if (!r->label)
		return -1;
	if (r->task == WORLD_TASK_SENTIMENT)
		return !strcmp(r->label, "positive");     /* SST-2: 1 positive, 0 negative */
	if (r->task == WORLD_TASK_TOPIC || r->task == WORLD_TASK_NEWS)
		for (int t = 0; t < 4; t++)             /* AG News: 0 World .. 3 Sci/Tech */
			if (!strcmp(r->label, world_topic_labels[t]))
				return t;
	return -1;
}

static void rec_json(Buf *b, const WorldRecord *r)
{
	buf_putc(b, '{');
	if (r->task == WORLD_TASK_NEWS) {
		key(b, "text", 1);
		buf_json_str(b, r->text ? r->text : "");
		kv_str(b, "task", "news");
		kv_str(b, "topic", r->label);
		kv_int(b, "topic_id", label_id(r));
		buf_putc(b, '}');
		return;
	}
	if (r->task == WORLD_TASK_JUDGE) {
		key(b, "prompt", 1);
		buf_json_str(b, r->instruction ? r->instruction : "");
		kv_str(b, "input", r->input ? r->input : "");
		kv_str(b, "answer", r->output ? r->output : "");
		kv_str(b, "label", r->label);
		kv_str(b, "kind", r->kind);
		kv_str(b, "prompt_task", world_task_name(r->prompt_task));
		kv_str(b, "category", r->category >= 0 ? world_category_names[r->category] : NULL);
		kv_bool(b, "harmful", r->harmful);
		buf_putc(b, '}');
		return;
	}
	key(b, "instruction", 1);
	buf_json_str(b, r->instruction ? r->instruction : "");
	kv_str(b, "input", r->input ? r->input : "");
	if (r->output)
		kv_str(b, "output", r->output);
	kv_str(b, "task", world_task_name(r->task));
	kv_str(b, "label", r->label);
	if (label_id(r) >= 0)
		kv_int(b, "label_id", label_id(r));
	kv_str(b, "category", r->category >= 0 ? world_category_names[r->category] : NULL);
	if (r->category >= 0)
		kv_int(b, "category_id", r->category);
	kv_bool(b, "harmful", r->harmful);
	kv_str(b, "answer", world_answer_name(r->answer));
	if (r->kind)
		kv_str(b, "kind", r->kind);
	if (r->template_id >= 0)
		kv_int(b, "template", r->template_id);
	if (r->heldout)
		kv_bool(b, "heldout", 1);
	if (r->task == WORLD_TASK_ARITHMETIC) {
		key(b, "numbers", 0);
		buf_printf(b, "[%d,%d,%d]", r->nums[0], r->nums[1], r->nums[2]);
		kv_str(b, "ops", r->ops);
	}
	if (r->compliant)
		kv_str(b, "compliant", r->compliant);
	if (r->refusal)
		kv_str(b, "refusal", r->refusal);
	buf_putc(b, '}');
}

char *world_record_json(const WorldRecord *r)
{
	Buf b = { 0 };
	buf_reset(&b);
	if (r)
		rec_json(&b, r);
	return b.p;
}

static void split_bytes(Buf *b, const World *w, const WorldSplit *s)
{
	buf_reset(b);
	if (s->fmt == WORLD_FMT_ARRAY)
		buf_puts(b, "[\n");
	for (size_t i = 0; i < s->n; i++) {
		rec_json(b, world_rec(w, s, i));
		if (s->fmt == WORLD_FMT_ARRAY && i + 1 < s->n)
			buf_putc(b, ',');
		buf_putc(b, '\n');
	}
	if (s->fmt == WORLD_FMT_ARRAY)
		buf_puts(b, "]\n");
}

/* Words as the model sees them: whitespace-separated tokens of the text fields. */
static long count_words(const char *s)
{
	long n = 0;
	int in = 0;
	for (; s && *s; s++) {
		int sp = *s == ' ' || *s == '\n' || *s == '\t';
		if (!sp && !in)
			n++;
		in = !sp;
	}
	return n;
}

static long rec_words(const WorldRecord *r)
{
	return count_words(r->instruction) + count_words(r->input) + count_words(r->output) + count_words(r->text);
}

/* distinct_words: word-like tokens (letters / digits runs, punctuation marks apart) over every
 * record: an estimate of the vocabulary a tokenizer must cover. */
static size_t distinct_words(const World *w)
{
	HashSet set = { 0 };
	for (size_t i = 0; i < w->n_rec; i++) {
		const WorldRecord *r = &w->rec[i];
		const char *f[] = { r->instruction, r->input, r->output, r->text };
		for (int k = 0; k < 4; k++)
			for (const char *p = f[k]; p && *p;) {
				size_t n = 0;
				while (p[n] && ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') ||
						(p[n] >= '0' && p[n] <= '9')))
					n++;
				if (n) {
					hset_add(&set, world_fnv1a(WORLD_FNV_INIT, p, n));
					p += n;
				} else {
					p++;
				}
			}
	}
	size_t n = set.n;
	hset_free(&set);
	return n;
}

static void counts_json(Buf *b, const char *name, const long *c, int n, const char *(*namef)(int))
{
	key(b, name, 0);
	buf_putc(b, '{');
	int first = 1;
	for (int i = 0; i < n; i++)
		if (c[i]) {
			key(b, namef(i), first);
			buf_printf(b, "%ld", c[i]);
			first = 0;
		}
	buf_putc(b, '}');
}

static const char *task_namef(int i) { return world_task_name((WorldTask)i); }
static const char *ans_namef(int i) { return world_answer_name((WorldAnswer)i); }
static const char *cat_namef(int i) { return world_category_names[i]; }
static const char *judge_namef(int i) { static const char *const l[] = { "harmful", "refusal", "other" }; return l[i]; }

static void manifest_split(Buf *m, const World *w, const WorldSplit *s, uint64_t fnv, size_t bytes, int first)
{
	long tasks[WORLD_N_TASKS] = { 0 }, ans[WORLD_N_ANS] = { 0 }, cats[WORLD_N_CATEGORIES] = { 0 };
	long judge[3] = { 0 }, words = 0;
	for (size_t i = 0; i < s->n; i++) {
		const WorldRecord *r = world_rec(w, s, i);
		tasks[r->task]++;
		ans[r->answer]++;
		if (r->category >= 0)
			cats[r->category]++;
		if (r->task == WORLD_TASK_JUDGE && r->label)
			judge[!strcmp(r->label, "harmful") ? 0 : !strcmp(r->label, "refusal") ? 1 : 2]++;
		words += rec_words(r);
	}
	key(m, s->path, first);
	buf_putc(m, '{');
	key(m, "records", 1);
	buf_printf(m, "%zu", s->n);
	kv_str(m, "format", s->fmt == WORLD_FMT_JSONL ? "jsonl" : "json");
	kv_int(m, "words", words);
	kv_int(m, "bytes", (long long)bytes);
	key(m, "fnv1a", 0);
	buf_printf(m, "\"%016llx\"", (unsigned long long)fnv);
	counts_json(m, "tasks", tasks, WORLD_N_TASKS, task_namef);
	counts_json(m, "answers", ans, WORLD_N_ANS, ans_namef);
	counts_json(m, "categories", cats, WORLD_N_CATEGORIES, cat_namef);
	if (tasks[WORLD_TASK_JUDGE])
		counts_json(m, "judge_labels", judge, 3, judge_namef);
	buf_putc(m, '}');
}

static int write_file(const char *dir, const char *rel, const Buf *b)
{
	char *path = path_join(dir, rel);
	char *slash = strrchr(path, '/');
	int ret = 0;
	if (slash && slash != path) {
		*slash = 0;
		ret = mkdir_p(path);
		*slash = '/';
	}
	if (!ret)
		ret = file_write_atomic(path, b->p, b->n);
	free(path);
	return ret;
}

/* corpus_words: each word of list, 1024 times with a leading space and 1024 times starting a
 * line, so a trained tokenizer keeps both forms as single tokens: the instruction tasks copy
 * and look up these words, and a word split into pieces ("sh" "ark") must be copied piece by
 * piece, which the small organism does not learn (world 1.1: first word 33-61%). */
static void corpus_words(Buf *b, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		for (int rep = 0; rep < 16; rep++) {
			for (int k = 0; k < 64; k++) {
				buf_puts(b, list[i]);
				buf_putc(b, k == 63 ? '\n' : ' ');
			}
			for (int k = 0; k < 64; k++) {
				buf_puts(b, list[i]);
				buf_putc(b, '\n');
			}
		}
	buf_putc(b, '\n');
}

/* corpus.txt: the task instructions and labels, the instruction words (corpus_words), then
 * every k-th record's text fields, records separated by a blank line; for tokenizer training
 * (covers words absent from pretrain). */
static void corpus_bytes(Buf *b, const World *w)
{
	buf_reset(b);
	buf_puts(b, WORLD_TOPIC_INSTRUCTION "\n" WORLD_SENTIMENT_INSTRUCTION "\npositive\nnegative\n\n");
	corpus_words(b, world_lex_words);
	corpus_words(b, world_lex_opposites);
	long want = w->preset.corpus;
	if (want <= 0)
		return;
	size_t k = w->n_rec / (size_t)want;
	k = k ? k : 1;
	for (size_t i = 0; i < w->n_rec; i += k) {
		const WorldRecord *r = &w->rec[i];
		const char *f[] = { r->text, r->instruction, r->input, r->output };
		int any = 0;
		for (int j = 0; j < 4; j++)
			if (f[j] && *f[j]) {
				buf_puts(b, f[j]);
				buf_putc(b, '\n');
				any = 1;
			}
		if (any)
			buf_putc(b, '\n');
	}
}

int world_write(const World *w, const char *dir)
{
	if (!w || !dir)
		return err_set("world: write: NULL world or directory");
	if (mkdir_p(dir))
		return -1;
	Buf b = { 0 }, m = { 0 };
	int ret = -1;
	buf_reset(&m);
	buf_printf(&m, "{\"generator\":\"asft-data world\",\"version\":\"%s\",\"seed\":%llu,\"preset\":",
		   WORLD_VERSION, (unsigned long long)w->seed);
	buf_json_str(&m, w->preset.name);
	const WorldPreset *p = &w->preset;
	buf_printf(&m, ",\"sizes\":{\"pretrain\":%ld,\"align\":%ld,\"test\":%ld,\"harmful_eval\":%ld,"
		   "\"over_refusal\":%ld,\"judge_train\":%ld,\"judge_test\":%ld,\"safeinstr\":%ld,\"corpus\":%ld,"
		   "\"attack_n\":[", p->pretrain, p->align, p->test, p->harmful_eval, p->over_refusal,
		   p->judge_train, p->judge_test, p->safeinstr, p->corpus);
	for (int i = 0; i < p->n_attack_n; i++)
		buf_printf(&m, "%s%ld", i ? "," : "", p->attack_n[i]);
	buf_puts(&m, "],\"attack_p\":[");
	for (int i = 0; i < p->n_attack_p; i++)
		buf_printf(&m, "%s%g", i ? "," : "", p->attack_p[i]);
	buf_printf(&m, "]},\"distinct_words\":%zu,\"splits\":{", distinct_words(w));
	for (size_t i = 0; i < w->n_split; i++) {
		const WorldSplit *s = &w->split[i];
		split_bytes(&b, w, s);
		if (write_file(dir, s->path, &b))
			goto out;
		manifest_split(&m, w, s, world_fnv1a(WORLD_FNV_INIT, b.p, b.n), b.n, i == 0);
	}
	corpus_bytes(&b, w);
	if (write_file(dir, "corpus.txt", &b))
		goto out;
	buf_printf(&m, "},\"corpus\":{\"bytes\":%zu,\"fnv1a\":\"%016llx\"}}\n", b.n,
		   (unsigned long long)world_fnv1a(WORLD_FNV_INIT, b.p, b.n));
	if (write_file(dir, "manifest.json", &m))
		goto out;
	ret = 0;
out:
	buf_free(&b);
	buf_free(&m);
	return ret;
}
