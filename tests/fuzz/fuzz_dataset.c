/* fuzz_dataset.c: the same bytes through every dataset reader of data/dataset.h: instr_parse
 * (JSON array or JSONL, told apart by the parser from the first character; with and without
 * INSTR_NEED_OUTPUT), beaver_parse, advbench_parse and csv_parse.
 *
 * Properties: a refusal carries an error message; an accepted instruction set written back with
 * instr_to_text (as a JSON array and as JSONL) parses again to the same number of records and
 * the same text (a fixed point); INSTR_NEED_OUTPUT accepts only sets whose records all have an
 * output; every loaded record has its required fields. */
#include "dataset.h"
#include "fuzz.h"
#include "util.h"

#include <math.h>
#include <string.h>

const size_t fuzz_replay_total = 12000;

static int count_row(char **fields, int nfields, int line, void *ctx)
{
	size_t *n = ctx;
	FUZZ_CHECK(nfields >= 1 && line >= 1, "csv row with %d fields at line %d", nfields, line);
	for (int i = 0; i < nfields; i++)
		*n += strlen(fields[i]);
	return 0;
}

/* cJSON prints a double with 15 digits when that reads back within one DBL_EPSILON, so a value
 * within 1e-15 of DBL_MAX is written as text that overflows to infinity on reading, then
 * written as null: the one known place where the text is not a fixed point (a cJSON
 * limitation, reported). Such sets are still required to parse back. */
static int near_dbl_max(const cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsNumber(j) && fabs(j->valuedouble) > 1.797693134862e308)
			return 1;
		if (near_dbl_max(j->child))
			return 1;
	}
	return 0;
}

static void check_instr(const char *text, size_t size, unsigned flags)
{
	InstrSet set = {0};
	err_clear();
	if (instr_parse(&set, text, size, "data.json", flags) != 0) {
		FUZZ_CHECK_ERR("instr_parse");
		FUZZ_CHECK(set.n == 0 && set.recs == NULL, "failed instr_parse left %zu records", set.n);
		return;
	}
	for (size_t i = 0; i < set.n; i++) {
		FUZZ_CHECK(set.recs[i].instruction != NULL, "record %zu without instruction", i);
		if (flags & INSTR_NEED_OUTPUT)
			FUZZ_CHECK(set.recs[i].output != NULL, "record %zu without output", i);
	}
	for (int jsonl = 0; jsonl <= 1; jsonl++) {
		char *out = instr_to_text(&set, jsonl);
		InstrSet again = {0};
		err_clear();
		FUZZ_CHECK(instr_parse(&again, out, strlen(out), "written", flags) == 0,
			   "instr_to_text(jsonl=%d) output does not parse: %s", jsonl, err_msg());
		FUZZ_CHECK(again.n == set.n, "round trip: %zu records, then %zu", set.n, again.n);
		char *out2 = instr_to_text(&again, jsonl);
		int exempt = 0;
		for (size_t i = 0; i < set.n; i++)
			exempt |= near_dbl_max(set.recs[i].extra);
		FUZZ_CHECK(exempt || !strcmp(out, out2), "round trip changed the text:\n%s\n---\n%s",
			   out, out2);
		free(out2);
		free(out);
		instr_free(&again);
	}
	instr_free(&set);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;

	check_instr(text, size, 0);
	check_instr(text, size, INSTR_NEED_OUTPUT);

	BeaverSet bs = {0};
	err_clear();
	if (beaver_parse(&bs, text, size, "beavertails.jsonl") == 0) {
		for (size_t i = 0; i < bs.n; i++) {
			const BeaverRecord *r = &bs.recs[i];
			FUZZ_CHECK(r->prompt != NULL, "beaver record %zu without prompt", i);
			FUZZ_CHECK(r->is_safe >= -1 && r->is_safe <= 1, "is_safe %d", r->is_safe);
			for (int c = 0; c < r->n_categories; c++)
				FUZZ_CHECK(beaver_has_category(r, r->categories[c]) == 1,
					   "listed category %s not found", r->categories[c]);
			FUZZ_CHECK(beaver_has_category(r, "\x01 no such category") == 0, "bogus category");
		}
	} else {
		FUZZ_CHECK_ERR("beaver_parse");
	}
	beaver_free(&bs);

	AdvSet as = {0};
	err_clear();
	if (advbench_parse(&as, text, size, "advbench.csv") == 0) {
		for (size_t i = 0; i < as.n; i++)
			FUZZ_CHECK(as.recs[i].goal && as.recs[i].goal[0] && as.recs[i].target,
				   "advbench record %zu: empty goal or NULL target", i);
	} else {
		FUZZ_CHECK_ERR("advbench_parse");
	}
	advbench_free(&as);

	size_t chars = 0;
	err_clear();
	if (csv_parse(text, size, "rows.csv", count_row, &chars) != 0)
		FUZZ_CHECK_ERR("csv_parse");
	return 0;
}
