/* account.c - the account page and its forms: see account.h. */
#include "account.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "arena.h"
#include "buf.h"
#include "config.h"
#include "db.h"
#include "form.h"
#include "log.h"
#include "password.h"
#include "reltime.h"
#include "request.h"
#include "response.h"
#include "store.h"
#include "tmpl.h"

/* Errors of the page's forms, next to their fields. */
struct account_errors {
	const char *current_password;
	const char *new_password;
	const char *delete_password;
	const char *time_zone;
};

/* Set key (and key_title) to an instant as the person reads it: relative
 * text, local ISO time, local date and time. */
static bool
set_time(struct ctx *c, struct tv *v, const char *iso_key, const char *title_key,
    const char *human_key, int64_t us, int32_t off, const struct reltime_at *now)
{
	struct reltime_at at = { us, off };
	struct reltime_text t;

	if (!reltime_text(c->arena, &at, now, &t))
		return false;
	tv_set_str(v, iso_key, t.iso);
	tv_set_str(v, title_key, t.title);
	tv_set_str(v, human_key, t.relative);
	return true;
}

static bool
push_zone(struct arena *a, struct tv *list, const char *name, size_t n, bool selected)
{
	struct tv *item = tv_map(a);

	if (item == NULL || tv_push(list, item) != TD_OK)
		return false;
	tv_set(item, "name", tv_strn(a, name, n));
	tv_set_bool(item, "selected", selected);
	return true;
}

/* The select's options, the chosen one selected. A zone saved that the
 * list lacks (an alias such as US/Eastern) comes first, selected, so that
 * saving the form again does not change it. */
static struct tv *
zone_options(struct arena *a, const char *names, const char *chosen)
{
	struct tv *list = tv_list(a);
	size_t len = strlen(chosen);
	const char *p = names;
	bool found = false;

	if (list == NULL)
		return NULL;
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		bool sel = len == n && strncmp(p, chosen, n) == 0;

		if (!push_zone(a, list, p, n, sel))
			return NULL;
		found = found || sel;
		p += n;
		if (*p == '\n')
			p++;
	}
	if (!found) {
		struct tv *all = tv_list(a);

		if (all == NULL || !push_zone(a, all, chosen, len, true))
			return NULL;
		p = names;
		while (*p != '\0') {
			size_t n = strcspn(p, "\n");

			if (!push_zone(a, all, p, n, false))
				return NULL;
			p += n;
			if (*p == '\n')
				p++;
		}
		list = all;
	}
	return list;
}

static void
render_page(struct ctx *c, int status, const struct account_errors *e)
{
	struct account acct;
	struct tv *v, *list, *zones;
	struct timespec ts;
	struct reltime_at now;
	enum td_status rc;
	size_t i;

	if ((rc = store_account(c->app->db, c->arena, c->who, &acct)) != TD_OK) {
		app_fail(c, rc);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	now.us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	now.off_s = acct.now_off;
	if ((v = app_page_values(c, "Your account")) == NULL ||
	    (list = tv_list(c->arena)) == NULL ||
	    (zones = zone_options(c->arena, acct.time_zones, acct.time_zone)) == NULL ||
	    !set_time(c, v, "created_at", "created_title", "created_human",
	    acct.created_us, acct.created_off, &now)) {
		app_fail(c, TD_ENOMEM);
		return;
	}
	tv_set_str(v, "email", acct.email);
	tv_set_str(v, "time_zone", acct.time_zone);
	tv_set(v, "time_zones", zones);
	tv_set_int(v, "active", acct.active);
	tv_set_int(v, "completed", acct.completed);
	tv_set_int(v, "total", acct.active + acct.completed);
	for (i = 0; i < acct.nsessions; i++) {
		const struct session_info *si = &acct.sessions[i];
		struct tv *item = tv_map(c->arena);

		if (item == NULL || tv_push(list, item) != TD_OK) {
			app_fail(c, TD_ENOMEM);
			return;
		}
		tv_set_str(item, "user_agent", si->user_agent[0] != '\0' ?
		    si->user_agent : "Unknown browser");
		tv_set_bool(item, "current", si->current);
		if (!set_time(c, item, "signed_in_at", "signed_in_title", "signed_in_human",
		    si->created_us, si->created_off, &now) ||
		    !set_time(c, item, "last_seen", "last_seen_title", "last_seen_human",
		    si->last_seen_us, si->last_seen_off, &now)) {
			app_fail(c, TD_ENOMEM);
			return;
		}
	}
	tv_set(v, "sessions", list);
	tv_set_bool(v, "other_sessions", acct.nsessions > 1);
	if (e != NULL && e->current_password != NULL)
		tv_set_str(v, "current_error", e->current_password);
	if (e != NULL && e->new_password != NULL)
		tv_set_str(v, "new_error", e->new_password);
	if (e != NULL && e->delete_password != NULL)
		tv_set_str(v, "delete_error", e->delete_password);
	if (e != NULL && e->time_zone != NULL)
		tv_set_str(v, "time_zone_error", e->time_zone);
	tv_set_bool(v, "has_errors", e != NULL);
	if (e == NULL)
		app_take_flash(c, v);
	app_render(c, status, "account", v);
}

void
account_page(struct ctx *c)
{
	render_page(c, 200, NULL);
}

void
account_end_sessions(struct ctx *c)
{
	enum td_status rc;
	long n = 0;

	if ((rc = store_end_other_sessions(c->app->db, c->who, &n)) != TD_OK) {
		app_fail(c, rc);
		return;
	}
	log_info("account: %ld other session(s) signed out", n);
	app_redirect(c, "sessions", "/account");
}

/* Round trip one of a password form: the account's hash, checked against
 * what was typed. False when answered (wrong password: the page again,
 * 422, with *e's field set to the message). */
static bool
check_password(struct ctx *c, const char *field, struct account *acct,
    struct account_errors *e, const char **slot)
{
	const char *pw = form_get(&c->req->body, field, NULL);
	enum td_status rc;

	if ((rc = store_credentials(c->app->db, c->arena, c->who, acct)) != TD_OK) {
		app_fail(c, rc);
		return false;
	}
	if (pw == NULL || pw[0] == '\0') {
		*slot = "Please enter your current password.";
	} else if (strlen(pw) > PASSWORD_MAX_BYTES ||
	    !password_verify(acct->password_hash, pw, strlen(pw))) {
		log_warn("account: wrong password for %s from %s", acct->email,
		    c->req->remote_addr);
		*slot = "That is not your current password.";
	} else {
		return true;
	}
	render_page(c, 422, e);
	return false;
}

void
account_password(struct ctx *c)
{
	const char *pw = form_get(&c->req->body, "new_password", NULL), *why;
	char hash[crypto_pwhash_STRBYTES];
	struct account_errors e = { 0 };
	struct account acct;
	enum td_status rc;
	long ended = 0;

	if (!check_password(c, "current_password", &acct, &e, &e.current_password))
		return;
	if (pw == NULL)
		pw = "";
	switch (password_check(pw, strlen(pw), acct.email, &why)) {
	case TD_OK:
		break;
	case TD_EINVAL:
		e.new_password = why;
		render_page(c, 422, &e);
		return;
	default:
		log_error("password change: %s", why);
		app_fail(c, TD_EINTERNAL);
		return;
	}
	if (password_hash(pw, strlen(pw), hash) != TD_OK) {
		log_error("password hash: out of memory");
		response_header(c->resp, "Retry-After", "5");
		app_error(c->app, c->arena, c->resp, 503,
		    "The server is too busy to set a password right now. Please try again in a moment.");
		return;
	}
	rc = store_set_password(c->app->db, c->who, acct.password_hash, hash, &ended);
	if (rc == TD_ECONFLICT) {
		app_error(c->app, c->arena, c->resp, 409,
		    "Your password was changed from somewhere else meanwhile. Reload the page and try again.");
		return;
	}
	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	log_info("account: password changed for %s, %ld other session(s) signed out",
	    acct.email, ended);
	app_redirect(c, "password", "/account");
}

void
account_delete(struct ctx *c)
{
	struct account_errors e = { 0 };
	struct account acct;
	enum td_status rc;

	if (!check_password(c, "password", &acct, &e, &e.delete_password))
		return;
	rc = store_delete_account(c->app->db, c->who, acct.password_hash);
	if (rc == TD_ECONFLICT) {
		app_error(c->app, c->arena, c->resp, 409,
		    "Your password was changed from somewhere else meanwhile. Reload the page and try again.");
		return;
	}
	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	log_info("account: %s deleted their account", acct.email);
	app_session_cookie(c, NULL);
	app_redirect(c, "account_deleted", "/signup");
}

/* One round trip: the name is checked against pg_timezone_names by the
 * statement that saves it. */
void
account_time_zone(struct ctx *c)
{
	const char *name = form_get(&c->req->body, "time_zone", NULL);
	struct account_errors e = { 0 };
	enum td_status rc;

	/* Zone names are short ASCII (the longest is 32 bytes). */
	if (name == NULL || *name == '\0' || strlen(name) > 64 ||
	    name[strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-")] != '\0') {
		rc = TD_EINVAL;
	} else {
		rc = store_set_time_zone(c->app->db, c->who, name);
	}
	if (rc == TD_EINVAL) {
		e.time_zone = "That is not a time zone we know. Please choose one from the list.";
		render_page(c, 422, &e);
		return;
	}
	if (rc != TD_OK) {
		app_fail(c, rc);
		return;
	}
	app_redirect(c, "time_zone", "/account");
}

/* ---- exports ---- */

static void
json_string(struct buf *b, const char *s)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch == '\n')
			buf_puts(b, "\\n");
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(b, "\\u%04x", ch);
		else
			buf_putc(b, (char)ch);
	}
	buf_putc(b, '"');
}

/* RFC 4180: quoted when it holds a comma, a quote or a line break;
 * quotes doubled. Values are written as they are: a title that starts
 * with "=" is text to this file, whatever a spreadsheet makes of it. */
static void
csv_field(struct buf *b, const char *s)
{
	if (s[strcspn(s, ",\"\r\n")] == '\0') {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/*
 * An export has any number of todos: each is rendered as its row arrives
 * from PostgreSQL (store_export_each) into the response's buffer, and
 * once that holds EXPORT_CHUNK bytes the head goes out (the session is
 * good: its row came first) and then each full chunk, the buffer reused.
 * So a worker holds one chunk and one row whatever the size of the
 * account; an export under a chunk goes in one piece, with
 * Content-Length, and any error before the first chunk is still an error
 * page. An error after it cuts the response (response_stream_cut): the
 * client sees the connection dropped, never a shorter complete file.
 */

/* A row renders to at most about 13.4 KB (a 2,000-character description
 * of control characters as \u escapes): a chunk and a row stay within the
 * buffer's first 64 KiB (response.c), so it never grows. */
#define EXPORT_CHUNK	(48 * 1024)

struct export {
	struct ctx *c;
	const char *type, *filename;
	size_t n;                  /* todos rendered */
	enum td_status failed;     /* before anything was sent */
};

static void
export_headers(struct export *x)
{
	char disposition[64];

	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"",
	    x->filename);
	x->c->resp->status = 200;
	response_header(x->c->resp, "Content-Type", x->type);
	response_header(x->c->resp, "Content-Disposition", disposition);
	response_header(x->c->resp, "Cache-Control", "no-store");
}

/* After each row: send a full chunk. 0 for more rows. */
static int
export_flush(struct export *x)
{
	struct response *r = x->c->resp;
	enum td_status rc;

	if (r->cut)
		return 1;
	if (buf_ok(&r->body) && r->body.len < EXPORT_CHUNK)
		return 0;
	if (!buf_ok(&r->body) && !r->streamed) {
		x->failed = TD_ENOMEM;
		return 1;
	}
	if (!r->streamed) {
		export_headers(x);
		if ((rc = response_stream_start(r)) != TD_OK) {
			if (!r->streamed)
				x->failed = rc;
			return 1;
		}
		if (r->head)
			return 1;          /* HEAD: the head is all */
	}
	return response_stream_body(r) == TD_OK ? 0 : 1;
}

/* The end: the rest of the body, or the error page, or the cut. */
static void
export_finish(struct export *x, enum td_status rc, const char *tail)
{
	struct ctx *c = x->c;
	struct response *r = c->resp;

	if (rc == TD_OK)
		rc = x->failed;
	if (rc != TD_OK && !r->streamed) {
		r->body.len = 0;
		app_fail(c, rc);
		return;
	}
	if (rc != TD_OK) {
		log_error("export cut short after %zu todos: %s (%s)", x->n,
		    td_strerror(rc), db_last_error(c->app->db));
		/* For the worker's counters and log only: the head is gone. */
		r->status = rc == TD_EDB ? 503 : 500;
		response_stream_cut(r);
		return;
	}
	if (r->cut)
		return;                    /* the client went away */
	buf_puts(&r->body, tail);
	if (r->streamed)
		return;                    /* response_send() sends the rest */
	if (!buf_ok(&r->body)) {
		r->body.len = 0;
		app_fail(c, TD_ENOMEM);
		return;
	}
	export_headers(x);
}

static int
export_json_row(void *ctx, const struct todo *t)
{
	struct export *x = ctx;
	struct buf *b = &x->c->resp->body;

	buf_printf(b, "%s\n  {\"id\": %" PRId64 ", \"title\": ", x->n > 0 ? "," : "", t->id);
	json_string(b, t->title);
	buf_puts(b, ", \"description\": ");
	if (t->description != NULL)
		json_string(b, t->description);
	else
		buf_puts(b, "null");
	buf_printf(b, ", \"completed\": %s, \"created_at\": \"%s\", \"updated_at\": \"%s\"}",
	    t->completed ? "true" : "false", t->created_at, t->updated_at);
	x->n++;
	return export_flush(x);
}

/* A cut JSON export also lacks its closing bracket: invalid, whatever
 * the client makes of the dropped connection. */
void
account_export_json(struct ctx *c)
{
	struct export x = { c, "application/json; charset=utf-8", "todos.json", 0, TD_OK };
	enum td_status rc;

	buf_puts(&c->resp->body, "[");
	rc = store_export_each(c->app->db, c->who, export_json_row, &x);
	export_finish(&x, rc, x.n > 0 ? "\n]\n" : "]\n");
}

static int
export_csv_row(void *ctx, const struct todo *t)
{
	struct export *x = ctx;
	struct buf *b = &x->c->resp->body;

	buf_printf(b, "%" PRId64 ",", t->id);
	csv_field(b, t->title);
	buf_putc(b, ',');
	csv_field(b, t->description != NULL ? t->description : "");
	buf_printf(b, ",%s,%s,%s\r\n", t->completed ? "true" : "false",
	    t->created_at, t->updated_at);
	x->n++;
	return export_flush(x);
}

void
account_export_csv(struct ctx *c)
{
	struct export x = { c, "text/csv; charset=utf-8", "todos.csv", 0, TD_OK };
	enum td_status rc;

	buf_puts(&c->resp->body, "id,title,description,completed,created_at,updated_at\r\n");
	rc = store_export_each(c->app->db, c->who, export_csv_row, &x);
	export_finish(&x, rc, "");
}
