/* tmpl.c - Mustache templates compiled to op arrays, rendered per request. */
#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L	/* openat, dirfd, strndup under -std=c17 */
#endif
#include "tmpl.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "log.h"

/*
 * Truthiness follows the Mustache spec: only a missing key, null, false
 * and the empty list are falsy. The empty string and the integer 0 are
 * truthy (some implementations differ; the spec does not).
 * Lists and maps interpolate as nothing.
 */

/* One row of a TV_RECORDS list while it renders (never built by callers). */
#define TV_RECORD ((enum tv_type)(TV_RECORDS + 1))

#define TMPL_MAX_DEPTH	32		/* sections + partials while rendering */
#define TMPL_MAX_SRC	(1024 * 1024)	/* bytes per template */
#define TMPL_MAX_FILES	1024		/* templates per directory */
#define TMPL_MAX_NAME	255
#define TMPL_MAX_DELIM	16
#define TMPL_PAD	32		/* zero bytes after a template's source
					 * (put32 reads up to 31 past a text) */

/* ---- values ---- */

struct tv_pair {
	const char *key;
	size_t klen;
	uint32_t sig;		/* key_sig(): most mismatches end here */
	struct tv *val;
};

struct tv {
	enum tv_type type;
	union {
		bool b;
		int64_t i;
		struct {
			const char *s;
			size_t n;
		} str;
		struct {
			struct arena *a;
			struct tv **v;
			size_t n, cap;
		} list;
		struct {		/* TV_RECORDS; n 1 and base the
					 * struct: one row (TV_RECORD) */
			const char *base;
			size_t n, size;
			const struct tv_field *f;
			size_t nf;
		} rec;
		struct {
			struct arena *a;
			struct tv_pair *p;
			size_t n, cap;
			/* Open addressing over p by signature: pair index + 1,
			 * 0 empty; 2 x cap slots. A page's map has about 60
			 * keys and is asked for a row's names at every row. */
			uint16_t *idx;
		} map;
	} u;
};

static struct tv *
tv_new(struct arena *a, enum tv_type type)
{
	struct tv *v;

	if (a == NULL || (v = arena_alloc(a, sizeof(*v))) == NULL)
		return NULL;
	*v = (struct tv){ .type = type };
	return v;
}

struct tv *
tv_null(struct arena *a)
{
	return tv_new(a, TV_NULL);
}

struct tv *
tv_map(struct arena *a)
{
	struct tv *v = tv_new(a, TV_MAP);

	if (v != NULL)
		v->u.map.a = a;
	return v;
}

struct tv *
tv_records(struct arena *a, const void *base, size_t n, size_t size,
    const struct tv_field *fields, size_t nfields)
{
	struct tv *v;

	if ((n > 0 && base == NULL) || (nfields > 0 && fields == NULL))
		return NULL;
	if ((v = tv_new(a, TV_RECORDS)) != NULL) {
		v->u.rec.base = base;
		v->u.rec.n = n;
		v->u.rec.size = size;
		v->u.rec.f = fields;
		v->u.rec.nf = nfields;
	}
	return v;
}

struct tv *
tv_list(struct arena *a)
{
	struct tv *v = tv_new(a, TV_LIST);

	if (v != NULL)
		v->u.list.a = a;
	return v;
}

struct tv *
tv_str(struct arena *a, const char *s)
{
	struct tv *v;

	/* A NULL string (e.g. a NULL column) is the null value. */
	if (s == NULL)
		return tv_new(a, TV_NULL);
	if ((v = tv_new(a, TV_STR)) == NULL)
		return NULL;
	v->u.str.s = s;
	v->u.str.n = strlen(s);
	return v;
}

struct tv *
tv_strn(struct arena *a, const char *s, size_t n)
{
	struct tv *v;
	char *copy;

	if (s == NULL)
		return tv_new(a, TV_NULL);
	/* Copied: slices usually point into buffers freed before render. */
	if ((v = tv_new(a, TV_STR)) == NULL ||
	    (copy = arena_strndup(a, s, n)) == NULL)
		return NULL;
	v->u.str.s = copy;
	v->u.str.n = n;
	return v;
}

struct tv *
tv_bool(struct arena *a, bool b)
{
	struct tv *v = tv_new(a, TV_BOOL);

	if (v != NULL)
		v->u.b = b;
	return v;
}

struct tv *
tv_int(struct arena *a, int64_t i)
{
	struct tv *v = tv_new(a, TV_INT);

	if (v != NULL)
		v->u.i = i;
	return v;
}

/*
 * A cheap fingerprint of a name: its length and three of its bytes.
 * Equal names have equal signatures; lookups compare it before the
 * bytes, so scanning a map rarely touches a key's characters.
 */
static uint32_t
key_sig(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	return (uint32_t)(n & 0xff) << 24 |
	    (uint32_t)(unsigned char)s[0] << 16 |
	    (uint32_t)(unsigned char)s[n / 2] << 8 |
	    (uint32_t)(unsigned char)s[n - 1];
}

/* Grow an arena array of elem-sized items to hold one more. */
static enum td_status
grow(struct arena *a, void **arr, size_t n, size_t *cap, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return TD_OK;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap > SIZE_MAX / 2 / elem)
		return TD_ENOMEM;
	if ((p = arena_realloc(a, *arr, *cap * elem, ncap * elem)) == NULL)
		return TD_ENOMEM;
	*arr = p;
	*cap = ncap;
	return TD_OK;
}

/* The first slot of signature sig in an index of mask + 1 slots. */
static size_t
slot_of(uint32_t sig, size_t mask)
{
	return (size_t)((sig * 2654435761u) >> 16) & mask;
}

static void
index_put(uint16_t *idx, size_t mask, uint32_t sig, size_t i)
{
	size_t h = slot_of(sig, mask);

	while (idx[h] != 0)
		h = (h + 1) & mask;
	idx[h] = (uint16_t)(i + 1);
}

static const struct tv_pair *
map_find(const struct tv *m, const char *key, size_t klen, uint32_t sig)
{
	const struct tv_pair *p;
	size_t mask = 2 * m->u.map.cap - 1, h;
	unsigned j;

	if (m->u.map.n == 0)	/* an empty map has no index yet */
		return NULL;
	for (h = slot_of(sig, mask); (j = m->u.map.idx[h]) != 0; h = (h + 1) & mask) {
		p = &m->u.map.p[j - 1];
		if (p->sig == sig && p->klen == klen &&
		    (p->key == key || memcmp(p->key, key, klen) == 0))
			return p;
	}
	return NULL;
}

/* Room for one more pair, with the index rebuilt at the new size. */
static enum td_status
map_grow(struct tv *m)
{
	size_t cap = m->u.map.cap, ncap, i;
	struct tv_pair *p;
	uint16_t *idx;

	if (m->u.map.n < cap)
		return TD_OK;
	/* Four times: a page's map of some 70 keys is indexed three times
	 * (16, 64, 256), not five. */
	ncap = cap == 0 ? 16 : cap * 4 < 32768 ? cap * 4 : 32768;
	if (ncap <= cap)		/* the index holds uint16_t */
		return TD_ENOMEM;
	p = arena_realloc(m->u.map.a, m->u.map.p, cap * sizeof(*p), ncap * sizeof(*p));
	idx = arena_calloc(m->u.map.a, 2 * ncap, sizeof(*idx));
	if (p == NULL || idx == NULL)
		return TD_ENOMEM;
	for (i = 0; i < m->u.map.n; i++)
		index_put(idx, 2 * ncap - 1, p[i].sig, i);
	m->u.map.p = p;
	m->u.map.idx = idx;
	m->u.map.cap = ncap;
	return TD_OK;
}

enum td_status
tv_set(struct tv *map, const char *key, struct tv *v)
{
	enum td_status st;
	struct tv_pair *p;
	size_t klen;
	uint32_t sig;

	/* NULL map or value: its constructor hit the arena cap. */
	if (map == NULL || v == NULL)
		return TD_ENOMEM;
	if (map->type != TV_MAP || key == NULL)
		return TD_EINVAL;
	/* Keys are literals: measure once here, not at every lookup. */
	klen = strlen(key);
	sig = key_sig(key, klen);
	if ((p = (struct tv_pair *)map_find(map, key, klen, sig)) != NULL) {
		p->val = v;
		return TD_OK;
	}
	if ((st = map_grow(map)) != TD_OK)
		return st;
	p = &map->u.map.p[map->u.map.n];
	p->key = key;
	p->klen = klen;
	p->sig = sig;
	p->val = v;
	index_put(map->u.map.idx, 2 * map->u.map.cap - 1, sig, map->u.map.n++);
	return TD_OK;
}

enum td_status
tv_set_str(struct tv *map, const char *key, const char *s)
{
	if (map == NULL)
		return TD_ENOMEM;
	if (map->type != TV_MAP)
		return TD_EINVAL;
	return tv_set(map, key, tv_str(map->u.map.a, s));
}

enum td_status
tv_set_bool(struct tv *map, const char *key, bool b)
{
	if (map == NULL)
		return TD_ENOMEM;
	if (map->type != TV_MAP)
		return TD_EINVAL;
	return tv_set(map, key, tv_bool(map->u.map.a, b));
}

enum td_status
tv_set_int(struct tv *map, const char *key, int64_t i)
{
	if (map == NULL)
		return TD_ENOMEM;
	if (map->type != TV_MAP)
		return TD_EINVAL;
	return tv_set(map, key, tv_int(map->u.map.a, i));
}

enum td_status
tv_push(struct tv *list, struct tv *v)
{
	enum td_status st;

	if (list == NULL || v == NULL)
		return TD_ENOMEM;
	if (list->type != TV_LIST)
		return TD_EINVAL;
	st = grow(list->u.list.a, (void **)&list->u.list.v, list->u.list.n,
	    &list->u.list.cap, sizeof(*list->u.list.v));
	if (st != TD_OK)
		return st;
	list->u.list.v[list->u.list.n++] = v;
	return TD_OK;
}

/* ---- compiled form ---- */

enum op_kind {
	OP_TEXT,	/* str/len: literal text */
	OP_VAR,		/* name path, HTML-escaped */
	OP_RAW,		/* name path, as is */
	OP_SECTION,	/* name path; body is ops (this, end) */
	OP_INVERTED,	/* same, rendered when falsy */
	OP_PARTIAL,	/* str/len: partial name; ind: indentation */
};

struct seg {
	const char *s;
	size_t n;
	uint32_t sig;		/* key_sig(s, n) */
};

struct op {
	enum op_kind kind;
	const char *str;	/* text, or the tag's name as written */
	size_t len;
	const char *ind;	/* OP_PARTIAL: whitespace before a standalone tag */
	size_t indlen;
	bool standalone;	/* OP_PARTIAL */
	bool nl_end;		/* OP_TEXT: ends with a newline */
	bool uses_top;		/* OP_SECTION: its body has {{.}} or a
				 * partial (which may), at any depth */
	size_t seg, nseg;	/* name path in tmpl.segs; nseg 0 is "." */
	size_t end;		/* sections: index of the op after the body */
	size_t line;
};

/*
 * Where a single-name tag was found last time it rendered: the level `up`
 * below the top of the context stack, and there either a map's pair j
 * under key pointer `key`, or field j of a TV_RECORDS row read through
 * field table `ft`. A list's rows are built by the same code, so the next
 * row's map has the name at the same index under the same literal, and
 * the next struct row has the same (static) table: one comparison instead
 * of a search (names resolved once, not per row). `miss` is a table found
 * not to hold the name (with its length), so a tag inside a row that
 * names a page value skips the row's fields by a comparison too. A
 * worker writes these after fork: its private copy, a few KB.
 */
struct op_cache {
	const char *key;		/* map hit; NULL: none */
	const struct tv_field *ft;	/* record hit; NULL: none */
	uint32_t up, j;
	const struct tv_field *miss;	/* NULL: none */
	size_t missn;
	struct row_prog *prog;		/* a section's, over tv_records() */
};

/*
 * A section's body bound to one field table (row_prog()): what each
 * row does, with every {{name}} the table has turned into its field's
 * offset and a row's flag sections into jumps, so a row is a loop over
 * these, no lookups. Anything else (a name from the page, a section over
 * a page value, a partial) runs the template's own ops (RP_OPS) with the
 * row on the stack, as without a program.
 */
enum rp_kind { RP_ID, RP_TEXT, RP_INT, RP_STR, RP_STRN, RP_BOOL, RP_UNLESS,
	RP_UNLESS_FLAG, RP_OPS };

/* Every op first copies its text (pre, the template's text before it, if
 * any), then does its kind's work: RP_TEXT is text only (a body's last). A
 * row runs half the ops it would with text as ops of its own. RP_ID is an
 * RP_INT of the program's first int field (a row's id, ten times in a
 * list row): its digits are made once a row. */
struct rp_op {
	enum rp_kind kind;
	bool escape;		/* RP_STR, RP_STRN: {{x}}, not {{{x}}} */
	bool want;		/* RP_UNLESS*: go on when truthy == want */
	bool pre_nl;		/* pre ends with a newline */
	enum tv_field_type ftype;	/* RP_UNLESS */
	size_t off;		/* the field's offset in the row */
	const char *pre;	/* text first: pre_n bytes */
	size_t pre_n;
	size_t n;		/* RP_UNLESS*: where to go otherwise; RP_OPS:
				 * the ops' end */
	size_t from;		/* RP_OPS */
	bool outer;		/* RP_OPS: one tag or section whose single
				 * name the table lacks: the same for every
				 * row of a run (it comes from below) */
};

/* A switch over every rp_kind needs no range check (GCC, clang). */
#if defined(__GNUC__)
#define RP_UNREACHABLE() __builtin_unreachable()
#else
#define RP_UNREACHABLE() break
#endif

/* run_rows: the page values looked up once for a run of rows, for the
 * program's first RP_OUTER_MAX ops; rp_ask: ask at each row. */
#define RP_OUTER_MAX 128
static const struct tv rp_ask;

struct row_prog {
	const struct tv_field *ft;	/* bound to this table, nf long */
	size_t nf;
	struct rp_op *ops;
	size_t n, cap;
	/* The most a row writes outside RP_STR and RP_OPS (every text, a
	 * number's 24 bytes, "false"), with put32's TMPL_PAD over: room for
	 * it is made once a row (and again after a string or ops), so the
	 * pieces between are copied without a check. */
	size_t row_max;
	bool has_id;		/* some op is RP_ID: the field at id_off */
	size_t id_off;
};

struct tmpl {
	char *name;
	size_t namelen;
	char *src;		/* private copy, TMPL_PAD bytes over; ops and
				 * segs point into it */
	size_t srclen;
	struct op *ops;
	size_t nops, opcap;
	struct seg *segs;
	size_t nsegs, segcap;
	struct op_cache *cache;	/* one per op; mutable while rendering */
};

struct tmpl_set {
	struct tmpl *t;
	size_t n, cap;
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void
tmpl_clear(struct tmpl *t)
{
	size_t i;

	free(t->name);
	free(t->src);
	free(t->ops);
	free(t->segs);
	if (t->cache != NULL)
		for (i = 0; i < t->nops; i++)
			if (t->cache[i].prog != NULL) {
				free(t->cache[i].prog->ops);
				free(t->cache[i].prog);
			}
	free(t->cache);
	memset(t, 0, sizeof(*t));
}

struct tmpl_set *
tmpl_set_new(void)
{
	return calloc(1, sizeof(struct tmpl_set));
}

void
tmpl_set_free(struct tmpl_set *set)
{
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n; i++)
		tmpl_clear(&set->t[i]);
	free(set->t);
	free(set);
}

static const struct tmpl *
find_tmpl(const struct tmpl_set *set, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (set->t[i].namelen == len &&
		    memcmp(set->t[i].name, name, len) == 0)
			return &set->t[i];
	return NULL;
}

/* ---- compiler ---- */

struct compiler {
	struct tmpl *t;
	char *err;
	size_t errlen;
	size_t line;		/* line of `pos` */
	const char *pos;	/* newlines before pos are counted */
};

static size_t
line_at(struct compiler *c, const char *p)
{
	for (; c->pos < p; c->pos++)
		if (*c->pos == '\n')
			c->line++;
	return c->line;
}

static enum td_status
cerr(struct compiler *c, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum td_status
cerr(struct compiler *c, size_t line, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	seterr(c->err, c->errlen, "%s.html:%zu: %s", c->t->name, line, what);
	return TD_EINVAL;
}

static struct op *
add_op(struct compiler *c, enum op_kind kind, size_t line)
{
	struct tmpl *t = c->t;
	struct op *op;

	if (t->nops == t->opcap) {
		size_t ncap = t->opcap ? t->opcap * 2 : 32;
		struct op *p;

		if (ncap > SIZE_MAX / 2 / sizeof(*p) ||
		    (p = realloc(t->ops, ncap * sizeof(*p))) == NULL)
			return NULL;
		t->ops = p;
		t->opcap = ncap;
	}
	op = &t->ops[t->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	op->line = line;
	return op;
}

static enum td_status
add_text(struct compiler *c, const char *s, size_t n)
{
	struct op *op;

	if (n == 0)
		return TD_OK;
	if ((op = add_op(c, OP_TEXT, 0)) == NULL)
		return TD_ENOMEM;
	op->str = s;
	op->len = n;
	op->nl_end = s[n - 1] == '\n';
	return TD_OK;
}

/* memmem(3) is not in C17 nor POSIX 2008. */
static const char *
find(const char *h, size_t hn, const char *n, size_t nn)
{
	const char *p, *e;

	if (nn == 0 || hn < nn)
		return NULL;
	e = h + (hn - nn);
	for (p = h; p <= e; p++) {
		p = memchr(p, n[0], (size_t)(e - p) + 1);
		if (p == NULL)
			return NULL;
		if (memcmp(p, n, nn) == 0)
			return p;
	}
	return NULL;
}

static bool
is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f';
}

/* A name is non-empty and holds no whitespace or control bytes. */
static bool
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

/* Split a dotted name into t->segs; "." is the implicit iterator. */
static enum td_status
add_path(struct compiler *c, struct op *op, const char *s, size_t n,
    size_t line)
{
	struct tmpl *t = c->t;
	const char *p = s, *e = s + n, *dot;

	op->str = s;
	op->len = n;
	op->seg = t->nsegs;
	op->nseg = 0;
	if (n == 1 && s[0] == '.')
		return TD_OK;
	for (;;) {
		dot = memchr(p, '.', (size_t)(e - p));
		if (dot == NULL)
			dot = e;
		if (dot == p)
			return cerr(c, line, "bad tag name '%.*s'",
			    (int)(n > 64 ? 64 : n), s);
		if (t->nsegs == t->segcap) {
			size_t ncap = t->segcap ? t->segcap * 2 : 16;
			struct seg *sp;

			if (ncap > SIZE_MAX / 2 / sizeof(*sp) ||
			    (sp = realloc(t->segs, ncap * sizeof(*sp))) == NULL)
				return TD_ENOMEM;
			t->segs = sp;
			t->segcap = ncap;
		}
		t->segs[t->nsegs].s = p;
		t->segs[t->nsegs].n = (size_t)(dot - p);
		t->segs[t->nsegs].sig = key_sig(p, (size_t)(dot - p));
		t->nsegs++;
		op->nseg++;
		if (dot == e)
			return TD_OK;
		p = dot + 1;
	}
}

/* Does section op i's body read the value the section pushes? Only
 * {{.}} can (names are never found in a scalar), or a partial. */
static void
mark_uses_top(struct tmpl *t, size_t i)
{
	size_t k;

	for (k = i + 1; k < t->ops[i].end; k++)
		if (t->ops[k].kind == OP_PARTIAL ||
		    (t->ops[k].kind != OP_TEXT && t->ops[k].nseg == 0))
			t->ops[i].uses_top = true;
}

/* Parse "<% %>" (already stripped of the '=' signs) into new delimiters. */
static bool
parse_delims(const char *s, size_t n, char *otag, size_t *olen, char *ctag,
    size_t *clen)
{
	const char *e = s + n, *a, *ae, *b, *be, *p;

	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	for (a = s, ae = a; ae < e && !is_space(*ae); ae++)
		continue;
	for (b = ae; b < e && is_space(*b); b++)
		continue;
	be = e;
	if (ae == a || be == b || b == ae)
		return false;
	if ((size_t)(ae - a) > TMPL_MAX_DELIM || (size_t)(be - b) > TMPL_MAX_DELIM)
		return false;
	for (p = a; p < ae; p++)
		if (*p == '=')
			return false;
	for (p = b; p < be; p++)
		if (*p == '=' || is_space(*p))
			return false;
	*olen = (size_t)(ae - a);
	memcpy(otag, a, *olen);
	*clen = (size_t)(be - b);
	memcpy(ctag, b, *clen);
	return true;
}

struct open_sec {
	size_t op;
	const char *name;
	size_t len;
	size_t line;
};

static enum td_status
compile(struct compiler *c)
{
	struct tmpl *t = c->t;
	const char *s = t->src, *end = s + t->srclen;
	const char *text = s;	/* start of text not yet emitted */
	char otag[TMPL_MAX_DELIM + 1] = "{{", ctag[TMPL_MAX_DELIM + 1] = "}}";
	char close[TMPL_MAX_DELIM + 2];
	size_t olen = 2, clen = 2, closelen, nopen = 0;
	struct open_sec open[TMPL_MAX_DEPTH];
	enum td_status st;

	for (;;) {
		const char *tag, *body, *bend, *after, *ls, *le, *name, *nend;
		size_t line;
		char sigil;
		bool standalone;
		struct op *op;

		tag = find(text, (size_t)(end - text), otag, olen);
		if (tag == NULL)
			break;
		line = line_at(c, tag);
		body = tag + olen;
		if (body >= end)
			return cerr(c, line, "unclosed tag");
		sigil = *body;
		switch (sigil) {
		case '#': case '^': case '/': case '!': case '>': case '&':
			body++;
			memcpy(close, ctag, clen);
			closelen = clen;
			break;
		case '{': case '=':
			/* {{{name}}} and {{=a b=}} end with the sigil's mate. */
			body++;
			close[0] = sigil == '{' ? '}' : '=';
			memcpy(close + 1, ctag, clen);
			closelen = clen + 1;
			break;
		default:
			sigil = '\0';
			memcpy(close, ctag, clen);
			closelen = clen;
			break;
		}
		bend = find(body, (size_t)(end - body), close, closelen);
		if (bend == NULL)
			return cerr(c, line, sigil == '=' ?
			    "bad delimiter tag" : "unclosed tag");
		after = bend + closelen;

		/* Standalone: only blanks around the tag on its line. */
		standalone = false;
		ls = tag;
		le = after;
		if (sigil != '\0' && sigil != '&' && sigil != '{') {
			while (ls > text && is_blank(ls[-1]))
				ls--;
			while (le < end && is_blank(*le))
				le++;
			if ((ls == s || ls[-1] == '\n') &&
			    (le == end || *le == '\n' ||
			    (*le == '\r' && le + 1 < end && le[1] == '\n'))) {
				standalone = true;
				if (le < end)
					le += *le == '\r' ? 2 : 1;
			}
		}
		if (!standalone) {
			ls = tag;
			le = after;
		}
		if ((st = add_text(c, text, (size_t)(ls - text))) != TD_OK)
			return st;
		text = le;

		name = body;
		nend = bend;
		while (name < nend && is_space(*name))
			name++;
		while (nend > name && is_space(nend[-1]))
			nend--;

		switch (sigil) {
		case '!':
			continue;
		case '=':
			if (!parse_delims(body, (size_t)(bend - body), otag,
			    &olen, ctag, &clen))
				return cerr(c, line, "bad delimiter tag");
			continue;
		default:
			break;
		}
		if (name == nend)
			return cerr(c, line, "empty tag name");
		if (!name_ok(name, (size_t)(nend - name)))
			return cerr(c, line, "bad tag name '%.*s'",
			    (int)(nend - name > 64 ? 64 : nend - name), name);

		switch (sigil) {
		case '/':
			if (nopen == 0)
				return cerr(c, line,
				    "closing tag '%.*s' without open section",
				    (int)(nend - name > 64 ? 64 : nend - name),
				    name);
			nopen--;
			if (open[nopen].len != (size_t)(nend - name) ||
			    memcmp(open[nopen].name, name, open[nopen].len) != 0)
				return cerr(c, line, "closing tag '%.*s' does "
				    "not match section '%.*s' opened at line %zu",
				    (int)(nend - name > 64 ? 64 : nend - name),
				    name, (int)(open[nopen].len > 64 ? 64 :
				    open[nopen].len), open[nopen].name,
				    open[nopen].line);
			t->ops[open[nopen].op].end = t->nops;
			mark_uses_top(t, open[nopen].op);
			continue;
		case '>':
			if ((op = add_op(c, OP_PARTIAL, line)) == NULL)
				return TD_ENOMEM;
			op->str = name;
			op->len = (size_t)(nend - name);
			op->standalone = standalone;
			if (standalone) {
				op->ind = ls;
				op->indlen = (size_t)(tag - ls);
			}
			continue;
		case '#':
		case '^':
			if (nopen == TMPL_MAX_DEPTH)
				return cerr(c, line, "sections nested deeper "
				    "than %d", TMPL_MAX_DEPTH);
			op = add_op(c, sigil == '#' ? OP_SECTION : OP_INVERTED,
			    line);
			if (op == NULL)
				return TD_ENOMEM;
			open[nopen].op = t->nops - 1;
			open[nopen].name = name;
			open[nopen].len = (size_t)(nend - name);
			open[nopen].line = line;
			nopen++;
			break;
		default:
			op = add_op(c, sigil == '\0' ? OP_VAR : OP_RAW, line);
			if (op == NULL)
				return TD_ENOMEM;
			break;
		}
		if ((st = add_path(c, op, name, (size_t)(nend - name), line))
		    != TD_OK)
			return st;
	}
	if ((st = add_text(c, text, (size_t)(end - text))) != TD_OK)
		return st;
	if (nopen > 0)
		return cerr(c, open[nopen - 1].line, "unclosed section '%.*s'",
		    (int)(open[nopen - 1].len > 64 ? 64 : open[nopen - 1].len),
		    open[nopen - 1].name);
	return TD_OK;
}

enum td_status
tmpl_add(struct tmpl_set *set, const char *name, const char *src, size_t len,
    char *err, size_t errlen)
{
	struct compiler c;
	struct tmpl t;
	enum td_status st = TD_ENOMEM;
	size_t namelen;

	memset(&t, 0, sizeof(t));
	if (set == NULL || name == NULL || (src == NULL && len > 0)) {
		seterr(err, errlen, "tmpl_add: bad arguments");
		return TD_EINVAL;
	}
	namelen = strnlen(name, TMPL_MAX_NAME + 1);
	if (namelen == 0 || namelen > TMPL_MAX_NAME) {
		seterr(err, errlen, "bad template name");
		return TD_EINVAL;
	}
	if (find_tmpl(set, name, namelen) != NULL) {
		seterr(err, errlen, "%s.html: duplicate template", name);
		return TD_EINVAL;
	}
	if (len > TMPL_MAX_SRC) {
		seterr(err, errlen, "%s.html: larger than %d bytes", name,
		    TMPL_MAX_SRC);
		return TD_ETOOBIG;
	}
	/* Make room first so a compiled template is never lost. */
	if (set->n == set->cap) {
		size_t ncap = set->cap ? set->cap * 2 : 16;
		struct tmpl *p;

		if ((p = realloc(set->t, ncap * sizeof(*p))) == NULL)
			goto out;
		set->t = p;
		set->cap = ncap;
	}
	if ((t.name = strndup(name, namelen)) == NULL ||
	    (t.src = calloc(1, len + 1 + TMPL_PAD)) == NULL)
		goto out;
	t.namelen = namelen;
	if (len > 0)
		memcpy(t.src, src, len);
	t.srclen = len;

	c.t = &t;
	c.err = err;
	c.errlen = errlen;
	c.line = 1;
	c.pos = t.src;
	if ((st = compile(&c)) != TD_OK)
		goto out;
	if ((t.cache = calloc(t.nops + 1, sizeof(*t.cache))) == NULL) {
		st = TD_ENOMEM;
		goto out;
	}
	set->t[set->n++] = t;
	return TD_OK;
out:
	if (st == TD_ENOMEM)
		seterr(err, errlen, "%s.html: out of memory", name);
	tmpl_clear(&t);
	return st;
}

/* ---- loading a directory ---- */

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read dir/name (a regular file, at most TMPL_MAX_SRC bytes) into *out. */
static enum td_status
read_file(int dfd, const char *name, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	enum td_status st = TD_ESYSTEM;
	struct stat sb;
	char *data = NULL, *p;
	size_t len = 0, cap;
	ssize_t n;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		seterr(err, errlen, "%s: %s", name, strerror(errno));
		return TD_ESYSTEM;
	}
	if (fstat(fd, &sb) == -1) {
		seterr(err, errlen, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", name);
		st = TD_EINVAL;
		goto out;
	}
	if (sb.st_size > TMPL_MAX_SRC) {
		seterr(err, errlen, "%s: larger than %d bytes", name,
		    TMPL_MAX_SRC);
		st = TD_ETOOBIG;
		goto out;
	}
	/* One byte over the size seen, to notice a file that grew. */
	cap = (size_t)sb.st_size + 1;
	if ((data = malloc(cap)) == NULL) {
		seterr(err, errlen, "%s: out of memory", name);
		st = TD_ENOMEM;
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap > TMPL_MAX_SRC) {
				seterr(err, errlen, "%s: larger than %d bytes",
				    name, TMPL_MAX_SRC);
				st = TD_ETOOBIG;
				goto out;
			}
			cap = cap * 2 > TMPL_MAX_SRC + 1 ?
			    TMPL_MAX_SRC + 1 : cap * 2;
			if ((p = realloc(data, cap)) == NULL) {
				seterr(err, errlen, "%s: out of memory", name);
				st = TD_ENOMEM;
				goto out;
			}
			data = p;
		}
		n = read(fd, data + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			seterr(err, errlen, "%s: %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = data;
	*outlen = len;
	data = NULL;
	st = TD_OK;
out:
	free(data);
	if (close(fd) == -1 && st == TD_OK) {
		seterr(err, errlen, "%s: %s", name, strerror(errno));
		free(*out);
		*out = NULL;
		st = TD_ESYSTEM;
	}
	return st;
}

/* Every {{> name}} must name a template of the set. */
static enum td_status
check_partials(const struct tmpl_set *set, char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < set->n; i++) {
		const struct tmpl *t = &set->t[i];

		for (j = 0; j < t->nops; j++) {
			const struct op *op = &t->ops[j];

			if (op->kind != OP_PARTIAL ||
			    find_tmpl(set, op->str, op->len) != NULL)
				continue;
			seterr(err, errlen, "%s.html:%zu: unknown partial '%.*s'",
			    t->name, op->line, (int)(op->len > 64 ? 64 :
			    op->len), op->str);
			return TD_EINVAL;
		}
	}
	return TD_OK;
}

enum td_status
tmpl_load_dir(const char *dir, struct tmpl_set **out, char *err,
    size_t errlen)
{
	enum td_status st = TD_ENOMEM;
	struct tmpl_set *set = NULL;
	struct dirent *de;
	char **names = NULL, **np, *src = NULL;
	size_t n = 0, cap = 0, i, len, srclen;
	DIR *d = NULL;

	if (out == NULL || dir == NULL) {
		seterr(err, errlen, "tmpl_load_dir: bad arguments");
		return TD_EINVAL;
	}
	*out = NULL;
	if ((set = tmpl_set_new()) == NULL) {
		seterr(err, errlen, "%s: out of memory", dir);
		goto out;
	}
	if ((d = opendir(dir)) == NULL) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		st = TD_ESYSTEM;
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0) {
				seterr(err, errlen, "%s: %s", dir,
				    strerror(errno));
				st = TD_ESYSTEM;
				goto out;
			}
			break;
		}
		len = strlen(de->d_name);
		/* Dot files are editor droppings, not templates. */
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".html") != 0)
			continue;
		if (n == TMPL_MAX_FILES) {
			seterr(err, errlen, "%s: more than %d templates", dir,
			    TMPL_MAX_FILES);
			st = TD_ETOOBIG;
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((np = realloc(names, cap * sizeof(*np))) == NULL) {
				seterr(err, errlen, "%s: out of memory", dir);
				goto out;
			}
			names = np;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			seterr(err, errlen, "%s: out of memory", dir);
			goto out;
		}
		n++;
	}
	/* Sorted, so the first error reported is the same every time. */
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		st = read_file(dirfd(d), names[i], &src, &srclen, err, errlen);
		if (st != TD_OK)
			goto out;
		names[i][strlen(names[i]) - 5] = '\0';
		st = tmpl_add(set, names[i], src, srclen, err, errlen);
		free(src);
		src = NULL;
		if (st != TD_OK)
			goto out;
	}
	if ((st = check_partials(set, err, errlen)) != TD_OK)
		goto out;
	*out = set;
	set = NULL;
	st = TD_OK;
out:
	if (d != NULL && closedir(d) == -1 && st == TD_OK) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		tmpl_set_free(*out);
		*out = NULL;
		st = TD_ESYSTEM;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	tmpl_set_free(set);
	return st;
}

/* ---- renderer ---- */

/* Indentation of nested standalone partials, outermost last. */
struct indent {
	const struct indent *up;
	const char *s;
	size_t n;
};

struct render {
	const struct tmpl_set *set;
	struct buf *out;
	const struct tv *stack[TMPL_MAX_DEPTH + 2];	/* root + 1 per level */
	size_t sp;
	const struct indent *ind;
	bool bol;		/* at the start of an output line */
	int depth;
	struct tv val;		/* a record field's value, as resolve() gives it */
	struct tv held[TMPL_MAX_DEPTH + 2];	/* what a level pushed that lives
						 * nowhere else: the current row
						 * of a TV_RECORDS, a copy of val */
	/* The last int written and its digits: a row writes its id ten
	 * times. num_n 0: none yet. */
	int64_t num_v;
	char num[24];
	size_t num_n;
};

/*
 * Static text appended 16 bytes a step when the buffer has room for it
 * and 16 bytes more: the last step may read past the text, into the
 * template's source after it or its TMPL_PAD, and write past it, into
 * the room; then len and the NUL are set. No call to memcpy for the
 * short pieces between a row's tags. (Also for a row's digits, from
 * struct render's 24-byte num when 16 or fewer.)
 */
static inline void
put_text(struct buf *b, const char *s, size_t n)
{
	char *d;
	size_t k;

	if (b->failed || n + TMPL_PAD >= b->cap - b->len) {
		buf_append(b, s, n);
		return;
	}
	d = b->data + b->len;
	for (k = 0; k < n; k += 16)
		memcpy(d + k, s + k, 16);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
put_indent(struct buf *out, const struct indent *ind)
{
	if (ind == NULL)
		return;
	put_indent(out, ind->up);
	buf_append(out, ind->s, ind->n);
}

/* Inside an indented partial each line starts with the indentation
 * (render_ops copies text itself outside one). */
static void
emit_text(struct render *r, const char *s, size_t n)
{
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(s, '\n', n);
		k = nl != NULL ? (size_t)(nl - s) + 1 : n;
		if (r->bol)
			put_indent(r->out, r->ind);
		buf_append(r->out, s, k);
		r->bol = nl != NULL;
		s += k;
		n -= k;
	}
}

static inline const struct tv_pair *
map_get(const struct tv *m, const struct seg *k)
{
	return map_find(m, k->s, k->n, k->sig);
}

/*
 * The spec's resolution: the first name part is looked up through the
 * context stack, innermost first; the rest only inside what it found.
 */
/* The index of the field named k in row rec, or -1. */
static long
record_find(const struct tv *rec, const struct seg *k)
{
	size_t j;

	for (j = 0; j < rec->u.rec.nf; j++) {
		const char *name = rec->u.rec.f[j].name;

		if (name[0] == k->s[0] && strncmp(name, k->s, k->n) == 0 &&
		    name[k->n] == '\0')
			return (long)j;
	}
	return -1;
}

/* Field j of row rec, in r->val (valid until the next resolve). */
static const struct tv *
field_value(struct render *r, const struct tv *rec, size_t j)
{
	const struct tv_field *f = &rec->u.rec.f[j];
	const char *p = rec->u.rec.base + f->offset;
	const char *str;
	int64_t i;
	bool b;

	switch (f->type) {
	case TVF_STR:
		memcpy(&str, p, sizeof(str));
		if (str == NULL) {
			r->val = (struct tv){ .type = TV_NULL };
		} else {
			r->val = (struct tv){ .type = TV_STR };
			r->val.u.str.s = str;
			r->val.u.str.n = strlen(str);
		}
		break;
	case TVF_TEXT: {
		struct tv_text tx;

		memcpy(&tx, p, sizeof(tx));
		r->val = (struct tv){ .type = tx.s != NULL ? TV_STR : TV_NULL };
		r->val.u.str.s = tx.s;
		r->val.u.str.n = tx.s != NULL ? tx.n : 0;
		break;
	}
	case TVF_INT:
		memcpy(&i, p, sizeof(i));
		r->val = (struct tv){ .type = TV_INT, .u.i = i };
		break;
	case TVF_BOOL:
		memcpy(&b, p, sizeof(b));
		r->val = (struct tv){ .type = TV_BOOL, .u.b = b };
		break;
	default:
		r->val = (struct tv){ .type = TV_NULL };
	}
	return &r->val;
}

/* Does level v of the context stack hold name k? A row's table that
 * lacks it is remembered in c, so the next row answers by a comparison. */
static bool
level_has(const struct tv *v, const struct seg *k, struct op_cache *c)
{
	if (v->type == TV_MAP)
		return map_get(v, k) != NULL;
	if (v->type != TV_RECORD)
		return false;
	if (v->u.rec.f == c->miss && v->u.rec.nf == c->missn)
		return false;
	if (record_find(v, k) >= 0)
		return true;
	c->miss = v->u.rec.f;
	c->missn = v->u.rec.nf;
	return false;
}

static const struct tv *
resolve_slow(struct render *r, const struct tmpl *t, const struct op *op,
    struct op_cache *c)
{
	const struct tv_pair *p = NULL;
	const struct seg *seg;
	const struct tv *v = NULL;
	size_t i;
	long j = -1;

	seg = &t->segs[op->seg];
	for (i = r->sp; i-- > 0;) {
		v = r->stack[i];
		if (v->type == TV_MAP && (p = map_get(v, &seg[0])) != NULL)
			break;
		if (v->type == TV_RECORD) {
			if (v->u.rec.f == c->miss && v->u.rec.nf == c->missn)
				continue;
			if ((j = record_find(v, &seg[0])) >= 0)
				break;
			c->miss = v->u.rec.f;
			c->missn = v->u.rec.nf;
		}
	}
	if (p == NULL && j < 0)
		return NULL;
	if (op->nseg == 1) {
		c->key = p != NULL ? p->key : NULL;
		c->ft = p != NULL ? NULL : v->u.rec.f;
		c->up = (uint32_t)(r->sp - 1 - i);
		c->j = (uint32_t)(p != NULL ? (size_t)(p - v->u.map.p) : (size_t)j);
	}
	v = p != NULL ? p->val : field_value(r, v, (size_t)j);
	for (i = 1; i < op->nseg; i++) {
		if (v->type != TV_MAP || (p = map_get(v, &seg[i])) == NULL)
			return NULL;
		v = p->val;
	}
	return v;
}

/*
 * The spec's resolution: the first name part is looked up through the
 * context stack, innermost first; the rest only inside what it found.
 * The cache answers when the level it names still holds the same key at
 * the same index and no level above it holds the name.
 */
static const struct tv *
resolve(struct render *r, const struct tmpl *t, const struct op *op)
{
	struct op_cache *c = &t->cache[op - t->ops];
	const struct tv_pair *p = NULL;
	const struct tv *m;
	size_t d, i;
	bool hit;

	/* Before indexing segs: a template whose only tags are {{.}} has
	 * none (segs is NULL). */
	if (op->nseg == 0)
		return r->sp > 0 ? r->stack[r->sp - 1] : NULL;
	if ((c->key != NULL || c->ft != NULL) && c->up < r->sp) {
		d = r->sp - 1 - c->up;
		m = r->stack[d];
		if (m->type == TV_MAP)
			hit = c->key != NULL && c->j < m->u.map.n &&
			    (p = &m->u.map.p[c->j])->key == c->key &&
			    p->klen == t->segs[op->seg].n;
		else
			hit = m->type == TV_RECORD && m->u.rec.f == c->ft &&
			    c->j < m->u.rec.nf;
		if (hit) {
			for (i = d + 1; i < r->sp; i++)
				if (level_has(r->stack[i], &t->segs[op->seg], c))
					break;
			if (i == r->sp)
				return p != NULL ? p->val : field_value(r, m, c->j);
		}
	}
	return resolve_slow(r, t, op, c);
}

static bool
truthy(const struct tv *v)
{
	if (v == NULL)
		return false;
	switch (v->type) {
	case TV_NULL:
		return false;
	case TV_BOOL:
		return v->u.b;
	case TV_LIST:
		return v->u.list.n > 0;
	case TV_RECORDS:
		return v->u.rec.n > 0;
	default:
		return true;
	}
}

/* Decimal digits of i ending at end; returns where they start.
 * snprintf costs far more per call than the few ints a page shows. */
static char *
fmt_int(char *end, int64_t i)
{
	uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
	char *p = end;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (i < 0)
		*--p = '-';
	return p;
}

static void
emit_str(struct render *r, const char *s, size_t n, bool escape)
{
	if (n == 0)
		return;
	if (r->bol && r->ind != NULL)
		put_indent(r->out, r->ind);
	r->bol = false;
	if (escape)
		buf_append_html(r->out, s, n);
	else
		buf_append(r->out, s, n);
}

static void
emit_value(struct render *r, const struct tv *v, bool escape)
{
	char num[24];		/* "-9223372036854775808" is 20 */
	const char *s;
	size_t n;

	if (v == NULL)
		return;
	switch (v->type) {
	case TV_STR:
		s = v->u.str.s;
		n = v->u.str.n;
		break;
	case TV_INT:
		s = fmt_int(num + sizeof(num), v->u.i);
		n = (size_t)(num + sizeof(num) - s);
		escape = false;		/* digits and '-' need none */
		break;
	case TV_BOOL:
		s = v->u.b ? "true" : "false";
		n = v->u.b ? 4 : 5;
		escape = false;
		break;
	default:
		return;
	}
	emit_str(r, s, n, escape);
}

/*
 * The field a tag names in the row at the top of the stack, when the
 * tag's cache says it found it there in a row of the same table: the
 * common case inside a section over tv_records(), a comparison and a
 * load instead of resolve(). Nothing is above the top, so nothing can
 * shadow it. NULL: ask resolve().
 */
static inline const struct tv_field *
top_field(const struct render *r, const struct op_cache *c, const char **base)
{
	const struct tv *m;

	if (c->ft == NULL || c->up != 0 || r->sp == 0)
		return NULL;
	m = r->stack[r->sp - 1];
	if (m->type != TV_RECORD || m->u.rec.f != c->ft || c->j >= m->u.rec.nf)
		return NULL;
	*base = m->u.rec.base;
	return &c->ft[c->j];
}

/* emit_value() of a field, read straight from its row. */
static void
emit_field(struct render *r, const struct tv_field *f, const char *base,
    bool escape)
{
	char num[24];
	const char *s;
	int64_t i;
	bool b;

	switch (f->type) {
	case TVF_STR:
		memcpy(&s, base + f->offset, sizeof(s));
		if (s != NULL)
			emit_str(r, s, strlen(s), escape);
		break;
	case TVF_TEXT: {
		struct tv_text tx;

		memcpy(&tx, base + f->offset, sizeof(tx));
		if (tx.s != NULL)
			emit_str(r, tx.s, tx.n, escape);
		break;
	}
	case TVF_INT:
		memcpy(&i, base + f->offset, sizeof(i));
		if (r->num_n == 0 || i != r->num_v) {
			s = fmt_int(num + sizeof(num), i);
			r->num_n = (size_t)(num + sizeof(num) - s);
			memcpy(r->num, s, r->num_n);
			r->num_v = i;
		}
		emit_str(r, r->num, r->num_n, false);
		break;
	case TVF_BOOL:
		memcpy(&b, base + f->offset, sizeof(b));
		emit_str(r, b ? "true" : "false", b ? 4 : 5, false);
		break;
	default:
		break;
	}
}

/* truthy() of a field: a NULL string is null, an int is truthy. */
static bool
field_truthy(const struct tv_field *f, const char *base)
{
	const char *s;
	bool b;

	switch (f->type) {
	case TVF_STR:
	case TVF_TEXT:		/* (s is a struct tv_text's first member) */
		memcpy(&s, base + f->offset, sizeof(s));
		return s != NULL;
	case TVF_INT:
		return true;
	case TVF_BOOL:
		memcpy(&b, base + f->offset, sizeof(b));
		return b;
	default:
		return false;
	}
}

static enum td_status render_ops(struct render *, const struct tmpl *,
    size_t, size_t);

/* The index of the field named like op in table ft, or -1. */
static long
table_find(const struct tmpl *t, const struct op *op,
    const struct tv_field *ft, size_t nf)
{
	const struct seg *k = &t->segs[op->seg];
	size_t j;

	if (op->nseg != 1)
		return -1;
	for (j = 0; j < nf; j++)
		if (strncmp(ft[j].name, k->s, k->n) == 0 && ft[j].name[k->n] == '\0')
			return (long)j;
	return -1;
}

/* Text waiting for the next op of its body (rp_bind). */
struct rp_pending {
	const char *s;
	size_t n;
	bool nl;
};

static const char rp_no_text[32];

static struct rp_op *
rp_add(struct row_prog *p, enum rp_kind kind, struct rp_pending *pre)
{
	struct rp_op *o;

	if (p->n == p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 32;

		if ((o = realloc(p->ops, ncap * sizeof(*o))) == NULL)
			return NULL;
		p->ops = o;
		p->cap = ncap;
	}
	o = &p->ops[p->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	/* put32 reads 32 bytes of it even when there is none */
	o->pre = pre->s != NULL ? pre->s : rp_no_text;
	o->pre_n = pre->n;
	o->pre_nl = pre->nl;
	*pre = (struct rp_pending){ NULL, 0, false };
	return o;
}

/* Bind ops [from, to) of t (a section's body) to p's table. A text
 * becomes the next op's pre; one left at the body's end an RP_TEXT (the
 * body's text is skipped with it, the text after it is not). */
static bool
rp_bind(struct row_prog *p, const struct tmpl *t, size_t from, size_t to)
{
	struct rp_pending pre = { NULL, 0, false };
	const struct op *op;
	struct rp_op *o;
	size_t k, at;
	long j;

	for (k = from; k < to; k++) {
		op = &t->ops[k];
		j = op->kind == OP_TEXT || op->kind == OP_PARTIAL ? -1 :
		    table_find(t, op, p->ft, p->nf);
		if (op->kind == OP_TEXT) {
			if (pre.n > 0 && rp_add(p, RP_TEXT, &pre) == NULL)
				return false;
			pre = (struct rp_pending){ op->str, op->len, op->nl_end };
		} else if ((op->kind == OP_VAR || op->kind == OP_RAW) && j >= 0) {
			const struct tv_field *f = &p->ft[j];

			o = rp_add(p, f->type == TVF_INT ? RP_INT :
			    f->type == TVF_BOOL ? RP_BOOL :
			    f->type == TVF_TEXT ? RP_STRN : RP_STR, &pre);
			if (o == NULL)
				return false;
			if (f->type != TVF_INT && f->type != TVF_BOOL &&
			    f->type != TVF_STR && f->type != TVF_TEXT)
				o->kind = RP_OPS;	/* an unknown type: as before */
			o->off = f->offset;
			o->escape = op->kind == OP_VAR;
			o->from = k;
			o->n = k + 1;
		} else if ((op->kind == OP_SECTION || op->kind == OP_INVERTED) &&
		    j >= 0 && (op->kind == OP_INVERTED || !op->uses_top)) {
			/* A field: a scalar, no names; the body goes on in
			 * place (render_ops does the same). */
			if ((o = rp_add(p, RP_UNLESS, &pre)) == NULL)
				return false;
			o->off = p->ft[j].offset;
			o->ftype = p->ft[j].type;
			o->want = op->kind == OP_SECTION;
			if (o->ftype == TVF_BOOL)	/* most: a flag */
				o->kind = RP_UNLESS_FLAG;
			at = p->n - 1;
			if (!rp_bind(p, t, k + 1, op->end))
				return false;
			p->ops[at].n = p->n;
			k = op->end - 1;
		} else {
			if ((o = rp_add(p, RP_OPS, &pre)) == NULL)
				return false;
			o->outer = op->kind != OP_TEXT && op->kind != OP_PARTIAL &&
			    op->nseg == 1 && j < 0;
			o->from = k;
			o->n = op->kind == OP_SECTION || op->kind == OP_INVERTED ?
			    op->end : k + 1;
			k = o->n - 1;
		}
	}
	return pre.n == 0 || rp_add(p, RP_TEXT, &pre) != NULL;
}

/* Section op i's program for rows of table ft (nf long), bound at its
 * first use and again when the table changes; NULL without memory. */
static const struct row_prog *
row_prog(const struct tmpl *t, size_t i, const struct tv_field *ft, size_t nf)
{
	struct op_cache *c = &t->cache[i];
	struct row_prog *p = c->prog;
	size_t q;

	if (p != NULL && p->ft == ft && p->nf == nf)
		return p;
	if (p == NULL && (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	c->prog = p;
	p->ft = ft;
	p->nf = nf;
	p->n = 0;
	if (!rp_bind(p, t, i + 1, t->ops[i].end)) {
		p->ft = NULL;		/* never matches: bound again next time */
		return NULL;
	}
	p->has_id = false;
	for (q = 0; q < p->n; q++) {
		if (p->ops[q].kind != RP_INT)
			continue;
		if (!p->has_id) {
			p->has_id = true;
			p->id_off = p->ops[q].off;
		}
		if (p->ops[q].off == p->id_off)
			p->ops[q].kind = RP_ID;
	}
	p->row_max = TMPL_PAD;
	for (q = 0; q < p->n; q++)
		p->row_max += p->ops[q].pre_n +
		    (p->ops[q].kind == RP_INT || p->ops[q].kind == RP_ID ? 24 :
		    p->ops[q].kind == RP_BOOL ? 5 : 0);
	return p;
}

/* Copy n bytes of text to d (room made by the caller: row_max's
 * TMPL_PAD over), the first 32 at once whatever n (a row's pieces of
 * text are short: most fit), reading up to 31 past the text, into the
 * template's source after it or its TMPL_PAD; the end. */
static inline char *
put32(char *d, const char *s, size_t n)
{
	size_t k;

	memcpy(d, s, 16);
	memcpy(d + 16, s + 16, 16);
	for (k = 32; k < n; k += 16)
		memcpy(d + k, s + k, 16);
	return d + n;
}

/* An int's digits ending at end (a 48-byte buffer's middle: 24 bytes
 * are copied from where they start); where they start. */
static inline const char *
rp_digits(char *end, const char *base, size_t off)
{
	int64_t iv;

	memcpy(&iv, base + off, sizeof(iv));
	return fmt_int(end, iv);
}

/* Run p once per row of v (a TV_RECORDS), with the row on the stack. The
 * row's pieces are written at d without checks (room for p->row_max is
 * made first); out->len is brought up to d before anything that appends
 * (ops) and d taken back after; a string makes its own room and room for
 * the rest of the row again. One pass over the ops by pointer; an error
 * leaves at once.
 * Whether the output is at the start of a line (r->bol, for partials
 * inside) is worked out only where asked: text leaves it at whether the
 * text ended with a newline, which its last byte says; a value leaves it
 * false; so it is mark_bol when nothing came after the last string or
 * call (d == mark), else d[-1] == '\n' (an int or a bool, never empty,
 * ends in a digit or a letter: no mark needed after one). */
static enum td_status
run_rows(struct render *r, const struct tmpl *t, const struct row_prog *p,
    const struct tv *v)
{
	struct tv *row = &r->held[r->sp];
	struct buf *out = r->out;
	/* (an empty body has no ops: NULL, and NULL + 0 is undefined) */
	const struct rp_op *o, *ops = p->ops, *end = p->n != 0 ? p->ops + p->n : p->ops;
	const struct tv *outer[RP_OUTER_MAX];
	enum td_status st = TD_OK;
	const char *base, *s, *digits, *id = NULL;
	struct tv_text tx;
	char *d, *mark;
	/* Digits end at num + 24 and are copied 24 bytes at once; id's
	 * in idnum, an RP_INT's in num. */
	char num[48], idnum[48];
	size_t k, q, n, idn = 0;
	bool b, bol = r->bol, mark_bol;

#define BOL() (d == mark ? mark_bol : d[-1] == '\n')
	*row = (struct tv){ .type = TV_RECORD };
	row->u.rec = v->u.rec;
	row->u.rec.n = 1;
	row->u.rec.base = v->u.rec.base;
	r->stack[r->sp++] = row;
	/* The page's values the rows use, looked up once for the run (not a
	 * record field's: resolve() keeps those in r->val, reused). */
	for (q = 0; q < p->n && q < RP_OUTER_MAX; q++) {
		outer[q] = &rp_ask;
		if (p->ops[q].outer) {
			outer[q] = resolve(r, t, &t->ops[p->ops[q].from]);
			if (outer[q] == &r->val)
				outer[q] = &rp_ask;
		}
	}
	for (k = 0; k < v->u.rec.n; k++) {
		base = v->u.rec.base + k * v->u.rec.size;
		row->u.rec.base = base;
		if (!buf_ensure(out, p->row_max))
			goto nomem;
		d = mark = out->data + out->len;
		mark_bol = bol;
		if (p->has_id) {
			id = rp_digits(idnum + 24, base, p->id_off);
			idn = (size_t)(idnum + 24 - id);
		}
		for (o = ops; o != end; o++) {
			/* (no text: nothing kept, d stays) */
			d = put32(d, o->pre, o->pre_n);
			if (o->kind == RP_ID) {
				memcpy(d, id, 24);
				d += idn;
				continue;
			}
			switch (o->kind) {
			case RP_ID:
			case RP_TEXT:
				break;
			case RP_UNLESS_FLAG:
				memcpy(&b, base + o->off, sizeof(b));
				if (b != o->want)
					o = ops + o->n - 1;
				break;
			case RP_INT:
				digits = rp_digits(num + 24, base, o->off);
				memcpy(d, digits, 24);
				d += num + 24 - digits;
				break;
			case RP_STR:
			case RP_STRN:
				if (o->kind == RP_STR) {
					memcpy(&s, base + o->off, sizeof(s));
					if (s == NULL || *s == '\0')
						break;
					n = strlen(s);
				} else {
					memcpy(&tx, base + o->off, sizeof(tx));
					if (tx.s == NULL || tx.n == 0)
						break;
					s = tx.s;
					n = tx.n;
				}
				out->len = (size_t)(d - out->data);
				/* Short text: escaped in place, with room for the
				 * worst case and the rest of the row made at once. */
				if (n <= 4096) {
					if (!buf_ensure(out, (o->escape ? 6 * n + 24 : n) +
					    p->row_max))
						goto nomem;
					d = out->data + out->len;
					if (o->escape) {
						char *e = buf_html_plain_short(d, s, n);

						d = e != NULL ? e : buf_html_into(d, s, n);
					} else {
						memcpy(d, s, n);
						d += n;
					}
				} else {
					if (o->escape)
						buf_append_html(out, s, n);
					else
						buf_append(out, s, n);
					if (!buf_ensure(out, p->row_max))
						goto nomem;
					d = out->data + out->len;
				}
				mark = d;
				mark_bol = false;
				break;
			case RP_BOOL:
				memcpy(&b, base + o->off, sizeof(b));
				memcpy(d, b ? "true" : "false", 5);
				d += b ? 4 : 5;
				break;
			case RP_UNLESS:
				if (o->ftype == TVF_BOOL) {
					memcpy(&b, base + o->off, sizeof(b));
				} else if (o->ftype == TVF_STR || o->ftype == TVF_TEXT) {
					/* (a struct tv_text starts with its s) */
					memcpy(&s, base + o->off, sizeof(s));
					b = s != NULL;
				} else {
					b = o->ftype == TVF_INT;  /* field_truthy() */
				}
				if (b != o->want)
					o = ops + o->n - 1;
				break;
			case RP_OPS:
				q = (size_t)(o - ops);
				if (o->outer && q < RP_OUTER_MAX && outer[q] != &rp_ask) {
					const struct op *op = &t->ops[o->from];

					if (op->kind == OP_VAR || op->kind == OP_RAW) {
						out->len = (size_t)(d - out->data);
						r->bol = BOL();
						emit_value(r, outer[q], op->kind == OP_VAR);
						if (!buf_ensure(out, p->row_max))
							goto nomem;
						d = mark = out->data + out->len;
						mark_bol = r->bol;
						break;
					}
					/* A section renders as the template says;
					 * whether it does is the run's answer. */
					if (truthy(outer[q]) != (op->kind == OP_SECTION))
						break;
				}
				out->len = (size_t)(d - out->data);
				out->data[out->len] = '\0';
				r->bol = BOL();
				if ((st = render_ops(r, t, o->from, o->n)) != TD_OK)
					goto done;
				if (!buf_ensure(out, p->row_max))
					goto nomem;
				d = mark = out->data + out->len;
				mark_bol = r->bol;
				break;
			default:
				RP_UNREACHABLE();	/* (no range check) */
			}
		}
		bol = BOL();
		out->len = (size_t)(d - out->data);
		out->data[out->len] = '\0';
		if (!buf_ok(out))
			goto nomem;
	}
	goto done;
nomem:
	st = TD_ENOMEM;
done:
#undef BOL
	r->bol = bol;
	r->sp--;
	return st;
}

static enum td_status
render_section(struct render *r, const struct tmpl *t, size_t i)
{
	const struct op *op = &t->ops[i];
	const struct tv_field *f;
	const struct tv *v;
	const char *base;
	enum td_status st = TD_OK;
	struct tv *row;
	size_t k;

	/* A row's flag (most are false): decided without resolve(). */
	if ((f = top_field(r, &t->cache[i], &base)) != NULL) {
		bool on = field_truthy(f, base);

		if (op->kind == OP_INVERTED)
			return on ? TD_OK : render_ops(r, t, i + 1, op->end);
		if (!on)
			return TD_OK;
	}
	v = resolve(r, t, op);
	if (op->kind == OP_INVERTED) {
		if (truthy(v))
			return TD_OK;
		return render_ops(r, t, i + 1, op->end);
	}
	if (!truthy(v))
		return TD_OK;
	if (v->type == TV_RECORDS) {
		const struct row_prog *p;

		/* Outside an indented partial (put_text does not indent). */
		if (r->ind == NULL &&
		    (p = row_prog(t, i, v->u.rec.f, v->u.rec.nf)) != NULL)
			return run_rows(r, t, p, v);
		row = &r->held[r->sp];
		*row = (struct tv){ .type = TV_RECORD };
		row->u.rec = v->u.rec;
		row->u.rec.n = 1;
		for (k = 0; k < v->u.rec.n && st == TD_OK; k++) {
			row->u.rec.base = v->u.rec.base + k * v->u.rec.size;
			r->stack[r->sp++] = row;
			st = render_ops(r, t, i + 1, op->end);
			r->sp--;
		}
		return st;
	}
	if (v->type != TV_LIST) {
		/* A field's value lives in r->val until the next lookup. */
		if (v == &r->val) {
			r->held[r->sp] = r->val;
			v = &r->held[r->sp];
		}
		r->stack[r->sp++] = v;
		st = render_ops(r, t, i + 1, op->end);
		r->sp--;
		return st;
	}
	for (k = 0; k < v->u.list.n && st == TD_OK; k++) {
		r->stack[r->sp++] = v->u.list.v[k];
		st = render_ops(r, t, i + 1, op->end);
		r->sp--;
	}
	return st;
}

static enum td_status
render_partial(struct render *r, const struct op *op)
{
	const struct indent *saved = r->ind;
	const struct tmpl *p;
	struct indent ind;
	enum td_status st = TD_OK;

	/* An inline partial sits mid-line: the line's indentation comes
	 * first and the partial's own lines are not indented. */
	if (!op->standalone && r->bol && r->ind != NULL) {
		put_indent(r->out, r->ind);
		r->bol = false;
	}
	/* A missing partial renders as nothing (the spec). */
	if ((p = find_tmpl(r->set, op->str, op->len)) != NULL) {
		if (op->standalone) {
			ind.up = r->ind;
			ind.s = op->ind;
			ind.n = op->indlen;
			r->ind = &ind;
		} else
			r->ind = NULL;
		st = render_ops(r, p, 0, p->nops);
		r->ind = saved;
	}
	/* A standalone tag took its whole line: what follows starts a new
	 * one. An inline one leaves us on the caller's line. */
	r->bol = op->standalone;
	return st;
}

static enum td_status
render_ops(struct render *r, const struct tmpl *t, size_t from, size_t to)
{
	enum td_status st = TD_OK;
	const struct tv_field *f;
	const struct op *op;
	const char *base;
	size_t i;

	/* A self-including partial must not exhaust the stack. */
	if (r->depth > TMPL_MAX_DEPTH)
		return TD_EINVAL;
	r->depth++;
	/* A failed buffer takes no more text; the sections and partials
	 * look at it, so a page past the arena's cap stops soon. */
	for (i = from; i < to && st == TD_OK; i++) {
		op = &t->ops[i];
		switch (op->kind) {
		case OP_TEXT:
			if (r->ind == NULL) {
				put_text(r->out, op->str, op->len);
				r->bol = op->nl_end;
			} else {
				emit_text(r, op->str, op->len);
			}
			break;
		case OP_VAR:
		case OP_RAW:
			if ((f = top_field(r, &t->cache[i], &base)) != NULL)
				emit_field(r, f, base, op->kind == OP_VAR);
			else
				emit_value(r, resolve(r, t, op),
				    op->kind == OP_VAR);
			break;
		case OP_SECTION:
		case OP_INVERTED:
			/* A section over a field of the row at the top: a
			 * scalar, holding no names. Skip a body not to render;
			 * else render it right here, in this loop, unless it
			 * reads {{.}} (then the value must be pushed). */
			if ((f = top_field(r, &t->cache[i], &base)) != NULL &&
			    (op->kind == OP_INVERTED || !op->uses_top)) {
				if (field_truthy(f, base) != (op->kind == OP_SECTION))
					i = op->end - 1;
				break;
			}
			st = render_section(r, t, i);
			i = op->end - 1;
			if (st == TD_OK && !buf_ok(r->out))
				st = TD_ENOMEM;
			break;
		case OP_PARTIAL:
			st = render_partial(r, op);
			if (st == TD_OK && !buf_ok(r->out))
				st = TD_ENOMEM;
			break;
		}
	}
	r->depth--;
	if (st == TD_OK && !buf_ok(r->out))
		st = TD_ENOMEM;
	return st;
}

enum td_status
tmpl_render(const struct tmpl_set *set, const char *name,
    const struct tv *ctx, struct buf *out)
{
	const struct tmpl *t;
	struct render r;
	enum td_status st;

	if (set == NULL || name == NULL || out == NULL)
		return TD_EINVAL;
	if ((t = find_tmpl(set, name, strlen(name))) == NULL)
		return TD_ENOTFOUND;
	memset(&r, 0, sizeof(r));
	r.set = set;
	r.out = out;
	r.bol = true;
	if (ctx != NULL)
		r.stack[r.sp++] = ctx;
	st = render_ops(&r, t, 0, t->nops);
	if (st == TD_EINVAL)
		log_error("template %s: sections and partials nested deeper "
		    "than %d", name, TMPL_MAX_DEPTH);
	return st;
}
