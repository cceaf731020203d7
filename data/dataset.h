/* dataset.h: the instruction datasets the toolkit reads and writes, and the prompt template.
 *
 * - Instruction records {"instruction", "input", "output"} (the AsFT / Alpaca format), as a JSON
 *   array or as JSON Lines, told apart by the first non-space character ('[' or '{'). "input"
 *   and "output" are optional (prompt lists are [{"instruction": ...}]); every other field of a
 *   record (labels such as "task", "label", "category", "is_harmful") is kept, typed, in
 *   InstrRecord.extra and written back by the writers.
 * - BeaverTails JSONL (or JSON array) {"prompt", "response", "category", "is_safe"}; category is
 *   an object {name: bool} as in the released BeaverTails, or one string.
 * - AdvBench CSV with a header naming the columns goal and target (RFC 4180 quoting).
 * - prompt_format: the Alpaca-style evaluation prompt.
 *
 * Every reader validates UTF-8 first, then structure, then each record, and reports the first
 * problem with err_set as "FILE:LINE: record N: field \"NAME\": what is wrong" (LINE is 1-based,
 * the line where the record starts; N is the 0-based index of the record among the file's
 * records). A UTF-8 byte order mark at the start is skipped. An empty file (no bytes, or only
 * whitespace / blank lines) holds zero records and is not an error: callers that need data
 * check n. Not handled: JSON strings holding "\u0000" are cut at the NUL (C strings).
 *
 * Sets are plain growable arrays: zero-initialise (`InstrSet s = {0};`), fill by a loader or by
 * instr_add, release with the matching *_free (a no-op on an empty or freed set). */
#ifndef ASFT_DATASET_H
#define ASFT_DATASET_H

#include <stddef.h>

#include <cJSON.h>

/* ---- instruction records ---- */

typedef struct {
	char *instruction;  /* never NULL in a loaded set */
	char *input;        /* NULL when absent or null; "" is kept as "" */
	char *output;       /* NULL when absent or null */
	cJSON *extra;       /* the record's other fields, as a JSON object in file order; NULL
			     * when there are none. Owned by the record. */
	int line;           /* line the record starts on in its file; 0 if built in memory */
} InstrRecord;

typedef struct {
	InstrRecord *recs;
	size_t n, cap;
} InstrSet;

enum {
	INSTR_NEED_OUTPUT = 1,  /* training data: a record without "output" is an error */
};

/* instr_load: reads a JSON array or JSONL file of instruction records into *set, which is
 * overwritten (free it first if it held records). flags: INSTR_NEED_OUTPUT or 0. 0 ok; -1 with
 * err_set and *set left empty. Rules: each record is an object; "instruction" a string
 * (required); "input" and "output" strings or null; no key twice in a record. */
int instr_load(InstrSet *set, const char *path, unsigned flags);
/* instr_parse: the same from n bytes in memory; name is used in error messages. */
int instr_parse(InstrSet *set, const char *text, size_t n, const char *name, unsigned flags);
void instr_free(InstrSet *set);

/* instr_add: appends a record with copies of the strings (input, output may be NULL;
 * instruction NULL is stored as ""); returns it, valid until the next instr_add. */
InstrRecord *instr_add(InstrSet *set, const char *instruction, const char *input,
		       const char *output);
/* instr_set_*: set (or replace) an extra field. The names "instruction", "input" and "output"
 * are the struct's own: -1 with err_set for them. 0 ok. */
int instr_set_str(InstrRecord *r, const char *key, const char *value);
int instr_set_num(InstrRecord *r, const char *key, double value);
int instr_set_bool(InstrRecord *r, const char *key, int value);
/* instr_get_*: read an extra field. get_str: the string, or NULL if absent or not a string.
 * get_num / get_bool: 0 and *out set if present with that JSON type, else -1 (no err_set). */
const char *instr_get_str(const InstrRecord *r, const char *key);
int instr_get_num(const InstrRecord *r, const char *key, double *out);
int instr_get_bool(const InstrRecord *r, const char *key, int *out);

/* instr_to_text: the file text the writers produce; caller frees. JSON array: "[", one record
 * per line, "]"; JSONL: one record per line. Keys: instruction, input (if not NULL), output
 * (if not NULL), then the extras in order. */
char *instr_to_text(const InstrSet *set, int jsonl);
/* instr_save_json / instr_save_jsonl: write atomically (temporary name, then rename). 0 ok,
 * -1 with err_set. */
int instr_save_json(const InstrSet *set, const char *path);
int instr_save_jsonl(const InstrSet *set, const char *path);

/* ---- BeaverTails ---- */

typedef struct {
	char *prompt;        /* required */
	char *response;      /* NULL when absent or null (BeaverTails-Evaluation has none) */
	int is_safe;         /* 1 / 0; -1 when absent or null */
	char **categories;   /* the categories marked true, in file order (or the one string) */
	int n_categories;
	int line;
} BeaverRecord;

typedef struct {
	BeaverRecord *recs;
	size_t n, cap;
} BeaverSet;

/* beaver_load: JSONL (or a JSON array) of BeaverTails records; same conventions as instr_load.
 * "category" may be absent/null (no categories), a string ("" = none), or an object whose
 * values are all true/false. */
int beaver_load(BeaverSet *set, const char *path);
int beaver_parse(BeaverSet *set, const char *text, size_t n, const char *name);
void beaver_free(BeaverSet *set);
/* beaver_has_category: 1 if r lists cat as true, else 0. */
int beaver_has_category(const BeaverRecord *r, const char *cat);

/* ---- AdvBench CSV ---- */

typedef struct {
	char *goal;    /* non-empty */
	char *target;  /* may be "" */
	int line;
} AdvRecord;

typedef struct {
	AdvRecord *recs;
	size_t n, cap;
} AdvSet;

/* advbench_load: CSV whose first record is a header holding the columns "goal" and "target"
 * (in any order; other columns allowed and ignored); every row has the header's column count.
 * Same conventions as instr_load (errors give the line where the row starts). */
int advbench_load(AdvSet *set, const char *path);
int advbench_parse(AdvSet *set, const char *text, size_t n, const char *name);
void advbench_free(AdvSet *set);

/* csv_parse: RFC 4180 reader underneath advbench_parse. Fields are separated by ',' and rows
 * by CRLF or LF; a field starting with '"' is quoted and may hold commas, line breaks and
 * doubled quotes ("" for "). A quote inside an unquoted field, text after a closing quote, and
 * a quote never closed are errors. Blank lines are skipped; a leading BOM is skipped. For each
 * row, fn(fields, nfields, line, ctx) is called (fields are NUL-terminated and valid only
 * during the call; line is where the row starts); a non-zero return stops the parse and is
 * returned (fn reports its own error). 0 ok, -1 with err_set. */
typedef int (*CsvRowFn)(char **fields, int nfields, int line, void *ctx);
int csv_parse(const char *text, size_t n, const char *name, CsvRowFn fn, void *ctx);

/* ---- prompt template ---- */

typedef enum {
	PROMPT_STYLE_ASFT,    /* Alpaca wording, "### Response:\n" (the default; AsFT evaluation) */
	PROMPT_STYLE_ALPACA,  /* Stanford Alpaca train.py exactly: ends with "### Response:" */
} PromptStyle;

/* prompt_format: the default (PROMPT_STYLE_ASFT) prompt for an instruction and an optional
 * input (NULL or "" selects the no-input variant); caller frees. NULL instruction = "". */
char *prompt_format(const char *instruction, const char *input);
char *prompt_format_style(PromptStyle style, const char *instruction, const char *input);
/* "asft" / "alpaca" <-> PromptStyle (for a --template flag); parse: 0 ok, -1 with err_set. */
const char *prompt_style_name(PromptStyle style);
int prompt_style_parse(const char *name, PromptStyle *out);

#endif
