/* test_tmpl.c - Mustache compiler and renderer, spec-style cases. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "response.h"
#include "status.h"
#include "tmpl.h"

struct fx {
	struct arena *a;
	struct tmpl_set *set;
	int n;			/* for unique template names */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->a = arena_new(0);
	f->set = tmpl_set_new();
	if (f->a == NULL || f->set == NULL)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tmpl_set_free(f->set);
	arena_free(f->a);
	free(f);
	return 0;
}

static void
add(struct fx *f, const char *name, const char *src)
{
	char err[256] = "";

	if (tmpl_add(f->set, name, src, strlen(src), err, sizeof(err)) != TD_OK)
		fail_msg("tmpl_add %s: %s", name, err);
}

/* Compile src as a fresh template, render it with ctx, compare. */
static void
check(struct fx *f, const char *src, const struct tv *ctx, const char *want)
{
	char name[32];
	struct buf b;
	enum td_status st;

	snprintf(name, sizeof(name), "t%d", f->n++);
	add(f, name, src);
	buf_init(&b, f->a);
	st = tmpl_render(f->set, name, ctx, &b);
	assert_int_equal(st, TD_OK);
	assert_true(buf_ok(&b));
	assert_string_equal(b.len ? b.data : "", want);
	assert_int_equal(b.len, strlen(want));
}

/* Compile must fail with exactly this message. */
static void
check_err(struct fx *f, const char *src, const char *want)
{
	char err[256] = "";
	enum td_status st;

	st = tmpl_add(f->set, "bad", src, strlen(src), err, sizeof(err));
	assert_int_equal(st, TD_EINVAL);
	assert_string_equal(err, want);
}

static struct tv *
m1(struct fx *f, const char *k, const char *v)
{
	struct tv *m = tv_map(f->a);

	assert_int_equal(tv_set_str(m, k, v), TD_OK);
	return m;
}

static struct tv *
mb(struct fx *f, const char *k, bool v)
{
	struct tv *m = tv_map(f->a);

	assert_int_equal(tv_set_bool(m, k, v), TD_OK);
	return m;
}

/* ---- rows read from C structs (tv_records) ---- */

struct trow {
	int64_t id;
	const char *name;
	const char *note;
	bool done;
};

static const struct tv_field trow_fields[] = {
	{ "id", TVF_INT, offsetof(struct trow, id) },
	{ "name", TVF_STR, offsetof(struct trow, name) },
	{ "note", TVF_STR, offsetof(struct trow, note) },
	{ "done", TVF_BOOL, offsetof(struct trow, done) },
};

static struct tv *
trows(struct fx *f, const struct trow *rows, size_t n)
{
	return tv_records(f->a, rows, n, sizeof(*rows), trow_fields,
	    sizeof(trow_fields) / sizeof(trow_fields[0]));
}

static void
test_records(void **state)
{
	struct fx *f = *state;
	static const struct trow rows[] = {
		{ 7, "a<b", NULL, true },
		{ -12, "c", "n&m", false },
	};
	struct tv *ctx = tv_map(f->a);

	assert_int_equal(tv_set(ctx, "rows", trows(f, rows, 2)), TD_OK);
	assert_int_equal(tv_set_str(ctx, "page", "P"), TD_OK);
	assert_int_equal(tv_set_str(ctx, "name", "outer"), TD_OK);
	/* Fields by type, escaped; a NULL string is null (falsy, inverted);
	 * a bool renders true/false; a name the row lacks comes from the
	 * page; the row's own name shadows the page's. */
	check(f, "{{#rows}}[{{id}} {{name}} {{done}} {{page}}"
	    "{{#note}} ({{note}}){{/note}}{{^note}} -{{/note}}"
	    "{{#done}} d{{/done}}]{{/rows}} {{name}}", ctx,
	    "[7 a&lt;b true P - d][-12 c false P (n&amp;m)] outer");
	/* A string field as a section's context: {{.}} is the field, and
	 * the row's other fields still resolve inside it. */
	check(f, "{{#rows}}{{#name}}<{{.}}:{{id}}>{{/name}}{{/rows}}", ctx,
	    "<a&lt;b:7><c:-12>");
	/* Dotted names into a field find nothing; {{.}} of a row is empty. */
	check(f, "{{#rows}}[{{name.x}}{{.}}]{{/rows}}", ctx, "[][]");
	/* No rows: falsy. */
	assert_int_equal(tv_set(ctx, "rows", trows(f, rows, 0)), TD_OK);
	check(f, "{{#rows}}x{{/rows}}{{^rows}}none{{/rows}}", ctx, "none");
	assert_null(tv_records(f->a, NULL, 1, sizeof(struct trow), trow_fields, 4));
}

/* Another kind of row: the same names at other places, one more. */
struct trow2 {
	const char *name;
	bool done;
	int64_t id;
	const char *extra;
};

static const struct tv_field trow2_fields[] = {
	{ "name", TVF_STR, offsetof(struct trow2, name) },
	{ "done", TVF_BOOL, offsetof(struct trow2, done) },
	{ "id", TVF_INT, offsetof(struct trow2, id) },
	{ "extra", TVF_STR, offsetof(struct trow2, extra) },
};

static struct tv *
trows2(struct fx *f, const struct trow2 *rows, size_t n)
{
	return tv_records(f->a, rows, n, sizeof(*rows), trow2_fields,
	    sizeof(trow2_fields) / sizeof(trow2_fields[0]));
}

static void
render_to(struct fx *f, const char *name, const struct tv *ctx,
    const char *want)
{
	struct buf b;

	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(f->set, name, ctx, &b), TD_OK);
	assert_string_equal(b.len ? b.data : "", want);
}

/* A tag binds to a field's index in the row's table; the same template
 * over rows of another table (the names elsewhere), over maps, then the
 * first table again must each read the right field. */
static void
test_records_two_tables(void **state)
{
	struct fx *f = *state;
	static const struct trow r1[] = { { 1, "a", "n1", true }, { 2, "b", NULL, false } };
	static const struct trow2 r2[] = { { "x", false, 9, "e" }, { "y", true, 8, NULL } };
	struct tv *ctx, *list, *m;
	int pass;

	add(f, "two", "{{#rows}}{{id}}{{name}}{{#done}}+{{/done}}{{^done}}-{{/done}}"
	    "{{extra}}{{note}},{{/rows}}");
	for (pass = 0; pass < 2; pass++) {
		ctx = tv_map(f->a);
		tv_set_str(ctx, "extra", "P");
		tv_set_str(ctx, "note", "Q");
		tv_set(ctx, "rows", trows(f, r1, 2));
		render_to(f, "two", ctx, "1a+Pn1,2b-P,");
		tv_set(ctx, "rows", trows2(f, r2, 2));
		render_to(f, "two", ctx, "9x-eQ,8y+Q,");
		list = tv_list(f->a);
		m = tv_map(f->a);
		tv_set_int(m, "id", 5);
		tv_set_str(m, "extra", "m");
		tv_push(list, m);
		tv_set(ctx, "rows", list);
		render_to(f, "two", ctx, "5-mQ,");
	}
}

/* A name the row's table lacks comes from the page: remembered per table
 * and per table length, so the same table with more fields is asked
 * again, and a page without the name renders nothing. */
static void
test_records_missing_field(void **state)
{
	struct fx *f = *state;
	static const struct trow rows[] = { { 1, "a", "own", false } };
	struct tv *ctx;
	int pass;

	add(f, "miss", "{{#rows}}[{{note}}|{{gone}}|{{#note}}y{{/note}}]{{/rows}}");
	for (pass = 0; pass < 2; pass++) {
		ctx = tv_map(f->a);
		tv_set_str(ctx, "note", "page");
		/* Only id and name: note is not a field of these rows. */
		tv_set(ctx, "rows", tv_records(f->a, rows, 1, sizeof(rows[0]),
		    trow_fields, 2));
		render_to(f, "miss", ctx, "[page||y]");
		tv_set(ctx, "rows", trows(f, rows, 1));
		render_to(f, "miss", ctx, "[own||y]");
		ctx = tv_map(f->a);
		tv_set(ctx, "rows", tv_records(f->a, rows, 1, sizeof(rows[0]),
		    trow_fields, 2));
		render_to(f, "miss", ctx, "[||]");
	}
}

/* Sections inside a row: a flag's section, rows inside rows (the inner
 * row's names shadow the outer's, a NULL field too; the outer's others
 * still resolve), and a field used as a section's context. */
static void
test_records_nested(void **state)
{
	struct fx *f = *state;
	static const struct trow outer[] = { { 1, "o1", NULL, true }, { 2, "o2", "n", false } };
	static const struct trow2 inner[] = { { "i1", true, 7, NULL }, { "i2", false, 8, "e" } };
	struct tv *ctx = tv_map(f->a);
	int pass;

	tv_set(ctx, "outer", trows(f, outer, 2));
	tv_set(ctx, "inner", trows2(f, inner, 2));
	tv_set_str(ctx, "extra", "P");
	add(f, "nest", "{{#outer}}{{id}}({{#inner}}{{id}}{{name}}{{note}}{{extra}}"
	    "{{#done}}!{{/done}};{{/inner}}){{#done}}<{{name}}{{id}}>{{/done}}"
	    "{{^done}}{{#note}}[{{.}}{{name}}]{{/note}}{{/done}}|{{/outer}}");
	for (pass = 0; pass < 2; pass++)
		render_to(f, "nest", ctx, "1(7i1!;8i2e;)<o11>|"
		    "2(7i1n!;8i2ne;)[no2]|");
	/* A row's field sections render their body in place (a scalar holds
	 * no names) unless the body reads {{.}}, directly, nested, or in a
	 * partial; the three rows take each path more than once. */
	add(f, "dot", "<{{.}}>");
	add(f, "fields", "{{#outer}}{{#name}}{{#done}}{{.}}{{/done}}{{/name}}"
	    "{{#note}}{{> dot}}{{/note}}{{#done}}{{name}}{{/done}}"
	    "{{^done}}{{^note}}-{{/note}}{{/done}}{{#id}}{{id}}{{/id}}|{{/outer}}");
	for (pass = 0; pass < 3; pass++) {
		tv_set(ctx, "outer", trows(f, outer, 2));
		render_to(f, "fields", ctx, "trueo11|<n>2|");
	}
}

/* Static text is copied 16 bytes a step when the buffer has room to
 * spare, else appended as usual: pieces of every length from 1 to 40,
 * into a growing buffer and into one reserved to the exact size (the
 * last pieces take the plain path). A row's ints are remembered as
 * digits: the same value again, then others. */
static void
test_text_pieces_and_ints(void **state)
{
	struct fx *f = *state;
	static const struct trow rows[] = { { 5, "", NULL, false }, { 5, "", NULL, false },
	    { 50, "", NULL, false }, { -5, "", NULL, false }, { 0, "", NULL, false },
	    { 0, "", NULL, false }, { INT64_MIN, "", NULL, false } };
	char src[2048], want[2048];
	size_t n, k, sl = 0, wl = 0;
	struct tv *ctx = tv_map(f->a);
	struct buf b;
	int pass;

	tv_set_str(ctx, "x", "|");
	for (n = 1; n <= 40; n++) {
		for (k = 0; k < n; k++)
			src[sl++] = want[wl++] = (char)('a' + (n + k) % 26);
		memcpy(src + sl, "{{x}}", 5);
		sl += 5;
		want[wl++] = '|';
	}
	src[sl] = want[wl] = '\0';
	add(f, "pieces", src);
	for (pass = 0; pass < 2; pass++) {
		buf_init(&b, f->a);
		if (pass == 1)
			assert_true(buf_reserve(&b, wl));
		assert_int_equal(tmpl_render(f->set, "pieces", ctx, &b), TD_OK);
		assert_int_equal(b.len, wl);
		assert_string_equal(b.data, want);
	}
	tv_set(ctx, "rows", trows(f, rows, sizeof(rows) / sizeof(rows[0])));
	check(f, "{{#rows}}{{id}}/{{id}};{{/rows}}", ctx,
	    "5/5;5/5;50/50;-5/-5;0/0;0/0;"
	    "-9223372036854775808/-9223372036854775808;");
}

/* A section over rows runs a program bound to the rows' table; in an
 * indented partial it renders op by op (each line indented), and a
 * standalone partial inside a row is indented after the row's text
 * ended a line. */
static void
test_records_and_partials(void **state)
{
	struct fx *f = *state;
	static const struct trow rows[] = { { 1, "a", NULL, false }, { 2, "b", "n", true } };
	struct tv *ctx = tv_map(f->a);
	int pass;

	tv_set(ctx, "rows", trows(f, rows, 2));
	add(f, "rowsp", "{{#rows}}\n{{name}}{{#done}}!{{/done}}\n{{/rows}}\n");
	add(f, "line", "{{name}}\n{{id}}\n");
	add(f, "outer_p", "<\n  {{> rowsp}}\n>");
	add(f, "inrow", "{{#rows}}<{{id}}>\n  {{> line}}\n{{/rows}}");
	for (pass = 0; pass < 2; pass++) {
		render_to(f, "outer_p", ctx, "<\n  a\n  b!\n>");
		render_to(f, "rowsp", ctx, "a\nb!\n");
		render_to(f, "inrow", ctx, "<1>\n  a\n  1\n<2>\n  b\n  2\n");
	}
}

/* Inside rows, the page's values (names the rows' table lacks) are
 * looked up once for all the rows: a string escaped or raw, sections
 * over a flag, a map and a list (their bodies still see the row), and
 * a name found nowhere (falsy, renders nothing). */
static void
test_records_page_values(void **state)
{
	struct fx *f = *state;
	static const struct trow rows[] = { { 1, "a", NULL, false }, { 2, "b", NULL, true } };
	struct tv *ctx = tv_map(f->a), *m = tv_map(f->a), *lst = tv_list(f->a);
	int pass;

	tv_set(ctx, "rows", trows(f, rows, 2));
	tv_set_bool(ctx, "flag", true);
	tv_set_bool(ctx, "off", false);
	tv_set_str(ctx, "s", "S<");
	tv_set_str(m, "x", "X");
	tv_set(ctx, "m", m);
	tv_push(lst, m1(f, "x", "1"));
	tv_push(lst, m1(f, "x", "2"));
	tv_set(ctx, "lst", lst);
	add(f, "pagev", "{{#rows}}{{s}}{{{s}}}{{#flag}}F{{name}}{{/flag}}{{^off}}O{{/off}}"
	    "{{#off}}no{{/off}}{{^flag}}no{{/flag}}{{#m}}{{x}}{{id}}{{/m}}{{#lst}}{{x}}{{/lst}}"
	    "{{#nowhere}}N{{/nowhere}}{{^nowhere}}W{{/nowhere}}{{nowhere}};{{/rows}}");
	for (pass = 0; pass < 2; pass++)
		render_to(f, "pagev", ctx, "S&lt;S<FaOX112W;S&lt;S<FbOX212W;");
}

/* A row's program makes room for its text once and writes the pieces
 * between strings unchecked: a long string (escaped 5 bytes for one)
 * grows the buffer mid-row, and the text after it must land after it;
 * a flag section's body ending in text is skipped with it, the text
 * after the section is not; rows into a fresh buffer, one reserved to
 * the exact size and one reserved small. */
static void
test_records_row_room(void **state)
{
	struct fx *f = *state;
	static char big[3001];
	static struct trow rows[] = { { 1, "a", NULL, false }, { 22, NULL, "n", true },
	    { 333, "c", NULL, false } };
	static char want[32768];
	size_t wl = 0, k, i;
	struct tv *ctx = tv_map(f->a);
	struct buf b;
	int pass;

	memset(big, '&', sizeof(big) - 1);
	rows[1].name = big;
	tv_set(ctx, "rows", trows(f, rows, 3));
	add(f, "room", "<ul>{{#rows}}<li id=\"r-{{id}}\">{{name}}</li>{{#done}} done"
	    "{{/done}} after-{{id}} {{done}}{{#note}}<p>{{note}}</p>{{/note}}\n{{/rows}}</ul>");
	wl += (size_t)sprintf(want + wl, "<ul>");
	for (k = 0; k < 3; k++) {
		wl += (size_t)sprintf(want + wl, "<li id=\"r-%d\">", (int)rows[k].id);
		if (k == 1)
			for (i = 0; i < sizeof(big) - 1; i++)
				wl += (size_t)sprintf(want + wl, "&amp;");
		else
			wl += (size_t)sprintf(want + wl, "%s", rows[k].name);
		wl += (size_t)sprintf(want + wl, "</li>%s after-%d %s%s\n",
		    rows[k].done ? " done" : "", (int)rows[k].id,
		    rows[k].done ? "true" : "false", rows[k].note ? "<p>n</p>" : "");
	}
	wl += (size_t)sprintf(want + wl, "</ul>");
	for (pass = 0; pass < 3; pass++) {
		buf_init(&b, f->a);
		if (pass == 1)
			assert_true(buf_reserve(&b, wl));
		if (pass == 2)
			assert_true(buf_reserve(&b, 40));
		assert_int_equal(tmpl_render(f->set, "room", ctx, &b), TD_OK);
		assert_int_equal(b.len, wl);
		assert_string_equal(b.data, want);
	}
}

/* Rows with TVF_TEXT strings (their length given: no NUL needed at
 * the end), two int fields (the first one the program's "id"), a
 * string and a flag render byte for byte as the same rows given as a
 * list of maps (the generic renderer), for templates that put values
 * at the start and end of lines, partials standalone and inline, inside
 * and around the rows (the start of a line decides indentation), text
 * before and after, flags on every field. */
struct trow3 {
	int64_t id;
	struct tv_text title;
	int64_t n;
	const char *note;
	bool done;
	struct tv_text desc;
};

static const struct tv_field trow3_fields[] = {
	{ "id", TVF_INT, offsetof(struct trow3, id) },
	{ "title", TVF_TEXT, offsetof(struct trow3, title) },
	{ "n", TVF_INT, offsetof(struct trow3, n) },
	{ "note", TVF_STR, offsetof(struct trow3, note) },
	{ "done", TVF_BOOL, offsetof(struct trow3, done) },
	{ "desc", TVF_TEXT, offsetof(struct trow3, desc) },
};

static void
test_records_like_maps(void **state)
{
	struct fx *f = *state;
	/* "a<b\"&'c" with a byte after it the length leaves out. */
	static const char t0[] = "a<b\"&'cX", t2[] = "line\n", d1[] = "two\nlines\nY";
	static const struct trow3 rows[] = {
		{ 7, { t0, 7 }, 7, NULL, true, { NULL, 0 } },
		{ 123456789012, { "", 0 }, -5, "n&m\n", false, { d1, 9 } },
		{ -1, { t2, 5 }, 0, "", true, { "", 0 } },
		{ 7, { "\n", 1 }, 8, "x", false, { "d", 1 } },
	};
	static const char *const srcs[] = {
		"{{#rows}}<{{id}}|{{title}}|{{{title}}}|{{n}}|{{id}}{{note}}{{done}}>{{/rows}}",
		"{{#rows}}\n{{title}}\n  {{> rp}}\n{{#done}}\n  {{> rp}}\n{{/done}}{{desc}}{{/rows}}end",
		("{{#rows}}{{#title}}[{{.}}]{{/title}}{{^desc}}-{{/desc}}{{#desc}}({{desc}}){{/desc}}"
		    "{{^note}}!{{/note}}{{#note}}{{note}}{{/note}}{{^done}}~{{/done}}\n{{/rows}}"),
		"x\n  {{> rows_p}}\ny",
		"{{#rows}}{{title}}{{> rp}}{{desc}}\n{{page}}{{> rp}}\n{{/rows}}",
		"{{#rows}}{{desc}}\n  {{> rp}}\n{{id}}{{title}}\n  {{> rp}}\n{{/rows}}",
		"{{#rows}}{{#page}}{{id}}{{title}}\n  {{> rp}}\n{{/page}}{{n}}{{/rows}}",
		"a{{#rows}}{{/rows}}b",		/* a body of no ops */
	};
	struct tv *rec = tv_map(f->a), *maps = tv_map(f->a), *lst = tv_list(f->a), *m;
	char name[32];
	struct buf a, b;
	size_t i, k;

	add(f, "rp", "<{{id}}:{{title}}>\n{{#desc}}d:{{desc}}\n{{/desc}}");
	add(f, "rows_p", "{{#rows}}{{title}}\n{{n}}{{desc}}\n{{/rows}}");
	assert_int_equal(tv_set(rec, "rows", tv_records(f->a, rows, 4, sizeof(rows[0]),
	    trow3_fields, sizeof(trow3_fields) / sizeof(trow3_fields[0]))), TD_OK);
	for (k = 0; k < 4; k++) {
		m = tv_map(f->a);
		tv_set_int(m, "id", rows[k].id);
		tv_set(m, "title", tv_strn(f->a, rows[k].title.s, rows[k].title.n));
		tv_set_int(m, "n", rows[k].n);
		tv_set(m, "note", rows[k].note != NULL ? tv_str(f->a, rows[k].note) : tv_null(f->a));
		tv_set_bool(m, "done", rows[k].done);
		tv_set(m, "desc", rows[k].desc.s != NULL ?
		    tv_strn(f->a, rows[k].desc.s, rows[k].desc.n) : tv_null(f->a));
		tv_push(lst, m);
	}
	assert_int_equal(tv_set(maps, "rows", lst), TD_OK);
	tv_set_str(rec, "page", "P");
	tv_set_str(maps, "page", "P");
	for (i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		snprintf(name, sizeof(name), "lm%zu", i);
		add(f, name, srcs[i]);
		buf_init(&a, f->a);
		buf_init(&b, f->a);
		assert_int_equal(tmpl_render(f->set, name, rec, &a), TD_OK);
		assert_int_equal(tmpl_render(f->set, name, maps, &b), TD_OK);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
	}
	/* And what the first one says, spelled out. */
	buf_init(&a, f->a);
	assert_int_equal(tmpl_render(f->set, "lm0", rec, &a), TD_OK);
	assert_string_equal(a.data, "<7|a&lt;b&quot;&amp;&#39;c|a<b\"&'c|7|7true>"
	    "<123456789012|||-5|123456789012n&amp;m\nfalse><-1|line\n|line\n|0|-1true>"
	    "<7|\n|\n|8|7xfalse>");
}

/* Each tag remembers where its name was found; the next render must not
 * trust that when the maps differ. */
static void
test_lookup_cache(void **state)
{
	struct fx *f = *state;
	const char *src = "{{#items}}{{x}}{{y}},{{/items}}";
	struct tv *ctx, *items, *it;
	char key[2][8];
	struct buf b;
	int pass, k;

	add(f, "cached", src);
	for (pass = 0; pass < 4; pass++) {
		ctx = tv_map(f->a);
		items = tv_list(f->a);
		tv_set_str(ctx, "y", "Y");
		for (k = 0; k < 3; k++) {
			it = tv_map(f->a);
			/* Pass 1 and 3: keys in another order; pass 2: the row
			 * also has y (it shadows the page's); pass 3: the key is
			 * another pointer to the same text. */
			if (pass == 1 || pass == 3)
				tv_set_str(it, "z", "-");
			if (pass == 3) {
				strcpy(key[0], "x");
				tv_set_str(it, key[0], k == 1 ? "B" : "A");
			} else {
				tv_set_str(it, "x", k == 1 ? "B" : "A");
			}
			if (pass == 2 && k == 1)
				tv_set_str(it, "y", "row");
			tv_push(items, it);
		}
		tv_set(ctx, "items", items);
		buf_init(&b, f->a);
		assert_int_equal(tmpl_render(f->set, "cached", ctx, &b), TD_OK);
		assert_string_equal(b.data, pass == 2 ? "AY,Brow,AY," : "AY,BY,AY,");
	}
	(void)key[1];
}

/* Maps past their first index sizes, and a key set again replaces. */
static void
test_big_map(void **state)
{
	struct fx *f = *state;
	static char keys[600][8];
	struct tv *m = tv_map(f->a);
	struct buf b;
	int i;

	for (i = 0; i < 600; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(tv_set_int(m, keys[i], i), TD_OK);
	}
	assert_int_equal(tv_set_int(m, "k17", -1), TD_OK);
	add(f, "big", "{{k0}} {{k17}} {{k255}} {{k256}} {{k599}} {{k600}}.");
	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(f->set, "big", m, &b), TD_OK);
	assert_string_equal(b.data, "0 -1 255 256 599 .");
}

/* ---- interpolation ---- */

static void
test_interpolation(void **state)
{
	struct fx *f = *state;
	struct tv *m;

	check(f, "Hello from {Mustache}!\n", NULL, "Hello from {Mustache}!\n");
	check(f, "Hello, {{subject}}!\n", m1(f, "subject", "world"),
	    "Hello, world!\n");
	check(f, "I ({{cannot}}) be seen!", tv_map(f->a), "I () be seen!");
	check(f, "|{{ string }}|{{{ string }}}|{{& string }}|",
	    m1(f, "string", "---"), "|---|---|---|");
	/* Interpolation tags are never standalone. */
	check(f, "  {{string}}\n", m1(f, "string", "---"), "  ---\n");
	check(f, "\t{{{string}}}\n", m1(f, "string", "---"), "\t---\n");

	m = tv_map(f->a);
	assert_int_equal(tv_set_int(m, "mph", 85), TD_OK);
	assert_int_equal(tv_set_int(m, "neg", INT64_MIN), TD_OK);
	assert_int_equal(tv_set_int(m, "zero", 0), TD_OK);
	assert_int_equal(tv_set_bool(m, "yes", true), TD_OK);
	assert_int_equal(tv_set_bool(m, "no", false), TD_OK);
	assert_int_equal(tv_set(m, "nil", tv_null(f->a)), TD_OK);
	assert_int_equal(tv_set(m, "list", tv_list(f->a)), TD_OK);
	assert_int_equal(tv_set(m, "map", tv_map(f->a)), TD_OK);
	check(f, "{{mph}} {{{mph}}} {{neg}} {{zero}} {{yes}} {{no}} "
	    "[{{nil}}{{{nil}}}] [{{list}}{{map}}]", m,
	    "85 85 -9223372036854775808 0 true false [] []");
}

static void
test_escaping(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a);

	assert_int_equal(tv_set_str(m, "forbidden", "& \" < > '"), TD_OK);
	assert_int_equal(tv_set_str(m, "js",
	    "<script>alert('x\"y')</script>"), TD_OK);
	check(f, "{{forbidden}}|{{{forbidden}}}|{{&forbidden}}", m,
	    "&amp; &quot; &lt; &gt; &#39;|& \" < > '|& \" < > '");
	check(f, "<p title=\"{{js}}\">{{js}}</p>", m,
	    "<p title=\"&lt;script&gt;alert(&#39;x&quot;y&#39;)&lt;/script&gt;\">"
	    "&lt;script&gt;alert(&#39;x&quot;y&#39;)&lt;/script&gt;</p>");
	/* tv_strn copies exactly n bytes, NUL or not. */
	m = tv_map(f->a);
	assert_int_equal(tv_set(m, "s", tv_strn(f->a, "<b>xyz", 4)), TD_OK);
	check(f, "{{s}}", m, "&lt;b&gt;x");
}

static void
test_dotted(void **state)
{
	struct fx *f = *state;
	struct tv *root = tv_map(f->a), *a = tv_map(f->a), *b = tv_map(f->a);
	struct tv *c = tv_map(f->a), *person = m1(f, "name", "Joe");
	struct tv *root2, *a2, *b2;

	assert_int_equal(tv_set(root, "person", person), TD_OK);
	check(f, "\"{{person.name}}\" == \"{{#person}}{{name}}{{/person}}\"",
	    root, "\"Joe\" == \"Joe\"");
	check(f, "{{{person.name}}}{{&person.name}}", root, "JoeJoe");

	/* a.b.c = "Phil" three levels down. */
	assert_int_equal(tv_set_str(c, "c", "Phil"), TD_OK);
	assert_int_equal(tv_set(b, "b", c), TD_OK);
	assert_int_equal(tv_set(a, "a", b), TD_OK);
	check(f, "{{a.b.c}} == Phil", a, "Phil == Phil");
	/* Broken chains resolve to nothing. */
	check(f, "[{{a.x.c}}][{{a.b.c.d}}][{{person.name.x}}]", a, "[][][]");
	/* Only the first part walks the context stack. */
	root2 = tv_map(f->a);
	a2 = tv_map(f->a);
	b2 = tv_map(f->a);
	assert_int_equal(tv_set(a2, "b", b2), TD_OK);   /* a.b = {} */
	assert_int_equal(tv_set(root2, "a", a2), TD_OK);
	assert_int_equal(tv_set(root2, "b", m1(f, "c", "ERROR")), TD_OK);
	check(f, "{{#a}}{{b.c}}{{/a}}", root2, "");
	/* Initial resolution: the innermost context that has "b" wins. */
	root2 = tv_map(f->a);
	a2 = tv_map(f->a);
	assert_int_equal(tv_set(a2, "b", m1(f, "name", "Phil")), TD_OK);
	assert_int_equal(tv_set(root2, "a", a2), TD_OK);
	assert_int_equal(tv_set(root2, "b", m1(f, "name", "Wrong")), TD_OK);
	check(f, "{{#a}}{{b.name}}{{/a}}", root2, "Phil");
	/* A key present with a null value stops the walk too. */
	root2 = tv_map(f->a);
	a2 = tv_map(f->a);
	assert_int_equal(tv_set(a2, "x", tv_null(f->a)), TD_OK);
	assert_int_equal(tv_set(root2, "a", a2), TD_OK);
	assert_int_equal(tv_set_str(root2, "x", "outer"), TD_OK);
	check(f, "{{#a}}[{{x}}]{{/a}}[{{x}}]", root2, "[][outer]");
}

static void
test_implicit_iterator(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a), *l = tv_list(f->a), *in1, *in2;

	check(f, "Hello, {{.}}!", tv_str(f->a, "world"), "Hello, world!");
	check(f, "{{.}}", tv_int(f->a, 42), "42");
	check(f, "[{{.}}]", NULL, "[]");
	assert_int_equal(tv_push(l, tv_str(f->a, "a")), TD_OK);
	assert_int_equal(tv_push(l, tv_str(f->a, "<b>")), TD_OK);
	assert_int_equal(tv_push(l, tv_int(f->a, 3)), TD_OK);
	assert_int_equal(tv_set(m, "list", l), TD_OK);
	check(f, "{{#list}}({{.}}){{/list}}", m, "(a)(&lt;b&gt;)(3)");
	check(f, "{{#list}}({{{.}}}){{/list}}", m, "(a)(<b>)(3)");
	/* Lists of lists. */
	in1 = tv_list(f->a);
	in2 = tv_list(f->a);
	assert_int_equal(tv_push(in1, tv_str(f->a, "1")), TD_OK);
	assert_int_equal(tv_push(in1, tv_str(f->a, "2")), TD_OK);
	assert_int_equal(tv_push(in2, tv_str(f->a, "x")), TD_OK);
	l = tv_list(f->a);
	assert_int_equal(tv_push(l, in1), TD_OK);
	assert_int_equal(tv_push(l, in2), TD_OK);
	m = tv_map(f->a);
	assert_int_equal(tv_set(m, "list", l), TD_OK);
	check(f, "{{#list}}({{#.}}{{.}}{{/.}}){{/list}}", m, "(12)(x)");
}

/* Issue 11: a template whose only tags are {{.}} has no name parts (segs
 * is NULL) and an empty map has no pairs; neither may be indexed. Clang's
 * UBSan (pointer-overflow: "applying zero offset to null pointer") fails
 * this without the fix; gcc's does not check NULL + 0. */
static void
test_no_names(void **state)
{
	struct fx *f = *state;
	struct tv *l = tv_list(f->a);

	check(f, "{{.}}", tv_str(f->a, "<a>"), "&lt;a&gt;");
	check(f, "{{{.}}}|{{&.}}", tv_str(f->a, "<a>"), "<a>|<a>");
	assert_int_equal(tv_push(l, tv_str(f->a, "x")), TD_OK);
	assert_int_equal(tv_push(l, tv_map(f->a)), TD_OK);
	check(f, "{{#.}}[{{.}}]{{/.}}{{^.}}none{{/.}}", l, "[x][]");
	check(f, "({{missing}}{{#missing}}x{{/missing}}{{a.b}})", tv_map(f->a),
	    "()");
}

/* ---- sections ---- */

static void
test_sections(void **state)
{
	struct fx *f = *state;
	struct tv *m, *l, *item;
	char want[512];
	size_t len = 0;
	int i;

	check(f, "\"{{#boolean}}This should be rendered.{{/boolean}}\"",
	    mb(f, "boolean", true), "\"This should be rendered.\"");
	check(f, "\"{{#boolean}}This should not be rendered.{{/boolean}}\"",
	    mb(f, "boolean", false), "\"\"");
	check(f, "[{{#missing}}Found key 'missing'!{{/missing}}]",
	    tv_map(f->a), "[]");

	/* A map is pushed as the context. */
	m = tv_map(f->a);
	assert_int_equal(tv_set(m, "context", m1(f, "name", "Joe")), TD_OK);
	check(f, "\"{{#context}}Hi {{name}}.{{/context}}\"", m, "\"Hi Joe.\"");

	/* Lists iterate; growth well past the first allocation. */
	m = tv_map(f->a);
	l = tv_list(f->a);
	for (i = 0; i < 3; i++) {
		item = tv_map(f->a);
		assert_int_equal(tv_set_int(item, "item", i + 1), TD_OK);
		assert_int_equal(tv_push(l, item), TD_OK);
	}
	assert_int_equal(tv_set(m, "list", l), TD_OK);
	assert_int_equal(tv_set(m, "empty", tv_list(f->a)), TD_OK);
	assert_int_equal(tv_set(m, "nil", tv_null(f->a)), TD_OK);
	assert_int_equal(tv_set_str(m, "s", "str"), TD_OK);
	assert_int_equal(tv_set_str(m, "estr", ""), TD_OK);
	assert_int_equal(tv_set_int(m, "zero", 0), TD_OK);
	check(f, "\"{{#list}}{{item}}{{/list}}\"", m, "\"123\"");
	check(f, "[{{#empty}}x{{/empty}}][{{#nil}}x{{/nil}}]", m, "[][]");
	/* Truthy scalars render once and are the context for {{.}}. */
	check(f, "{{#s}}{{.}} is {{s}}{{/s}}", m, "str is str");
	/* Per the spec, "" and 0 are truthy. */
	check(f, "[{{#estr}}E{{.}}{{/estr}}][{{#zero}}Z{{.}}{{/zero}}]", m,
	    "[E][Z0]");
	/* Doubled, nested, and outer keys visible from inner contexts. */
	check(f, "{{#s}}a{{/s}}{{#s}}b{{/s}}", m, "ab");
	check(f, "{{#list}}{{#s}}{{item}}{{s}}{{/s}}{{/list}}", m,
	    "1str2str3str");

	l = tv_list(f->a);
	for (i = 0; i < 100; i++)
		assert_int_equal(tv_push(l, tv_int(f->a, i)), TD_OK);
	m = tv_map(f->a);
	assert_int_equal(tv_set(m, "n", l), TD_OK);
	for (i = 0; i < 100; i++)
		len += (size_t)snprintf(want + len, sizeof(want) - len, "%d,",
		    i);
	check(f, "{{#n}}{{.}},{{/n}}", m, want);
}

static void
test_section_dotted_and_deep(void **state)
{
	struct fx *f = *state;
	struct tv *root = tv_map(f->a), *a = tv_map(f->a), *b = tv_map(f->a);
	struct tv *x = tv_map(f->a), *y = tv_map(f->a);

	assert_int_equal(tv_set_bool(b, "c", true), TD_OK);
	assert_int_equal(tv_set(a, "b", b), TD_OK);
	assert_int_equal(tv_set(root, "a", a), TD_OK);
	check(f, "\"{{#a.b.c}}Here{{/a.b.c}}\" == \"Here\"", root,
	    "\"Here\" == \"Here\"");
	check(f, "[{{#a.b.x}}Here{{/a.b.x}}]", root, "[]");

	assert_int_equal(tv_set_str(x, "one", "1"), TD_OK);
	assert_int_equal(tv_set_str(y, "two", "2"), TD_OK);
	assert_int_equal(tv_set(x, "y", y), TD_OK);
	root = tv_map(f->a);
	assert_int_equal(tv_set(root, "x", x), TD_OK);
	check(f, "{{#x}}{{one}}{{#y}}{{one}}{{two}}{{/y}}{{/x}}", root,
	    "112");
	/* Parent contexts: misses fall through to outer ones. */
	root = tv_map(f->a);
	assert_int_equal(tv_set_str(root, "a", "foo"), TD_OK);
	assert_int_equal(tv_set_str(root, "b", "wrong"), TD_OK);
	assert_int_equal(tv_set(root, "sec", m1(f, "b", "bar")), TD_OK);
	assert_int_equal(tv_set(root, "c", m1(f, "d", "baz")), TD_OK);
	check(f, "\"{{#sec}}{{a}}, {{b}}, {{c.d}}{{/sec}}\"", root,
	    "\"foo, bar, baz\"");
}

static void
test_section_whitespace(void **state)
{
	struct fx *f = *state;
	struct tv *t = mb(f, "boolean", true);

	check(f, " | {{#boolean}}\t|\t{{/boolean}} | \n", t,
	    " | \t|\t | \n");
	check(f, " | {{#boolean}} {{! Important Whitespace }}\n "
	    "{{/boolean}} | \n", t, " |  \n  | \n");
	check(f, " {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}"
	    "\n", t, " YES\n GOOD\n");
	/* Standalone lines vanish entirely. */
	check(f, "| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n", t,
	    "| This Is\n|\n| A Line\n");
	check(f, "| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n",
	    t, "| This Is\n|\n| A Line\n");
	check(f, "|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|", t, "|\r\n|");
	check(f, "  {{#boolean}}\n#{{/boolean}}\n/", t, "#\n/");
	check(f, "#{{#boolean}}\n/\n  {{/boolean}}", t, "#\n/\n");
	check(f, "|{{# boolean }}={{/ boolean }}|", t, "|=|");
	/* Two tags on a line: not standalone. */
	check(f, "{{#boolean}}{{/boolean}}\nx", t, "\nx");
}

static void
test_inverted(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a), *l = tv_list(f->a);

	assert_int_equal(tv_set_bool(m, "f", false), TD_OK);
	assert_int_equal(tv_set_bool(m, "t", true), TD_OK);
	assert_int_equal(tv_set(m, "empty", tv_list(f->a)), TD_OK);
	assert_int_equal(tv_set(m, "nil", tv_null(f->a)), TD_OK);
	assert_int_equal(tv_set_str(m, "estr", ""), TD_OK);
	assert_int_equal(tv_push(l, tv_int(f->a, 1)), TD_OK);
	assert_int_equal(tv_set(m, "list", l), TD_OK);
	check(f, "\"{{^f}}This should be rendered.{{/f}}\"", m,
	    "\"This should be rendered.\"");
	check(f, "\"{{^t}}This should not be rendered.{{/t}}\"", m, "\"\"");
	check(f, "[{{^empty}}E{{/empty}}{{^nil}}N{{/nil}}{{^missing}}M"
	    "{{/missing}}{{^list}}L{{/list}}{{^estr}}S{{/estr}}]", m,
	    "[ENM]");
	check(f, "{{^f}}{{^f}}deep{{/f}}{{/f}}", m, "deep");
	check(f, "{{#f}}yes{{/f}}{{^f}}no{{/f}}", m, "no");
	check(f, "| This Is\n{{^f}}\n|\n{{/f}}\n| A Line\n", m,
	    "| This Is\n|\n| A Line\n");
	check(f, "|\r\n{{^f}}\r\n{{/f}}\r\n|", m, "|\r\n|");
	check(f, "  {{^f}}\n^{{/f}}\n/", m, "^\n/");
	check(f, " | {{^f}}\t|\t{{/f}} | \n", m, " | \t|\t | \n");
}

/* ---- comments ---- */

static void
test_comments(void **state)
{
	struct fx *f = *state;

	check(f, "12345{{! Comment Block! }}67890", NULL, "1234567890");
	check(f, "12345{{!\n  This is a\n  multi-line comment...\n}}67890\n",
	    NULL, "1234567890\n");
	check(f, "Begin.\n{{! Comment Block! }}\nEnd.\n", NULL,
	    "Begin.\nEnd.\n");
	check(f, "Begin.\n  {{! Indented Comment Block! }}\nEnd.\n", NULL,
	    "Begin.\nEnd.\n");
	check(f, "|\r\n{{! Standalone Comment }}\r\n|", NULL, "|\r\n|");
	check(f, "  {{! I'm Still Standalone }}\n!", NULL, "!");
	check(f, "!\n  {{! I'm Still Standalone }}", NULL, "!\n");
	check(f, "Begin.\n{{!\nSomething's going on here...\n}}\nEnd.\n",
	    NULL, "Begin.\nEnd.\n");
	check(f, "  12 {{! 34 }}\n", NULL, "  12 \n");
	check(f, "12345 {{! Comment Block! }} 67890", NULL, "12345  67890");
	check(f, "{{! {{unclosed }}ok", NULL, "ok");
}

/* ---- partials ---- */

static void
test_partials(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a), *n;
	struct tv *kids = tv_list(f->a), *kid = tv_map(f->a);

	add(f, "text", "from partial");
	add(f, "ctx", "*{{text}}*");
	add(f, "tab", "\t|\t");
	add(f, "gt", ">\n>");
	add(f, "one", ">");
	add(f, "pipe", "|\n{{{content}}}\n|\n");
	add(f, "node", "{{content}}<{{#nodes}}{{>node}}{{/nodes}}>");

	check(f, "\"{{>text}}\"", NULL, "\"from partial\"");
	/* Missing partials render nothing. */
	check(f, "\"{{>nosuch}}\"", NULL, "\"\"");
	assert_int_equal(tv_set_str(m, "text", "content"), TD_OK);
	check(f, "\"{{>ctx}}\"", m, "\"*content*\"");
	check(f, "| {{>tab}} |", NULL, "| \t|\t |");
	check(f, "|{{> text }}|", NULL, "|from partial|");
	check(f, "  {{data}}  {{> gt}}\n", m1(f, "data", "|"),
	    "  |  >\n>\n");
	check(f, "|\r\n{{>one}}\r\n|", NULL, "|\r\n>|");
	check(f, "  {{>gt}}\n>", NULL, "  >\n  >>");
	check(f, ">\n  {{>gt}}", NULL, ">\n  >\n  >");
	/* The indentation applies to the partial's lines, not to newlines
	 * inside interpolated values. */
	check(f, "\\\n {{>pipe}}\n/\n", m1(f, "content", "<\n->"),
	    "\\\n |\n <\n->\n |\n/\n");

	/* Recursion through data: content<...> trees. */
	assert_int_equal(tv_set_str(kid, "content", "Y"), TD_OK);
	assert_int_equal(tv_set(kid, "nodes", tv_list(f->a)), TD_OK);
	assert_int_equal(tv_push(kids, kid), TD_OK);
	n = tv_map(f->a);
	assert_int_equal(tv_set_str(n, "content", "X"), TD_OK);
	assert_int_equal(tv_set(n, "nodes", kids), TD_OK);
	check(f, "{{>node}}", n, "X<Y<>>");
}

static void
test_partial_nested_indent(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a), *l = tv_list(f->a);

	add(f, "inner", "B1\nB2\n");
	add(f, "outer", "<ul>\n{{#items}}\n  <li>{{.}}</li>\n{{/items}}\n"
	    "  {{>inner}}\n</ul>\n");
	add(f, "inl", "i1\ni2\n");
	add(f, "outer2", "A\nx {{>inl}}y\n");
	assert_int_equal(tv_push(l, tv_str(f->a, "a")), TD_OK);
	assert_int_equal(tv_push(l, tv_str(f->a, "b")), TD_OK);
	assert_int_equal(tv_set(m, "items", l), TD_OK);
	check(f, "<div>\n  {{>outer}}\n</div>\n", m,
	    "<div>\n  <ul>\n    <li>a</li>\n    <li>b</li>\n"
	    "    B1\n    B2\n  </ul>\n</div>\n");
	/* An inline partial inside an indented one is not re-indented. */
	check(f, "  {{>outer2}}\n", NULL, "  A\n  x i1\ni2\ny\n");
	/* A standalone partial without a final newline still ends its
	 * line: the caller's next line gets the caller's indentation. */
	add(f, "nonl", "x");
	add(f, "mid", "A\n  {{>nonl}}\nB\n");
	check(f, "  {{>mid}}\n", NULL, "  A\n    x  B\n");
}

static void
test_recursion_guard(void **state)
{
	struct fx *f = *state;
	struct buf b;
	struct tv *m = mb(f, "t", true);
	char src[32 * 16 + 1], *p;
	int i;

	add(f, "self", "x{{>self}}");
	add(f, "ping", "{{#t}}{{>pong}}{{/t}}");
	add(f, "pong", "{{>ping}}");
	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(f->set, "self", m, &b), TD_EINVAL);
	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(f->set, "ping", m, &b), TD_EINVAL);
	/* Exactly 32 nested sections still render. */
	p = src;
	for (i = 0; i < 32; i++)
		p += sprintf(p, "{{#t}}");
	for (i = 0; i < 32; i++)
		p += sprintf(p, "{{/t}}");
	check(f, src, m, "");
	/* And 33 do not compile. */
	memmove(src + 6, src, strlen(src) + 1);
	memcpy(src, "{{#t}}", 6);
	strcat(src, "{{/t}}");
	check_err(f, src, "bad.html:1: sections nested deeper than 32");
}

/* ---- delimiters ---- */

static void
test_delimiters(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a);

	assert_int_equal(tv_set_str(m, "text", "Hey!"), TD_OK);
	check(f, "{{=<% %>=}}(<%text%>)", m, "(Hey!)");
	check(f, "({{=[ ]=}}[text])", m, "(Hey!)");
	check(f, "{{=<% %>=}}<%{text}%>|<%& text%>|{{text}}", m,
	    "Hey!|Hey!|{{text}}");
	check(f, "| {{=@ @=}} |", NULL, "|  |");
	check(f, " | {{=@ @=}}\n", NULL, " | \n");
	check(f, "Begin.\n{{=@ @=}}\nEnd.\n", NULL, "Begin.\nEnd.\n");
	check(f, "Begin.\n  {{=@ @=}}\nEnd.\n", NULL, "Begin.\nEnd.\n");
	check(f, "|\r\n{{= @ @ =}}\r\n|", NULL, "|\r\n|");
	check(f, "  {{=@ @=}}\n=", NULL, "=");
	check(f, "=\n  {{=@ @=}}", NULL, "=\n");
	check(f, "|{{= @   @ =}}|", NULL, "||");

	m = tv_map(f->a);
	assert_int_equal(tv_set_bool(m, "section", true), TD_OK);
	assert_int_equal(tv_set_str(m, "data", "I got interpolated."),
	    TD_OK);
	check(f, "[\n{{#section}}\n  {{data}}\n  |data|\n{{/section}}\n\n"
	    "{{= | | =}}\n|#section|\n  {{data}}\n  |data|\n|/section|\n]\n",
	    m, "[\n  I got interpolated.\n  |data|\n\n  {{data}}\n"
	    "  I got interpolated.\n]\n");
	assert_int_equal(tv_set_bool(m, "section", false), TD_OK);
	check(f, "[\n{{^section}}\n  {{data}}\n  |data|\n{{/section}}\n\n"
	    "{{= | | =}}\n|^section|\n  {{data}}\n  |data|\n|/section|\n]\n",
	    m, "[\n  I got interpolated.\n  |data|\n\n  {{data}}\n"
	    "  I got interpolated.\n]\n");

	/* Delimiters do not leak into or out of partials. */
	add(f, "include", ".{{value}}.");
	add(f, "include2", ".{{value}}. {{= | | =}} .|value|.");
	m = m1(f, "value", "yes");
	check(f, "[ {{>include}} ]\n{{= | | =}}\n[ |>include| ]\n", m,
	    "[ .yes. ]\n[ .yes. ]\n");
	check(f, "[ {{>include2}} ]\n[ .{{value}}.  .|value|. ]\n", m,
	    "[ .yes.  .yes. ]\n[ .yes.  .|value|. ]\n");
}

/* ---- compile errors ---- */

static void
test_compile_errors(void **state)
{
	struct fx *f = *state;
	struct buf b;
	char err[16];

	check_err(f, "a\n{{#x}}\nb\n", "bad.html:2: unclosed section 'x'");
	check_err(f, "{{#a}}\n{{#b}}\n\n{{/a}}\n",
	    "bad.html:4: closing tag 'a' does not match section 'b' "
	    "opened at line 2");
	check_err(f, "x\n{{/a}}", "bad.html:2: closing tag 'a' without open "
	    "section");
	check_err(f, "line1\nline2 {{oops\n", "bad.html:2: unclosed tag");
	check_err(f, "{{{raw}}", "bad.html:1: unclosed tag");
	check_err(f, "ok {{", "bad.html:1: unclosed tag");
	check_err(f, "\n\n{{ }}", "bad.html:3: empty tag name");
	check_err(f, "{{#}}{{/}}", "bad.html:1: empty tag name");
	check_err(f, "{{{}}}", "bad.html:1: empty tag name");
	check_err(f, "{{>}}", "bad.html:1: empty tag name");
	check_err(f, "{{a b}}", "bad.html:1: bad tag name 'a b'");
	check_err(f, "{{a..b}}", "bad.html:1: bad tag name 'a..b'");
	check_err(f, "{{.a}}", "bad.html:1: bad tag name '.a'");
	check_err(f, "\n{{=<%=}}", "bad.html:2: bad delimiter tag");
	check_err(f, "{{=a b c=}}", "bad.html:1: bad delimiter tag");
	check_err(f, "{{= =}}", "bad.html:1: bad delimiter tag");
	check_err(f, "{{=<% %>}}", "bad.html:1: bad delimiter tag");
	/* Line numbers count comments' and delimiters' newlines. */
	check_err(f, "{{!\n\n}}{{=<% %>=}}\n<%#a%>\n{{/a}}",
	    "bad.html:4: unclosed section 'a'");

	/* A failed compile adds nothing; a later good one can use the name. */
	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(f->set, "bad", NULL, &b), TD_ENOTFOUND);
	add(f, "bad", "fine");
	assert_int_equal(tmpl_add(f->set, "bad", "x", 1, NULL, 0), TD_EINVAL);
	/* A short err buffer is truncated, not overrun. */
	assert_int_equal(tmpl_add(f->set, "other", "{{#x}}", 6, err,
	    sizeof(err)), TD_EINVAL);
	assert_string_equal(err, "other.html:1: u");
	assert_int_equal(tmpl_add(f->set, "", "x", 1, NULL, 0), TD_EINVAL);
}

/* ---- values and rendering limits ---- */

static void
test_values(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a), *l = tv_list(f->a);

	assert_int_equal(tv_set_str(m, "k", "one"), TD_OK);
	assert_int_equal(tv_set_str(m, "k", "two"), TD_OK);
	check(f, "{{k}}", m, "two");
	assert_int_equal(tv_set(m, "x", NULL), TD_ENOMEM);
	assert_int_equal(tv_set(NULL, "x", tv_null(f->a)), TD_ENOMEM);
	assert_int_equal(tv_set(l, "x", tv_null(f->a)), TD_EINVAL);
	assert_int_equal(tv_set_str(l, "x", "y"), TD_EINVAL);
	assert_int_equal(tv_push(m, tv_null(f->a)), TD_EINVAL);
	assert_int_equal(tv_push(l, NULL), TD_ENOMEM);
	assert_int_equal(tv_push(NULL, tv_null(f->a)), TD_ENOMEM);
	/* tv_str(NULL) is null: falsy, renders empty. */
	assert_int_equal(tv_set(m, "n", tv_str(f->a, NULL)), TD_OK);
	check(f, "[{{n}}{{#n}}x{{/n}}{{^n}}y{{/n}}]", m, "[y]");
}

static void
test_int_format(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a);

	assert_int_equal(tv_set_int(m, "zero", 0), TD_OK);
	assert_int_equal(tv_set_int(m, "one", 1), TD_OK);
	assert_int_equal(tv_set_int(m, "neg", -1), TD_OK);
	assert_int_equal(tv_set_int(m, "ten", 10), TD_OK);
	assert_int_equal(tv_set_int(m, "big", 1234567890123LL), TD_OK);
	assert_int_equal(tv_set_int(m, "max", INT64_MAX), TD_OK);
	assert_int_equal(tv_set_int(m, "min", INT64_MIN), TD_OK);
	check(f, "{{zero}} {{one}} {{neg}} {{ten}} {{big}}", m,
	    "0 1 -1 10 1234567890123");
	check(f, "{{max}} {{{min}}} {{&min}}", m,
	    "9223372036854775807 -9223372036854775808 -9223372036854775808");
	check(f, "{{#m}}{{min}}{{/m}}", tv_map(f->a), "");
	check(f, "[{{t}}|{{f}}]", tv_map(f->a), "[|]");
	assert_int_equal(tv_set_bool(m, "t", true), TD_OK);
	assert_int_equal(tv_set_bool(m, "f", false), TD_OK);
	check(f, "[{{t}}|{{f}}]", m, "[true|false]");
}

/* Names alike in length and in the bytes lookups glance at first. */
static void
test_lookup_lookalikes(void **state)
{
	struct fx *f = *state;
	struct tv *m = tv_map(f->a), *in = tv_map(f->a);

	assert_int_equal(tv_set_str(m, "axcyb", "1"), TD_OK);
	assert_int_equal(tv_set_str(m, "aycxb", "2"), TD_OK);
	assert_int_equal(tv_set_str(m, "a", "3"), TD_OK);
	assert_int_equal(tv_set_str(m, "ab", "4"), TD_OK);
	assert_int_equal(tv_set_str(m, "title", "5"), TD_OK);
	assert_int_equal(tv_set_str(m, "title_value", "6"), TD_OK);
	check(f, "{{axcyb}}{{aycxb}}{{a}}{{ab}}{{title}}{{title_value}}", m,
	    "123456");
	/* Prefixes and extensions of a key are other keys. */
	check(f, "[{{axcy}}{{axcybb}}{{titl}}{{title_}}{{abc}}]", m, "[]");
	/* Replacing one look-alike leaves the other. */
	assert_int_equal(tv_set_str(m, "aycxb", "7"), TD_OK);
	check(f, "{{axcyb}}{{aycxb}}", m, "17");
	/* The context stack: an inner look-alike does not hide the name. */
	assert_int_equal(tv_set_str(in, "axdyb", "in"), TD_OK);
	assert_int_equal(tv_set(m, "sub", in), TD_OK);
	check(f, "{{#sub}}{{axcyb}}/{{axdyb}}/{{sub.axdyb}}/{{sub.axcyb}}{{/sub}}",
	    m, "1/in/in/");
	/* Keys of any bytes above space, including UTF-8. */
	assert_int_equal(tv_set_str(m, "caf\xc3\xa9", "8"), TD_OK);
	assert_int_equal(tv_set_str(m, "caf\xc3\xa8", "9"), TD_OK);
	check(f, "{{caf\xc3\xa9}}{{caf\xc3\xa8}}", m, "89");
}

static void
test_render_limits(void **state)
{
	struct fx *f = *state;
	struct arena *small = arena_new(64 * 1024);
	struct tv *m, *l;
	struct buf b;
	int i;

	assert_non_null(small);
	add(f, "big", "{{#l}}{{s}}{{/l}}");
	m = tv_map(f->a);
	l = tv_list(f->a);
	assert_int_equal(tv_set_str(m, "s", "0123456789abcdef0123456789abcdef"),
	    TD_OK);
	for (i = 0; i < 10000; i++)
		assert_int_equal(tv_push(l, tv_null(f->a)), TD_OK);
	assert_int_equal(tv_set(m, "l", l), TD_OK);
	buf_init(&b, small);
	assert_int_equal(tmpl_render(f->set, "big", m, &b), TD_ENOMEM);
	assert_false(buf_ok(&b));
	arena_free(small);

	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(f->set, "nosuch", m, &b), TD_ENOTFOUND);
	/* Rendering appends to what the buffer already holds. */
	add(f, "hi", "hi {{s}}");
	buf_puts(&b, ">");
	assert_int_equal(tmpl_render(f->set, "hi", m1(f, "s", "x"), &b),
	    TD_OK);
	assert_string_equal(b.data, ">hi x");
}

/* ---- tmpl_load_dir ---- */

static void
write_file(const char *dir, const char *name, const char *data, size_t n)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static void
write_str(const char *dir, const char *name, const char *data)
{
	write_file(dir, name, data, strlen(data));
}

static void
remove_file(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
}

static void
test_load_dir(void **state)
{
	struct fx *f = *state;
	char dir[] = "/tmp/test_tmpl.XXXXXX", err[256];
	struct tmpl_set *set = NULL;
	struct tv *m, *l;
	struct buf b;
	char *big;

	assert_non_null(mkdtemp(dir));
	write_str(dir, "layout.html", "<h1>{{title}}</h1>\n<ul>\n"
	    "{{#items}}\n  {{>item}}\n{{/items}}\n</ul>\n");
	write_str(dir, "item.html", "<li>{{name}}</li>\n");
	write_str(dir, "notes.txt", "{{#broken");
	write_str(dir, ".hidden.html", "{{#broken");
	write_str(dir, "html", "{{#broken");

	assert_int_equal(tmpl_load_dir(dir, &set, err, sizeof(err)), TD_OK);
	assert_non_null(set);
	m = tv_map(f->a);
	l = tv_list(f->a);
	assert_int_equal(tv_set_str(m, "title", "T&C"), TD_OK);
	assert_int_equal(tv_push(l, m1(f, "name", "a")), TD_OK);
	assert_int_equal(tv_push(l, m1(f, "name", "<b>")), TD_OK);
	assert_int_equal(tv_set(m, "items", l), TD_OK);
	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(set, "layout", m, &b), TD_OK);
	assert_string_equal(b.data, "<h1>T&amp;C</h1>\n<ul>\n  <li>a</li>\n"
	    "  <li>&lt;b&gt;</li>\n</ul>\n");
	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(set, "notes", m, &b), TD_ENOTFOUND);
	assert_int_equal(tmpl_render(set, "hidden", m, &b), TD_ENOTFOUND);
	tmpl_set_free(set);

	/* A broken template fails the whole load, naming file and line. */
	write_str(dir, "broken.html", "ok\n\n{{#x}}\n");
	set = (struct tmpl_set *)1;
	assert_int_equal(tmpl_load_dir(dir, &set, err, sizeof(err)),
	    TD_EINVAL);
	assert_null(set);
	assert_string_equal(err, "broken.html:3: unclosed section 'x'");
	remove_file(dir, "broken.html");

	/* So does a partial that names no template. */
	write_str(dir, "page.html", "x\n{{#a}}\n{{> nope }}\n{{/a}}");
	assert_int_equal(tmpl_load_dir(dir, &set, err, sizeof(err)),
	    TD_EINVAL);
	assert_null(set);
	assert_string_equal(err, "page.html:3: unknown partial 'nope'");
	remove_file(dir, "page.html");

	/* Over 1 MiB is refused. */
	big = malloc(1024 * 1024 + 1);
	assert_non_null(big);
	memset(big, 'x', 1024 * 1024 + 1);
	write_file(dir, "big.html", big, 1024 * 1024 + 1);
	assert_int_equal(tmpl_load_dir(dir, &set, err, sizeof(err)),
	    TD_ETOOBIG);
	assert_null(set);
	assert_non_null(strstr(err, "big.html"));
	remove_file(dir, "big.html");
	/* Exactly 1 MiB is fine. */
	write_file(dir, "big.html", big, 1024 * 1024);
	free(big);
	assert_int_equal(tmpl_load_dir(dir, &set, err, sizeof(err)), TD_OK);
	tmpl_set_free(set);
	remove_file(dir, "big.html");

	remove_file(dir, "layout.html");
	remove_file(dir, "item.html");
	remove_file(dir, "notes.txt");
	remove_file(dir, ".hidden.html");
	remove_file(dir, "html");
	/* An empty directory is an empty set. */
	assert_int_equal(tmpl_load_dir(dir, &set, err, sizeof(err)), TD_OK);
	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(set, "layout", NULL, &b), TD_ENOTFOUND);
	tmpl_set_free(set);
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(tmpl_load_dir(dir, &set, err, sizeof(err)),
	    TD_ESYSTEM);
	assert_null(set);
	assert_non_null(strstr(err, dir));
}

/* ---- the site's own templates (templates/, from $TODO_SRCDIR) ---- */

static struct tmpl_set *
site_templates(void)
{
	const char *src = getenv("TODO_SRCDIR");
	char dir[PATH_MAX], err[256] = "";
	struct tmpl_set *set = NULL;

	snprintf(dir, sizeof(dir), "%s/templates", src != NULL ? src : ".");
	if (tmpl_load_dir(dir, &set, err, sizeof(err)) != TD_OK)
		fail_msg("tmpl_load_dir %s: %s", dir, err);
	return set;
}

static char *
render_site(struct fx *f, const struct tmpl_set *set, const char *name,
    const struct tv *ctx)
{
	struct buf b;

	buf_init(&b, f->a);
	assert_int_equal(tmpl_render(set, name, ctx, &b), TD_OK);
	assert_true(buf_ok(&b));
	return b.len ? b.data : "";
}

static int
count(const char *s, const char *what)
{
	int n = 0;

	for (; (s = strstr(s, what)) != NULL; s += strlen(what))
		n++;
	return n;
}

/* Error pages name themselves in the tab and in the history ("404 Not
 * Found · Todos"), not just " · Todos", and keep their h1. */
static void
test_error_page_title(void **state)
{
	static const struct { int status; const char *title, *h1; } cases[] = {
		{ 404, "<title>404 Not Found · Todos</title>", "<h1>404 Not Found</h1>" },
		{ 503, "<title>503 Service Unavailable · Todos</title>",
		  "<h1>503 Service Unavailable</h1>" },
	};
	struct fx *f = *state;
	struct config cfg;
	struct app app;
	struct response resp;
	size_t i;

	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.static_url, "/static");
	app.cfg = &cfg;
	app.tmpl = site_templates();
	app.db = NULL;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		response_init(&resp, f->a);
		app_error(&app, f->a, &resp, cases[i].status, "A message & more.");
		assert_int_equal(resp.status, cases[i].status);
		assert_non_null(resp.body.data);
		if (strstr(resp.body.data, cases[i].title) == NULL)
			fail_msg("no %s in:\n%s", cases[i].title, resp.body.data);
		assert_non_null(strstr(resp.body.data, cases[i].h1));
		assert_non_null(strstr(resp.body.data, "A message &amp; more."));
	}
	tmpl_set_free((struct tmpl_set *)app.tmpl);
}

/* The toggle's name is the same in both states ("Done: {title}"): the
 * state is aria-pressed alone, so a screen reader announces one change. */
static void
test_toggle_name_fixed(void **state)
{
	struct fx *f = *state;
	struct tmpl_set *set = site_templates();
	struct tv *m = tv_map(f->a), *list = tv_list(f->a), *t;
	const char *body, *p, *end;
	int i;

	for (i = 0; i < 2; i++) {
		t = tv_map(f->a);
		assert_int_equal(tv_set_int(t, "id", 7 + i), TD_OK);
		assert_int_equal(tv_set_str(t, "title", i ? "Done <one>" : "Open one"), TD_OK);
		assert_int_equal(tv_set_bool(t, "completed", i == 1), TD_OK);
		assert_int_equal(tv_push(list, t), TD_OK);
	}
	assert_int_equal(tv_set(m, "todos", list), TD_OK);
	assert_int_equal(tv_set_bool(m, "has_items", true), TD_OK);
	assert_int_equal(tv_set_bool(m, "any_todos", true), TD_OK);
	assert_int_equal(tv_set_str(m, "form_id", "new"), TD_OK);
	body = render_site(f, set, "list", m);
	/* The name is "Done:" (one hidden label for the page) and the title
	 * (by their ids), whatever the state. */
	assert_int_equal(count(body, "<span id=\"l-done\">Done:</span>"), 1);
	assert_non_null(strstr(body, "<p hidden><span id=\"l-done\">"));
	p = strstr(body, "<button id=\"done-7\" formaction=\"/todos/7/toggle\" "
	    "aria-pressed=\"false\" aria-labelledby=\"l-done t-7\"></button>");
	if (p == NULL || strstr(body, "<p id=\"t-7\">Open one</p>") == NULL)
		fail_msg("no fixed name on the open todo's toggle:\n%s", body);
	p = strstr(body, "<button id=\"done-8\" formaction=\"/todos/8/toggle\" "
	    "aria-pressed=\"true\" aria-labelledby=\"l-done t-8\"></button>");
	if (p == NULL || strstr(body, "<p id=\"t-8\">Done &lt;one&gt;</p>") == NULL)
		fail_msg("no fixed name on the done todo's toggle:\n%s", body);
	assert_null(strstr(body, "Mark as active"));
	assert_null(strstr(body, "Mark as complete:"));
	/* Toggle-all says what it will do, and is not a toggle button. */
	p = strstr(body, "formaction=\"/todos/toggle-all\"");
	assert_non_null(p);
	end = strstr(p, "</button>");
	assert_non_null(end);
	assert_non_null(strstr(p, "Mark all as complete"));
	assert_true(strstr(p, "aria-pressed") == NULL || strstr(p, "aria-pressed") > end);
	tmpl_set_free(set);
}

/* The list's rows are light (issue 10: 50 of them on a page): each title
 * is written once and the controls' names point at it (Edit and Delete
 * "{verb} {title}", by aria-labelledby); every post goes through the one
 * form that carries csrf_token and return_to, outside which no row button
 * stands; Edit carries return_to only when it is not the default. */
static void
test_rows_name_the_title_once(void **state)
{
	struct fx *f = *state;
	struct tmpl_set *set = site_templates();
	struct tv *m = tv_map(f->a), *list = tv_list(f->a), *t;
	const char *body, *form, *form_end, *ul, *ul_end;

	t = tv_map(f->a);
	assert_int_equal(tv_set_int(t, "id", 12), TD_OK);
	assert_int_equal(tv_set_str(t, "title", "Call <Bob>"), TD_OK);
	assert_int_equal(tv_set_str(t, "description", "Details"), TD_OK);
	assert_int_equal(tv_set_bool(t, "completed", true), TD_OK);
	assert_int_equal(tv_push(list, t), TD_OK);
	assert_int_equal(tv_set(m, "todos", list), TD_OK);
	assert_int_equal(tv_set_bool(m, "has_items", true), TD_OK);
	assert_int_equal(tv_set_bool(m, "any_todos", true), TD_OK);
	assert_int_equal(tv_set_bool(m, "has_completed", true), TD_OK);
	assert_int_equal(tv_set_str(m, "form_id", "new"), TD_OK);
	assert_int_equal(tv_set_str(m, "csrf_token", "TOKEN"), TD_OK);
	assert_int_equal(tv_set_str(m, "return_to", "/todos"), TD_OK);
	body = render_site(f, set, "list", m);
	assert_int_equal(count(body, "Call &lt;Bob&gt;"), 1);
	assert_non_null(strstr(body, "<li id=\"todo-12\" class=\"completed\">"));
	assert_non_null(strstr(body, "<p id=\"t-12\">Call &lt;Bob&gt;</p><p>Details</p>"));
	assert_non_null(strstr(body, "<a id=\"edit-12\" href=\"/todos/12/edit\" "
	    "aria-labelledby=\"edit-12 t-12\">Edit</a>"));
	assert_non_null(strstr(body, "<button formaction=\"/todos/12/delete\" "
	    "aria-labelledby=\"l-del t-12\">Delete</button>"));
	assert_int_equal(count(body, "<span id=\"l-del\">Delete</span>"), 1);
	/* One form around the list holds the fields of its posts... */
	assert_non_null(form = strstr(body, "<form id=\"rows\" method=\"post\">"
	    "<input type=\"hidden\" name=\"csrf_token\" value=\"TOKEN\">"
	    "<input type=\"hidden\" name=\"return_to\" value=\"/todos\">"));
	assert_non_null(form_end = strstr(form, "</form>"));
	assert_non_null(ul = strstr(body, "<ul class=\"todo-list\">"));
	assert_non_null(ul_end = strstr(ul, "</ul>"));
	assert_true(form < ul && ul_end < form_end);
	assert_null(strstr(form + 1, "<form"));         /* not nested */
	assert_int_equal(count(body, "name=\"csrf_token\""), 3);  /* + sign out, add */
	/* ...Clear completed, outside it, names it. */
	assert_non_null(strstr(form_end, "<button class=\"clear-completed\" form=\"rows\" "
	    "formaction=\"/todos/clear-completed\">"));

	/* Back to a filtered page after editing: return_to (URL-encoded). */
	assert_int_equal(tv_set_str(m, "return_to_enc", "%2Ftodos%3Ffilter%3Dcompleted"), TD_OK);
	body = render_site(f, set, "list", m);
	assert_non_null(strstr(body, "<a id=\"edit-12\" "
	    "href=\"/todos/12/edit?return_to=%2Ftodos%3Ffilter%3Dcompleted\" "));
	tmpl_set_free(set);
}

/* The add form folds the description away unless a failed post kept
 * something in it; the edit page always shows it. */
static void
test_description_disclosure(void **state)
{
	struct fx *f = *state;
	struct tmpl_set *set = site_templates();
	struct tv *m;
	const char *body;

	m = tv_map(f->a);
	assert_int_equal(tv_set_str(m, "form_id", "new"), TD_OK);
	assert_int_equal(tv_set_str(m, "description_value", ""), TD_OK);
	body = render_site(f, set, "todo_fields", m);
	assert_non_null(strstr(body, "<details class=\"field-more\">\n<summary>Add a description</summary>"));
	assert_non_null(strstr(body, "<label for=\"title-new\">Title</label>"));
	assert_non_null(strstr(body, "<label for=\"description-new\">"));

	assert_int_equal(tv_set_bool(m, "has_errors", true), TD_OK);
	assert_int_equal(tv_set_str(m, "description_error", "Too long."), TD_OK);
	body = render_site(f, set, "todo_fields", m);
	assert_non_null(strstr(body, "<details class=\"field-more\" open>"));

	m = tv_map(f->a);
	assert_int_equal(tv_set_int(m, "id", 42), TD_OK);
	assert_int_equal(tv_set_str(m, "form_id", "42"), TD_OK);
	body = render_site(f, set, "todo_fields", m);
	assert_null(strstr(body, "<details"));
	assert_null(strstr(body, "</details>"));
	assert_non_null(strstr(body, "<textarea id=\"description-42\""));
	tmpl_set_free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_interpolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dotted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_implicit_iterator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_two_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_missing_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_nested, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_pieces_and_ints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_and_partials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_page_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_like_maps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_row_room, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_dotted_and_deep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_whitespace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inverted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_nested_indent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recursion_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delimiters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compile_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_lookalikes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_page_title, setup, teardown),
		cmocka_unit_test_setup_teardown(test_toggle_name_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_name_the_title_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_description_disclosure, setup, teardown),
	};

	return cmocka_run_group_tests_name("tmpl", tests, NULL, NULL);
}
