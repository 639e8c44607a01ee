/* todos.c - the handlers: one function per route (see todos.h). */
#include "todos.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "etag.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "reltime.h"
#include "store.h"
#include "tmpl.h"
#include "utf8.h"

#define TITLE_MAX 200
#define DESCRIPTION_MAX 2000

/* Where a list page is: filter, search and keyset position. */
struct list_state {
	enum todo_filter filter;
	enum page_dir dir;
	struct page_cursor cursor;
	const char *q;                   /* trimmed search text; NULL: none */
};

/* A submitted add or edit form, after validation. */
struct todo_input {
	const char *title;               /* trimmed */
	const char *description;         /* NULL when blank */
	bool completed;
	const char *title_value;         /* what to show back in the form */
	const char *description_value;
	const char *title_error;
	const char *description_error;
};

static const char *const filter_names[] = { "all", "active", "completed" };

/* A row of the list page, as list.html reads it (through row_fields: no
 * map per row), its strings with their lengths (nothing measured twice). */
struct row_view {
	int64_t id;
	struct tv_text title;
	struct tv_text description;      /* s NULL: none */
	bool completed;
	bool undo_here;                  /* the undo of a delete stands above it */
	bool focus_toggle, focus_edit;   /* autofocus, where an action lands */
	struct tv_text created_at, created_title, created_human;
};

#define ROW_FIELD(name, type, member) { name, type, offsetof(struct row_view, member) }
static const struct tv_field row_fields[] = {
	ROW_FIELD("id", TVF_INT, id),
	ROW_FIELD("title", TVF_TEXT, title),
	ROW_FIELD("description", TVF_TEXT, description),
	ROW_FIELD("completed", TVF_BOOL, completed),
	ROW_FIELD("undo_here", TVF_BOOL, undo_here),
	ROW_FIELD("focus_toggle", TVF_BOOL, focus_toggle),
	ROW_FIELD("focus_edit", TVF_BOOL, focus_edit),
	ROW_FIELD("created_at", TVF_TEXT, created_at),
	ROW_FIELD("created_title", TVF_TEXT, created_title),
	ROW_FIELD("created_human", TVF_TEXT, created_human),
};

/* ---- small helpers ---- */

/* "1709307360691420_123": created_at in microseconds, then id. */
static bool
parse_cursor(const char *s, struct page_cursor *cur)
{
	char *end;

	if (s == NULL || *s == '\0' || strlen(s) > 48)
		return false;
	errno = 0;
	cur->created_us = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '_' || (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
		return false;
	s = end + 1;
	if (*s < '1' || *s > '9')
		return false;
	cur->id = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

static const char *trim(struct arena *a, const char *s);

/* Read filter/q/before/after from a query: NULL, or why a value is not
 * valid (for the 400 page). form.c has refused invalid UTF-8 and NULs. */
static const char *
parse_list_state(struct arena *a, const struct form *f, struct list_state *st)
{
	const char *filter = form_get(f, "filter", NULL);
	const char *before = form_get(f, "before", NULL);
	const char *after = form_get(f, "after", NULL);
	const char *q = form_get(f, "q", NULL);
	size_t qlen;

	st->filter = FILTER_ALL;
	st->dir = PAGE_FIRST;
	st->q = NULL;
	if (filter != NULL && *filter != '\0') {
		if (strcmp(filter, "active") == 0)
			st->filter = FILTER_ACTIVE;
		else if (strcmp(filter, "completed") == 0)
			st->filter = FILTER_COMPLETED;
		else if (strcmp(filter, "all") != 0)
			return "That list address is not valid: filter must be all, active or completed.";
	}
	if (q != NULL) {
		/* Bounded before trimming: the count of a long value is work. */
		if (strlen(q) > 4 * STORE_QUERY_MAX + 64 ||
		    (st->q = trim(a, q)) == NULL ||
		    (qlen = utf8_count(st->q, strlen(st->q))) > STORE_QUERY_MAX)
			return "The search text is too long: at most 200 characters are allowed.";
		if (qlen == 0)
			st->q = NULL;       /* an empty search is the list */
	}
	if (before != NULL && after != NULL)
		return "That list address is not valid: it has both before and after.";
	if (before != NULL) {
		st->dir = PAGE_OLDER;
		return parse_cursor(before, &st->cursor) ? NULL :
		    "That list address is not valid: the page position is damaged.";
	}
	if (after != NULL) {
		st->dir = PAGE_NEWER;
		return parse_cursor(after, &st->cursor) ? NULL :
		    "That list address is not valid: the page position is damaged.";
	}
	return NULL;
}

/* Canonical URL of a list page; only values we produce or checked go in
 * it, the search text percent-encoded. */
static const char *
list_url(struct arena *a, enum todo_filter f, enum page_dir dir,
    const struct page_cursor *cur, const char *q)
{
	struct buf b;
	char sep = '?';

	/* The plain list, the most asked for, is a literal. */
	if (f == FILTER_ALL && q == NULL && dir == PAGE_FIRST)
		return "/todos";
	/* By hand, not buf_printf: a page has five of these. */
	buf_init(&b, a);
	buf_append(&b, "/todos", 6);
	if (f != FILTER_ALL) {
		buf_putc(&b, sep);
		buf_append(&b, "filter=", 7);
		buf_puts(&b, filter_names[f]);
		sep = '&';
	}
	if (q != NULL) {
		buf_putc(&b, sep);
		buf_append(&b, "q=", 2);
		buf_append_urlenc(&b, q, strlen(q));
		sep = '&';
	}
	if (dir != PAGE_FIRST) {
		buf_putc(&b, sep);
		buf_puts(&b, dir == PAGE_OLDER ? "before=" : "after=");
		buf_put_i64(&b, cur->created_us);
		buf_putc(&b, '_');
		buf_put_i64(&b, cur->id);
	}
	return buf_ok(&b) ? b.data : "/todos";
}

/* The page a form came from, from its return_to field. Anything that is
 * not a well-formed list URL becomes "/todos": no open redirects. */
static const char *
return_url(struct ctx *c, const char *raw)
{
	struct list_state st;
	struct form q;
	const char *qs;

	if (raw == NULL || strncmp(raw, "/todos", 6) != 0)
		return "/todos";
	if (raw[6] == '\0')
		return "/todos";
	if (raw[6] != '?')
		return "/todos";
	qs = raw + 7;
	if (form_parse(c->arena, qs, strlen(qs), 8, &q) != TD_OK ||
	    parse_list_state(c->arena, &q, &st) != NULL)
		return "/todos";
	return list_url(c->arena, st.filter, st.dir, &st.cursor, st.q);
}

static void
redirect_back(struct ctx *c, const char *flash)
{
	app_redirect(c, flash, return_url(c, form_get(&c->req->body, "return_to", NULL)));
}

/* The view (filter and search) of the page a form came from: where "the
 * todo next to it" is looked for. */
static struct list_state
return_view(struct ctx *c)
{
	const char *ret = strchr(return_url(c, form_get(&c->req->body, "return_to", NULL)), '?');
	struct list_state st;
	struct form q;

	if (ret == NULL || form_parse(c->arena, ret + 1, strlen(ret + 1), 8, &q) != TD_OK ||
	    parse_list_state(c->arena, &q, &st) != NULL)
		return (struct list_state){ FILTER_ALL, PAGE_FIRST, { 0, 0 }, NULL };
	return st;
}

/* Where a redirect lands: the fragment names the control that gets the
 * focus, and browsers scroll to it and focus it (a fragment naming an
 * element that cannot take focus, like the row, would leave the focus on
 * the page and also make them skip `autofocus`). */
enum landing { AT_TOP, AT_TOGGLE, AT_EDIT, AT_UNDO };

/* Back to the page the form came from, with confirmation f, landing on
 * the control `at` of todo `id` (AT_TOGGLE, AT_EDIT; none when id is 0),
 * or on the Undo button. */
static void
redirect_to(struct ctx *c, const struct flash *f, enum landing at, int64_t id)
{
	const char *ret = return_url(c, form_get(&c->req->body, "return_to", NULL));
	const char *to = ret;

	if (at == AT_UNDO)
		to = arena_printf(c->arena, "%s#undo", ret);
	else if ((at == AT_TOGGLE || at == AT_EDIT) && id > 0)
		to = arena_printf(c->arena, "%s#%s-%" PRId64, ret,
		    at == AT_EDIT ? "edit" : "done", id);
	app_redirect_flash(c, f, to != NULL ? to : ret);
}

static bool
is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

static const char *
trim(struct arena *a, const char *s)
{
	size_t n;

	while (is_space((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	return arena_strndup(a, s, n);
}

static bool
has_controls(const char *s, bool allow_newlines)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (allow_newlines && (ch == '\n' || ch == '\r' || ch == '\t'))
			continue;
		if (ch < 0x20 || ch == 0x7f)
			return true;
	}
	return false;
}

/* Validate title/description (and completed for edits). Input strings are
 * already valid UTF-8 without NUL (form.c refuses anything else). */
static bool
validate(struct ctx *c, struct todo_input *in)
{
	const char *title = form_get(&c->req->body, "title", NULL);
	const char *desc = form_get(&c->req->body, "description", NULL);
	const char *completed = form_get(&c->req->body, "completed", NULL);
	size_t n;

	memset(in, 0, sizeof(*in));
	in->title_value = title != NULL ? title : "";
	in->description_value = desc != NULL ? desc : "";
	in->completed = completed != NULL && strcmp(completed, "on") == 0;
	in->title = trim(c->arena, in->title_value);
	in->description = trim(c->arena, in->description_value);
	if (in->title == NULL || in->description == NULL)
		return false;
	n = utf8_count(in->title, strlen(in->title));
	if (n == 0)
		in->title_error = "Please enter a title.";
	else if (n > TITLE_MAX)
		in->title_error = arena_printf(c->arena,
		    "The title is %zu characters long; at most %d are allowed.", n, TITLE_MAX);
	else if (has_controls(in->title, false))
		in->title_error = "The title cannot contain control characters.";
	if (in->description[0] == '\0')
		in->description = NULL;
	else if ((n = utf8_count(in->description, strlen(in->description))) > DESCRIPTION_MAX)
		in->description_error = arena_printf(c->arena,
		    "The description is %zu characters long; at most %d are allowed.", n, DESCRIPTION_MAX);
	else if (has_controls(in->description, true))
		in->description_error = "The description cannot contain control characters.";
	return in->title_error == NULL && in->description_error == NULL;
}

/* The add form's one-time token: a random UUID (version 4), from the
 * worker's randpool (one getrandom(2) per 256 tokens). */
static const char *
new_token(struct ctx *c)
{
	char *s = arena_alloc(c->arena, UUID_TEXT_LEN + 1);

	if (s != NULL)
		randpool_uuid(&c->app->rand, s);
	return s;
}

static bool
valid_token(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL || s[i] == '\0') {
			return false;
		}
	}
	return true;
}

static void
set_form_fields(struct tv *v, const char *form_id, const struct todo_input *in)
{
	tv_set_str(v, "form_id", form_id);
	tv_set_str(v, "title_value", in != NULL ? in->title_value : "");
	tv_set_str(v, "description_value", in != NULL ? in->description_value : "");
	if (in != NULL && in->title_error != NULL)
		tv_set_str(v, "title_error", in->title_error);
	if (in != NULL && in->description_error != NULL)
		tv_set_str(v, "description_error", in->description_error);
	tv_set_bool(v, "has_errors", in != NULL &&
	    (in->title_error != NULL || in->description_error != NULL));
}

/* Now, for "2 hours ago": the time of the request. */
static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A non-first page that came out empty (its todos were deleted, or a
 * stale link): the nearest page that has todos, by a redirect. NULL when
 * this page is to be shown. The first page never redirects, and neither
 * targets an empty page that would redirect again but to the first. */
static const char *
nearest_page(struct ctx *c, const struct list_state *st, const struct todo_page *page)
{
	if (page->n > 0 || st->dir == PAGE_FIRST)
		return NULL;
	/* Older than the cursor: none. The newer ones, if any, end at the
	 * cursor's row (kept: the cursor just below it takes it in). */
	if (st->dir == PAGE_OLDER && page->has_newer) {
		struct page_cursor below = st->cursor;

		if (below.id > 1) {
			below.id--;
		} else {
			below.created_us--;
			below.id = INT64_MAX;
		}
		return list_url(c->arena, st->filter, PAGE_NEWER, &below, st->q);
	}
	return list_url(c->arena, st->filter, PAGE_FIRST, NULL, st->q);
}

/* A plain list page's ETag (etag.h), and true after answering 304 when
 * the browser's If-None-Match has it: nothing is rendered. A pending
 * flash is shown once, so that page gets neither. The add form's token is
 * not in the tag: a 304 leaves the browser its cached form with an older
 * token, unused or its todo deleted since (while that todo exists the
 * counts differ, and so does the tag), so a post from it adds its todo
 * once (sql/003). */
static bool
list_not_modified(struct ctx *c, const char *self, const struct todo_page *page,
    const struct reltime_at *now)
{
	char tag[ETAG_SIZE];

	if (app_flash_pending(c))
		return false;
	etag_list_page(tag, c->csrf, self, page, now);
	if (etag_matches(c->req->if_none_match, tag)) {
		response_not_modified(c->resp, tag);
		return true;
	}
	response_etag(c->resp, tag);
	return false;
}

/* store_search_check's look at a plain list page before its strings are
 * copied: answered 304 (list_not_modified), or on to render. A page that
 * redirects (nearest_page) gets no tag, as before. */
struct list_fresh {
	struct ctx *c;
	const struct list_state *st;
	const char *self;
	struct reltime_at *now;
};

static bool
list_fresh(void *ctx, const struct todo_page *page)
{
	struct list_fresh *k = ctx;

	if (nearest_page(k->c, k->st, page) != NULL)
		return false;
	k->now->off_s = page->now_off;
	return list_not_modified(k->c, k->self, page, k->now);
}

/* "Results for “q”", the empty message, the search form's values. */
static void
set_search_values(struct ctx *c, struct tv *v, const struct list_state *st)
{
	tv_set_bool(v, "filter_hidden", st->filter != FILTER_ALL);
	tv_set_str(v, "filter_name", filter_names[st->filter]);
	tv_set_str(v, "q", st->q != NULL ? st->q : "");
	tv_set_bool(v, "searching", st->q != NULL);
	tv_set_str(v, "clear_search_url",
	    list_url(c->arena, st->filter, PAGE_FIRST, NULL, NULL));
	tv_set_str(v, "filter_all_url", list_url(c->arena, FILTER_ALL, PAGE_FIRST, NULL, st->q));
	tv_set_str(v, "filter_active_url",
	    list_url(c->arena, FILTER_ACTIVE, PAGE_FIRST, NULL, st->q));
	tv_set_str(v, "filter_completed_url",
	    list_url(c->arena, FILTER_COMPLETED, PAGE_FIRST, NULL, st->q));
}

/* render_list's page from store_search_check's. */
static void
render_page(struct ctx *c, const struct list_state *st,
    const struct todo_input *in, int status, const struct todo_page *pagep,
    const char *self, struct reltime_at now)
{
	static const char *const empty[] = {
		"Nothing to do yet. Add your first todo above.",
		"No active todos. Well done!",
		"No completed todos yet.",
	};
	static const char *const labels[] = { "All", "Active", "Completed" };
	const struct todo_page page = *pagep;
	struct flash f = { NULL, -1, 0, 0, NULL };
	int64_t focus_row = 0, undo_row = 0;
	struct row_view *rows;
	char *times;
	struct tv *v;
	const char *to;
	struct buf enc;
	size_t i;

	if (in == NULL && (to = nearest_page(c, st, &page)) != NULL) {
		app_redirect(c, NULL, to);
		return;
	}
	now.off_s = page.now_off;
	buf_init(&enc, c->arena);
	buf_append_urlenc(&enc, self, strlen(self));
	if ((v = app_page_values(c, labels[st->filter])) == NULL || !buf_ok(&enc)) {
		app_fail(c, TD_ENOMEM);
		return;
	}
	tv_set_str(v, "email", page.email);
	tv_set_str(v, "return_to", self);
	if (strcmp(self, "/todos") != 0)     /* the edit page's default */
		tv_set_str(v, "return_to_enc", enc.data);
	tv_set_str(v, "token", new_token(c));
	set_form_fields(v, "new", in);
	/* Show a pending confirmation once (then clear its cookie), and put
	 * the focus on exactly one control: the one the action leads back to
	 * (none when there is no action to come back from). */
	if (in == NULL)
		app_take_flash_into(c, v, &f);
	tv_set_bool(v, "autofocus", (in != NULL && in->title_error != NULL) ||
	    (f.code != NULL && strcmp(f.code, "added") == 0));
	/* Undo of a delete stands where the todo was: just above the todo
	 * next to it, when that one is on this page (else in the toast). */
	if (f.code != NULL && f.batch > 0 && strcmp(f.code, "deleted") == 0)
		for (i = 0; i < page.n; i++)
			if (page.items[i].id == f.focus)
				undo_row = f.focus;
	tv_set_bool(v, "undo_inline", undo_row != 0);
	if (f.code != NULL && f.batch > 0)
		tv_set_bool(v, "focus_undo", true);         /* deleted, cleared */
	else if (f.code != NULL && (strcmp(f.code, "toggled") == 0 ||
	    strcmp(f.code, "restored") == 0 || strcmp(f.code, "deleted") == 0 ||
	    strcmp(f.code, "saved") == 0))
		focus_row = f.focus;
	if (f.code != NULL && strncmp(f.code, "all", 3) == 0)
		tv_set_bool(v, "focus_toggle_all", true);
	set_search_values(c, v, st);
	/* Each row is written whole below; the rows' times in one block. */
	if ((rows = arena_alloc(c->arena, (page.n + 1) * sizeof(*rows))) == NULL ||
	    (times = arena_alloc(c->arena, (page.n + 1) * RELTIME_TEXT_BYTES)) == NULL) {
		app_fail(c, TD_ENOMEM);
		return;
	}
	for (i = 0; i < page.n; i++) {
		const struct todo *t = &page.items[i];
		struct reltime_at at = { t->created_us, t->created_off };
		struct row_view *row = &rows[i];
		struct reltime_text when;

		reltime_text_in(times + i * RELTIME_TEXT_BYTES, &at, &now, &when);
		row->created_at = (struct tv_text){ when.iso, when.iso_n };
		row->created_title = (struct tv_text){ when.title, when.title_n };
		row->created_human = (struct tv_text){ when.relative, when.relative_n };
		row->id = t->id;
		row->title = (struct tv_text){ t->title, t->title_n };
		row->description = (struct tv_text){ t->description, t->description_n };
		row->completed = t->completed;
		row->undo_here = t->id == undo_row;
		row->focus_toggle = focus_row != 0 && t->id == focus_row &&
		    strcmp(f.code, "saved") != 0;
		row->focus_edit = focus_row != 0 && t->id == focus_row &&
		    strcmp(f.code, "saved") == 0;
	}
	tv_set(v, "todos", tv_records(c->arena, rows, page.n, sizeof(*rows), row_fields,
	    sizeof(row_fields) / sizeof(row_fields[0])));
	tv_set_bool(v, "has_items", page.n > 0);
	tv_set_str(v, "empty_message", st->q != NULL ?
	    arena_printf(c->arena, "No todos match \u201c%s\u201d.", st->q) : empty[st->filter]);
	tv_set_bool(v, "any_todos", page.active + page.completed > 0);
	tv_set_bool(v, "all_completed", page.active == 0 && page.completed > 0);
	tv_set_bool(v, "has_completed", page.completed > 0);
	tv_set_int(v, "active_count", page.active);
	tv_set_int(v, "completed_count", page.completed);
	tv_set_str(v, "items_left", page.active == 1 ? "item" : "items");
	tv_set_str(v, "filter_label", labels[st->filter]);
	tv_set_bool(v, "filter_all", st->filter == FILTER_ALL);
	tv_set_bool(v, "filter_active", st->filter == FILTER_ACTIVE);
	tv_set_bool(v, "filter_completed", st->filter == FILTER_COMPLETED);
	tv_set_bool(v, "has_pages", page.has_older || page.has_newer);
	/* "51–100 of 501": where the page lies in the (searched) list. */
	if (page.n > 0) {
		struct buf range;

		buf_init(&range, c->arena);
		buf_put_i64(&range, page.before + 1);
		buf_puts(&range, "\u2013");
		buf_put_i64(&range, page.before + (int64_t)page.n);
		buf_append(&range, " of ", 4);
		buf_put_i64(&range, page.total > page.before + (int64_t)page.n ?
		    page.total : page.before + (int64_t)page.n);
		tv_set_str(v, "page_range", buf_ok(&range) ? range.data : NULL);
	}
	if (page.n > 0 && page.has_older) {
		struct page_cursor cur = { page.items[page.n - 1].created_us,
		    page.items[page.n - 1].id };
		tv_set_str(v, "older_url", list_url(c->arena, st->filter, PAGE_OLDER, &cur, st->q));
	}
	if (page.n > 0 && page.has_newer) {
		struct page_cursor cur = { page.items[0].created_us, page.items[0].id };
		tv_set_str(v, "newer_url", list_url(c->arena, st->filter, PAGE_NEWER, &cur, st->q));
	} else if (page.n == 0 && st->dir != PAGE_FIRST) {
		/* A rejected add form on an emptied page: offer the start. */
		tv_set_str(v, "newer_url", list_url(c->arena, st->filter, PAGE_FIRST, NULL, st->q));
		tv_set_bool(v, "has_pages", true);
	}
	app_render(c, status, "list", v);
}

/* The list page; in != NULL re-shows a rejected add form (422). */
static void
render_list(struct ctx *c, const struct list_state *st,
    const struct todo_input *in, int status)
{
	struct todo_page page;
	struct reltime_at now = { now_us(), 0 };
	struct list_fresh fresh;
	const char *self;
	enum td_status rc;
	void *answer;
	bool done;

	self = list_url(c->arena, st->filter, st->dir, &st->cursor, st->q);
	fresh = (struct list_fresh){ c, st, self, &now };
	/* The page's strings stay in the answer until it is rendered. */
	if ((rc = store_search_check(c->app->db, c->arena, c->who, st->q, st->filter,
	    st->dir, &st->cursor, &page, in == NULL ? list_fresh : NULL, &fresh,
	    &done, &answer)) != TD_OK) {
		app_fail(c, rc);
		return;
	}
	if (done)                   /* 304 */
		return;
	render_page(c, st, in, status, &page, self, now);
	store_answer_free(answer);
}

/* ---- handlers ---- */

void
todos_list(struct ctx *c)
{
	struct list_state st;
	const char *why = parse_list_state(c->arena, &c->req->query, &st);

	if (why != NULL) {
		app_error(c->app, c->arena, c->resp, 400, why);
		return;
	}
	render_list(c, &st, NULL, 200);
}

void
todos_create(struct ctx *c)
{
	const char *token = form_get(&c->req->body, "token", NULL);
	struct todo_input in;
	struct list_state st;
	struct form q;
	const char *ret;
	enum td_status rc;

	if (token != NULL && *token != '\0' && !valid_token(token)) {
		app_error(c->app, c->arena, c->resp, 400, "The form was damaged in transit. Please reload the page.");
		return;
	}
	if (token != NULL && *token == '\0')
		token = NULL;
	if (!validate(c, &in)) {
		if (in.title == NULL) {
			app_fail(c, TD_ENOMEM);
			return;
		}
		/* Show the same page again, with the input and the errors. */
		ret = return_url(c, form_get(&c->req->body, "return_to", NULL));
		ret = strchr(ret, '?');
		if (ret == NULL || form_parse(c->arena, ret + 1, strlen(ret + 1), 8, &q) != TD_OK ||
		    parse_list_state(c->arena, &q, &st) != NULL)
			st = (struct list_state){ FILTER_ALL, PAGE_FIRST, { 0, 0 }, NULL };
		render_list(c, &st, &in, 422);
		return;
	}
	if ((rc = store_create(c->app->db, c->who, in.title, in.description, token)) != TD_OK) {
		app_fail(c, rc);
		return;
	}
	redirect_back(c, "added");
}

static void
render_edit(struct ctx *c, const struct todo *t, int32_t now_off,
    const struct todo_input *in, int status)
{
	struct reltime_at now = { now_us(), now_off };
	struct reltime_at created = { t->created_us, t->created_off };
	struct reltime_at updated = { t->updated_us, t->updated_off };
	struct reltime_text cw, uw;
	const char *ret = return_url(c, in != NULL ?
	    form_get(&c->req->body, "return_to", NULL) :
	    form_get(&c->req->query, "return_to", NULL));
	struct todo_input shown;
	struct tv *v = app_page_values(c, "Edit");

	if (v == NULL || !reltime_text(c->arena, &created, &now, &cw) ||
	    !reltime_text(c->arena, &updated, &now, &uw)) {
		app_fail(c, TD_ENOMEM);
		return;
	}
	if (in == NULL) {
		memset(&shown, 0, sizeof(shown));
		shown.title_value = t->title;
		shown.description_value = t->description != NULL ? t->description : "";
		shown.completed = t->completed;
		in = &shown;
		set_form_fields(v, "edit", NULL);
		tv_set_str(v, "title_value", shown.title_value);
		tv_set_str(v, "description_value", shown.description_value);
	} else {
		set_form_fields(v, "edit", in);
	}
	tv_set_int(v, "id", t->id);
	tv_set_bool(v, "completed", in->completed);
	/* In the person's zone, like the list. */
	tv_set_str(v, "created_at", cw.iso);
	tv_set_str(v, "created_title", cw.title);
	tv_set_str(v, "created_human", cw.relative);
	tv_set_str(v, "updated_at", uw.iso);
	tv_set_str(v, "updated_title", uw.title);
	tv_set_str(v, "updated_human", uw.relative);
	tv_set_str(v, "return_to", ret);
	tv_set_bool(v, "autofocus", true);
	app_render(c, status, "edit", v);
}

void
todos_edit(struct ctx *c)
{
	struct todo t;
	int32_t now_off;
	enum td_status rc;

	if ((rc = store_get(c->app->db, c->arena, c->who, c->id, &t, &now_off)) != TD_OK) {
		app_fail(c, rc);
		return;
	}
	render_edit(c, &t, now_off, NULL, 200);
}

void
todos_update(struct ctx *c)
{
	struct todo_input in;
	struct todo t;
	int32_t now_off;
	enum td_status rc;

	if (!validate(c, &in)) {
		if (in.title == NULL) {
			app_fail(c, TD_ENOMEM);
			return;
		}
		/* One round trip: the todo must still exist to be edited. */
		if ((rc = store_get(c->app->db, c->arena, c->who, c->id, &t,
		    &now_off)) != TD_OK) {
			app_fail(c, rc);
			return;
		}
		render_edit(c, &t, now_off, &in, 422);
		return;
	}
	if ((rc = store_update(c->app->db, c->who, c->id, in.title, in.description,
	    in.completed)) != TD_OK) {
		app_fail(c, rc);
		return;
	}
	redirect_to(c, &(struct flash){ "saved", -1, 0, c->id, NULL }, AT_EDIT, c->id);
}

void
todos_toggle(struct ctx *c)
{
	struct store_change ch;
	struct list_state view = return_view(c);
	enum td_status rc = store_toggle_change(c->app->db, c->arena, c->who, c->id,
	    view.filter, view.q, &ch);

	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	/* Focus: the todo, or the one next to it when it left the view. */
	redirect_to(c, &(struct flash){ "toggled", -1, 0, ch.focus, NULL }, AT_TOGGLE,
	    ch.focus);
}

void
todos_delete(struct ctx *c)
{
	struct store_change ch;
	struct list_state view = return_view(c);
	enum td_status rc = store_delete_change(c->app->db, c->arena, c->who, c->id,
	    view.filter, view.q, &ch);

	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	/* Undo stands where the todo was (just above the one next to it) and
	 * has the focus; when a resend left no batch to undo, that todo has. */
	redirect_to(c, &(struct flash){ "deleted", -1, ch.batch, ch.focus, ch.title },
	    ch.batch > 0 ? AT_UNDO : AT_TOGGLE, ch.focus);
}

void
todos_toggle_all(struct ctx *c)
{
	struct store_change ch;
	enum td_status rc = store_toggle_all_change(c->app->db, c->who, &ch);

	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	redirect_to(c, &(struct flash){ ch.completed ? "all_done" : "all_active",
	    ch.count, 0, 0, NULL }, AT_TOP, 0);
}

void
todos_clear_completed(struct ctx *c)
{
	struct store_change ch;
	enum td_status rc = store_clear_change(c->app->db, c->who, &ch);

	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	redirect_to(c, &(struct flash){ "cleared", ch.count, ch.batch, 0, NULL },
	    ch.batch > 0 ? AT_UNDO : AT_TOP, 0);
}

/* A batch number as the Undo form sends it: 1..INT64_MAX in decimal. */
static bool
parse_batch(const char *s, int64_t *out)
{
	int64_t v = 0;
	int d;

	if (s == NULL || *s < '1' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = *s - '0';
		if (v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return *s == '\0';
}

void
todos_undo(struct ctx *c)
{
	struct store_change ch;
	enum td_status rc;
	int64_t batch;

	if (!parse_batch(form_get(&c->req->body, "batch", NULL), &batch)) {
		app_error(c->app, c->arena, c->resp, 400,
		    "The undo form was damaged in transit. Please reload the page.");
		return;
	}
	rc = store_undo(c->app->db, c->who, batch, &ch);
	if (rc == TD_ENOTFOUND) {
		/* Unknown, someone else's, expired or undone already (a second
		 * click): the same answer for all, and nothing changes. */
		redirect_to(c, &(struct flash){ "too_late", -1, 0, 0, NULL }, AT_TOP, 0);
		return;
	}
	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	redirect_to(c, &(struct flash){ "restored", ch.count, 0, ch.focus, NULL },
	    AT_TOGGLE, ch.focus);
}

void
todos_health(struct ctx *c)
{
	bool up = store_ping(c->app->db) == TD_OK;

	c->resp->status = up ? 200 : 503;
	response_header(c->resp, "Content-Type", "text/plain; charset=utf-8");
	response_header(c->resp, "Cache-Control", "no-store");
	buf_puts(&c->resp->body, up ? "ok\n" : "database unavailable\n");
}
