/* score.c: FA scorers per task (see score.h for the upstream conventions they follow).
 *
 * Plain byte scanning instead of a regex engine: the upstream patterns are tiny (a few literal
 * alternatives between word boundaries, and -?\d+\.?\d*), and hand scanning keeps the scorers
 * allocation-light and obviously bounded on hostile text. */
#include "score.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const score_topic_names[SCORE_N_TOPICS] = { "World", "Sports", "Business", "Sci/Tech" };

/* Alternatives of each class's AsFT pattern, matched case-insensitively between \b's. */
static const char *const topic_alts[SCORE_N_TOPICS][5] = {
	{ "world", NULL },
	{ "sports", NULL },
	{ "business", NULL },
	{ "sci/tech", "sci", "technology", "tech", NULL },
};

static const char *const task_names[SCORE_N_TASKS] = {
	"topic", "topic_strict", "sentiment", "arithmetic", "instructions",
};

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Python's \w on str: letters, digits, underscore; non-ASCII bytes approximate Unicode letters. */
static int is_word(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c >= 0x80;
}

static int eq_nocase(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return 0;
	return *a == *b;
}

/* trim: [*b, *e) = s without leading and trailing ASCII whitespace. */
static void trim(const char *s, const char **b, const char **e)
{
	const char *end = s + strlen(s);
	while (s < end && is_space((unsigned char)*s))
		s++;
	while (end > s && is_space((unsigned char)end[-1]))
		end--;
	*b = s;
	*e = end;
}

int score_task_parse(const char *name, ScoreTask *out)
{
	static const struct { const char *alias; ScoreTask task; } aliases[] = {
		{ "agnews", SCORE_TOPIC }, { "ag_news", SCORE_TOPIC },
		{ "sst2", SCORE_SENTIMENT }, { "sst-2", SCORE_SENTIMENT },
		{ "gsm8k", SCORE_ARITHMETIC }, { "alpaca", SCORE_INSTRUCTIONS },
	};
	if (!name)
		return err_set("task: missing name");
	for (int t = 0; t < SCORE_N_TASKS; t++)
		if (eq_nocase(name, task_names[t])) {
			*out = (ScoreTask)t;
			return 0;
		}
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (eq_nocase(name, aliases[i].alias)) {
			*out = aliases[i].task;
			return 0;
		}
	return err_set("task '%s': unknown (expected topic, topic_strict, sentiment, arithmetic, instructions, or agnews, sst2, gsm8k, alpaca)",
		       name);
}

const char *score_task_name(ScoreTask task)
{
	return (unsigned)task < SCORE_N_TASKS ? task_names[task] : "?";
}

int score_topic_parse(const char *gold)
{
	const char *b, *e;
	if (!gold)
		return -1;
	trim(gold, &b, &e);
	size_t n = (size_t)(e - b);
	if (n == 1 && *b >= '0' && *b <= '3')
		return *b - '0';
	char buf[16];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, b, n);
	buf[n] = '\0';
	for (int t = 0; t < SCORE_N_TOPICS; t++)
		if (eq_nocase(buf, score_topic_names[t]))
			return t;
	if (eq_nocase(buf, "scitech") || eq_nocase(buf, "sci_tech"))
		return 3;
	return -1;
}

/* word_at: 1 if the lowercase literal alt matches text at i case-insensitively with a word
 * boundary on both sides (alt starts and ends with a word character, so \b reduces to "the
 * neighbours are not word characters"). */
static int word_at(const char *text, size_t i, const char *alt)
{
	if (i > 0 && is_word((unsigned char)text[i - 1]))
		return 0;
	size_t k = 0;
	for (; alt[k]; k++)
		if (lower((unsigned char)text[i + k]) != alt[k])
			return 0;      /* also stops at text's NUL, since alt has none */
	return !is_word((unsigned char)text[i + k]);
}

int score_topic_found(const char *text, int topic)
{
	if (!text || topic < 0 || topic >= SCORE_N_TOPICS)
		return 0;
	for (size_t i = 0; text[i]; i++)
		for (int a = 0; topic_alts[topic][a]; a++)
			if (word_at(text, i, topic_alts[topic][a]))
				return 1;
	return 0;
}

/* next_number: the next match of -?\d+\.?\d* in s[*pos, n) (leftmost, greedy, as re.findall);
 * 1 with [*b, *e) the match and *pos after it, 0 when there is none. */
static int next_number(const char *s, size_t n, size_t *pos, size_t *b, size_t *e)
{
	for (size_t i = *pos; i < n; i++) {
		size_t j = i;
		if (s[j] == '-' && j + 1 < n && is_digit((unsigned char)s[j + 1]))
			j++;
		else if (!is_digit((unsigned char)s[j]))
			continue;
		while (j < n && is_digit((unsigned char)s[j]))
			j++;
		if (j < n && s[j] == '.')
			j++;
		while (j < n && is_digit((unsigned char)s[j]))
			j++;
		*b = i;
		*e = j;
		*pos = j;
		return 1;
	}
	return 0;
}

static double parse_number(const char *s, size_t b, size_t e)
{
	char buf[64];
	size_t n = e - b;
	if (n >= sizeof buf) {
		/* more digits than a double resolves: keep them all via a heap copy */
		char *big = xmalloc(n + 1);
		memcpy(big, s + b, n);
		big[n] = '\0';
		double v = strtod(big, NULL);
		free(big);
		return v;
	}
	memcpy(buf, s + b, n);
	buf[n] = '\0';
	return strtod(buf, NULL);
}

int score_extract_number(const char *text, const char *marker, double *out)
{
	if (!text)
		return 0;
	if (!marker)
		marker = SCORE_ANSWER_PROMPT;
	size_t len = strlen(text), n = 0;
	char *s = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++)          /* sentence.replace(',', '') */
		if (text[i] != ',')
			s[n++] = text[i];
	s[n] = '\0';

	int found = 0;
	size_t pos = 0, b, e, lb = 0, le = 0;
	while (next_number(s, n, &pos, &b, &e)) {
		lb = b, le = e;
		found = 1;
	}
	if (!found)
		goto out_free;
	*out = parse_number(s, lb, le);     /* the last number, unless the marker says otherwise */
	const char *m = *marker ? strstr(s, marker) : NULL;
	if (m) {
		size_t seg = (size_t)(m - s) + strlen(marker);
		const char *m2 = strstr(s + seg, marker);
		size_t seg_end = m2 ? (size_t)(m2 - s) : n;
		pos = seg;
		if (next_number(s, seg_end, &pos, &b, &e))
			*out = parse_number(s, b, e);
	}
out_free:
	free(s);
	return found;
}

/* gold_number: GSM8K gold through the upstream path: "####" replaced by the marker, then the
 * same extractor. */
static int gold_number(const char *gold, double *out)
{
	const char *hash = strstr(gold, "####");
	if (!hash)
		return score_extract_number(gold, NULL, out);
	size_t len = strlen(gold), mlen = strlen(SCORE_ANSWER_PROMPT), n = 0;
	char *s = xmalloc(len / 4 * mlen + len + 1);
	for (size_t i = 0; i < len;) {
		if (strncmp(gold + i, "####", 4) == 0) {
			memcpy(s + n, SCORE_ANSWER_PROMPT, mlen);
			n += mlen;
			i += 4;
		} else {
			s[n++] = gold[i++];
		}
	}
	s[n] = '\0';
	int found = score_extract_number(s, NULL, out);
	free(s);
	return found;
}

static int score_topic(const char *answer, const char *gold, int strict)
{
	int t = score_topic_parse(gold);
	if (t < 0)
		return err_set("topic gold '%.40s': not one of World, Sports, Business, Sci/Tech or 0..3", gold);
	if (!score_topic_found(answer, t))
		return 0;
	if (strict)
		for (int o = 0; o < SCORE_N_TOPICS; o++)
			if (o != t && score_topic_found(answer, o))
				return 0;
	return 1;
}

static int score_sentiment(const char *answer, const char *gold)
{
	const char *b, *e;
	int positive;
	trim(gold, &b, &e);
	size_t n = (size_t)(e - b);
	if ((n == 8 && strncasecmp(b, "positive", 8) == 0) || (n == 1 && *b == '1'))
		positive = 1;
	else if ((n == 8 && strncasecmp(b, "negative", 8) == 0) || (n == 1 && *b == '0'))
		positive = 0;
	else
		return err_set("sentiment gold '%.40s': not positive, negative, 1 or 0", gold);
	const char *want_lo = positive ? "positive" : "negative";
	const char *want_up = positive ? "Positive" : "Negative";
	trim(answer, &b, &e);
	n = (size_t)(e - b);
	return n == 8 && (memcmp(b, want_lo, 8) == 0 || memcmp(b, want_up, 8) == 0);
}

static int score_arithmetic(const char *answer, const char *gold)
{
	double want, got;
	if (!gold_number(gold, &want))
		return err_set("arithmetic gold '%.40s': no number", gold);
	if (!score_extract_number(answer, NULL, &got))
		return 0;
	return got == want;
}

static int score_instructions(const char *answer, const char *gold)
{
	const char *ab, *ae, *gb, *ge;
	trim(answer, &ab, &ae);
	trim(gold, &gb, &ge);
	return ae - ab == ge - gb && memcmp(ab, gb, (size_t)(ae - ab)) == 0;
}

int score_answer(ScoreTask task, const char *answer, const char *gold)
{
	if (!gold)
		return err_set("%s: missing gold answer", score_task_name(task));
	if (!answer)
		answer = "";
	switch (task) {
	case SCORE_TOPIC:
		return score_topic(answer, gold, 0);
	case SCORE_TOPIC_STRICT:
		return score_topic(answer, gold, 1);
	case SCORE_SENTIMENT:
		return score_sentiment(answer, gold);
	case SCORE_ARITHMETIC:
		return score_arithmetic(answer, gold);
	case SCORE_INSTRUCTIONS:
		return score_instructions(answer, gold);
	default:
		return err_set("task %d: invalid", (int)task);
	}
}
