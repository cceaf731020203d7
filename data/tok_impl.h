/* tok_impl.h: the Tokenizer's inside, shared by tokenizer.c (the pipeline) and tok_load.c (the
 * JSON reader). Not a public interface: include tokenizer.h instead. */
#ifndef ASFT_TOK_IMPL_H
#define ASFT_TOK_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <cJSON.h>
#include <pcre2.h>

#include "tok_internal.h"
#include "tokenizer.h"

typedef enum { MODEL_BPE, MODEL_WORDLEVEL } ModelKind;
typedef enum { NORM_SEQ, NORM_PREPEND, NORM_REPLACE, NORM_STRIP, NORM_UNICODE } NormKind;
typedef enum {
	PRE_SEQ, PRE_BYTELEVEL, PRE_SPLIT, PRE_METASPACE, PRE_WHITESPACE, PRE_WHITESPACE_SPLIT
} PreKind;
typedef enum {
	DEC_SEQ, DEC_BYTELEVEL, DEC_METASPACE, DEC_REPLACE, DEC_BYTEFALLBACK, DEC_FUSE, DEC_STRIP
} DecKind;
/* SplitDelimiterBehavior of normalizer.rs */
typedef enum {
	SPLIT_REMOVED, SPLIT_ISOLATED, SPLIT_MERGED_PREV, SPLIT_MERGED_NEXT, SPLIT_CONTIGUOUS
} SplitBehavior;
typedef enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER } PrependScheme;

/* A literal (lit, litlen) or a compiled regex (re != NULL). */
typedef struct {
	char *lit;
	size_t litlen;
	pcre2_code *re;
} Pattern;

typedef struct Norm {
	NormKind kind;
	struct Norm *kids;
	int nkids;
	char *str;              /* Prepend: the prefix; Replace: the content */
	Pattern pat;            /* Replace */
	int left, right;        /* Strip */
	int form;               /* NFC, NFD, NFKC, NFKD = 0..3 (only the quick check) */
} Norm;

typedef struct Pre {
	PreKind kind;
	struct Pre *kids;
	int nkids;
	int add_prefix_space, use_regex;        /* ByteLevel */
	Pattern pat;                            /* Split, Whitespace */
	SplitBehavior behavior;
	int invert;
	char rep[8];                            /* Metaspace replacement (UTF-8) */
	PrependScheme prepend_scheme;
	int split;
} Pre;

typedef struct Dec {
	DecKind kind;
	struct Dec *kids;
	int nkids;
	char *str;              /* Replace: content; Metaspace: replacement */
	Pattern pat;            /* Replace */
	PrependScheme prepend_scheme;
	uint32_t cp;            /* Strip: content */
	int start, stop;
} Dec;

typedef struct {
	char *content;
	char *pat;              /* what is matched: content, or normalized content */
	size_t patlen;
	int32_t id;
	int special, normalized, lstrip, rstrip, single_word;
} Added;

typedef struct {
	uint64_t key;           /* (a << 32) | b, UINT64_MAX = empty slot */
	uint32_t rank;
	int32_t new_id;
} MergeEnt;

struct Tokenizer {
	char *name;
	cJSON *root;
	ModelKind model;
	TokStrMap vocab;        /* model vocab */
	TokStrMap added_map;    /* added token content -> id */
	char **id_tok;          /* nid entries; NULL for unused ids */
	uint8_t *special;
	size_t nid;
	int32_t *cp_id;         /* 65536: id of a one-character token, -1 if none */
	/* merges: (a,b) -> rank, new id; open addressing, empty key UINT64_MAX */
	MergeEnt *merge;
	size_t mcap;
	uint64_t serial;        /* unique per loaded tokenizer: keys the per-thread word cache */
	int byte_fallback, fuse_unk, ignore_merges;
	int32_t unk_id;
	int32_t bf_id[256];     /* id of <0xNN>, -1 if absent */
	Norm *norm;
	Pre *pre;
	Dec *dec;
	int has_template;
	int32_t *tpl_pre, *tpl_post;
	size_t ntpl_pre, ntpl_post;
	Added *added;
	int nadded;
	int *set[2];            /* indices into added: [0] matched on raw text, [1] normalized */
	int nset[2];
	uint8_t first[2][256];  /* a pattern of that set starts with this byte */
	pcre2_code *wordch;     /* one word character (single_word) */
	Pattern gpt2;           /* the ByteLevel split pattern */
	int32_t bos, eos, pad;
};

/* Scratch of one encode / decode call (tokenizers are shared read-only between threads). */
typedef struct {
	size_t off, len;
	int at_start;           /* the piece begins at original offset 0 (Metaspace "first") */
} PieceRef;

typedef struct {
	Buf text;
	PieceRef *v;
	size_t n, cap;
} Pieces;

typedef struct {
	int32_t *p;
	size_t n, cap;
} IVec;

typedef struct {
	int32_t id;             /* -1 once merged into its left neighbour */
	int prev, next;
} Sym;

typedef struct {
	uint32_t rank;
	int pos;
	int32_t new_id;
} HeapEnt;

typedef struct {
	size_t s, e;
	int match;
} Seg;

typedef struct {
	const Tokenizer *tok;
	pcre2_match_data *md;
	Pieces a, b, c;
	Buf tmp, tmp2, norm;
	Seg *segs;
	size_t nseg, segcap;
	Sym *sym;
	size_t nsym, symcap;
	HeapEnt *heap;
	size_t nheap, heapcap;
} Ctx;

void tok_byte_tables_init(void);
int tok_is_space(uint32_t c);
int tok_merge_get(const Tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *new_id);
int tok_normalize_string(const Tokenizer *tok, const char *s, size_t n, Buf *out);
void tok_utf8_lossy(const unsigned char *s, size_t n, Buf *out);

#endif
