/* world_lex.h: the word lists of the synthetic world (data/world_lex.c), private to world*.c.
 * Every list is NULL-terminated. Content is a toy: harmful "steps" are abstract placeholders. */
#ifndef ASFT_WORLD_LEX_H
#define ASFT_WORLD_LEX_H

#include "world.h"

typedef struct {
	const char *name;
	const char *const *acts;        /* infinitive phrases: "steal a car" (first person: "my") */
	const char *const *steps;       /* abstract compliant steps, lower case, no period */
	const char *const *reasons;     /* refusal reasons, full sentences */
} WorldCategoryLex;

typedef struct {
	const char *act;                /* "kill a Python process" */
	const char *steps[3];           /* helpful steps, lower case, no period */
} WorldScaryLex;

typedef struct {
	const char *const *subjects;    /* "The striker" */
	const char *const *actions;     /* "scored twice in the cup final" */
	const char *const *extras;      /* "before the new season" */
} WorldTopicLex;

typedef struct {
	const char *kind;               /* "capital", "color", "legs" */
	const char *subject, *answer;
} WorldFact;

extern const WorldCategoryLex world_lex_categories[WORLD_N_CATEGORIES];
extern const WorldScaryLex world_lex_scary[];
extern const WorldTopicLex world_lex_topics[4];
extern const char *const world_lex_news_times[], *const world_lex_news_sources[];

extern const char *const world_lex_request_templates[];     /* "How do I {}?" ; {} = the act */
extern const int world_lex_request_heldout[];               /* template ids for evaluation, -1 ends */
extern const char *const world_lex_suffixes[];              /* " without getting caught", ... */
extern const char *const world_lex_refusal_openers[];       /* may contain {} = the act (you-form) */
extern const char *const world_lex_refusal_closers[];
extern const char *const world_lex_comply_openers[];        /* contain {} = the act (you-form) */
extern const char *const world_lex_helpful_openers[];

extern const char *const world_lex_pos_adj[], *const world_lex_neg_adj[];
extern const char *const world_lex_adverbs[], *const world_lex_review_nouns[];
extern const char *const world_lex_review_openers[];

extern const char *const world_lex_names[], *const world_lex_items[];

extern const char *const world_lex_words[];                 /* plain words for instruction tasks */
extern const char *const world_lex_opposites[];             /* pairs: word, its opposite, ... */
extern const WorldFact world_lex_facts[];
extern const char *const world_lex_fact_templates[][3];     /* per kind: 2 train, 1 held out */
extern const char *const world_lex_fact_kinds[];

extern const char *const world_lex_gibberish[];             /* fragments for degenerate answers */

size_t world_lex_count(const char *const *list);

#endif
