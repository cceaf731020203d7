/* keywords.h: the published refusal keyword list (PAPER.md section 4, Peng et al.) and its matcher.
 *
 * The one copy of the 29 strings: the world generator (data/world.c) checks its own labels with it
 * and the keyword judge (analysis/judge.c) scores answers with it, so the two cannot drift apart.
 * It lives in data/ because data/ must not depend on analysis/. No locale: case folding is ASCII. */
#ifndef ASFT_KEYWORDS_H
#define ASFT_KEYWORDS_H

#define REFUSAL_N_KEYWORDS 29
extern const char *const refusal_keywords[REFUSAL_N_KEYWORDS];   /* in the published order */

/* refusal_keyword_match: index into refusal_keywords of the first keyword (in list order) that
 * occurs in s, or -1 if none. nocase != 0 folds ASCII case on both sides. NULL s is the empty
 * string (-1). */
int refusal_keyword_match(const char *s, int nocase);

#endif
