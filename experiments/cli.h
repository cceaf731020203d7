/* cli.h: the one command-line parser every asft-* tool uses.
 *
 * A tool declares a table of long options, each pointing at a variable that already holds its
 * default. cli_parse() then applies, in order: the defaults, the keys of --config FILE.json (keys
 * are the long flag names without dashes; flags override the file), and the command line
 * (`--name value`, `--name=value`, and for booleans `--name` / `--no-name`). --help prints the
 * usage and every flag with its default; --version prints the version and git revision.
 * Errors (unknown flag, missing or malformed value, bad config file) print one line naming the
 * flag or key and exit with status 2. cli_config_json() gives the final values as a JSON object,
 * which tools store as provenance. */
#ifndef ASFT_CLI_H
#define ASFT_CLI_H

typedef enum {
	CLI_STR,        /* ptr: const char ** (config arrays of strings are joined with commas) */
	CLI_INT,        /* ptr: long * */
	CLI_DOUBLE,     /* ptr: double * */
	CLI_BOOL,       /* ptr: int *, 0 or 1 */
} CliType;

typedef struct {
	const char *name;       /* long name without the dashes, e.g. "max-new" */
	CliType type;
	void *ptr;
	const char *metavar;    /* shown in --help, e.g. "DIR"; NULL for booleans */
	const char *help;       /* one line */
} CliOpt;

/* cli_parse: parses argv against opts (terminated by an entry with name NULL). usage is printed
 * first by --help (may hold several lines). Returns the number of positional arguments, stored
 * in order in *pos (an array owned by the parser; pos may be NULL if none are allowed, in which
 * case a positional argument is an error). Exits on --help, --version and on errors. */
int cli_parse(int argc, char **argv, const CliOpt *opts, const char *usage, char ***pos);

/* cli_config_json: the options' final values as a compact JSON object (caller frees); tools
 * store it as the "config" provenance attribute. */
char *cli_config_json(const CliOpt *opts);

/* cli_split: splits a comma-separated list in place into at most max items; returns the count. */
int cli_split(char *s, char **items, int max);

#endif
