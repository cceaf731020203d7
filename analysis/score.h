/* score.h: fine-tuning accuracy (FA) scorers, one per task, as the paper's scripts score them.
 *
 * Each scorer compares one generated answer (the text after "### Response:", as the AsFT scripts
 * split it) with the gold answer of the record and returns 1 (correct) or 0. Conventions, with the
 * upstream script each one follows:
 *   topic        (AG News)  correct if the GOLD label's pattern occurs anywhere in the answer,
 *                whatever other labels also occur (PKU-YuanGroup/AsFT
 *                evaluation/utility_evaluation/agnews/pred_eval.py: re.search(pattern, pred,
 *                re.IGNORECASE) with patterns \b(?:World|world)\b, \b(?:Sports|sports)\b,
 *                \b(?:Business|business)\b, \b(?:Sci/Tech|sci|technology|tech)\b). So an answer
 *                listing all four labels scores 1 on every record; that is the published metric.
 *   topic_strict the same, but 0 when any OTHER label's pattern also occurs (an extra of ours,
 *                reported beside "topic" to expose that loophole; not in the paper).
 *   sentiment    (SST-2) the whitespace-trimmed answer must equal "positive" or "Positive"
 *                ("negative"/"Negative") exactly (AsFT evaluation/utility_evaluation/SST2/
 *                pre_eval.py: `label1 == pred or label2 == pred` on the stripped output; the
 *                Vaccine/Lisa scripts use substring search instead, we follow AsFT).
 *   arithmetic   (GSM8K) the final number (git-disl/Vaccine gsm8k/pred_eval.py,
 *                extract_answer_number, which AsFT's pipeline reuses): commas removed; numbers are
 *                the matches of -?\d+\.?\d* ; if "The final answer is: " occurs, the first number
 *                after its first occurrence (before a second one), else the last number of the
 *                text; compared as doubles (so "72", "72.0" and "72." are equal). The gold goes
 *                through the same extractor, with GSM8K's "####" read as the marker, so gold may
 *                be "72", "The final answer is: 72" or a full GSM8K solution.
 *   instructions exact match of answer and gold after trimming ASCII whitespace at both ends.
 * Deliberate limits: ASCII only (\d and \b of Python's str regexes are Unicode-aware; here bytes
 * >= 0x80 count as word characters for \b and only ASCII digits are digits, and case folding is
 * ASCII). No locale: numbers are parsed with the C locale's "." decimal point. */
#ifndef ASFT_SCORE_H
#define ASFT_SCORE_H

#include <stddef.h>

typedef enum {
	SCORE_TOPIC = 0,
	SCORE_TOPIC_STRICT,
	SCORE_SENTIMENT,
	SCORE_ARITHMETIC,
	SCORE_INSTRUCTIONS,
	SCORE_N_TASKS
} ScoreTask;

/* The four AG News classes in the dataset's label order (0 World, 1 Sports, 2 Business,
 * 3 Sci/Tech). */
#define SCORE_N_TOPICS 4
extern const char *const score_topic_names[SCORE_N_TOPICS];

/* The GSM8K answer marker of the upstream scripts (note the trailing space). */
#define SCORE_ANSWER_PROMPT "The final answer is: "

/* score_task_parse: task name to enum. Accepts the canonical names (score_task_name) and the
 * dataset aliases agnews / ag_news, sst2 / sst-2, gsm8k, alpaca; case-insensitive. 0 ok, -1 with
 * err_set naming the name and the accepted ones. */
int score_task_parse(const char *name, ScoreTask *out);
/* score_task_name: canonical name ("topic", "topic_strict", "sentiment", "arithmetic",
 * "instructions"), the one used in result files as fa/<name>; "?" for an invalid value. */
const char *score_task_name(ScoreTask task);

/* score_answer: 1 if answer is correct for gold under task's convention (above), 0 if not, -1
 * with err_set when gold itself is invalid (topic: not a class name or 0..3; sentiment: not
 * positive/negative or 1/0; arithmetic: no number; instructions: never). answer NULL is scored
 * as the empty string; gold NULL is an error. */
int score_answer(ScoreTask task, const char *answer, const char *gold);

/* score_topic_parse: gold topic as class index: a class name (case-insensitive; also "Sci/Tech"
 * spelt "scitech" or "sci_tech") or a digit 0..3. -1 if none (no err_set). */
int score_topic_parse(const char *gold);
/* score_topic_found: 1 if class topic's AsFT pattern occurs in text (case-insensitive, word
 * boundaries), else 0. topic outside 0..3 gives 0. */
int score_topic_found(const char *text, int topic);

/* score_extract_number: the upstream final-number extraction (above) on text, with marker as
 * the answer marker (NULL = SCORE_ANSWER_PROMPT). 1 and *out set if a number was found, 0 if
 * the text has no number (upstream returns inf there). */
int score_extract_number(const char *text, const char *marker, double *out);

#endif
