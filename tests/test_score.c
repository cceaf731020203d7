/* test_score.c: FA scorers (topic, sentiment, arithmetic, instructions) against the upstream
 * scripts' conventions. Expected values of the number extraction were checked against the
 * Python of git-disl/Vaccine gsm8k/pred_eval.py (extract_answer_number) on the same strings. */
#include "harness.h"
#include "rng.h"
#include "score.h"
#include "util.h"

static void test_task_names(void)
{
	ScoreTask t = SCORE_N_TASKS;
	const char *names[] = { "topic", "topic_strict", "sentiment", "arithmetic", "instructions" };
	for (int i = 0; i < SCORE_N_TASKS; i++) {
		CHECK_INT(score_task_parse(names[i], &t), 0);
		CHECK_INT(t, i);
		CHECK_STR(score_task_name((ScoreTask)i), names[i]);
	}
	CHECK_INT(score_task_parse("AG_News", &t), 0);
	CHECK_INT(t, SCORE_TOPIC);
	CHECK_INT(score_task_parse("agnews", &t), 0);
	CHECK_INT(t, SCORE_TOPIC);
	CHECK_INT(score_task_parse("SST-2", &t), 0);
	CHECK_INT(t, SCORE_SENTIMENT);
	CHECK_INT(score_task_parse("sst2", &t), 0);
	CHECK_INT(t, SCORE_SENTIMENT);
	CHECK_INT(score_task_parse("gsm8k", &t), 0);
	CHECK_INT(t, SCORE_ARITHMETIC);
	CHECK_INT(score_task_parse("alpaca", &t), 0);
	CHECK_INT(t, SCORE_INSTRUCTIONS);
	CHECK_INT(score_task_parse("Sentiment", &t), 0);
	CHECK_INT(t, SCORE_SENTIMENT);
	t = SCORE_TOPIC;
	CHECK_INT(score_task_parse("math", &t), -1);
	CHECK_CONTAINS(err_msg(), "task 'math': unknown");
	CHECK_INT(t, SCORE_TOPIC);           /* untouched on failure */
	CHECK_INT(score_task_parse("", &t), -1);
	CHECK_INT(score_task_parse(NULL, &t), -1);
	CHECK_CONTAINS(err_msg(), "missing name");
	CHECK_STR(score_task_name(SCORE_N_TASKS), "?");
	CHECK_STR(score_task_name((ScoreTask)-1), "?");
}

static void test_topic(void)
{
	CHECK_INT(score_topic_parse("World"), 0);
	CHECK_INT(score_topic_parse(" sports\n"), 1);
	CHECK_INT(score_topic_parse("BUSINESS"), 2);
	CHECK_INT(score_topic_parse("Sci/Tech"), 3);
	CHECK_INT(score_topic_parse("scitech"), 3);
	CHECK_INT(score_topic_parse("sci_tech"), 3);
	CHECK_INT(score_topic_parse("2"), 2);
	CHECK_INT(score_topic_parse("4"), -1);
	CHECK_INT(score_topic_parse("Science"), -1);
	CHECK_INT(score_topic_parse(""), -1);
	CHECK_INT(score_topic_parse(NULL), -1);
	CHECK_INT(score_topic_parse("a very long label that is not a topic at all"), -1);

	CHECK_INT(score_answer(SCORE_TOPIC, "World", "World"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC, "The answer is world.", "World"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC, "WORLD", "0"), 1);               /* re.IGNORECASE */
	CHECK_INT(score_answer(SCORE_TOPIC, "Worldwide news", "World"), 0);  /* \b after */
	CHECK_INT(score_answer(SCORE_TOPIC, "underworld", "World"), 0);      /* \b before */
	CHECK_INT(score_answer(SCORE_TOPIC, "world_cup", "World"), 0);       /* _ is a word char */
	CHECK_INT(score_answer(SCORE_TOPIC, "World's", "World"), 1);         /* ' is not */
	CHECK_INT(score_answer(SCORE_TOPIC, "Sports", "Sports"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC, "Sport", "Sports"), 0);
	CHECK_INT(score_answer(SCORE_TOPIC, "Business", "Sports"), 0);
	CHECK_INT(score_answer(SCORE_TOPIC, "business.", "Business"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC, "Sci/Tech", "Sci/Tech"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC, "sci", "3"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC, "Technology", "3"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC, "high-tech", "3"), 1);           /* - is a boundary */
	CHECK_INT(score_answer(SCORE_TOPIC, "Science", "3"), 0);             /* sci then e: no \b */
	CHECK_INT(score_answer(SCORE_TOPIC, "technologies", "3"), 0);
	CHECK_INT(score_answer(SCORE_TOPIC, "\xc3\xa9world", "World"), 0);   /* non-ASCII = word char */
	CHECK_INT(score_answer(SCORE_TOPIC, "", "World"), 0);
	CHECK_INT(score_answer(SCORE_TOPIC, NULL, "World"), 0);
	/* Multiple labels: the published metric counts the gold one being present. */
	const char *all = "World Sports Business Sci/Tech";
	for (int t = 0; t < SCORE_N_TOPICS; t++) {
		CHECK_INT(score_answer(SCORE_TOPIC, all, score_topic_names[t]), 1);
		CHECK_INT(score_answer(SCORE_TOPIC_STRICT, all, score_topic_names[t]), 0);
	}
	CHECK_INT(score_answer(SCORE_TOPIC, "Sports, not Business", "Business"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC_STRICT, "Sports, not Business", "Business"), 0);
	CHECK_INT(score_answer(SCORE_TOPIC_STRICT, "Business", "Business"), 1);
	CHECK_INT(score_answer(SCORE_TOPIC_STRICT, "Sci/Tech", "Sci/Tech"), 1);  /* its own alts */
	CHECK_INT(score_answer(SCORE_TOPIC_STRICT, "a world of tech", "Sci/Tech"), 0);

	CHECK_INT(score_answer(SCORE_TOPIC, "World", "Politics"), -1);
	CHECK_CONTAINS(err_msg(), "topic gold 'Politics'");
	CHECK_INT(score_answer(SCORE_TOPIC, "World", NULL), -1);
	CHECK_CONTAINS(err_msg(), "topic: missing gold");
	CHECK_INT(score_topic_found("World", 7), 0);
	CHECK_INT(score_topic_found(NULL, 0), 0);
}

static void test_sentiment(void)
{
	CHECK_INT(score_answer(SCORE_SENTIMENT, "positive", "positive"), 1);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "Positive", "positive"), 1);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "  negative\n", "negative"), 1);  /* .strip() */
	CHECK_INT(score_answer(SCORE_SENTIMENT, "Negative", "0"), 1);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "positive", "1"), 1);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "positive", "Positive"), 1);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "POSITIVE", "positive"), 0);  /* only two spellings */
	CHECK_INT(score_answer(SCORE_SENTIMENT, "positive.", "positive"), 0); /* exact, not substring */
	CHECK_INT(score_answer(SCORE_SENTIMENT, "The sentiment is positive", "positive"), 0);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "negative", "positive"), 0);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "positive", "negative"), 0);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "", "negative"), 0);
	CHECK_INT(score_answer(SCORE_SENTIMENT, "positive", "neutral"), -1);
	CHECK_CONTAINS(err_msg(), "sentiment gold 'neutral'");
	CHECK_INT(score_answer(SCORE_SENTIMENT, "positive", ""), -1);
}

static void test_numbers(void)
{
	double v = 0;
	CHECK_INT(score_extract_number("The final answer is: 72", NULL, &v), 1);
	CHECK_CLOSE(v, 72, 0, 0);
	CHECK_INT(score_extract_number("She has 3 apples and 4 pears, so 7.", NULL, &v), 1);
	CHECK_CLOSE(v, 7, 0, 0);                            /* last number without the marker */
	CHECK_INT(score_extract_number("5 + 3 = 8. The final answer is: 8 apples, not 9", NULL, &v), 1);
	CHECK_CLOSE(v, 8, 0, 0);                            /* first number after the marker */
	CHECK_INT(score_extract_number("It costs 1,234,567 dollars", NULL, &v), 1);
	CHECK_CLOSE(v, 1234567, 0, 0);                      /* commas removed first */
	CHECK_INT(score_extract_number("1,2,3", NULL, &v), 1);
	CHECK_CLOSE(v, 123, 0, 0);                          /* ... even between list items */
	CHECK_INT(score_extract_number("The final answer is: -15", NULL, &v), 1);
	CHECK_CLOSE(v, -15, 0, 0);
	CHECK_INT(score_extract_number("5-3", NULL, &v), 1);
	CHECK_CLOSE(v, -3, 0, 0);                           /* findall: "5", "-3" */
	CHECK_INT(score_extract_number("--4", NULL, &v), 1);
	CHECK_CLOSE(v, -4, 0, 0);
	CHECK_INT(score_extract_number("- 4", NULL, &v), 1);
	CHECK_CLOSE(v, 4, 0, 0);
	CHECK_INT(score_extract_number("The final answer is: 3.75", NULL, &v), 1);
	CHECK_CLOSE(v, 3.75, 0, 0);
	CHECK_INT(score_extract_number("ends with 12.", NULL, &v), 1);
	CHECK_CLOSE(v, 12, 0, 0);                           /* "12." parses as 12.0 */
	CHECK_INT(score_extract_number("version 1.2.3", NULL, &v), 1);
	CHECK_CLOSE(v, 3, 0, 0);                            /* "1.2", "3" */
	CHECK_INT(score_extract_number(".5", NULL, &v), 1);
	CHECK_CLOSE(v, 5, 0, 0);                            /* no leading-dot numbers */
	CHECK_INT(score_extract_number("The final answer is: none, I guess 4 or 5", NULL, &v), 1);
	CHECK_CLOSE(v, 4, 0, 0);
	CHECK_INT(score_extract_number("7 The final answer is: no idea", NULL, &v), 1);
	CHECK_CLOSE(v, 7, 0, 0);                            /* no number after: last of the text */
	CHECK_INT(score_extract_number("The final answer is: x The final answer is: 9 then 2", NULL, &v), 1);
	CHECK_CLOSE(v, 2, 0, 0);   /* segment[1] is between the first two markers: no number there */
	CHECK_INT(score_extract_number("The final answer is: 6 The final answer is: 9", NULL, &v), 1);
	CHECK_CLOSE(v, 6, 0, 0);
	CHECK_INT(score_extract_number("the final answer is: 6 and 9", NULL, &v), 1);
	CHECK_CLOSE(v, 9, 0, 0);                            /* marker is case-sensitive */
	CHECK_INT(score_extract_number("The final answer is:6 or 1", NULL, &v), 1);
	CHECK_CLOSE(v, 1, 0, 0);                            /* marker needs its trailing space */
	CHECK_INT(score_extract_number("Answer: 42", "Answer: ", &v), 1);
	CHECK_CLOSE(v, 42, 0, 0);
	CHECK_INT(score_extract_number("123456789012345678901234567890123456789012345678901234567890123456789", NULL, &v), 1);
	CHECK_CLOSE(v, 1.23456789012345678e68, 0, 1e-15);
	v = -1;
	CHECK_INT(score_extract_number("no numbers here", NULL, &v), 0);
	CHECK_CLOSE(v, -1, 0, 0);
	CHECK_INT(score_extract_number("", NULL, &v), 0);
	CHECK_INT(score_extract_number(NULL, NULL, &v), 0);
	CHECK_INT(score_extract_number("-", NULL, &v), 0);
}

static void test_arithmetic(void)
{
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: 72", "72"), 1);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "48 / 2 = 24. 48 + 24 = 72. The final answer is: 72.0", "72"), 1);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: 71", "72"), 0);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "I do not know", "72"), 0);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "", "72"), 0);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: 1,000", "1000"), 1);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: -3", "-3"), 1);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: 3", "-3"), 0);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: 0.5", ".5"), 0);  /* gold "5" */
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: 2.50", "2.5"), 1);
	/* GSM8K gold: "####" becomes the marker, so the number after it wins over the last one. */
	const char *gsm = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
			  "Natalia sold 48+24 = <<48+24=72>>72 clips altogether.\n#### 72";
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: 72", gsm), 1);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "72", "#### 72 (was 70 before)"), 1);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "70", "#### 72 (was 70 before)"), 0);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "The final answer is: 72", "The final answer is: 72"), 1);
	CHECK_INT(score_answer(SCORE_ARITHMETIC, "72", "seventy-two"), -1);
	CHECK_CONTAINS(err_msg(), "arithmetic gold 'seventy-two': no number");
}

static void test_instructions(void)
{
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "Paris", "Paris"), 1);
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "  Paris\n", "Paris "), 1);
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "paris", "Paris"), 0);   /* case matters */
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "Paris.", "Paris"), 0);
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "Pa ris", "Paris"), 0);
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "red, green, blue", "red, green, blue"), 1);
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "red,  green, blue", "red, green, blue"), 0);
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "", ""), 1);
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, NULL, "  "), 1);
	CHECK_INT(score_answer(SCORE_INSTRUCTIONS, "x", ""), 0);
	CHECK_INT(score_answer((ScoreTask)99, "x", "x"), -1);
	CHECK_CONTAINS(err_msg(), "task 99: invalid");
}

/* Random bytes (digits, '-', '.', ',', markers, label words mixed in) through every scorer:
 * never a crash, always 0 or 1 for a valid gold. */
static void test_fuzz(void)
{
	static const char *const pieces[] = {
		"The final answer is: ", "####", "-", ".", ",", "7", "12", "World", "sci", "/", "Sci/Tech",
		"positive", " ", "\n", "\xe2\x80", "\xff", "tech", "_", "--", "1.2.",
	};
	Rng r;
	rng_init(&r, 11, 0);
	size_t ok = 0, runs = 0;
	char buf[512];
	for (int it = 0; it < 500; it++) {
		size_t n = 0, k = rng_below(&r, 30);
		for (size_t i = 0; i < k; i++) {
			const char *p = rng_below(&r, 2) ? pieces[rng_below(&r, sizeof pieces / sizeof pieces[0])] : NULL;
			char one[2] = { (char)(1 + rng_below(&r, 255)), 0 };
			if (!p)
				p = one;
			size_t m = strlen(p);
			if (n + m >= sizeof buf)
				break;
			memcpy(buf + n, p, m);
			n += m;
		}
		buf[n] = '\0';
		static const char *const golds[] = { "World", "Sci/Tech", "positive", "42", "#### -3.5", "x" };
		static const ScoreTask tasks[] = { SCORE_TOPIC, SCORE_TOPIC_STRICT, SCORE_SENTIMENT,
						   SCORE_ARITHMETIC, SCORE_ARITHMETIC, SCORE_INSTRUCTIONS };
		for (int t = 0; t < 6; t++) {
			int v = score_answer(tasks[t], buf, golds[t]);
			ok += v == 0 || v == 1;
			runs++;
		}
		double x;
		score_extract_number(buf, NULL, &x);
		ok += score_answer(SCORE_ARITHMETIC, buf, buf) != 1 || score_extract_number(buf, NULL, &x) == 1;
		runs++;
	}
	CHECK_INT(ok, runs);
}

int main(void)
{
	test_task_names();
	test_topic();
	test_sentiment();
	test_numbers();
	test_arithmetic();
	test_instructions();
	test_fuzz();
	return test_summary();
}
