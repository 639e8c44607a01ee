/* app.c - see app.h. */
#include "app.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "arena.h"
#include "auth.h"
#include "buf.h"
#include "config.h"
#include "log.h"
#include "request.h"
#include "response.h"
#include "route.h"
#include "status_page.h"
#include "tmpl.h"
#include "todos.h"
#include "utf8.h"

#define FLASH_COOKIE "flash"
#define PRESESSION_MAX_AGE 3600

typedef void (*handler_fn)(struct ctx *);

/* Who may use a route. */
enum access {
	OPEN,          /* anyone: health, status, the root redirect */
	SIGN_IN_PAGE,  /* the sign-in and sign-up forms: pre-session cookie */
	SIGNED_IN,     /* a session; POSTs also its form token */
};

static const struct {
	handler_fn fn;
	enum access access;
} routes[ROUTE_COUNT] = {
	[ROUTE_ROOT] = { NULL, OPEN },          /* a redirect, answered below */
	[ROUTE_LIST] = { todos_list, SIGNED_IN },
	[ROUTE_CREATE] = { todos_create, SIGNED_IN },
	[ROUTE_EDIT] = { todos_edit, SIGNED_IN },
	[ROUTE_UPDATE] = { todos_update, SIGNED_IN },
	[ROUTE_TOGGLE] = { todos_toggle, SIGNED_IN },
	[ROUTE_DELETE] = { todos_delete, SIGNED_IN },
	[ROUTE_TOGGLE_ALL] = { todos_toggle_all, SIGNED_IN },
	[ROUTE_CLEAR] = { todos_clear_completed, SIGNED_IN },
	[ROUTE_UNDO] = { todos_undo, SIGNED_IN },
	[ROUTE_HEALTH] = { todos_health, OPEN },
	[ROUTE_STATUS] = { status_page_status, OPEN },
	[ROUTE_METRICS] = { status_page_metrics, OPEN },
	[ROUTE_SIGNUP_FORM] = { auth_signup_form, SIGN_IN_PAGE },
	[ROUTE_SIGNUP] = { auth_signup, SIGN_IN_PAGE },
	[ROUTE_LOGIN_FORM] = { auth_login_form, SIGN_IN_PAGE },
	[ROUTE_LOGIN] = { auth_login, SIGN_IN_PAGE },
	[ROUTE_LOGOUT] = { auth_logout, SIGNED_IN },
	[ROUTE_ACCOUNT] = { account_page, SIGNED_IN },
	[ROUTE_END_SESSIONS] = { account_end_sessions, SIGNED_IN },
	[ROUTE_PASSWORD] = { account_password, SIGNED_IN },
	[ROUTE_DELETE_ACCOUNT] = { account_delete, SIGNED_IN },
	[ROUTE_EXPORT_JSON] = { account_export_json, SIGNED_IN },
	[ROUTE_EXPORT_CSV] = { account_export_csv, SIGNED_IN },
	[ROUTE_TIME_ZONE] = { account_time_zone, SIGNED_IN },
};

/* Confirmation shown after a redirect, keyed by a short code in a cookie.
 * A counted one reads pre + count + one/many; without a count (or title,
 * for "deleted") it is the plain message. */
static const struct {
	const char *code;
	const char *message;
	const char *pre, *one, *many;
} flashes[] = {
	{ "added", "Todo added.", NULL, NULL, NULL },
	{ "saved", "Changes saved.", NULL, NULL, NULL },
	{ "toggled", "Todo updated.", NULL, NULL, NULL },
	{ "deleted", "Todo deleted.", NULL, NULL, NULL },
	{ "all", "All todos updated.", NULL, NULL, NULL },
	{ "all_done", "All todos updated.", "Marked ", " todo as complete.", " todos as complete." },
	{ "all_active", "All todos updated.", "Marked ", " todo as active.", " todos as active." },
	{ "cleared", "Completed todos cleared.", "Cleared ", " completed todo.", " completed todos." },
	{ "restored", "Todos restored.", "Restored ", " todo.", " todos." },
	{ "too_late", "Too late to undo: deleted todos are kept for 10 minutes.", NULL, NULL, NULL },
	{ "welcome", "Welcome! Your account is ready.", NULL, NULL, NULL },
	{ "signed_out", "You are signed out.", NULL, NULL, NULL },
	{ "sign_in", "Please sign in to continue.", NULL, NULL, NULL },
	{ "password", "Password changed. Every other session was signed out.", NULL, NULL, NULL },
	{ "sessions", "Every other session was signed out.", NULL, NULL, NULL },
	{ "account_deleted", "Your account and all its todos were deleted.", NULL, NULL, NULL },
	{ "time_zone", "Time zone saved.", NULL, NULL, NULL },
};
_Static_assert(STORE_UNDO_WINDOW_S == 10 * 60, "the too_late message says 10 minutes");

/* The deleted todo's title rides in the cookie (percent-encoded) rather
 * than being read again: the list page's statement stays what it is, and
 * the cookie stays small because the title is cut to this many
 * characters. A forged one only changes what the person's own page says,
 * and is escaped like every value. */
#define FLASH_TITLE_MAX 60

void
app_error(struct app *app, struct arena *a, struct response *resp, int status,
    const char *message)
{
	struct tv *v;

	/* The error page replaces whatever answer was begun. */
	response_clear_headers(resp);
	if (!buf_ok(&resp->body))
		buf_init(&resp->body, a);
	v = tv_map(a);
	resp->status = status;
	resp->body.len = 0;
	response_header(resp, "Content-Type", "text/html; charset=utf-8");
	response_header(resp, "Cache-Control", "no-store");
	/* A value the arena could not hold would leave the page blank. */
	if (v == NULL || tv_set_int(v, "status", status) != TD_OK ||
	    tv_set_str(v, "reason", response_reason(status)) != TD_OK ||
	    tv_set_str(v, "message", message) != TD_OK ||
	    /* head.html's <title>: "404 Not Found · Todos", not " · Todos". */
	    tv_set_str(v, "page_title", arena_printf(a, "%d %s", status,
	    response_reason(status))) != TD_OK ||
	    tv_set_str(v, "static_url", app->cfg->static_url) != TD_OK ||
	    tmpl_render(app->tmpl, "error", v, &resp->body) != TD_OK ||
	    !buf_ok(&resp->body)) {
		/* Out of memory or no template: a plain page still tells
		 * (and if even that fails, worker.c sends a fixed one). */
		buf_init(&resp->body, a);
		buf_printf(&resp->body, "<!doctype html><title>%d</title><p>%d %s</p><p>",
		    status, status, response_reason(status));
		buf_append_html(&resp->body, message, strlen(message));
		buf_puts(&resp->body, "</p>\n");
	}
}

/* This site's origin as a browser writes it: scheme://host[:port], the
 * port left out when it is the scheme's default. The host comes without
 * its port from Debian's nginx ($host), so the port is SERVER_PORT. */
static const char *
own_origin(const struct request *req, struct arena *a)
{
	const char *host = req->host, *colon = strrchr(host, ':');
	size_t hlen = strlen(host);
	bool dflt;

	if (colon != NULL && strchr(colon, ']') == NULL)
		hlen = (size_t)(colon - host);      /* drop "host:port"'s port */
	dflt = req->server_port[0] == '\0' ||
	    (strcmp(req->scheme, "http") == 0 && strcmp(req->server_port, "80") == 0) ||
	    (strcmp(req->scheme, "https") == 0 && strcmp(req->server_port, "443") == 0);
	return arena_printf(a, "%s://%.*s%s%s", req->scheme, (int)hlen, host,
	    dflt ? "" : ":", dflt ? "" : req->server_port);
}

/* A form post must come from this site: browsers say where a request comes
 * from in Sec-Fetch-Site and Origin; requests without either (old browsers,
 * curl) are let through. TODO_PUBLIC_ORIGIN, when set, is the only origin
 * accepted (use it behind proxies that change scheme or port). *expected
 * is the origin it was held against, for the log. */
static bool
same_site(const struct app *app, const struct request *req, struct arena *a,
    const char **expected)
{
	if (app->cfg->public_origin[0] != '\0')
		*expected = app->cfg->public_origin;
	else if ((*expected = own_origin(req, a)) == NULL) {
		*expected = "-";    /* out of memory */
		return false;
	}
	if (req->fetch_site != NULL && strcmp(req->fetch_site, "same-origin") != 0 &&
	    strcmp(req->fetch_site, "none") != 0)
		return false;
	if (req->origin == NULL)
		return true;
	return strcmp(req->origin, *expected) == 0;
}

static bool
is_post(const struct request *req)
{
	return strcmp(req->method, "POST") == 0;
}

static void
set_cookie(struct ctx *c, const char *name, const char *token, long max_age)
{
	char cookie[SESSION_COOKIE_MAX];

	if (session_cookie_header(cookie, sizeof(cookie), name, token, max_age,
	    c->app->cfg->cookie_secure) == TD_OK)
		response_header(c->resp, "Set-Cookie", cookie);
}

void
app_session_cookie(struct ctx *c, const char *token)
{
	set_cookie(c, session_cookie_name(c->app->cfg->cookie_secure), token,
	    token != NULL ? c->app->cfg->session_max : 0);
}

void
app_clear_presession(struct ctx *c)
{
	if (form_get(&c->req->cookies,
	    presession_cookie_name(c->app->cfg->cookie_secure), NULL) != NULL)
		set_cookie(c, presession_cookie_name(c->app->cfg->cookie_secure), NULL, 0);
}

/* Not signed in (no cookie, or the session ended): to the sign-in page,
 * coming back here afterwards when this was a page view. */
static void
signed_out(struct ctx *c)
{
	const char *to = "/login";
	struct buf b;

	if (c->who != NULL)
		app_session_cookie(c, NULL);       /* a dead cookie: forget it */
	if (!is_post(c->req) && strcmp(c->req->path, "/") != 0 &&
	    (strcmp(c->req->path, "/todos") != 0 || c->req->query_string[0] != '\0')) {
		buf_init(&b, c->arena);
		buf_puts(&b, "/login?return_to=");
		buf_append_urlenc(&b, c->req->path, strlen(c->req->path));
		if (c->req->query_string[0] != '\0') {
			buf_puts(&b, "%3F");
			buf_append_urlenc(&b, c->req->query_string,
			    strlen(c->req->query_string));
		}
		if (buf_ok(&b))
			to = b.data;
	}
	app_redirect(c, "sign_in", to);
}

void
app_fail(struct ctx *c, enum td_status rc)
{
	switch (rc) {
	case TD_ENOSESSION:
		signed_out(c);
		break;
	case TD_ENOTFOUND:
		app_error(c->app, c->arena, c->resp, 404, "There is no such todo. It may have been deleted.");
		break;
	case TD_EDB:
	case TD_ESCHEMA:
		response_header(c->resp, "Retry-After", "5");
		app_error(c->app, c->arena, c->resp, 503,
		    "The database is not answering right now. Please try again in a moment.");
		break;
	case TD_ECONFLICT:
		app_error(c->app, c->arena, c->resp, 409,
		    "That change conflicts with the saved todos (a limit or a rule of the list). Reload the page and try again.");
		break;
	case TD_ENOMEM:
		/* Running out of the request's memory (TODO_ARENA_CAP) while
		 * building the answer is ours, not the client's: a request too
		 * large to take is refused (413) by the parser, before this. */
		log_error("out of per-request memory (TODO_ARENA_CAP %d bytes, %zu in use)",
		    c->app->cfg->arena_cap, arena_used(c->arena));
		app_error(c->app, c->arena, c->resp, 500,
		    "That page needs more memory than this server gives one request. It has been logged.");
		break;
	case TD_EINTERNAL:
		app_error(c->app, c->arena, c->resp, 500, "Something went wrong on our side. It has been logged.");
		break;
	default:
		app_error(c->app, c->arena, c->resp, 400, "The request could not be understood.");
		break;
	}
}

struct tv *
app_page_values(struct ctx *c, const char *page_title)
{
	struct tv *v = tv_map(c->arena);

	if (v == NULL)
		return NULL;
	tv_set_str(v, "page_title", page_title);
	tv_set_str(v, "static_url", c->app->cfg->static_url);
	tv_set_str(v, "csrf_token", c->csrf);
	return v;
}

void
app_render(struct ctx *c, int status, const char *name, struct tv *v)
{
	enum td_status rc;

	if (v == NULL) {
		app_fail(c, TD_ENOMEM);
		return;
	}
	c->resp->status = status;
	response_header(c->resp, "Content-Type", "text/html; charset=utf-8");
	if (!response_has_header(c->resp, "Cache-Control"))  /* response_etag() */
		response_header(c->resp, "Cache-Control", "no-store");
	if ((rc = tmpl_render(c->app->tmpl, name, v, &c->resp->body)) != TD_OK) {
		log_error("rendering %s: %s", name, td_strerror(rc));
		app_fail(c, TD_ENOMEM);
	}
}

void
app_redirect(struct ctx *c, const char *flash, const char *to)
{
	struct flash f = { flash, -1, 0, 0, NULL };

	app_redirect_flash(c, &f, to);
}

static void
flash_cookie(struct ctx *c, const char *value, int max_age)
{
	const char *h = arena_printf(c->arena, FLASH_COOKIE "=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
	    value, max_age, c->app->cfg->cookie_secure ? "; Secure" : "");

	if (h != NULL)
		response_header(c->resp, "Set-Cookie", h);
}

/* Append the first FLASH_TITLE_MAX characters of title, with "…" when cut. */
static void
append_title(struct buf *b, const char *title)
{
	size_t n = 0, chars = 0;

	while (title[n] != '\0' && chars < FLASH_TITLE_MAX) {
		n++;
		while ((title[n] & 0xC0) == 0x80)
			n++;         /* the rest of a UTF-8 sequence */
		chars++;
	}
	buf_append_urlenc(b, title, n);
	if (title[n] != '\0')
		buf_append_urlenc(b, "\u2026", strlen("\u2026"));
}

/* Cookie value: "code", or "code.count.batch.focus.title" with empty
 * fields for what is not there, the title percent-encoded (no ';', ',',
 * space or quote can reach the header). */
void
app_redirect_flash(struct ctx *c, const struct flash *f, const char *to)
{
	struct buf b;

	if (f != NULL && f->code != NULL) {
		buf_init(&b, c->arena);
		buf_puts(&b, f->code);
		if (f->count >= 0 || f->batch > 0 || f->focus > 0 || f->title != NULL) {
			buf_putc(&b, '.');
			if (f->count >= 0)
				buf_printf(&b, "%ld", f->count);
			buf_putc(&b, '.');
			if (f->batch > 0)
				buf_printf(&b, "%" PRId64, f->batch);
			buf_putc(&b, '.');
			if (f->focus > 0)
				buf_printf(&b, "%" PRId64, f->focus);
			buf_putc(&b, '.');
			if (f->title != NULL)
				append_title(&b, f->title);
		}
		if (buf_ok(&b))
			flash_cookie(c, b.data, 60);
	}
	response_redirect(c->resp, 303, to);
}

/* The field at *p, up to the next '.' (skipped): empty (*out = -1) or
 * decimal, at most max digits, no leading zero, "0" only when zero_ok. */
static bool
flash_number(const char **p, size_t max, bool zero_ok, int64_t *out)
{
	const char *s = *p;
	size_t n = 0;
	int64_t v = 0;

	while (n < max && s[n] >= '0' && s[n] <= '9')
		v = v * 10 + (s[n++] - '0');
	if (s[n] != '.' || (n > 1 && s[0] == '0') ||
	    (n == 1 && s[0] == '0' && !zero_ok))
		return false;
	*out = n == 0 ? -1 : v;
	*p = s + n + 1;
	return true;
}

/* Parse a flash cookie value (already percent-decoded, valid UTF-8
 * without NUL: form.c) into *f; false for anything this app does not
 * write, which is then ignored whole. */
static bool
flash_parse(const char *v, struct flash *f, size_t *which)
{
	const char *dot = strchr(v, '.');
	size_t len = dot != NULL ? (size_t)(dot - v) : strlen(v), i;
	int64_t count, batch, focus;

	memset(f, 0, sizeof(*f));
	f->count = -1;
	for (i = 0; i < sizeof(flashes) / sizeof(flashes[0]); i++)
		if (strlen(flashes[i].code) == len && strncmp(v, flashes[i].code, len) == 0)
			break;
	if (i == sizeof(flashes) / sizeof(flashes[0]))
		return false;
	f->code = flashes[i].code;
	*which = i;
	if (dot == NULL)
		return true;
	v = dot + 1;
	if (!flash_number(&v, 9, true, &count) || !flash_number(&v, 18, false, &batch) ||
	    !flash_number(&v, 18, false, &focus))
		return false;
	/* What is left is the title: bounded, no control characters. */
	if (utf8_count(v, strlen(v)) > FLASH_TITLE_MAX + 1)
		return false;
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return false;
	f->count = (long)count;
	f->batch = batch > 0 ? batch : 0;
	f->focus = focus > 0 ? focus : 0;
	f->title = v[0] != '\0' ? v : NULL;
	return true;
}

/* The message for f (entry i of the table), in the arena. */
static const char *
flash_message(struct arena *a, const struct flash *f, size_t i)
{
	if (strcmp(f->code, "deleted") == 0 && f->title != NULL)
		return arena_printf(a, "Deleted \u201c%s\u201d.", f->title);
	if (flashes[i].pre == NULL || f->count < 0)
		return flashes[i].message;
	return arena_printf(a, "%s%ld%s", flashes[i].pre, f->count,
	    f->count == 1 ? flashes[i].one : flashes[i].many);
}

void
app_take_flash(struct ctx *c, struct tv *v)
{
	struct flash f;

	app_take_flash_into(c, v, &f);
}

bool
app_flash_pending(const struct ctx *c)
{
	return form_get(&c->req->cookies, FLASH_COOKIE, NULL) != NULL;
}

void
app_take_flash_into(struct ctx *c, struct tv *v, struct flash *out)
{
	const char *flash = form_get(&c->req->cookies, FLASH_COOKIE, NULL);
	size_t i;

	memset(out, 0, sizeof(*out));
	out->count = -1;
	if (flash == NULL)
		return;
	if (flash_parse(flash, out, &i)) {
		const char *m = flash_message(c->arena, out, i);

		tv_set_str(v, "flash", m != NULL ? m : flashes[i].message);
		/* Only deletes are undone. */
		if (out->batch > 0 && (strcmp(out->code, "deleted") == 0 ||
		    strcmp(out->code, "cleared") == 0))
			tv_set_int(v, "undo_batch", out->batch);
		else
			out->batch = 0;
	} else {
		memset(out, 0, sizeof(*out));
		out->count = -1;
	}
	flash_cookie(c, "", 0);
}

/* The form's csrf_token against the page's, in constant time. */
static bool
csrf_ok(struct ctx *c)
{
	const char *got = form_get(&c->req->body, "csrf_token", NULL);

	return c->csrf[0] != '\0' && got != NULL &&
	    csrf_check(c->csrf, got, strlen(got));
}

static void
refuse_form(struct ctx *c, const char *why, const char *message)
{
	log_warn("refused %s %s: %s", c->req->method, c->req->path, why);
	app_error(c->app, c->arena, c->resp, 403, message);
}

/* The session cookie into *who (c->who = who) and its hash, if one came.
 * Usually one cookie has the name; when several well-formed ones do (an
 * app on the same host with a more specific path or a parent domain sent
 * its own "session" first), the store says which is live here, so a
 * foreign cookie never signs anyone out. False when answered (the store
 * failed). */
#define SESSION_CANDIDATES 4
static bool
pick_session(struct ctx *c, struct store_session *who,
    unsigned char hash[SESSION_HASH_BYTES])
{
	const struct config *cfg = c->app->cfg;
	const char *name = session_cookie_name(cfg->cookie_secure);
	const struct form *jar = &c->req->cookies;
	struct store_session cands[SESSION_CANDIDATES];
	unsigned char hashes[SESSION_CANDIDATES][SESSION_HASH_BYTES];
	size_t i, j, n = 0;
	enum td_status rc;
	int pick = 0;

	for (i = 0; i < jar->n && n < SESSION_CANDIDATES; i++) {
		if (strcmp(jar->fields[i].key, name) != 0 ||
		    !session_parse_token(jar->fields[i].val, hashes[n]))
			continue;
		for (j = 0; j < n; j++)   /* the same cookie twice counts once */
			if (memcmp(hashes[j], hashes[n], SESSION_HASH_BYTES) == 0)
				break;
		if (j < n)
			continue;
		store_session_init(&cands[n], hashes[n], cfg->session_idle,
		    cfg->session_max, cfg->session_touch);
		n++;
	}
	if (n == 0)
		return true;
	if (n > 1) {
		if ((rc = store_session_pick(c->app->db, c->arena, cands, n,
		    &pick)) != TD_OK) {
			app_fail(c, rc);
			return false;
		}
		log_debug("%zu session cookies came; live: %d", n, pick);
		if (pick < 0)
			pick = 0;   /* none is live: the first, as with one */
	}
	*who = cands[pick];
	memcpy(hash, hashes[pick], SESSION_HASH_BYTES);
	c->who = who;
	return true;
}

/* Sessions and form tokens, before the handler. False when answered. */
static bool
check_access(struct ctx *c, enum access access, struct store_session *who)
{
	const struct config *cfg = c->app->cfg;
	unsigned char hash[SESSION_HASH_BYTES];
	char token[SESSION_TOKEN_B64_LEN + 1];
	const char *pre;

	if (!pick_session(c, who, hash))
		return false;
	if (c->who != NULL && access == SIGNED_IN)
		csrf_token_for(hash, c->csrf);
	if (access == SIGNED_IN) {
		if (c->who == NULL) {
			signed_out(c);
			return false;
		}
		if (is_post(c->req) && !csrf_ok(c)) {
			refuse_form(c, "missing or wrong csrf_token",
			    "This form has expired or did not come from this site. Go back, reload the page and try again.");
			return false;
		}
		return true;
	}
	/* A sign-in page: its forms are bound to a pre-session cookie. A
	 * page view gives it a fresh lifetime, so a form just shown never
	 * meets an expired one. */
	pre = form_get(&c->req->cookies, presession_cookie_name(cfg->cookie_secure), NULL);
	if (session_parse_token(pre, hash)) {
		csrf_token_for(hash, c->csrf);
		if (!is_post(c->req))
			set_cookie(c, presession_cookie_name(cfg->cookie_secure), pre,
			    PRESESSION_MAX_AGE);
	} else if (is_post(c->req)) {
		refuse_form(c, "no pre-session cookie",
		    "Signing in needs cookies. Please allow cookies for this site, reload the page and try again.");
		return false;
	} else if (session_new_token(token, hash) == TD_OK) {
		set_cookie(c, presession_cookie_name(cfg->cookie_secure), token,
		    PRESESSION_MAX_AGE);
		csrf_token_for(hash, c->csrf);
	}
	if (is_post(c->req) && !csrf_ok(c)) {
		refuse_form(c, "missing or wrong csrf_token",
		    "This form has expired. Go back, reload the page and try again.");
		return false;
	}
	return true;
}

int
app_handle(struct app *app, struct request *req, struct response *resp,
    struct arena *a)
{
	struct store_session who;
	struct route_match m;
	const char *expected;
	struct ctx c;

	/* Before anything can answer: every page of the app gets it. */
	if (app->cfg->hsts[0] != '\0')
		response_header(resp, "Strict-Transport-Security", app->cfg->hsts);
	switch (route_match(req->method, req->path, &m)) {
	case TD_OK:
		break;
	case TD_EINVAL:
		app_error(app, a, resp, 405, "This address does not take that kind of request.");
		response_header(resp, "Allow", m.allow);
		return ROUTE_NONE;
	default:
		app_error(app, a, resp, 404, "There is nothing at this address.");
		return ROUTE_NONE;
	}
	if (is_post(req) && !same_site(app, req, a, &expected)) {
		log_warn("refused cross-site %s %s: expected origin %s%s, received origin %s, sec-fetch-site %s",
		    req->method, req->path, expected,
		    app->cfg->public_origin[0] != '\0' ? " (TODO_PUBLIC_ORIGIN)" : " (from Host)",
		    req->origin ? req->origin : "-",
		    req->fetch_site ? req->fetch_site : "-");
		app_error(app, a, resp, 403, "Forms can only be sent from this site.");
		return m.route;
	}
	if (m.route == ROUTE_ROOT) {
		response_redirect(resp, 302, "/todos");
		return m.route;
	}
	memset(&c, 0, sizeof(c));
	c.app = app;
	c.req = req;
	c.resp = resp;
	c.arena = a;
	c.id = m.id;
	if (routes[m.route].access != OPEN &&
	    !check_access(&c, routes[m.route].access, &who))
		return m.route;
	routes[m.route].fn(&c);
	return m.route;
}
