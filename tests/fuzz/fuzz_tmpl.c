/*
 * fuzz_tmpl.c - the template compiler and renderer (tmpl_add,
 * tmpl_render). Input: a template, NUL, a partial (named "p"), NUL, then
 * values separated by 0x01 bytes, put into one context (a, b: strings;
 * c: a bool; d: an int; e: a map of a and b; l: a list of the strings;
 * m: a list of maps; n: null; r: rows of a C struct (tv_records) with
 * fields a and b (strings; b NULL on every other row), c (a bool) and d
 * (an int), one a list item, rendered by a row program). Properties: a template that compiles
 * renders (or runs out of its arena, or nests too deep); when neither
 * template holds any of < > " ' & and no raw tag ({{{ or a delimiter
 * change), the output holds none of them either, whatever the values,
 * but for the '&' of the five entities escaping makes;
 * {{a}} of any value is the value HTML-escaped (no raw special left,
 * and unescaping the five entities gives the value back) and {{{a}}} is
 * the value as is; the same render on a tiny arena gives the same output
 * or TD_ENOMEM. Building and running: docs/fuzzing.md.
 */
#include <stddef.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "fuzz.h"
#include "log.h"
#include "tmpl.h"

#define ARENA_CAP	(4 * 1024 * 1024)
#define SMALL_CAP	4096
/* Six named values and up to three list items: sections nested n deep
 * over a list render 3^n times, and more items made the fuzzer spend its
 * time in long loops instead of new templates. */
#define MAX_VALUES	9

static const char specials[] = "<>\"'&";

static bool
has_special(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(specials, s[i]) != NULL && s[i] != '\0')
			return true;
	return false;
}

/* A special the escaping did not make: < > " ' or an '&' that does not
 * start one of the five entities. */
static bool
has_raw_special(const char *s, size_t n)
{
	static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;",
	    "&#39;" };
	size_t i, e;

	for (i = 0; i < n; i++) {
		if (s[i] != '&') {
			if (s[i] != '\0' && strchr("<>\"'", s[i]) != NULL)
				return true;
			continue;
		}
		for (e = 0; e < 5; e++)
			if (n - i >= strlen(ents[e]) &&
			    memcmp(s + i, ents[e], strlen(ents[e])) == 0)
				break;
		if (e == 5)
			return true;
	}
	return false;
}

/* Undo buf_append_html's five entities; false on any other '&'. */
static bool
unescape_equals(const char *s, size_t n, const char *want, size_t wn)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&#39;", '\'' },
	};
	size_t i = 0, k = 0, e;

	while (i < n) {
		char c = s[i];

		if (c == '&') {
			for (e = 0; e < 5; e++)
				if (n - i >= strlen(ents[e].ent) &&
				    memcmp(s + i, ents[e].ent, strlen(ents[e].ent)) == 0)
					break;
			if (e == 5)
				return false;
			c = ents[e].c;
			i += strlen(ents[e].ent);
		} else {
			i++;
		}
		if (k >= wn || want[k] != c)
			return false;
		k++;
	}
	return k == wn;
}

/* r's rows */
struct frow {
	int64_t d;
	const char *a, *b;
	bool c;
};

static const struct tv_field frow_fields[] = {
	{ "a", TVF_STR, offsetof(struct frow, a) },
	{ "b", TVF_STR, offsetof(struct frow, b) },
	{ "c", TVF_BOOL, offsetof(struct frow, c) },
	{ "d", TVF_INT, offsetof(struct frow, d) },
};

static struct tv *
context(struct arena *a, char **vals, size_t *lens, size_t nv)
{
	struct frow *rows = arena_alloc(a, MAX_VALUES * sizeof(*rows));
	struct tv *ctx = tv_map(a), *e = tv_map(a), *l = tv_list(a),
	    *m = tv_list(a), *item;
	size_t i;
	int64_t d = 0;

	if (ctx == NULL || e == NULL || l == NULL || m == NULL || rows == NULL)
		return NULL;
	for (i = 0; i < lens[3] && i < 8; i++)
		d = (int64_t)((uint64_t)d << 8 | (unsigned char)vals[3][i]);
	if (tv_set(ctx, "a", tv_strn(a, vals[0], lens[0])) != TD_OK ||
	    tv_set(ctx, "b", tv_strn(a, vals[1], lens[1])) != TD_OK ||
	    tv_set_bool(ctx, "c", lens[2] > 0) != TD_OK ||
	    tv_set_int(ctx, "d", d) != TD_OK ||
	    tv_set(e, "a", tv_strn(a, vals[4], lens[4])) != TD_OK ||
	    tv_set(e, "b", tv_strn(a, vals[5], lens[5])) != TD_OK ||
	    tv_set(ctx, "e", e) != TD_OK ||
	    tv_set(ctx, "l", l) != TD_OK || tv_set(ctx, "m", m) != TD_OK ||
	    tv_set(ctx, "n", tv_null(a)) != TD_OK)
		return NULL;
	for (i = 6; i < nv; i++) {
		if (tv_push(l, tv_strn(a, vals[i], lens[i])) != TD_OK ||
		    (item = tv_map(a)) == NULL ||
		    tv_set(item, "a", tv_strn(a, vals[i], lens[i])) != TD_OK ||
		    tv_set_bool(item, "c", lens[i] % 2 == 1) != TD_OK ||
		    tv_push(m, item) != TD_OK)
			return NULL;
		rows[i - 6] = (struct frow){ (int64_t)lens[i] * 7 - 9,
		    arena_strndup(a, vals[i], lens[i]),
		    i % 2 == 0 ? arena_strndup(a, vals[i], lens[i] / 2) : NULL,
		    lens[i] % 2 == 1 };
		if (rows[i - 6].a == NULL || (i % 2 == 0 && rows[i - 6].b == NULL))
			return NULL;
	}
	if (tv_set(ctx, "r", tv_records(a, rows, nv > 6 ? nv - 6 : 0, sizeof(*rows),
	    frow_fields, sizeof(frow_fields) / sizeof(frow_fields[0]))) != TD_OK)
		return NULL;
	return ctx;
}

/* The two fixed templates: {{a}} escaped, {{{a}}} raw. */
static void
check_value(struct arena *a, const struct tmpl_set *fixed,
    const struct tv *ctx, const char *v, size_t n)
{
	struct buf b;

	buf_init(&b, a);
	if (tmpl_render(fixed, "esc", ctx, &b) == TD_ENOMEM)
		return;
	CHECK(buf_ok(&b));
	CHECK(!has_raw_special(b.data, b.len));
	CHECK(unescape_equals(b.data, b.len, v, n));
	buf_init(&b, a);
	if (tmpl_render(fixed, "raw", ctx, &b) == TD_ENOMEM)
		return;
	CHECK(b.len == n && memcmp(b.data, v, n) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a, *small;
	static struct tmpl_set *fixed;
	const char *s = (const char *)data, *end = s + size, *t, *p, *v;
	char err[256], *copy, *vals[MAX_VALUES];
	size_t tn, pn, lens[MAX_VALUES], nv = 0;
	struct tmpl_set *set;
	struct tv *ctx;
	struct buf b, bs;
	enum td_status rc, rcs;
	bool plain;

	if (a == NULL) {
		/* Quiet: "nested deeper than 32" would be logged per input. */
		log_set_level((enum log_level)(LOG_ERROR + 1));
		if ((a = arena_new(ARENA_CAP)) == NULL ||
		    (small = arena_new(SMALL_CAP)) == NULL ||
		    (fixed = tmpl_set_new()) == NULL ||
		    tmpl_add(fixed, "esc", "{{a}}", 5, err, sizeof(err)) != TD_OK ||
		    tmpl_add(fixed, "raw", "{{{a}}}", 7, err, sizeof(err)) != TD_OK)
			abort();
	}
	/* template NUL partial NUL values */
	t = s;
	tn = (v = memchr(t, '\0', size)) != NULL ? (size_t)(v - t) : size;
	p = t + tn + (t + tn < end);
	pn = (v = memchr(p, '\0', (size_t)(end - p))) != NULL ?
	    (size_t)(v - p) : (size_t)(end - p);
	v = p + pn + (p + pn < end);
	/* Values, copied (tv_strn keeps no copy: they must outlive the
	 * render); at least six, empty when the input has fewer. */
	if ((copy = malloc((size_t)(end - v) + 1)) == NULL)
		abort();
	memcpy(copy, v, (size_t)(end - v));
	copy[end - v] = '\0';
	{
		char *q = copy, *qe = copy + (end - v), *x;

		while (nv < MAX_VALUES) {
			x = memchr(q, '\x01', (size_t)(qe - q));
			vals[nv] = q;
			lens[nv] = x != NULL ? (size_t)(x - q) : (size_t)(qe - q);
			nv++;
			if (x == NULL)
				break;
			q = x + 1;
		}
		while (nv < 6) {
			vals[nv] = qe;
			lens[nv++] = 0;
		}
	}
	if ((ctx = context(a, vals, lens, nv)) == NULL)
		abort();
	check_value(a, fixed, ctx, vals[0], lens[0]);

	if ((set = tmpl_set_new()) == NULL)
		abort();
	memset(err, 'x', sizeof(err));
	rc = tmpl_add(set, "t", t, tn, err, sizeof(err));
	if (rc != TD_OK) {
		CHECK(rc == TD_EINVAL || rc == TD_ETOOBIG || rc == TD_ENOMEM);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		goto out;
	}
	if (tmpl_add(set, "p", p, pn, err, sizeof(err)) != TD_OK)
		CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');

	buf_init(&b, a);
	rc = tmpl_render(set, "t", ctx, &b);
	CHECK(rc == TD_OK || rc == TD_ENOMEM || rc == TD_EINVAL);
	if (rc == TD_OK) {
		CHECK(buf_ok(&b));
		CHECK(b.data == NULL ? b.len == 0 : strlen(b.data) <= b.len);
		plain = !has_special(t, tn) && !has_special(p, pn) &&
		    memmem(t, tn, "{{{", 3) == NULL && memmem(p, pn, "{{{", 3) == NULL &&
		    memchr(t, '=', tn) == NULL && memchr(p, '=', pn) == NULL;
		if (plain && has_raw_special(b.data, b.len))
			fprintf(stderr, "template [%.*s] partial [%.*s] output [%.*s]\n",
			    (int)tn, t, (int)pn, p, (int)b.len, b.data);
		if (plain)
			CHECK(!has_raw_special(b.data, b.len));
	}
	/* Again on a tiny arena: the same, or out of memory. */
	buf_init(&bs, small);
	rcs = tmpl_render(set, "t", ctx, &bs);
	if (rcs != TD_ENOMEM && rc != TD_ENOMEM) {
		CHECK(rcs == rc);
		if (rc == TD_OK)
			CHECK(bs.len == b.len && (b.len == 0 ||
			    memcmp(bs.data, b.data, b.len) == 0));
	}
out:
	tmpl_set_free(set);
	arena_reset(small);
	arena_reset(a);
	free(copy);
	return 0;
}
