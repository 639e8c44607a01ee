/* e2e_accounts.c - accounts end to end (issue 8, docs/accounts.md): real
 * nginx in front of the real pool and a real PostgreSQL, over HTTP, in the
 * development profile. People sign up and walk every route against each
 * other's ids and actions; what a request changed (or did not) is read
 * back through the other person's pages and straight from the database.
 *
 * Run by tests/e2e-harness, which exports TODO_E2E_PORT, the round-trip
 * proxy's TODO_E2E_RTPROXY_PID and TODO_E2E_RTPROXY_STATS, and runs the app
 * with TODO_LOGIN_WINDOW=3, TODO_LOGIN_MAX_FAILURES=3 and
 * TODO_LOGIN_MAX_ADDRESS_FAILURES=1000; tests/pg-harness exports
 * TODO_TEST_PGHOST, TODO_TEST_PGPORT and TODO_TEST_DBNAME for the admin
 * connection (superuser over the unix socket, straight to PostgreSQL),
 * which reads what was stored and ages sessions. Every person is new (the
 * pid and a counter in the email), so the tests share nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "e2e_admin.h"
#include "httpc.h"
#include "rtstats.h"

/* The development profile's cookie names (docs/accounts.md, Cookies). */
#define SESSION		"session"
#define PRESESSION	"presession"
#define TOKEN_LEN	43	/* base64url of 32 bytes */
#define WRONG_LOGIN	"Wrong email or password."
#define NO_SUCH_TODO	"There is no such todo"

static const char *host = "127.0.0.1";
static int port;

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *
header(const struct http_resp *r, const char *name)
{
	static char buf[1024];

	if (http_header(r, name, buf, sizeof(buf)) == NULL)
		return NULL;
	return buf;
}

/* s urlencoded, in a static buffer (one of four, used in turn, so a
 * format may take several). */
static const char *
enc(const char *s)
{
	static char bufs[4][2048];
	static int next;
	char *e = http_urlencode(s), *b = bufs[next++ % 4];

	assert_non_null(e);
	assert_true(strlen(e) < sizeof(bufs[0]));
	strcpy(b, e);
	free(e);
	return b;
}

/* %XX and '+' decoded into out (as long as s). */
static void
pct_decode(const char *s, char *out)
{
	unsigned int c;

	for (; *s != '\0'; s++) {
		if (*s == '%' && sscanf(s + 1, "%2x", &c) == 1) {
			*out++ = (char)c;
			s += 2;
		} else
			*out++ = *s == '+' ? ' ' : *s;
	}
	*out = '\0';
}

static bool
is_token(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != TOKEN_LEN)
		return false;
	for (i = 0; i < TOKEN_LEN; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return false;
	return true;
}

/* ---- the admin connection (e2e_admin.c) ---- */

#define admin() e2e_admin("e2e-accounts")
#define sql(q, p1, p2) e2e_sql(q, p1, p2)
#define sql_long(q, p1, p2) e2e_sql_long(q, p1, p2)

/* The row of a session cookie's token: the database keeps its SHA-256. */
#define BY_TOKEN "hash = sha256(decode(translate($1, '-_', '+/') || '=', 'base64'))"

static long
session_rows(const char *token)
{
	return sql_long("SELECT count(*) FROM sessions WHERE " BY_TOKEN, token, NULL);
}

/* ---- people ---- */

/* One browser of one person. Copies of a person are other browsers. */
struct person {
	char email[128];
	char password[64];
	char session[64];        /* the session cookie's value; "": none */
	char csrf[64];           /* the csrf_token of its pages' forms */
	char ua[128];            /* its User-Agent; "": none sent */
};

static int people;

static const char *
user_id(const struct person *p)
{
	static char id[32];

	snprintf(id, sizeof(id), "%s", sql("SELECT id FROM users WHERE email = $1",
	    p->email, NULL));
	return id;
}

/* A request as p (NULL: nobody): its cookie and User-Agent, then extra
 * header lines. body NULL: a GET; else a POST of body as it is. */
static void
as(const struct person *p, const char *path, const char *body,
    const char *extra, struct http_resp *r)
{
	char hdr[2048];
	int n = 0;

	hdr[0] = '\0';
	if (p != NULL && p->session[0] != '\0')
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "Cookie: "
		    SESSION "=%s\r\n", p->session);
	if (p != NULL && p->ua[0] != '\0')
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n,
		    "User-Agent: %s\r\n", p->ua);
	if (extra != NULL)
		n += snprintf(hdr + n, sizeof(hdr) - (size_t)n, "%s", extra);
	assert_true((size_t)n < sizeof(hdr));
	if (body == NULL)
		assert_int_equal(http_get(host, port, path, hdr, r), 0);
	else
		assert_int_equal(http_post_form(host, port, path, body, hdr, r), 0);
}

/* A POST from p's browser (its User-Agent) whose Cookie line is in hdr. */
static void
as_browser(const struct person *p, const char *path, const char *body,
    const char *hdr, struct http_resp *r)
{
	struct person bare = *p;

	bare.session[0] = '\0';
	as(&bare, path, body, hdr, r);
}

static void
get_as(const struct person *p, const char *path, struct http_resp *r)
{
	as(p, path, NULL, NULL, r);
}

/* A form post as p: fields (urlencoded, may be "") and p's csrf_token. */
static void
post_as(const struct person *p, const char *path, const char *fields,
    struct http_resp *r)
{
	char body[8192];

	snprintf(body, sizeof(body), "%s%scsrf_token=%s", fields,
	    fields[0] != '\0' ? "&" : "", p->csrf);
	as(p, path, body, NULL, r);
}

/* The csrf_token of every POST form in html is want (and there is one):
 * the number of POST forms. */
static int
post_forms_carry(const char *html, const char *want)
{
	const char *f = html, *end;
	char form[65536], *v;   /* the time zone form: ~490 options */
	int n = 0;

	while ((f = strstr(f, "<form")) != NULL) {
		end = strstr(f, "</form>");
		assert_non_null(end);
		assert_true((size_t)(end - f) < sizeof(form));
		memcpy(form, f, (size_t)(end - f));
		form[end - f] = '\0';
		f = end;
		if (strcasestr(form, "method=\"post\"") == NULL)
			continue;
		n++;
		v = http_form_value(form, "csrf_token");
		if (v == NULL || strcmp(v, want) != 0)
			fail_msg("a POST form's csrf_token is %s, not %s: %.200s",
			    v != NULL ? v : "(none)", want, form);
		free(v);
	}
	return n;
}

/* The pre-session of a sign-in or sign-up form: GET path without cookies
 * sets it; the form carries its csrf_token. */
struct pre {
	char cookie[64];
	char csrf[64];
};

static void
pre_session(const char *path, struct pre *pre)
{
	struct http_resp r;
	char *v;

	get_as(NULL, path, &r);
	assert_int_equal(r.status, 200);
	if (http_cookie_value(&r, PRESESSION, pre->cookie, sizeof(pre->cookie)) == NULL)
		fail_msg("GET %s set no " PRESESSION " cookie", path);
	assert_true(is_token(pre->cookie));
	v = http_form_value(r.body, "csrf_token");
	assert_non_null(v);
	assert_true(strlen(v) > 0 && strlen(v) < sizeof(pre->csrf));
	strcpy(pre->csrf, v);
	free(v);
	assert_true(post_forms_carry(r.body, pre->csrf) >= 1);
	http_resp_free(&r);
}

/* p's csrf_token, from its list page (which must answer 200). */
static void
refresh_csrf(struct person *p)
{
	struct http_resp r;
	char *v;

	get_as(p, "/todos", &r);
	if (r.status != 200)
		fail_msg("GET /todos as %s answered %d (Location %s)", p->email,
		    r.status, header(&r, "Location") != NULL ? header(&r, "Location") : "-");
	v = http_form_value(r.body, "csrf_token");
	assert_non_null(v);
	assert_true(strlen(v) > 0 && strlen(v) < sizeof(p->csrf));
	strcpy(p->csrf, v);
	free(v);
	http_resp_free(&r);
}

/* A sign-in or sign-up answered r: take its session cookie. */
static void
take_session(struct person *p, const struct http_resp *r)
{
	char v[128];

	if (http_cookie_value(r, SESSION, v, sizeof(v)) == NULL)
		fail_msg("no " SESSION " cookie set (status %d)", r->status);
	if (!is_token(v))
		fail_msg("the " SESSION " cookie is not 43 characters of "
		    "base64url: \"%s\"", v);
	strcpy(p->session, v);
	refresh_csrf(p);
}

static void
new_person(struct person *p, const char *tag)
{
	memset(p, 0, sizeof(*p));
	people++;
	snprintf(p->email, sizeof(p->email), "%s-%ld-%d@example.test", tag,
	    (long)getpid(), people);
	snprintf(p->password, sizeof(p->password),
	    "correct horse battery staple %d", people);
}

/* POST /signup as a new browser with p's email and password (fields
 * appended if not NULL); the answer in r. */
static void
signup_post(const struct person *p, const char *password, struct http_resp *r)
{
	struct pre pre;
	char body[2048], hdr[256];

	pre_session("/signup", &pre);
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s",
	    enc(p->email), enc(password), pre.csrf);
	snprintf(hdr, sizeof(hdr), "Cookie: " PRESESSION "=%s\r\n", pre.cookie);
	as_browser(p, "/signup", body, hdr, r);
}

/* A new person, signed up and signed in. */
static void
signup(struct person *p, const char *tag, const char *ua)
{
	struct http_resp r;

	new_person(p, tag);
	if (ua != NULL)
		snprintf(p->ua, sizeof(p->ua), "%s", ua);
	signup_post(p, p->password, &r);
	if (r.status != 303)
		fail_msg("POST /signup as %s answered %d: %.300s", p->email, r.status,
		    r.body);
	assert_string_equal(header(&r, "Location"), "/todos");
	take_session(p, &r);
	http_resp_free(&r);
}

/* POST /login as p's browser (its session cookie sent along when it has
 * one) with password and return_to (NULL: none); the answer in r. */
static void
login_post(const struct person *p, const char *password, const char *return_to,
    struct http_resp *r)
{
	struct pre pre;
	char body[2048], hdr[256];

	pre_session("/login", &pre);
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s%s%s",
	    enc(p->email), enc(password), pre.csrf,
	    return_to != NULL ? "&return_to=" : "",
	    return_to != NULL ? enc(return_to) : "");
	if (p->session[0] != '\0')
		snprintf(hdr, sizeof(hdr), "Cookie: " PRESESSION "=%s; " SESSION
		    "=%s\r\n", pre.cookie, p->session);
	else
		snprintf(hdr, sizeof(hdr), "Cookie: " PRESESSION "=%s\r\n",
		    pre.cookie);
	as_browser(p, "/login", body, hdr, r);
}

/* p signs in (again) in its own browser; returns the Location. */
static const char *
login(struct person *p, const char *return_to)
{
	static char loc[1024];
	struct http_resp r;

	login_post(p, p->password, return_to, &r);
	if (r.status != 303)
		fail_msg("POST /login as %s answered %d: %.300s", p->email, r.status,
		    r.body);
	snprintf(loc, sizeof(loc), "%s", header(&r, "Location"));
	take_session(p, &r);
	http_resp_free(&r);
	return loc;
}

/* Another browser of p, signed in: a new session of the same person. */
static void
other_browser(const struct person *p, struct person *b, const char *ua)
{
	*b = *p;
	b->session[0] = b->csrf[0] = '\0';
	snprintf(b->ua, sizeof(b->ua), "%s", ua != NULL ? ua : "");
	login(b, NULL);
}

/* The answer is the way to sign in: 303 to /login, with return_to the
 * page asked for (NULL: any or none). */
static void
assert_to_login(const struct http_resp *r, const char *return_to)
{
	const char *loc = header(r, "Location");
	char got[1024];

	if (r->status != 303 || loc == NULL)
		fail_msg("answered %d (Location %s), not 303 to /login", r->status,
		    loc != NULL ? loc : "-");
	if (strcmp(loc, "/login") != 0 && strncmp(loc, "/login?", 7) != 0)
		fail_msg("Location %s, not /login", loc);
	if (return_to == NULL)
		return;
	/* The list is where a sign-in goes anyway: the web side leaves
	 * return_to out for it (docs/accounts.md asks for it always). */
	if (strcmp(return_to, "/todos") == 0 && strcmp(loc, "/login") == 0)
		return;
	if (strncmp(loc, "/login?return_to=", 17) != 0)
		fail_msg("Location %s, not /login?return_to=...", loc);
	assert_null(strchr(loc + 17, '&'));
	pct_decode(loc + 17, got);
	if (strcmp(got, return_to) != 0)
		fail_msg("Location %s: return_to is \"%s\", not \"%s\"", loc, got,
		    return_to);
}

/* p's session works: its list page answers 200. */
static bool
signed_in(const struct person *p)
{
	struct http_resp r;
	bool ok;

	get_as(p, "/todos", &r);
	if (r.status != 200 && r.status != 303)
		fail_msg("GET /todos as %s answered %d", p->email, r.status);
	ok = r.status == 200 && strstr(r.body, p->email) != NULL;
	if (!ok)
		assert_to_login(&r, "/todos");
	http_resp_free(&r);
	return ok;
}

/* Add a todo as p; its id (from the database). */
static long
add(const struct person *p, const char *title, const char *description)
{
	struct http_resp r;
	char fields[4096];
	long id;

	snprintf(fields, sizeof(fields), "title=%s&description=%s", enc(title),
	    enc(description != NULL ? description : ""));
	post_as(p, "/todos", fields, &r);
	if (r.status != 303)
		fail_msg("adding \"%s\" as %s answered %d: %.300s", title, p->email,
		    r.status, r.body);
	http_resp_free(&r);
	id = sql_long("SELECT max(t.id) FROM todos t JOIN users u ON u.id = t.user_id "
	    "WHERE u.email = $1 AND t.title = $2", p->email, title);
	assert_true(id > 0);
	return id;
}

/* "title|t" or "title|f": the todo as stored; "" when it is gone. */
static const char *
todo_state(long id)
{
	char s[32];

	snprintf(s, sizeof(s), "%ld", id);
	return sql("SELECT title || '|' || CASE WHEN completed THEN 't' ELSE 'f' END "
	    "FROM todos WHERE id = $1", s, NULL);
}

/* Everything of p's that a request could change, as one string. */
static const char *
snapshot(const struct person *p)
{
	return sql("SELECT coalesce((SELECT string_agg(id || ':' || title || ':' || "
	    "completed || ':' || coalesce(description, '-'), ',' ORDER BY id) "
	    "FROM todos WHERE user_id = u.id), '') || ' sessions=' || "
	    "(SELECT count(*) FROM sessions WHERE user_id = u.id) || ' hash=' || "
	    "md5(u.password_hash) FROM users u WHERE u.email = $1", p->email, NULL);
}

static void
set_toggle(const struct person *p, long id)
{
	struct http_resp r;
	char path[64];

	snprintf(path, sizeof(path), "/todos/%ld/toggle", id);
	post_as(p, path, "", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
}

/* The list page's count line of p holds "<strong>A</strong> item(s) left,
 * <strong>C</strong> completed". */
static void
assert_counts(const struct person *p, int active, int completed)
{
	struct http_resp r;
	char want[128];

	snprintf(want, sizeof(want), "<strong>%d</strong> %s left, <strong>%d</strong> completed",
	    active, active == 1 ? "item" : "items", completed);
	get_as(p, "/todos", &r);
	assert_int_equal(r.status, 200);
	if (strstr(r.body, want) == NULL)
		fail_msg("%s's list page has no \"%s\"", p->email, want);
	http_resp_free(&r);
}

/* ---- sign-up, the cookies, the pages ---- */

/* Max-Age of the session cookie: TODO_SESSION_MAX, else its default. */
static long
session_max(void)
{
	const char *m = getenv("TODO_SESSION_MAX");

	return m != NULL ? atol(m) : 2592000;
}

static void
assert_cookie_attrs(const char *line, long max_age)
{
	char v[64];

	if (http_cookie_attr(line, "HttpOnly", v, sizeof(v)) == NULL)
		fail_msg("no HttpOnly: %s", line);
	if (http_cookie_attr(line, "SameSite", v, sizeof(v)) == NULL ||
	    strcasecmp(v, "Lax") != 0)
		fail_msg("not SameSite=Lax: %s", line);
	if (http_cookie_attr(line, "Path", v, sizeof(v)) == NULL || strcmp(v, "/") != 0)
		fail_msg("not Path=/: %s", line);
	if (http_cookie_attr(line, "Max-Age", v, sizeof(v)) == NULL ||
	    atol(v) != max_age)
		fail_msg("not Max-Age=%ld: %s", max_age, line);
	/* Development is plain HTTP: a Secure cookie would be dropped. */
	if (http_cookie_attr(line, "Secure", v, sizeof(v)) != NULL)
		fail_msg("Secure in development: %s", line);
	if (http_cookie_attr(line, "Domain", v, sizeof(v)) != NULL)
		fail_msg("a Domain: %s", line);
	if (http_cookie_attr(line, "Expires", v, sizeof(v)) != NULL)
		fail_msg("Expires (Max-Age is the contract): %s", line);
}

static void
test_signup_signs_in_with_a_safe_cookie(void **state)
{
	struct http_resp r;
	struct person a;
	char line[512], v[128], *f;
	struct pre pre;

	(void)state;
	/* The forms set the pre-session cookie, HttpOnly, Lax, an hour. */
	get_as(NULL, "/signup", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(http_set_cookie(&r, PRESESSION, line, sizeof(line)));
	assert_cookie_attrs(line, 3600);
	assert_true(is_token(http_cookie_value(&r, PRESESSION, v, sizeof(v))));
	assert_non_null(strstr(r.body, "name=\"email\""));
	assert_non_null(strstr(r.body, "name=\"password\""));
	assert_non_null(strstr(r.body, "<label"));
	assert_null(strstr(r.body, "<script"));
	http_resp_free(&r);
	/* When the browser has one, the same one again with a fresh
	 * lifetime: the form's token stays valid. */
	pre_session("/login", &pre);
	snprintf(line, sizeof(line), "Cookie: " PRESESSION "=%s\r\n", pre.cookie);
	as(NULL, "/login", NULL, line, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(http_set_cookie(&r, PRESESSION, line, sizeof(line)));
	assert_cookie_attrs(line, 3600);
	assert_non_null(http_cookie_value(&r, PRESESSION, v, sizeof(v)));
	assert_string_equal(v, pre.cookie);
	f = http_form_value(r.body, "csrf_token");
	assert_non_null(f);
	assert_string_equal(f, pre.csrf);
	free(f);
	http_resp_free(&r);

	new_person(&a, "signup");
	signup_post(&a, a.password, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/todos");
	assert_non_null(http_set_cookie(&r, SESSION, line, sizeof(line)));
	assert_cookie_attrs(line, session_max());
	assert_true(is_token(http_cookie_value(&r, SESSION, v, sizeof(v))));
	take_session(&a, &r);
	http_resp_free(&r);

	/* One account, one session, kept as a hash only. */
	assert_int_equal(sql_long("SELECT count(*) FROM users WHERE email = $1",
	    a.email, NULL), 1);
	assert_int_equal(sql_long("SELECT count(*) FROM sessions WHERE user_id = $1",
	    user_id(&a), NULL), 1);
	assert_int_equal(session_rows(a.session), 1);
	assert_int_equal(sql_long("SELECT count(*) FROM sessions WHERE "
	    "strpos(encode(hash, 'escape'), $1) > 0", a.session, NULL), 0);
	assert_null(strstr(sql("SELECT password_hash FROM users WHERE email = $1",
	    a.email, NULL), a.password));
	assert_non_null(strstr(sql("SELECT password_hash FROM users WHERE email = $1",
	    a.email, NULL), "$argon2id$"));

	/* The list page: who is signed in, a sign-out button, every form
	 * with the session's token. */
	get_as(&a, "/todos", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, a.email));
	assert_non_null(strstr(r.body, "action=\"/logout\""));
	assert_true(post_forms_carry(r.body, a.csrf) >= 2);
	assert_null(strstr(r.body, "<script"));
	http_resp_free(&r);
	/* The pre-session's token is not the session's. */
	assert_string_not_equal(a.csrf, pre.csrf);
}

/* ---- signed out ---- */

static void
test_signed_out_pages_go_to_login(void **state)
{
	static const char *const pages[] = {
		"/todos", "/todos?filter=active", "/account",
		"/account/export.json", "/account/export.csv", "/todos/1/edit",
	};
	static const char *const cookies[] = {
		NULL,
		"Cookie: " SESSION "=\r\n",
		"Cookie: " SESSION "=not-a-token\r\n",
		/* Well-formed, but no such session. */
		"Cookie: " SESSION "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n",
	};
	struct http_resp r;
	size_t i, j;

	(void)state;
	for (j = 0; j < sizeof(cookies) / sizeof(cookies[0]); j++)
		for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
			as(NULL, pages[i], NULL, cookies[j], &r);
			if (r.status != 303)
				fail_msg("GET %s signed out (%s) answered %d", pages[i],
				    cookies[j] != NULL ? cookies[j] : "no cookie", r.status);
			assert_to_login(&r, pages[i]);
			http_resp_free(&r);
		}
	/* "/" is only a redirect to the list (no database), which then
	 * asks to sign in: no page is shown either way. */
	get_as(NULL, "/", &r);
	if (r.status == 302)
		assert_string_equal(header(&r, "Location"), "/todos");
	else
		assert_to_login(&r, "/");
	http_resp_free(&r);
	/* What needs no account. */
	get_as(NULL, "/healthz", &r);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	get_as(NULL, "/static/app.css", &r);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	get_as(NULL, "/signup", &r);
	assert_int_equal(r.status, 200);
	http_resp_free(&r);
	/* The sign-in form carries return_to on to the post. */
	get_as(NULL, "/login?return_to=%2Ftodos%3Ffilter%3Dactive", &r);
	assert_int_equal(r.status, 200);
	{
		char *v = http_form_value(r.body, "return_to");

		if (v == NULL)
			fail_msg("GET /login?return_to=...: no return_to field in the form");
		assert_string_equal(v, "/todos?filter=active");
		free(v);
	}
	http_resp_free(&r);
}

static void
test_signed_out_posts_change_nothing(void **state)
{
	struct person a, nobody;
	struct http_resp r;
	char path[64], before[4096], fields[1024];
	long id, done;
	int i;

	(void)state;
	signup(&a, "postout", NULL);
	id = add(&a, "Keep me", NULL);
	done = add(&a, "Keep me done", NULL);
	set_toggle(&a, done);
	snprintf(before, sizeof(before), "%s", snapshot(&a));
	/* No cookie (with the person's own form token, as a page left open
	 * after signing out would send), and a cookie of no session. */
	nobody = a;
	for (i = 0; i < 2; i++) {
		snprintf(nobody.session, sizeof(nobody.session), "%s",
		    i == 0 ? "" : "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
		post_as(&nobody, "/todos", "title=Signed+out", &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		snprintf(path, sizeof(path), "/todos/%ld", id);
		post_as(&nobody, path, "title=Renamed&completed=on", &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		snprintf(path, sizeof(path), "/todos/%ld/toggle", id);
		post_as(&nobody, path, "", &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		snprintf(path, sizeof(path), "/todos/%ld/delete", id);
		post_as(&nobody, path, "", &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		post_as(&nobody, "/todos/toggle-all", "", &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		post_as(&nobody, "/todos/clear-completed", "", &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		snprintf(fields, sizeof(fields), "current_password=%s&new_password=%s",
		    enc(a.password), enc("a new passphrase for nobody"));
		post_as(&nobody, "/account/password", fields, &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		snprintf(fields, sizeof(fields), "password=%s", enc(a.password));
		post_as(&nobody, "/account/delete", fields, &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		post_as(&nobody, "/account/sessions/revoke", "", &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		post_as(&nobody, "/logout", "", &r);
		assert_to_login(&r, NULL);
		http_resp_free(&r);
		assert_string_equal(snapshot(&a), before);
	}
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = 'Signed out'",
	    NULL, NULL), 0);
	assert_true(signed_in(&a));
}

/* ---- two people ---- */

/* Every route of a todo, as p against id (someone else's, or none):
 * 404, the todo's own "no such todo" page, nothing of it shown. */
static void
assert_not_theirs(const struct person *p, long id, const char *title)
{
	static const struct {
		const char *tail, *fields;    /* fields NULL: a GET */
	} routes[] = {
		{ "/edit", NULL },
		{ "/edit?return_to=%2Ftodos", NULL },
		{ "", "title=Hijacked&description=mine&completed=on" },
		{ "/toggle", "" },
		{ "/delete", "" },
	};
	struct http_resp r;
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		snprintf(path, sizeof(path), "/todos/%ld%s", id, routes[i].tail);
		if (routes[i].fields == NULL)
			get_as(p, path, &r);
		else
			post_as(p, path, routes[i].fields, &r);
		if (r.status != 404)
			fail_msg("%s %s as %s (not theirs) answered %d",
			    routes[i].fields == NULL ? "GET" : "POST", path, p->email,
			    r.status);
		assert_non_null(strstr(r.body, NO_SUCH_TODO));
		if (title != NULL)
			assert_null(strstr(r.body, title));
		http_resp_free(&r);
	}
}

static void
test_another_persons_todo_is_not_found(void **state)
{
	struct person a, b;
	struct http_resp r;
	char a_title[64], b_title[64], path[128], *v;
	long a_id, b_id, gone;

	(void)state;
	signup(&a, "iso-a", NULL);
	signup(&b, "iso-b", NULL);
	snprintf(a_title, sizeof(a_title), "A private %ld", (long)getpid());
	snprintf(b_title, sizeof(b_title), "B private %ld", (long)getpid());
	a_id = add(&a, a_title, "A's words");
	b_id = add(&b, b_title, "B's words");
	/* An id that does not exist answers the same. */
	gone = add(&a, "Deleted soon", NULL);
	snprintf(path, sizeof(path), "/todos/%ld/delete", gone);
	post_as(&a, path, "", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	assert_not_theirs(&a, gone, NULL);

	assert_not_theirs(&a, b_id, b_title);
	assert_not_theirs(&b, a_id, a_title);
	snprintf(path, sizeof(path), "%s|f", a_title);
	assert_string_equal(todo_state(a_id), path);
	snprintf(path, sizeof(path), "%s|f", b_title);
	assert_string_equal(todo_state(b_id), path);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = 'Hijacked'",
	    NULL, NULL), 0);

	/* Each one's pages show their own todo, and only theirs. */
	snprintf(path, sizeof(path), "/todos/%ld/edit", b_id);
	get_as(&b, path, &r);
	assert_int_equal(r.status, 200);
	v = http_form_value(r.body, "title");
	assert_non_null(v);
	assert_string_equal(v, b_title);
	free(v);
	assert_true(post_forms_carry(r.body, b.csrf) >= 1);
	http_resp_free(&r);
	get_as(&a, "/todos", &r);
	assert_non_null(strstr(r.body, a_title));
	assert_null(strstr(r.body, b_title));
	assert_null(strstr(r.body, b.email));
	http_resp_free(&r);
	get_as(&b, "/todos", &r);
	assert_non_null(strstr(r.body, b_title));
	assert_null(strstr(r.body, a_title));
	assert_null(strstr(r.body, a.email));
	http_resp_free(&r);
	assert_counts(&a, 1, 0);
	assert_counts(&b, 1, 0);
}

static void
test_toggle_all_and_clear_completed_are_per_person(void **state)
{
	struct person a, b;
	struct http_resp r;
	long a1, a2, b1, b2;

	(void)state;
	signup(&a, "all-a", NULL);
	signup(&b, "all-b", NULL);
	a1 = add(&a, "a one", NULL);
	a2 = add(&a, "a two", NULL);
	b1 = add(&b, "b open", NULL);
	b2 = add(&b, "b done", NULL);
	set_toggle(&b, b2);
	assert_counts(&a, 2, 0);
	assert_counts(&b, 1, 1);

	/* A completes all of A's... */
	post_as(&a, "/todos/toggle-all", "", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	assert_string_equal(todo_state(a1), "a one|t");
	assert_string_equal(todo_state(a2), "a two|t");
	assert_string_equal(todo_state(b1), "b open|f");
	assert_string_equal(todo_state(b2), "b done|t");
	assert_counts(&a, 0, 2);
	assert_counts(&b, 1, 1);
	/* ...and, all of them complete (B's open one does not count),
	 * reopens all of A's; B's completed one stays. */
	post_as(&a, "/todos/toggle-all", "", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	assert_string_equal(todo_state(a1), "a one|f");
	assert_string_equal(todo_state(a2), "a two|f");
	assert_string_equal(todo_state(b2), "b done|t");
	assert_counts(&a, 2, 0);
	assert_counts(&b, 1, 1);

	/* Clear completed: A's only. */
	set_toggle(&a, a2);
	post_as(&a, "/todos/clear-completed", "", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	assert_string_equal(todo_state(a1), "a one|f");
	assert_string_equal(todo_state(a2), "");
	assert_string_equal(todo_state(b2), "b done|t");
	assert_counts(&a, 1, 0);
	assert_counts(&b, 1, 1);
	/* And the counts kept per person in the database agree. */
	assert_string_equal(sql("SELECT active || '/' || completed FROM todo_counts "
	    "WHERE user_id = $1", user_id(&a), NULL), "1/0");
	assert_string_equal(sql("SELECT active || '/' || completed FROM todo_counts "
	    "WHERE user_id = $1", user_id(&b), NULL), "1/1");
}

/* ---- CSRF ---- */

/* Every form post of a, with the token token_field ("" to leave it out):
 * 403 each, and nothing of a's changed. */
static void
assert_posts_refused(const struct person *a, long id, const char *token_field)
{
	char fields[20][512], paths[20][64], before[4096];
	struct http_resp r;
	char hdr[128], body[512 + 10240 + 2];
	int i, n = 0;

	snprintf(before, sizeof(before), "%s", snapshot(a));
#define ROUTE(p, ...) do { \
	snprintf(paths[n], sizeof(paths[n]), "%s", p); \
	snprintf(fields[n], sizeof(fields[n]), __VA_ARGS__); \
	n++; \
} while (0)
	ROUTE("/todos", "title=Forged");
	snprintf(paths[n], sizeof(paths[n]), "/todos/%ld", id);
	snprintf(fields[n++], sizeof(fields[0]), "title=Forged&completed=on");
	snprintf(paths[n], sizeof(paths[n]), "/todos/%ld/toggle", id);
	fields[n++][0] = '\0';
	snprintf(paths[n], sizeof(paths[n]), "/todos/%ld/delete", id);
	fields[n++][0] = '\0';
	ROUTE("/todos/toggle-all", "return_to=%%2Ftodos");
	ROUTE("/todos/clear-completed", "return_to=%%2Ftodos");
	ROUTE("/account/sessions/revoke", "x=1");
	ROUTE("/account/password", "current_password=%s&new_password=%s",
	    enc(a->password), enc("forged passphrase, never set"));
	ROUTE("/account/delete", "password=%s", enc(a->password));
	ROUTE("/logout", "x=1");
#undef ROUTE
	snprintf(hdr, sizeof(hdr), "Cookie: " SESSION "=%s\r\n", a->session);
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof(body), "%s%s%s", fields[i],
		    fields[i][0] != '\0' && token_field[0] != '\0' ? "&" : "",
		    token_field);
		as(NULL, paths[i], body, hdr, &r);
		if (r.status != 403)
			fail_msg("POST %s with \"%s\" answered %d, not 403", paths[i],
			    token_field, r.status);
		http_resp_free(&r);
	}
	assert_string_equal(snapshot(a), before);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = 'Forged'",
	    NULL, NULL), 0);
}

static void
test_csrf_missing_wrong_or_foreign(void **state)
{
	struct person a, a2, b;
	struct http_resp r;
	struct pre pre;
	char tok[128];
	long id, done;

	(void)state;
	signup(&a, "csrf-a", NULL);
	other_browser(&a, &a2, "SecondBrowser/1.0");
	signup(&b, "csrf-b", NULL);
	id = add(&a, "Not forged", NULL);
	done = add(&a, "Done, not cleared", NULL);
	set_toggle(&a, done);
	pre_session("/login", &pre);

	assert_posts_refused(&a, id, "");
	assert_posts_refused(&a, id, "csrf_token=");
	assert_posts_refused(&a, id, "csrf_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	/* One character off. */
	snprintf(tok, sizeof(tok), "csrf_token=%s", a.csrf);
	tok[11] = tok[11] == 'A' ? 'B' : 'A';
	assert_posts_refused(&a, id, tok);
	/* A's token with a prefix of it, and with more after it. */
	snprintf(tok, sizeof(tok), "csrf_token=%.*s", (int)strlen(a.csrf) - 1, a.csrf);
	assert_posts_refused(&a, id, tok);
	snprintf(tok, sizeof(tok), "csrf_token=%sA", a.csrf);
	assert_posts_refused(&a, id, tok);
	/* Another person's, A's other browser's, a sign-in form's. */
	snprintf(tok, sizeof(tok), "csrf_token=%s", b.csrf);
	assert_posts_refused(&a, id, tok);
	assert_string_not_equal(a.csrf, a2.csrf);
	snprintf(tok, sizeof(tok), "csrf_token=%s", a2.csrf);
	assert_posts_refused(&a, id, tok);
	snprintf(tok, sizeof(tok), "csrf_token=%s", pre.csrf);
	assert_posts_refused(&a, id, tok);

	/* Everyone is still signed in; the right token works. */
	assert_true(signed_in(&a));
	assert_true(signed_in(&a2));
	assert_true(signed_in(&b));
	post_as(&a, "/todos", "title=With+the+token", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = "
	    "'With the token' AND user_id = $1", user_id(&a), NULL), 1);
}

static void
test_sign_in_forms_need_the_pre_session(void **state)
{
	struct person a, n;
	struct http_resp r;
	struct pre pre, other;
	char body[1024], hdr[256], v[128];

	(void)state;
	signup(&a, "pre", NULL);
	new_person(&n, "pre-new");
	pre_session("/login", &pre);
	pre_session("/signup", &other);
	assert_string_not_equal(pre.cookie, other.cookie);
	assert_string_not_equal(pre.csrf, other.csrf);

	/* No pre-session cookie: a browser that refuses cookies. */
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s",
	    enc(a.email), enc(a.password), pre.csrf);
	as(NULL, "/login", body, NULL, &r);
	assert_int_equal(r.status, 403);
	assert_null(http_set_cookie(&r, SESSION, v, sizeof(v)));
	http_resp_free(&r);
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s",
	    enc(n.email), enc(n.password), other.csrf);
	as(NULL, "/signup", body, NULL, &r);
	assert_int_equal(r.status, 403);
	assert_null(http_set_cookie(&r, SESSION, v, sizeof(v)));
	http_resp_free(&r);

	/* The cookie of one form, the token of another; no token; a wrong
	 * one. */
	snprintf(hdr, sizeof(hdr), "Cookie: " PRESESSION "=%s\r\n", pre.cookie);
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s",
	    enc(a.email), enc(a.password), other.csrf);
	as(NULL, "/login", body, hdr, &r);
	assert_int_equal(r.status, 403);
	http_resp_free(&r);
	snprintf(body, sizeof(body), "email=%s&password=%s", enc(a.email),
	    enc(a.password));
	as(NULL, "/login", body, hdr, &r);
	assert_int_equal(r.status, 403);
	http_resp_free(&r);
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s",
	    enc(n.email), enc(n.password), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	as(NULL, "/signup", body, hdr, &r);
	assert_int_equal(r.status, 403);
	http_resp_free(&r);
	/* A session's token is no pre-session's. */
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s",
	    enc(n.email), enc(n.password), a.csrf);
	as(NULL, "/signup", body, hdr, &r);
	assert_int_equal(r.status, 403);
	http_resp_free(&r);

	assert_int_equal(sql_long("SELECT count(*) FROM users WHERE email = $1",
	    n.email, NULL), 0);
	assert_int_equal(sql_long("SELECT count(*) FROM sessions WHERE user_id = $1",
	    user_id(&a), NULL), 1);
	/* And the matching pair works. */
	snprintf(body, sizeof(body), "email=%s&password=%s&csrf_token=%s",
	    enc(a.email), enc(a.password), pre.csrf);
	as(NULL, "/login", body, hdr, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
}

/* ---- signing in ---- */

static void
test_return_to_same_site_only(void **state)
{
	static const char *const evil[] = {
		"https://evil.example/", "//evil.example", "/\\evil.example",
		"http://127.0.0.1/todos", "javascript:alert(1)", "evil.example",
		" //evil.example", "/\t/evil.example",
	};
	struct person a;
	size_t i;

	(void)state;
	signup(&a, "return", NULL);
	assert_string_equal(login(&a, NULL), "/todos");
	assert_string_equal(login(&a, "/todos?filter=completed"), "/todos?filter=completed");
	assert_string_equal(login(&a, "/account"), "/account");
	for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		const char *loc = login(&a, evil[i]);

		if (strcmp(loc, "/todos") != 0)
			fail_msg("return_to \"%s\": Location %s, not /todos", evil[i], loc);
	}
}

static void
test_session_id_changes_at_sign_in(void **state)
{
	struct person a, a2, planted;
	char s0[64], s1[64];

	(void)state;
	signup(&a, "fixation", NULL);
	snprintf(s0, sizeof(s0), "%s", a.session);
	/* Another browser: a new session; both work. */
	other_browser(&a, &a2, NULL);
	assert_string_not_equal(a2.session, s0);
	assert_true(signed_in(&a));
	assert_true(signed_in(&a2));
	/* The same browser signs in again, its cookie sent along: a new id,
	 * and the old session is gone (server-side, not only in the
	 * cookie). */
	snprintf(s1, sizeof(s1), "%s", a2.session);
	login(&a2, NULL);
	assert_string_not_equal(a2.session, s1);
	assert_int_equal(session_rows(s1), 0);
	assert_int_equal(session_rows(a2.session), 1);
	planted = a2;
	snprintf(planted.session, sizeof(planted.session), "%s", s1);
	assert_false(signed_in(&planted));
	assert_true(signed_in(&a2));
	assert_true(signed_in(&a));             /* the first browser's */
	/* A planted, well-formed id is never taken over. */
	planted = a;
	snprintf(planted.session, sizeof(planted.session), "%s",
	    "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");
	login(&planted, NULL);
	assert_string_not_equal(planted.session,
	    "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC");
	assert_int_equal(session_rows("CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"), 0);
	assert_true(signed_in(&planted));
	assert_int_equal(sql_long("SELECT count(*) FROM sessions WHERE user_id = $1",
	    user_id(&a), NULL), 3);
}

/* GET path (body NULL) or POST body as p's browser with the Cookie line
 * "<before>session=<p's>; <after>"; the answer in r. */
static void
with_cookies(const struct person *p, const char *before, const char *after,
    const char *path, const char *body, struct http_resp *r)
{
	static char hdr[16384];
	int n;

	n = snprintf(hdr, sizeof(hdr), "Cookie: %s" SESSION "=%s%s%s\r\n", before,
	    p->session, after[0] != '\0' ? "; " : "", after);
	assert_true(n > 0 && (size_t)n < sizeof(hdr));
	if (body == NULL)
		assert_int_equal(http_get(host, port, path, hdr, r), 0);
	else
		assert_int_equal(http_post_form(host, port, path, body, hdr, r), 0);
}

/* The answer r did not clear the session cookie. */
static void
assert_session_kept(const struct http_resp *r)
{
	char v[128];

	if (http_cookie_value(r, SESSION, v, sizeof(v)) != NULL)
		fail_msg("the " SESSION " cookie was set to \"%s\" (status %d)", v,
		    r->status);
}

/* A token of the right form that no session here has. */
#define FOREIGN_TOKEN "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

/* Other apps on the host set cookies the app cannot read: a malformed one,
 * or more than a form's fields, must not hide the session (issue 11). */
static void
test_foreign_cookies_never_sign_out(void **state)
{
	static char many[8192];
	struct http_resp r;
	struct person a;
	char body[256];
	size_t n = 0;
	int i;

	(void)state;
	signup(&a, "cookies", NULL);
	for (i = 0; i < 80; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
		    "_ga_%d=GA1.2.%d.1700000000; ", i, 1000000 + i);
	assert_true(n < sizeof(many) - 64);

	with_cookies(&a, "other=%zz; ", "flash=added", "/todos", NULL, &r);
	if (r.status != 200 || strstr(r.body, a.email) == NULL)
		fail_msg("a malformed foreign cookie: GET /todos answered %d "
		    "(Location %s)", r.status, header(&r, "Location") != NULL ?
		    header(&r, "Location") : "-");
	assert_non_null(strstr(r.body, "Todo added."));
	assert_session_kept(&r);
	http_resp_free(&r);
	/* A malformed cookie of the same name before the app's own. */
	with_cookies(&a, SESSION "=%zz; ", "", "/todos", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, a.email));
	assert_session_kept(&r);
	http_resp_free(&r);
	/* A well-formed one of the same name first (another app's with a more
	 * specific path, or this app's on another port: cookies ignore ports):
	 * the live one is used, for a page and a form post. */
	with_cookies(&a, SESSION "=" FOREIGN_TOKEN "; ", "", "/todos", NULL, &r);
	if (r.status != 200 || strstr(r.body, a.email) == NULL)
		fail_msg("a well-formed foreign " SESSION " cookie first: GET /todos "
		    "answered %d (Location %s)", r.status, header(&r, "Location") != NULL ?
		    header(&r, "Location") : "-");
	assert_session_kept(&r);
	http_resp_free(&r);
	snprintf(body, sizeof(body), "title=%s&csrf_token=%s",
	    enc("behind a foreign session"), a.csrf);
	with_cookies(&a, SESSION "=" FOREIGN_TOKEN "; ", "", "/todos", body, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/todos");
	http_resp_free(&r);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = $1 "
	    "AND user_id = $2", "behind a foreign session", user_id(&a)), 1);

	with_cookies(&a, many, "", "/todos", NULL, &r);
	if (r.status != 200 || strstr(r.body, a.email) == NULL)
		fail_msg("80 foreign cookies: GET /todos answered %d (Location %s)",
		    r.status, header(&r, "Location") != NULL ?
		    header(&r, "Location") : "-");
	assert_session_kept(&r);
	http_resp_free(&r);
	/* A form post too: stored, not sent to the sign-in page. */
	snprintf(body, sizeof(body), "title=%s&csrf_token=%s",
	    enc("behind 80 cookies"), a.csrf);
	with_cookies(&a, many, "other=%zz", "/todos", body, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/todos");
	assert_session_kept(&r);
	http_resp_free(&r);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = $1 "
	    "AND user_id = $2", "behind 80 cookies", user_id(&a)), 1);
}

static void
test_logout_ends_the_session_server_side(void **state)
{
	struct person a, a2, old;
	struct http_resp r;
	char line[512], v[64];

	(void)state;
	signup(&a, "logout", NULL);
	other_browser(&a, &a2, NULL);
	add(&a, "Still here", NULL);
	old = a;
	post_as(&a, "/logout", "", &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/login");
	/* The cookie is cleared... */
	assert_non_null(http_set_cookie(&r, SESSION, line, sizeof(line)));
	assert_string_equal(http_cookie_value(&r, SESSION, v, sizeof(v)), "");
	assert_string_equal(http_cookie_attr(line, "Max-Age", v, sizeof(v)), "0");
	assert_string_equal(http_cookie_attr(line, "Path", v, sizeof(v)), "/");
	http_resp_free(&r);
	/* ...and the session deleted: the old cookie, sent again, is nobody. */
	assert_int_equal(session_rows(old.session), 0);
	assert_false(signed_in(&old));
	post_as(&old, "/todos", "title=After+sign-out", &r);
	assert_to_login(&r, NULL);
	http_resp_free(&r);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = "
	    "'After sign-out'", NULL, NULL), 0);
	/* The other browser is still signed in; the todos are kept. */
	assert_true(signed_in(&a2));
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE user_id = $1",
	    user_id(&a), NULL), 1);
}

static long
env_long(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v != NULL ? atol(v) : dflt;
}

/* Age the session of p: column = now() - seconds. */
static void
age_session(const struct person *p, const char *column, long seconds)
{
	char q[256], s[32];

	snprintf(q, sizeof(q), "WITH u AS (UPDATE sessions SET %s = now() - "
	    "$2::int * interval '1 second' WHERE " BY_TOKEN " RETURNING 1) "
	    "SELECT count(*) FROM u", column);
	snprintf(s, sizeof(s), "%ld", seconds);
	assert_string_equal(sql(q, p->session, s), "1");
}

static void
test_idle_and_absolute_expiry(void **state)
{
	long idle = env_long("TODO_SESSION_IDLE", 604800),
	    max = env_long("TODO_SESSION_MAX", 2592000);
	struct person a, a2;
	struct http_resp r;

	(void)state;
	signup(&a, "expiry", NULL);
	other_browser(&a, &a2, NULL);
	/* Idle for a little less than the limit: still signed in (and the
	 * request writes "last seen" again). */
	age_session(&a, "last_seen", idle - 3600);
	assert_true(signed_in(&a));
	assert_true(sql_long("SELECT extract(epoch FROM now() - last_seen) FROM "
	    "sessions WHERE " BY_TOKEN, a.session, NULL) < 60);
	/* Idle for 30 days: signed out, a post changes nothing. */
	age_session(&a, "last_seen", 30L * 86400);
	get_as(&a, "/todos", &r);
	assert_to_login(&r, "/todos");
	http_resp_free(&r);
	get_as(&a, "/account", &r);
	assert_to_login(&r, "/account");
	http_resp_free(&r);
	post_as(&a, "/todos", "title=Idle+too+long", &r);
	assert_to_login(&r, NULL);
	http_resp_free(&r);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = "
	    "'Idle too long'", NULL, NULL), 0);
	/* The other browser was active. */
	assert_true(signed_in(&a2));

	/* Absolute: made a little less than TODO_SESSION_MAX ago, in use
	 * all along: still signed in; a minute over: out. */
	age_session(&a2, "created_at", max - 3600);
	assert_true(signed_in(&a2));
	age_session(&a2, "created_at", max + 60);
	get_as(&a2, "/todos", &r);
	assert_to_login(&r, "/todos");
	http_resp_free(&r);
	post_as(&a2, "/todos", "title=Too+old", &r);
	assert_to_login(&r, NULL);
	http_resp_free(&r);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title = "
	    "'Too old'", NULL, NULL), 0);
	/* Signing in again works. */
	login(&a, NULL);
	assert_true(signed_in(&a));
}

/* Every from in s becomes to (no longer than from), in place. */
static void
replace_all(char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *q = s;

	assert_true(fl > 0 && tl <= fl);
	while ((q = strstr(q, from)) != NULL) {
		memcpy(q, to, tl);
		memmove(q + tl, q + fl, strlen(q + fl) + 1);
		q += tl;
	}
}

static void
test_wrong_password_and_unknown_email_alike(void **state)
{
	struct person a, unknown;
	struct http_resp r1, r2;
	char *b1, *b2, *p, v[128];
	int64_t t0, t_wrong = INT64_MAX, t_unknown = INT64_MAX;
	int i;

	(void)state;
	signup(&a, "alike", NULL);
	a.session[0] = '\0';
	new_person(&unknown, "nobody-has-this");
	login_post(&a, "wrong horse battery staple", NULL, &r1);
	login_post(&unknown, a.password, NULL, &r2);
	assert_int_equal(r1.status, 422);
	assert_int_equal(r2.status, 422);
	assert_non_null(strstr(r1.body, WRONG_LOGIN));
	assert_non_null(strstr(r2.body, WRONG_LOGIN));
	assert_null(http_set_cookie(&r1, SESSION, v, sizeof(v)));
	assert_null(http_set_cookie(&r2, SESSION, v, sizeof(v)));
	/* The email is kept, the password is not. */
	p = http_form_value(r1.body, "email");
	assert_non_null(p);
	assert_string_equal(p, a.email);
	free(p);
	assert_null(strstr(r1.body, "wrong horse"));
	assert_null(strstr(r2.body, a.password));
	/* Nothing else tells them apart: the pages differ in the email
	 * and the form's token (each its own pre-session) only. */
	b1 = strdup(r1.body);
	b2 = strdup(r2.body);
	assert_non_null(b1);
	assert_non_null(b2);
	replace_all(b1, a.email, "EMAIL");
	replace_all(b2, unknown.email, "EMAIL");
	p = http_form_value(b1, "csrf_token");
	assert_non_null(p);
	replace_all(b1, p, "TOKEN");
	free(p);
	p = http_form_value(b2, "csrf_token");
	assert_non_null(p);
	replace_all(b2, p, "TOKEN");
	free(p);
	if (strcmp(b1, b2) != 0)
		fail_msg("the pages for a wrong password and an unknown email "
		    "differ:\n%s\n----\n%s", b1, b2);
	free(b1);
	free(b2);
	http_resp_free(&r1);
	http_resp_free(&r2);

	/* About the same time: the unknown email spends a hash too. Two of
	 * each (A has one failure already; three would throttle). */
	for (i = 0; i < 2; i++) {
		t0 = now_ms();
		login_post(&a, "wrong horse battery staple", NULL, &r1);
		assert_int_equal(r1.status, 422);
		http_resp_free(&r1);
		if (now_ms() - t0 < t_wrong)
			t_wrong = now_ms() - t0;
		new_person(&unknown, "nobody-has-this");
		t0 = now_ms();
		login_post(&unknown, a.password, NULL, &r2);
		assert_int_equal(r2.status, 422);
		http_resp_free(&r2);
		if (now_ms() - t0 < t_unknown)
			t_unknown = now_ms() - t0;
	}
	print_message("sign-in: wrong password %lld ms, unknown email %lld ms\n",
	    (long long)t_wrong, (long long)t_unknown);
	if (t_unknown * 3 < t_wrong)
		fail_msg("an unknown email is answered in %lld ms, a wrong "
		    "password in %lld ms: no dummy hash?", (long long)t_unknown,
		    (long long)t_wrong);
}

static void
test_throttled_to_429_and_back(void **state)
{
	struct person a;
	struct http_resp r;
	char v[64];
	int i, wait_s;

	(void)state;
	signup(&a, "throttle", NULL);
	a.session[0] = '\0';
	for (i = 0; i < 3; i++) {               /* TODO_LOGIN_MAX_FAILURES */
		login_post(&a, "not the passphrase at all", NULL, &r);
		if (r.status != 422)
			fail_msg("wrong password %d answered %d", i + 1, r.status);
		assert_non_null(strstr(r.body, WRONG_LOGIN));
		http_resp_free(&r);
	}
	assert_int_equal(sql_long("SELECT failures FROM login_failures WHERE key = $1",
	    sql("SELECT 'email:' || $1", a.email, NULL), NULL), 3);
	/* Now even the right password waits. */
	login_post(&a, a.password, NULL, &r);
	if (r.status != 429)
		fail_msg("the 4th sign-in answered %d, not 429", r.status);
	assert_non_null(header(&r, "Retry-After"));
	wait_s = atoi(header(&r, "Retry-After"));
	if (wait_s < 1 || wait_s > 3)           /* TODO_LOGIN_WINDOW */
		fail_msg("Retry-After: %s (not 1..3)", header(&r, "Retry-After"));
	assert_null(http_set_cookie(&r, SESSION, v, sizeof(v)));
	assert_null(strstr(r.body, a.password));
	http_resp_free(&r);
	/* Another person is not held up by it. */
	{
		struct person b;

		signup(&b, "throttle-other", NULL);
		b.session[0] = '\0';
		login(&b, NULL);
	}
	/* After the window: the right password works, the count is gone. */
	sleep_ms(wait_s * 1000L + 300);
	login(&a, NULL);
	assert_true(signed_in(&a));
	assert_int_equal(sql_long("SELECT count(*) FROM login_failures WHERE key = $1",
	    sql("SELECT 'email:' || $1", a.email, NULL), NULL), 0);
}

/* ---- the account page and its actions ---- */

static void
test_account_page_lists_sessions_escaped(void **state)
{
	struct person a, a2, b;
	struct http_resp r;
	char *v;

	(void)state;
	signup(&a, "account", "Mozilla/5.0 <script>alert(1)</script> & \"q\"");
	other_browser(&a, &a2, "SecondBrowser/2.0");
	signup(&b, "account-b", "BrowserOfB/3.0");
	get_as(&a, "/account", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(header(&r, "Content-Type"), "text/html"));
	assert_non_null(strstr(r.body, a.email));
	assert_null(strstr(r.body, "<script"));
	if (strstr(r.body, "Mozilla/5.0 &lt;script&gt;alert(1)&lt;/script&gt; &amp; "
	    "&quot;q&quot;") == NULL)
		fail_msg("the first browser's user agent, HTML-escaped, is not on "
		    "the account page");
	assert_non_null(strstr(r.body, "SecondBrowser/2.0"));
	assert_null(strstr(r.body, "BrowserOfB"));
	assert_null(strstr(r.body, b.email));
	assert_non_null(strstr(r.body, "action=\"/account/sessions/revoke\""));
	assert_non_null(strstr(r.body, "action=\"/account/password\""));
	assert_non_null(strstr(r.body, "action=\"/account/delete\""));
	assert_non_null(strstr(r.body, "href=\"/account/export.json\""));
	assert_non_null(strstr(r.body, "href=\"/account/export.csv\""));
	assert_non_null(strstr(r.body, "name=\"current_password\""));
	assert_non_null(strstr(r.body, "name=\"new_password\""));
	assert_true(post_forms_carry(r.body, a.csrf) >= 4);
	/* No password of any kind is ever a value on the page. */
	v = http_form_value(r.body, "current_password");
	assert_true(v == NULL || v[0] == '\0');
	free(v);
	assert_null(strstr(r.body, a.password));
	http_resp_free(&r);
	/* The user agent is stored as sent (the page escapes it). */
	assert_string_equal(sql("SELECT user_agent FROM sessions WHERE " BY_TOKEN,
	    a.session, NULL), a.ua);
}

static void
test_password_change_ends_other_sessions(void **state)
{
	struct person a, a2, b;
	struct http_resp r;
	char fields[1024], newpw[64], v[64];

	(void)state;
	signup(&a, "passwd", NULL);
	other_browser(&a, &a2, NULL);
	signup(&b, "passwd-b", NULL);
	snprintf(newpw, sizeof(newpw), "a brand new passphrase %ld", (long)getpid());

	/* A wrong current password, a refused new one: 422, nothing ends,
	 * neither is echoed. */
	snprintf(fields, sizeof(fields), "current_password=%s&new_password=%s",
	    enc("not my passphrase"), enc(newpw));
	post_as(&a, "/account/password", fields, &r);
	assert_int_equal(r.status, 422);
	assert_null(strstr(r.body, "not my passphrase"));
	assert_null(strstr(r.body, newpw));
	http_resp_free(&r);
	snprintf(fields, sizeof(fields), "current_password=%s&new_password=%s",
	    enc(a.password), enc("password1"));
	post_as(&a, "/account/password", fields, &r);
	assert_int_equal(r.status, 422);
	assert_null(strstr(r.body, a.password));
	assert_null(strstr(r.body, "password1\""));
	http_resp_free(&r);
	snprintf(fields, sizeof(fields), "current_password=%s&new_password=%s",
	    enc(a.password), enc("short"));
	post_as(&a, "/account/password", fields, &r);
	assert_int_equal(r.status, 422);
	http_resp_free(&r);
	assert_true(signed_in(&a2));

	snprintf(fields, sizeof(fields), "current_password=%s&new_password=%s",
	    enc(a.password), enc(newpw));
	post_as(&a, "/account/password", fields, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/account");
	/* A new id for this browser is fine too; it stays signed in. */
	if (http_cookie_value(&r, SESSION, v, sizeof(v)) != NULL && v[0] != '\0')
		take_session(&a, &r);
	http_resp_free(&r);
	assert_true(signed_in(&a));
	assert_false(signed_in(&a2));
	assert_true(signed_in(&b));
	assert_int_equal(sql_long("SELECT count(*) FROM sessions WHERE user_id = $1",
	    user_id(&a), NULL), 1);
	/* The old password no longer signs in; the new one does. */
	a2.session[0] = '\0';
	login_post(&a2, a.password, NULL, &r);
	assert_int_equal(r.status, 422);
	http_resp_free(&r);
	snprintf(a2.password, sizeof(a2.password), "%s", newpw);
	login(&a2, NULL);
	assert_true(signed_in(&a2));
}

static void
test_sign_out_everywhere_else(void **state)
{
	struct person a, a2, a3, b;
	struct http_resp r;

	(void)state;
	signup(&a, "revoke", NULL);
	other_browser(&a, &a2, NULL);
	other_browser(&a, &a3, NULL);
	signup(&b, "revoke-b", NULL);
	post_as(&a2, "/account/sessions/revoke", "", &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/account");
	http_resp_free(&r);
	assert_true(signed_in(&a2));
	assert_false(signed_in(&a));
	assert_false(signed_in(&a3));
	assert_true(signed_in(&b));
	assert_int_equal(sql_long("SELECT count(*) FROM sessions WHERE user_id = $1",
	    user_id(&a), NULL), 1);
	assert_int_equal(session_rows(a2.session), 1);
}

static void
test_account_deletion_removes_todos_and_sessions(void **state)
{
	struct person a, a2, b;
	struct http_resp r;
	char fields[512], uid[32], before_b[4096], line[512], v[64];
	long b_id;

	(void)state;
	signup(&a, "delete", NULL);
	other_browser(&a, &a2, NULL);
	signup(&b, "delete-b", NULL);
	add(&a, "Mine one", NULL);
	set_toggle(&a, add(&a, "Mine two", "with words"));
	b_id = add(&b, "Not deleted", NULL);
	snprintf(uid, sizeof(uid), "%s", user_id(&a));
	snprintf(before_b, sizeof(before_b), "%s", snapshot(&b));

	snprintf(fields, sizeof(fields), "password=%s", enc("not the passphrase"));
	post_as(&a, "/account/delete", fields, &r);
	assert_int_equal(r.status, 422);
	assert_null(strstr(r.body, "not the passphrase"));
	http_resp_free(&r);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE user_id = $1",
	    uid, NULL), 2);
	assert_true(signed_in(&a));

	snprintf(fields, sizeof(fields), "password=%s", enc(a.password));
	post_as(&a, "/account/delete", fields, &r);
	assert_int_equal(r.status, 303);
	assert_string_equal(header(&r, "Location"), "/signup");
	/* The browser's cookie is cleared too. */
	assert_non_null(http_set_cookie(&r, SESSION, line, sizeof(line)));
	assert_string_equal(http_cookie_value(&r, SESSION, v, sizeof(v)), "");
	assert_string_equal(http_cookie_attr(line, "Max-Age", v, sizeof(v)), "0");
	http_resp_free(&r);
	assert_int_equal(sql_long("SELECT count(*) FROM users WHERE id = $1", uid, NULL), 0);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE user_id = $1",
	    uid, NULL), 0);
	assert_int_equal(sql_long("SELECT count(*) FROM todos WHERE title IN "
	    "('Mine one', 'Mine two') AND user_id IS NULL", NULL, NULL), 0);
	assert_int_equal(sql_long("SELECT count(*) FROM sessions WHERE user_id = $1",
	    uid, NULL), 0);
	assert_int_equal(sql_long("SELECT count(*) FROM todo_counts WHERE user_id = $1",
	    uid, NULL), 0);
	assert_false(signed_in(&a));
	assert_false(signed_in(&a2));
	/* The other person is untouched. */
	assert_string_equal(snapshot(&b), before_b);
	assert_string_equal(todo_state(b_id), "Not deleted|f");
	assert_true(signed_in(&b));
	/* The account is gone: its email signs in nobody, and is free. */
	a.session[0] = '\0';
	login_post(&a, a.password, NULL, &r);
	assert_int_equal(r.status, 422);
	http_resp_free(&r);
	signup_post(&a, a.password, &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
}

/* ---- exports ---- */

/* A JSON reader just big enough to check an export: the whole document
 * must be valid; the string values of "title" and "description" keys in
 * the array's objects are collected, decoded. */
struct json {
	const char *p;
	int objects;               /* elements of the top array */
	char titles[16][512];
	char descs[16][512];
	int ntitles, ndescs;
	char err[128];
};

static void
json_ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int
json_fail(struct json *j, const char *what)
{
	if (j->err[0] == '\0')
		snprintf(j->err, sizeof(j->err), "%s at \"%.20s\"", what, j->p);
	return -1;
}

static int
hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		v <<= 4;
		if (s[i] >= '0' && s[i] <= '9')
			v |= (unsigned)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v |= (unsigned)(s[i] - 'a' + 10);
		else if (s[i] >= 'A' && s[i] <= 'F')
			v |= (unsigned)(s[i] - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* A string at j->p, decoded into out (UTF-8). */
static int
json_string(struct json *j, char *out, size_t outlen)
{
	size_t n = 0;
	unsigned c, lo;
	char u[4];
	int k, ul;

	if (*j->p != '"')
		return json_fail(j, "no string");
	j->p++;
	for (;;) {
		c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			break;
		}
		if (c < 0x20)
			return json_fail(j, "a raw control character in a string");
		ul = 1;
		u[0] = (char)c;
		if (c == '\\') {
			j->p++;
			switch (*j->p) {
			case '"': u[0] = '"'; break;
			case '\\': u[0] = '\\'; break;
			case '/': u[0] = '/'; break;
			case 'b': u[0] = '\b'; break;
			case 'f': u[0] = '\f'; break;
			case 'n': u[0] = '\n'; break;
			case 'r': u[0] = '\r'; break;
			case 't': u[0] = '\t'; break;
			case 'u':
				if (hex4(j->p + 1, &c) != 0)
					return json_fail(j, "a bad \\u escape");
				j->p += 4;
				if (c >= 0xd800 && c < 0xdc00) {
					if (j->p[1] != '\\' || j->p[2] != 'u' ||
					    hex4(j->p + 3, &lo) != 0 || lo < 0xdc00 ||
					    lo > 0xdfff)
						return json_fail(j, "a lone surrogate");
					c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
					j->p += 6;
				} else if (c >= 0xdc00 && c < 0xe000)
					return json_fail(j, "a lone surrogate");
				if (c < 0x80) {
					u[0] = (char)c;
				} else if (c < 0x800) {
					u[0] = (char)(0xc0 | c >> 6);
					u[1] = (char)(0x80 | (c & 0x3f));
					ul = 2;
				} else if (c < 0x10000) {
					u[0] = (char)(0xe0 | c >> 12);
					u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
					u[2] = (char)(0x80 | (c & 0x3f));
					ul = 3;
				} else {
					u[0] = (char)(0xf0 | c >> 18);
					u[1] = (char)(0x80 | ((c >> 12) & 0x3f));
					u[2] = (char)(0x80 | ((c >> 6) & 0x3f));
					u[3] = (char)(0x80 | (c & 0x3f));
					ul = 4;
				}
				break;
			default:
				return json_fail(j, "a bad escape");
			}
		}
		j->p++;
		for (k = 0; k < ul; k++)
			if (out != NULL && n + 1 < outlen)
				out[n++] = u[k];
	}
	if (out != NULL)
		out[n] = '\0';
	return 0;
}

static int json_value(struct json *j, int depth, const char *key);

static int
json_value(struct json *j, int depth, const char *key)
{
	char k[64];
	const char *s;

	json_ws(j);
	if (depth > 8)
		return json_fail(j, "too deep");
	if (*j->p == '{' || *j->p == '[') {
		char close = *j->p == '{' ? '}' : ']';
		bool obj = close == '}';

		if (obj && depth == 1)
			j->objects++;
		j->p++;
		json_ws(j);
		if (*j->p == close) {
			j->p++;
			return 0;
		}
		for (;;) {
			json_ws(j);
			k[0] = '\0';
			if (obj) {
				if (json_string(j, k, sizeof(k)) != 0)
					return -1;
				json_ws(j);
				if (*j->p++ != ':')
					return json_fail(j, "no ':'");
			}
			if (json_value(j, depth + 1, obj ? k : NULL) != 0)
				return -1;
			json_ws(j);
			if (*j->p == ',') {
				j->p++;
				continue;
			}
			if (*j->p++ != close)
				return json_fail(j, "no ',' or end");
			return 0;
		}
	}
	if (*j->p == '"') {
		char *out = NULL;

		if (key != NULL && depth == 2 && strcmp(key, "title") == 0 &&
		    j->ntitles < 16)
			out = j->titles[j->ntitles++];
		else if (key != NULL && depth == 2 && strcmp(key, "description") == 0 &&
		    j->ndescs < 16)
			out = j->descs[j->ndescs++];
		return json_string(j, out, sizeof(j->titles[0]));
	}
	for (s = j->p; *j->p != '\0' && strchr("-+.0123456789eE", *j->p) != NULL; j->p++)
		;
	if (j->p > s)
		return 0;
	if (strncmp(j->p, "true", 4) == 0 || strncmp(j->p, "null", 4) == 0) {
		j->p += 4;
		return 0;
	}
	if (strncmp(j->p, "false", 5) == 0) {
		j->p += 5;
		return 0;
	}
	return json_fail(j, "no value");
}

/* RFC 4180: records of fields; quoted fields may hold commas, quotes
 * (doubled) and line breaks. Returns the number of records, -1 when
 * malformed (a reason in err). */
#define CSV_ROWS 16
#define CSV_COLS 12
static int
csv_parse(const char *s, char cells[CSV_ROWS][CSV_COLS][512], int ncols[CSV_ROWS],
    char *err, size_t errlen)
{
	int row = 0, col = 0;
	size_t n;

	if (*s == '\0')
		return 0;
	for (;;) {
		n = 0;
		if (row >= CSV_ROWS || col >= CSV_COLS) {
			snprintf(err, errlen, "too many rows or columns");
			return -1;
		}
		if (*s == '"') {
			for (s++;; s++) {
				if (*s == '\0') {
					snprintf(err, errlen, "an unclosed quote");
					return -1;
				}
				if (*s == '"' && s[1] == '"')
					s++;
				else if (*s == '"')
					break;
				if (n + 1 < 512)
					cells[row][col][n++] = *s;
			}
			s++;
		} else {
			for (; *s != ',' && *s != '\r' && *s != '\n' && *s != '\0'; s++) {
				if (*s == '"') {
					snprintf(err, errlen, "a quote in an unquoted field "
					    "(record %d)", row + 1);
					return -1;
				}
				if (n + 1 < 512)
					cells[row][col][n++] = *s;
			}
		}
		cells[row][col][n] = '\0';
		col++;
		if (*s == ',') {
			s++;
			continue;
		}
		ncols[row] = col;
		row++;
		col = 0;
		if (*s == '\0')
			return row;
		if (s[0] != '\r' || s[1] != '\n') {
			snprintf(err, errlen, "a record ends in %s, not CRLF (record %d)",
			    *s == '\n' ? "LF" : "something else", row);
			return -1;
		}
		s += 2;
		if (*s == '\0')
			return row;
	}
}

static bool
in_list(const char list[][512], int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* An export far past one FastCGI record (65,535 bytes; the worker writes
 * a big body as records of its own): every todo, in order, whole. */
static void
test_big_export_spans_records(void **state)
{
	struct person a;
	struct http_resp r;
	const char *p, *hdr;
	char want[64];
	long n = 0, expect = 0;

	(void)state;
	signup(&a, "export-big", NULL);
	sql("INSERT INTO todos (user_id, title, description, created_at) "
	    "SELECT u.id, 'Big export ' || g || repeat(' word', 20), 'd' || g, "
	    "now() - (3000 - g) * interval '1 second' "
	    "FROM users u, generate_series(1, 3000) g WHERE u.email = $1", a.email, NULL);
	get_as(&a, "/account/export.json", &r);
	assert_int_equal(r.status, 200);
	assert_true(r.body_len > 3 * 65535);
	hdr = header(&r, "Content-Length");
	if (hdr != NULL)
		assert_int_equal(strtol(hdr, NULL, 10), (long)r.body_len);
	assert_int_equal(strlen(r.body), r.body_len);
	/* Oldest first: each title once, in order, the last one whole. */
	for (p = r.body; (p = strstr(p, "\"Big export ")) != NULL; p++) {
		n++;
		if (strtol(p + 12, NULL, 10) != ++expect)
			fail_msg("export todo %ld is out of order: %.30s", n, p);
	}
	assert_int_equal(n, 3000);
	snprintf(want, sizeof(want), "\"d3000\"");
	assert_non_null(strstr(r.body, want));
	assert_true(r.body_len > 2 && r.body[r.body_len - 1] != '\0');
	http_resp_free(&r);
}

static void
test_exports_hold_exactly_the_persons_todos(void **state)
{
	static const char *const titles[] = {
		"Comma, \"quotes\" and 'apostrophes'",
		"Cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e \xe2\x80\x93 \xe6\x97\xa5\xe6\x9c\xac "
		    "\xf0\x9f\x98\x80",
		"Back\\slash </script> {\"a\": [1]}",
		"Plain",
	};
	static const char desc[] = "line one\nline two, \"quoted\"";
	static char cells[CSV_ROWS][CSV_COLS][512];
	int ncols[CSV_ROWS], rows, i, c_title = -1, c_desc = -1;
	struct person a, b, empty;
	struct http_resp r;
	struct json *j;
	char b_title[64], err[128], v[256];
	size_t k;

	(void)state;
	signup(&a, "export", NULL);
	signup(&b, "export-b", NULL);
	signup(&empty, "export-empty", NULL);
	for (k = 0; k < sizeof(titles) / sizeof(titles[0]); k++)
		add(&a, titles[k], k == 3 ? desc : NULL);
	set_toggle(&a, add(&a, "Done already", NULL));
	snprintf(b_title, sizeof(b_title), "B only %ld", (long)getpid());
	add(&b, b_title, "B's description");

	get_as(&a, "/account/export.json", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(header(&r, "Content-Type"));
	assert_non_null(strstr(header(&r, "Content-Type"), "application/json"));
	assert_non_null(header(&r, "Content-Disposition"));
	assert_non_null(strstr(header(&r, "Content-Disposition"), "attachment"));
	assert_null(strstr(r.body, b_title));
	assert_null(strstr(r.body, "B's description"));
	j = calloc(1, sizeof(*j));
	assert_non_null(j);
	j->p = r.body;
	json_ws(j);
	if (*j->p != '[')
		fail_msg("the JSON export is not an array: %.100s", r.body);
	if (json_value(j, 0, NULL) != 0)
		fail_msg("the JSON export is not valid JSON: %s", j->err);
	json_ws(j);
	if (*j->p != '\0')
		fail_msg("the JSON export goes on after its array: %.40s", j->p);
	assert_int_equal(j->objects, 5);
	assert_int_equal(j->ntitles, 5);
	for (k = 0; k < sizeof(titles) / sizeof(titles[0]); k++)
		if (!in_list(j->titles, j->ntitles, titles[k]))
			fail_msg("the JSON export lacks the title \"%s\"", titles[k]);
	assert_true(in_list(j->titles, j->ntitles, "Done already"));
	if (!in_list(j->descs, j->ndescs, desc))
		fail_msg("the JSON export lacks the description with a line break");
	free(j);
	http_resp_free(&r);

	get_as(&a, "/account/export.csv", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(header(&r, "Content-Type"), "text/csv"));
	assert_non_null(strstr(header(&r, "Content-Disposition"), "attachment"));
	assert_null(strstr(r.body, b_title));
	rows = csv_parse(r.body, cells, ncols, err, sizeof(err));
	if (rows < 0)
		fail_msg("the CSV export is not RFC 4180: %s", err);
	assert_int_equal(rows, 1 + 5);             /* the header line */
	for (i = 0; i < ncols[0]; i++) {
		if (strcasecmp(cells[0][i], "title") == 0)
			c_title = i;
		if (strcasecmp(cells[0][i], "description") == 0)
			c_desc = i;
	}
	if (c_title < 0 || c_desc < 0)
		fail_msg("the CSV header has no title or description column");
	for (i = 1; i < rows; i++)
		assert_int_equal(ncols[i], ncols[0]);
	for (k = 0; k < sizeof(titles) / sizeof(titles[0]); k++) {
		for (i = 1; i < rows && strcmp(cells[i][c_title], titles[k]) != 0; i++)
			;
		if (i == rows)
			fail_msg("the CSV export lacks the title \"%s\"", titles[k]);
		if (k == 3)
			assert_string_equal(cells[i][c_desc], desc);
	}
	http_resp_free(&r);

	/* An account without todos: an empty array, a header line only. */
	get_as(&empty, "/account/export.json", &r);
	assert_int_equal(r.status, 200);
	{
		char *s = r.body, *e = r.body + r.body_len;

		while (s < e && strchr(" \t\r\n", *s) != NULL)
			s++;
		while (e > s && strchr(" \t\r\n", e[-1]) != NULL)
			e--;
		assert_int_equal(e - s, 2);
		assert_memory_equal(s, "[]", 2);
	}
	http_resp_free(&r);
	get_as(&empty, "/account/export.csv", &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(csv_parse(r.body, cells, ncols, err, sizeof(err)), 1);
	http_resp_free(&r);
	/* Signed out: no export. */
	get_as(NULL, "/account/export.csv", &r);
	assert_to_login(&r, "/account/export.csv");
	assert_null(http_header(&r, "Content-Disposition", v, sizeof(v)));
	http_resp_free(&r);
}

/* ---- sign-up refused ---- */

/* A 422 sign-up page: the email kept, the password nowhere. */
static void
assert_signup_refused(const struct person *p, const char *password,
    const char *why)
{
	struct http_resp r;
	char v[128], *f;

	signup_post(p, password, &r);
	if (r.status != 422)
		fail_msg("sign-up with %s answered %d, not 422", why, r.status);
	assert_null(http_set_cookie(&r, SESSION, v, sizeof(v)));
	f = http_form_value(r.body, "email");
	if (f == NULL || strcmp(f, p->email) != 0)
		fail_msg("sign-up with %s: the email field holds \"%s\", not \"%s\"",
		    why, f != NULL ? f : "(none)", p->email);
	free(f);
	f = http_form_value(r.body, "password");
	if (f != NULL && f[0] != '\0')
		fail_msg("sign-up with %s: the password is echoed in its field", why);
	free(f);
	if (strcmp(password, p->email) != 0 && (strstr(r.body, password) != NULL ||
	    strstr(r.body, enc(password)) != NULL))
		fail_msg("sign-up with %s: the password is in the page", why);
	http_resp_free(&r);
}

static void
test_signup_refusals_keep_the_email_not_the_password(void **state)
{
	struct person a, p;
	struct http_resp r;
	char hash[256];

	(void)state;
	signup(&a, "taken", NULL);
	snprintf(hash, sizeof(hash), "%s", sql("SELECT password_hash FROM users "
	    "WHERE email = $1", a.email, NULL));
	/* Taken, as typed and in other case. */
	p = a;
	p.session[0] = '\0';
	assert_signup_refused(&p, "another passphrase entirely 9", "a taken email");
	{
		size_t i;

		for (i = 0; p.email[i] != '@'; i++)
			p.email[i] = (char)(p.email[i] >= 'a' && p.email[i] <= 'z' ?
			    p.email[i] - 32 : p.email[i]);
		assert_signup_refused(&p, "another passphrase entirely 9",
		    "a taken email in capitals");
	}
	assert_int_equal(sql_long("SELECT count(*) FROM users WHERE lower(email) = "
	    "lower($1)", a.email, NULL), 1);
	assert_string_equal(sql("SELECT password_hash FROM users WHERE email = $1",
	    a.email, NULL), hash);

	new_person(&p, "not-an-email");
	snprintf(p.email, sizeof(p.email), "not-an-email-%ld", (long)getpid());
	assert_signup_refused(&p, p.password, "a bad email");
	new_person(&p, "short");
	assert_signup_refused(&p, "seven77", "a 7-character password");
	assert_int_equal(sql_long("SELECT count(*) FROM users WHERE email = $1",
	    p.email, NULL), 0);
	new_person(&p, "common");
	assert_signup_refused(&p, "password1", "a common password");
	assert_int_equal(sql_long("SELECT count(*) FROM users WHERE email = $1",
	    p.email, NULL), 0);
	new_person(&p, "same-as-email");
	assert_signup_refused(&p, p.email, "the email as password");
	assert_int_equal(sql_long("SELECT count(*) FROM users WHERE email = $1",
	    p.email, NULL), 0);
	/* Eight characters are enough. */
	new_person(&p, "eight");
	signup_post(&p, "xq7!vb2m", &r);
	assert_int_equal(r.status, 303);
	http_resp_free(&r);
}

/* ---- undo, confirmations, fragments and focus (issue 9) ---- */

#define TOO_LATE "Too late to undo: deleted todos are kept for 10 minutes."

/* What an action answered: its Location (fragment included) and the flash
 * cookie it set. */
struct answer {
	char location[1024];
	char flash[2048];
};

/* POST as p, which must answer 303; what it answered into *ans. */
static void
act(const struct person *p, const char *path, const char *fields,
    struct answer *ans)
{
	struct http_resp r;

	post_as(p, path, fields, &r);
	if (r.status != 303)
		fail_msg("POST %s answered %d: %.300s", path, r.status, r.body);
	assert_non_null(header(&r, "Location"));
	snprintf(ans->location, sizeof(ans->location), "%s", header(&r, "Location"));
	if (http_cookie_value(&r, "flash", ans->flash, sizeof(ans->flash)) == NULL)
		ans->flash[0] = '\0';
	http_resp_free(&r);
}

/* The page the browser lands on after ans: its Location without the
 * fragment, with the flash cookie (r: 200). */
static void
land(const struct person *p, const struct answer *ans, struct http_resp *r)
{
	char path[1024], cookie[2100];
	char *hash;

	snprintf(path, sizeof(path), "%s", ans->location);
	if ((hash = strchr(path, '#')) != NULL)
		*hash = '\0';
	snprintf(cookie, sizeof(cookie), "flash=%s", ans->flash);
	with_cookies(p, "", cookie, path, NULL, r);
	if (r->status != 200)
		fail_msg("GET %s answered %d", path, r->status);
}

static int
count_of(const char *s, const char *what)
{
	int n = 0;

	for (; (s = strstr(s, what)) != NULL; s += strlen(what))
		n++;
	return n;
}

/* The one control of html with autofocus: its tag (to the '>'), in buf. */
static const char *
focused(const char *html, char *buf, size_t len)
{
	const char *at = strstr(html, " autofocus"), *start, *end;

	if (count_of(html, " autofocus") != 1)
		fail_msg("%d controls have autofocus, not one", count_of(html, " autofocus"));
	for (start = at; start > html && *start != '<'; start--)
		;
	end = strchr(at, '>');
	assert_non_null(end);
	snprintf(buf, len, "%.*s", (int)(end - start + 1), start);
	return buf;
}

/* Row id's control (kind "done": the toggle, "edit": the link) has the
 * focus: the one autofocus is in the row, on the control with that id. */
static void
assert_row_focused(const char *html, long id, const char *kind)
{
	char li[64], tag[1024], want[64];
	const char *row, *at, *end;

	snprintf(li, sizeof(li), "<li id=\"todo-%ld\"", id);
	snprintf(want, sizeof(want), " id=\"%s-%ld\"", kind, id);
	focused(html, tag, sizeof(tag));
	assert_non_null(row = strstr(html, li));
	at = strstr(html, " autofocus");
	end = strstr(row, "</li>");
	if (at < row || end == NULL || at > end || strstr(tag, want) == NULL)
		fail_msg("the focus is on %s, not on %s-%ld", tag, kind, id);
}

/* The Undo button's batch: a hidden field in the toast's form, the
 * button's own value in the row where the todo was (the list's one form
 * carries csrf_token and return_to); NULL if there is none. */
static char *
undo_batch(const char *html)
{
	const char *p = strstr(html, "name=\"batch\" value=\"");
	size_t n;

	if (p == NULL)
		return NULL;
	p += strlen("name=\"batch\" value=\"");
	n = strspn(p, "0123456789");
	return n > 0 && p[n] == '"' ? strndup(p, n) : NULL;
}

static void
test_delete_then_undo_restores_the_same_todo(void **state)
{
	struct person a, b;
	struct answer ans;
	struct http_resp r;
	char path[64], fields[128], want[128], tag[512], before[4096];
	char *batch, *batch2;
	long older, doomed, newer;

	(void)state;
	signup(&a, "undo-a", NULL);
	signup(&b, "undo-b", NULL);
	older = add(&a, "older", NULL);
	doomed = add(&a, "doomed <b>", "with a description");
	newer = add(&a, "newer", NULL);
	set_toggle(&a, doomed);
	snprintf(before, sizeof(before), "%s", sql("SELECT string_agg(t::text, '|' ORDER BY id) "
	    "FROM todos t WHERE user_id = $1", user_id(&a), NULL));

	/* Delete: Undo stands where the todo was, just above the one next to
	 * it (the next older), with the title; the redirect lands on Undo
	 * (the browser focuses a fragment's focusable target). */
	snprintf(path, sizeof(path), "/todos/%ld/delete", doomed);
	act(&a, path, "return_to=%2Ftodos", &ans);
	assert_string_equal(ans.location, "/todos#undo");
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, "<li class=\"undo-row\"><p role=\"status\">"
	    "Deleted \u201cdoomed &lt;b&gt;\u201d.</p>"
	    "<button id=\"undo\" formaction=\"/todos/undo\" name=\"batch\" value=\""));
	/* Right above the todo next to it, and only there. */
	snprintf(want, sizeof(want), "Undo</button></li>\n<li id=\"todo-%ld\"", older);
	assert_non_null(strstr(r.body, want));
	assert_int_equal(count_of(r.body, "class=\"undo-row\""), 1);
	assert_null(strstr(r.body, "<div class=\"flash\""));          /* not twice */
	assert_non_null(batch = undo_batch(r.body));
	snprintf(want, sizeof(want), "%ld", doomed);
	assert_string_equal(batch, sql("SELECT batch FROM todo_trash WHERE id = $1::bigint",
	    want, NULL));
	snprintf(want, sizeof(want), "<button id=\"undo\" formaction=\"/todos/undo\" "
	    "name=\"batch\" value=\"%s\" autofocus>", batch);
	assert_string_equal(focused(r.body, tag, sizeof(tag)), want);
	http_resp_free(&r);
	assert_counts(&a, 2, 0);
	/* The flash is shown once. */
	get_as(&a, "/todos", &r);
	assert_null(strstr(r.body, "class=\"flash\""));
	assert_int_equal(count_of(r.body, " autofocus"), 0);
	http_resp_free(&r);

	/* Someone else's batch number does nothing. */
	snprintf(fields, sizeof(fields), "batch=%s&return_to=%%2Ftodos", batch);
	act(&b, "/todos/undo", fields, &ans);
	assert_string_equal(ans.location, "/todos");
	land(&b, &ans, &r);
	assert_non_null(strstr(r.body, TOO_LATE));
	http_resp_free(&r);
	assert_string_equal(todo_state(doomed), "");
	assert_counts(&b, 0, 0);

	/* Undo: the same todo back (every column), to it, focus on it. */
	act(&a, "/todos/undo", fields, &ans);
	snprintf(want, sizeof(want), "/todos#done-%ld", doomed);
	assert_string_equal(ans.location, want);
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, "<div class=\"flash\" role=\"status\">Restored 1 todo."));
	assert_null(strstr(r.body, "action=\"/todos/undo\""));   /* nor formaction */
	assert_row_focused(r.body, doomed, "done");
	http_resp_free(&r);
	assert_string_equal(sql("SELECT string_agg(t::text, '|' ORDER BY id) "
	    "FROM todos t WHERE user_id = $1", user_id(&a), NULL), before);
	assert_counts(&a, 2, 1);

	/* A second click: too late, nothing restored twice, no error. */
	act(&a, "/todos/undo", fields, &ans);
	assert_string_equal(ans.location, "/todos");
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, TOO_LATE));
	assert_null(strstr(r.body, "action=\"/todos/undo\""));   /* nor formaction */
	http_resp_free(&r);
	assert_counts(&a, 2, 1);

	/* Past the window: too late. */
	snprintf(path, sizeof(path), "/todos/%ld/delete", newer);
	act(&a, path, "return_to=%2Ftodos", &ans);
	land(&a, &ans, &r);
	assert_non_null(batch2 = undo_batch(r.body));
	http_resp_free(&r);
	sql("UPDATE todo_trash SET deleted_at = now() - interval '601 seconds' "
	    "WHERE batch = $1::bigint", batch2, NULL);
	snprintf(fields, sizeof(fields), "batch=%s", batch2);
	act(&a, "/todos/undo", fields, &ans);
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, TOO_LATE));
	http_resp_free(&r);
	assert_string_equal(todo_state(newer), "");

	/* A batch that is not a number is a damaged form. */
	post_as(&a, "/todos/undo", "batch=12x", &r);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	post_as(&a, "/todos/undo", "batch=99999999999999999999", &r);
	assert_int_equal(r.status, 400);
	http_resp_free(&r);
	free(batch);
	free(batch2);
}

static void
test_counts_in_confirmations_and_focus(void **state)
{
	struct person a;
	struct answer ans;
	struct http_resp r;
	char path[64], want[128], tag[512], fields[128];
	char *batch;
	long t1, t2, t3, open;

	(void)state;
	signup(&a, "counts", NULL);
	open = add(&a, "open", NULL);
	t1 = add(&a, "done 1", NULL);
	t2 = add(&a, "done 2", NULL);
	t3 = add(&a, "done 3", NULL);
	set_toggle(&a, t1);
	set_toggle(&a, t2);
	set_toggle(&a, t3);

	/* After add: the focus is on the add form's title. */
	act(&a, "/todos", "title=another", &ans);
	land(&a, &ans, &r);
	assert_string_equal(focused(r.body, tag, sizeof(tag)) + strlen(tag) - 11, " autofocus>");
	assert_non_null(strstr(tag, "id=\"title-new\""));
	http_resp_free(&r);
	snprintf(path, sizeof(path), "/todos/%s/delete", sql("SELECT max(id) FROM todos "
	    "WHERE title = 'another'", NULL, NULL));
	act(&a, path, "", &ans);

	act(&a, "/todos/clear-completed", "return_to=%2Ftodos", &ans);
	assert_string_equal(ans.location, "/todos#undo");
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, ">Cleared 3 completed todos."));
	assert_string_equal(focused(r.body, tag, sizeof(tag)),
	    "<button type=\"submit\" id=\"undo\" autofocus>");
	assert_non_null(batch = undo_batch(r.body));
	http_resp_free(&r);
	assert_counts(&a, 1, 0);
	snprintf(fields, sizeof(fields), "batch=%s&return_to=%%2Ftodos", batch);
	act(&a, "/todos/undo", fields, &ans);
	snprintf(want, sizeof(want), "/todos#done-%ld", t3);   /* the newest */
	assert_string_equal(ans.location, want);
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, ">Restored 3 todos."));
	assert_row_focused(r.body, t3, "done");
	http_resp_free(&r);
	assert_counts(&a, 1, 3);
	free(batch);

	/* Toggle-all says how many, and keeps the focus on its button. */
	act(&a, "/todos/toggle-all", "", &ans);
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, ">Marked 1 todo as complete."));
	assert_string_equal(focused(r.body, tag, sizeof(tag)),
	    "<button class=\"toggle-all\" formaction=\"/todos/toggle-all\" autofocus>");
	assert_non_null(strstr(r.body, "autofocus>Mark all as active</button>"));
	http_resp_free(&r);
	act(&a, "/todos/toggle-all", "", &ans);
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, ">Marked 4 todos as active."));
	http_resp_free(&r);

	/* Toggled on the Active page, the todo leaves it: back to the one
	 * next to it there (the next older active), focus on its toggle. */
	snprintf(path, sizeof(path), "/todos/%ld/toggle", t2);
	act(&a, path, "return_to=%2Ftodos%3Ffilter%3Dactive", &ans);
	snprintf(want, sizeof(want), "/todos?filter=active#done-%ld", t1);
	assert_string_equal(ans.location, want);
	land(&a, &ans, &r);
	assert_row_focused(r.body, t1, "done");
	http_resp_free(&r);
	/* On "All" it stays: to itself. */
	act(&a, path, "return_to=%2Ftodos", &ans);
	snprintf(want, sizeof(want), "/todos#done-%ld", t2);
	assert_string_equal(ans.location, want);
	land(&a, &ans, &r);
	assert_row_focused(r.body, t2, "done");
	http_resp_free(&r);
	/* Saving an edit: back to the row, focus on its Edit link. */
	snprintf(path, sizeof(path), "/todos/%ld", open);
	act(&a, path, "title=open+edited&return_to=%2Ftodos", &ans);
	snprintf(want, sizeof(want), "/todos#edit-%ld", open);
	assert_string_equal(ans.location, want);
	land(&a, &ans, &r);
	assert_row_focused(r.body, open, "edit");
	http_resp_free(&r);

	/* One completed: singular. */
	set_toggle(&a, t1);
	act(&a, "/todos/clear-completed", "", &ans);
	land(&a, &ans, &r);
	assert_non_null(strstr(r.body, ">Cleared 1 completed todo."));
	http_resp_free(&r);
}

/* The flash cookie comes back from the client: a forged one changes at
 * most what the person's own page says, escaped; anything this app does
 * not write shows nothing. */
static void
test_forged_flash_cookie(void **state)
{
	static const char *const ignored[] = {
		"nosuch", "deleted.1.x..", "deleted.1.2.3", "cleared.12345678901..",
		"deleted..99999999999999999999..", "deleted...01.", "restored.-1...",
		"deleted....%01", "Deleted",
	};
	struct person a;
	struct http_resp r;
	char tag[512];
	size_t i;

	(void)state;
	signup(&a, "forged", NULL);
	add(&a, "mine", NULL);
	with_cookies(&a, "", "flash=deleted.1.77.."
	    "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%27", "/todos", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, "<script>alert"));
	assert_non_null(strstr(r.body, "Deleted \u201c&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;\u201d."));
	assert_non_null(strstr(r.body, "name=\"batch\" value=\"77\""));
	assert_string_equal(focused(r.body, tag, sizeof(tag)),
	    "<button type=\"submit\" id=\"undo\" autofocus>");
	http_resp_free(&r);
	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		char cookie[128], line[256];

		snprintf(cookie, sizeof(cookie), "flash=%s", ignored[i]);
		with_cookies(&a, "", cookie, "/todos", NULL, &r);
		assert_int_equal(r.status, 200);
		if (strstr(r.body, "class=\"flash\"") != NULL)
			fail_msg("flash cookie \"%s\" was shown", ignored[i]);
		assert_int_equal(count_of(r.body, " autofocus"), 0);
		/* ...and cleared. */
		assert_non_null(http_set_cookie(&r, "flash", line, sizeof(line)));
		assert_non_null(strstr(line, "Max-Age=0"));
		http_resp_free(&r);
	}
}

/* ---- one round trip ---- */

static void
rt_signal(int sig, struct rt_stats *s)
{
	assert_int_equal(rt_stats_signal(sig, s), 0);
}

static void
rt_reset(void)
{
	struct rt_stats s;

	rt_signal(SIGUSR2, &s);
	assert_int_equal(s.round_trips, 0);
}

/* Every worker connected and prepared (see e2e_http.c). */
static void
warm_up(const struct person *p)
{
	struct rt_stats s;
	struct http_resp r;
	int round, i;

	for (round = 0; round < 50; round++) {
		rt_reset();
		for (i = 0; i < 10; i++) {
			get_as(p, i % 2 == 0 ? "/healthz" : "/todos", &r);
			http_resp_free(&r);
		}
		rt_signal(SIGUSR1, &s);
		if (s.connections == 0)
			return;
	}
	fail_msg("workers kept opening new database connections");
}

static long
trips_of(const struct person *p, const char *path, const char *fields, int expect)
{
	struct rt_stats s;
	struct http_resp r;

	rt_reset();
	if (fields == NULL)
		get_as(p, path, &r);
	else
		post_as(p, path, fields, &r);
	if (r.status != expect)
		fail_msg("%s %s answered %d, not %d", fields == NULL ? "GET" : "POST",
		    path, r.status, expect);
	http_resp_free(&r);
	rt_signal(SIGUSR1, &s);
	assert_int_equal(s.connections, 0);
	return s.round_trips;
}

static void
test_one_round_trip_with_the_session_check(void **state)
{
	struct person a;
	char path[64], fields[64];
	long id;

	(void)state;
	signup(&a, "trips", "TripCounter/1.0");
	id = add(&a, "counted", NULL);
	/* Past TODO_SESSION_TOUCH: the page's own statement writes "last
	 * seen", still one round trip. */
	warm_up(&a);
	age_session(&a, "last_seen", env_long("TODO_SESSION_TOUCH", 300) + 60);
	assert_int_equal(trips_of(&a, "/todos", NULL, 200), 1);
	assert_true(sql_long("SELECT extract(epoch FROM now() - last_seen) FROM "
	    "sessions WHERE " BY_TOKEN, a.session, NULL) < 60);
	assert_int_equal(trips_of(&a, "/todos", NULL, 200), 1);
	assert_int_equal(trips_of(&a, "/todos", "title=counted+too", 303), 1);
	snprintf(path, sizeof(path), "/todos/%ld/toggle", id);
	assert_int_equal(trips_of(&a, path, "", 303), 1);
	snprintf(path, sizeof(path), "/todos/%ld/delete", id);
	assert_int_equal(trips_of(&a, path, "", 303), 1);
	snprintf(fields, sizeof(fields), "batch=%s", sql("SELECT max(batch) FROM todo_trash "
	    "WHERE user_id = $1", user_id(&a), NULL));
	assert_int_equal(trips_of(&a, "/todos/undo", fields, 303), 1);
	assert_string_equal(todo_state(id), "counted|t");
	assert_int_equal(trips_of(&a, "/todos/undo", fields, 303), 1);   /* too late */
	assert_int_equal(trips_of(&a, "/todos/clear-completed", "", 303), 1);
	assert_int_equal(trips_of(&a, "/todos/toggle-all", "", 303), 1);
	assert_int_equal(trips_of(&a, "/account", NULL, 200), 1);
	/* Signed out: the check is the page's statement too, or none. */
	assert_true(trips_of(NULL, "/todos", NULL, 303) <= 1);
}


/* A hash made with weaker parameters than today's (an older build, or
 * raised OWASP minimums) is replaced at the next sign-in, which needs the
 * password; the old hash still signs in. */
static void
test_sign_in_rehashes_weaker_hashes(void **state)
{
	char weak[crypto_pwhash_STRBYTES];
	struct person a;

	(void)state;
	signup(&a, "rehash", NULL);
	assert_true(strstr(sql("SELECT password_hash FROM users WHERE email = $1",
	    a.email, NULL), "$m=19456,t=2,p=1$") != NULL);
	assert_int_equal(sodium_init() >= 0, 1);
	assert_int_equal(crypto_pwhash_str(weak, a.password, strlen(a.password),
	    crypto_pwhash_OPSLIMIT_MIN, 8192 * 1024), 0);
	sql("UPDATE users SET password_hash = $2 WHERE email = $1", a.email, weak);
	a.session[0] = '\0';
	assert_string_equal(login(&a, NULL), "/todos");
	assert_true(strstr(sql("SELECT password_hash FROM users WHERE email = $1",
	    a.email, NULL), "$m=19456,t=2,p=1$") != NULL);
	/* And the new hash is of the same password. */
	a.session[0] = '\0';
	assert_string_equal(login(&a, NULL), "/todos");
}

/* Sign-ins are logged, failed and successful, with the email and the
 * address, never the password (TODO_E2E_APP_LOG: the pool's log). */
static void
test_sign_ins_logged_without_the_password(void **state)
{
	const char *path = getenv("TODO_E2E_APP_LOG");
	struct http_resp r;
	struct person a;
	char line[4096], wrong[64];
	bool failed = false, ok = false;
	FILE *f;

	(void)state;
	if (path == NULL || *path == '\0')
		fail_msg("TODO_E2E_APP_LOG is not set (tests/e2e-harness sets it)");
	signup(&a, "logged", NULL);
	snprintf(wrong, sizeof(wrong), "wrong-%d-%ld", (int)getpid(), (long)time(NULL));
	login_post(&a, wrong, NULL, &r);
	assert_int_equal(r.status, 422);
	http_resp_free(&r);
	a.session[0] = '\0';
	login(&a, NULL);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, wrong) != NULL || strstr(line, a.password) != NULL)
			fail_msg("a password is in the app's log: %s", line);
		if (strstr(line, a.email) == NULL)
			continue;
		if (strstr(line, "sign-in failed for") != NULL &&
		    strstr(line, "wrong password") != NULL)
			failed = true;
		if (strstr(line, "sign-in: ") != NULL)
			ok = true;
	}
	fclose(f);
	assert_true(failed);
	assert_true(ok);
}

/* ---- exports of any size (streamed) ---- */

#define HUGE_TODOS	20000

/* GET path as p, again while it answers 503 or is cut (-1), three times
 * at most: a loaded machine can run an export past the harness's
 * TODO_DB_TIMEOUT (2 s; the server's statement_timeout is 1.5 s), which
 * ends it early, before its head (503) or after (cut). A 500 is never
 * tried again. The database round trips of the last try in *trips, -1
 * when it had to open a connection (after a cut: not comparable). */
static void
get_export(const struct person *p, const char *path, struct http_resp *r,
    long *trips)
{
	struct rt_stats s;
	char hdr[256];
	int attempt, rc;

	snprintf(hdr, sizeof(hdr), "Cookie: " SESSION "=%s\r\n", p->session);
	for (attempt = 0;; attempt++) {
		rt_reset();
		rc = http_get(host, port, path, hdr, r);
		rt_signal(SIGUSR1, &s);
		if (rc == 0 && r->status != 503)
			break;
		if (rc == 0)
			http_resp_free(r);
		if (attempt == 2)
			fail_msg("GET %s: %s three times", path,
			    rc == 0 ? "503" : "no whole answer");
	}
	*trips = s.connections == 0 ? s.round_trips : -1;
}

/* get_export() of HUGE_TODOS todos: 200 in one round trip (when no
 * connection was opened on the way), past TODO_ARENA_CAP's 8 MiB. */
static void
get_huge_export(const struct person *p, const char *path, struct http_resp *r)
{
	long trips;

	get_export(p, path, r, &trips);
	if (trips != -1)
		assert_int_equal(trips, 1);
	if (r->status != 200)
		fail_msg("%s of %d todos answered %d: %.200s", path, HUGE_TODOS,
		    r->status, r->body);
	if (r->body_len <= 8 * 1024 * 1024)
		fail_msg("%s is %zu bytes: not past TODO_ARENA_CAP's 8 MiB", path,
		    r->body_len);
}

/* HUGE_TODOS todos whose JSON export (about 10 MB) is past the worker's
 * TODO_ARENA_CAP (8 MiB, the default: the harness sets none), as is the
 * CSV one: streamed, each answers 200 with every todo, in order, in one
 * round trip. A worker that builds the whole body in its arena answers
 * 500. */
static void
test_export_past_the_arena_cap(void **state)
{
	struct person a;
	struct http_resp r;
	struct json *j;
	const char *p, *end;
	long n, expect;

	(void)state;
	signup(&a, "export-huge", NULL);
	sql("INSERT INTO todos (user_id, title, description, created_at) "
	    "SELECT u.id, 'Huge ' || g || repeat(' word', 30), repeat('d', 200) || g, "
	    "now() - (20000 - g) * interval '1 second' "
	    "FROM users u, generate_series(1, 20000) g WHERE u.email = $1", a.email, NULL);
	warm_up(&a);
	get_huge_export(&a, "/account/export.json", &r);
	assert_int_equal(strlen(r.body), r.body_len);
	j = calloc(1, sizeof(*j));
	assert_non_null(j);
	j->p = r.body;
	if (json_value(j, 0, NULL) != 0)
		fail_msg("the big JSON export is not valid JSON: %s", j->err);
	json_ws(j);
	assert_int_equal(*j->p, '\0');
	assert_int_equal(j->objects, HUGE_TODOS);
	free(j);
	/* Oldest first: each title once, in order. */
	n = expect = 0;
	for (p = r.body; (p = strstr(p, "\"Huge ")) != NULL; p++) {
		n++;
		if (strtol(p + 6, NULL, 10) != ++expect)
			fail_msg("export todo %ld is out of order: %.30s", n, p);
	}
	assert_int_equal(n, HUGE_TODOS);
	http_resp_free(&r);

	get_huge_export(&a, "/account/export.csv", &r);
	p = strstr(r.body, "\r\n");
	assert_non_null(p);
	n = 0;
	/* One record a line (no field needs quotes): id,Huge g word...,dd..g,... */
	for (p += 2; *p != '\0'; p = end + 2) {
		end = strstr(p, "\r\n");
		if (end == NULL)
			fail_msg("CSV record %ld does not end in CRLF: %.40s", n + 1, p);
		n++;
		p = strchr(p, ',');
		if (p == NULL || p > end || strncmp(p, ",Huge ", 6) != 0 ||
		    strtol(p + 6, NULL, 10) != n)
			fail_msg("CSV record %ld is not todo %ld", n, n);
	}
	assert_int_equal(n, HUGE_TODOS);
	http_resp_free(&r);
}

/* Reads what fd has into the window (the last bytes kept), at most
 * until `until` bytes came or the server closed; 0 when the server
 * closed, 1 when `until` came, -1 on a timeout or error. */
static int
read_stream(int fd, char *head, size_t headlen, char *tail, size_t taillen,
    size_t *total, size_t until, int timeout_ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char buf[65536];
	ssize_t got;
	size_t k;

	while (*total < until) {
		if (poll(&pfd, 1, timeout_ms) != 1)
			return -1;
		if ((got = read(fd, buf, sizeof(buf))) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			return 0;
		for (k = 0; k < (size_t)got; k++) {
			if (*total + k < headlen - 1)
				head[*total + k] = buf[k];
		}
		/* The window: the last taillen - 1 bytes, NUL-terminated. */
		if ((size_t)got >= taillen - 1) {
			memcpy(tail, buf + got - (ssize_t)(taillen - 1), taillen - 1);
		} else {
			size_t keep = strlen(tail);

			if (keep + (size_t)got > taillen - 1) {
				memmove(tail, tail + keep + (size_t)got - (taillen - 1),
				    taillen - 1 - (size_t)got);
				keep = taillen - 1 - (size_t)got;
			}
			memcpy(tail + keep, buf, (size_t)got);
			tail[keep + (size_t)got] = '\0';
		}
		tail[taillen - 1] = '\0';
		*total += (size_t)got;
	}
	return 1;
}

/* The database stops answering in the middle of an export (the proxy
 * between the pool and PostgreSQL is stopped once the client has some of
 * the body): the head went out as 200, so no error page can follow, and
 * the client must see a broken transfer, never a shorter file that reads
 * as whole: the connection dropped without chunked encoding's last chunk,
 * and the JSON without its closing bracket. Then the next export works. */
static void
test_export_cut_short_is_not_whole(void **state)
{
	const char *pid_s = getenv("TODO_E2E_RTPROXY_PID");
	struct sockaddr_in sa;
	struct person a, b;
	struct http_resp r;
	char req[512], head[4096], tail[64];
	size_t total;
	pid_t proxy;
	int fd, rc, attempt;

	(void)state;
	assert_non_null(pid_s);
	proxy = (pid_t)atoi(pid_s);
	signup(&a, "export-cut", NULL);
	signup(&b, "export-after-cut", NULL);
	add(&b, "After the cut", NULL);
	/* About 24 MB: far more than the sockets and the proxy hold. */
	sql("INSERT INTO todos (user_id, title, description, created_at) "
	    "SELECT u.id, 'Cut ' || g || ': buy milk, call Bob, write the report', "
	    "'Details for todo ' || g || ', a line of text.', now() "
	    "FROM users u, generate_series(1, 100000) g WHERE u.email = $1", a.email, NULL);
	warm_up(&a);

	snprintf(req, sizeof(req), "GET /account/export.json HTTP/1.1\r\n"
	    "Host: %s\r\nCookie: " SESSION "=%s\r\nConnection: close\r\n\r\n",
	    host, a.session);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	assert_int_equal(inet_pton(AF_INET, host, &sa.sin_addr), 1);
	/* The statement sorts the 100,000 rows before its first: a loaded
	 * machine can take longer than the harness's TODO_DB_TIMEOUT (2 s),
	 * a 503 page before any of the body, which is not the case here. */
	for (attempt = 0;; attempt++) {
		memset(head, 0, sizeof(head));
		memset(tail, 0, sizeof(tail));
		total = 0;
		assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
		rc = read_stream(fd, head, sizeof(head), tail, sizeof(tail), &total,
		    256 * 1024, 10000);
		if (rc == 1)
			break;
		close(fd);
		if (attempt == 2 || strncmp(head, "HTTP/1.1 503", 12) != 0)
			fail_msg("the export ended after %zu bytes, before the cut: %.300s",
			    total, head);
	}
	assert_int_equal(kill(proxy, SIGSTOP), 0);
	/* The worker's TODO_DB_TIMEOUT (2 s) and the cancel's grace. */
	rc = read_stream(fd, head, sizeof(head), tail, sizeof(tail), &total,
	    SIZE_MAX, 20000);
	kill(proxy, SIGCONT);
	close(fd);
	if (rc != 0)
		fail_msg("the cut export did not end within 20 s (%zu bytes)", total);
	if (strncmp(head, "HTTP/1.1 200", 12) != 0)
		fail_msg("the export did not begin as a 200: %.100s", head);
	if (strcasestr(head, "\r\nTransfer-Encoding: chunked") == NULL)
		fail_msg("the export is not chunked: %.600s", head);
	if (strlen(tail) >= 7 && strcmp(tail + strlen(tail) - 7, "\r\n0\r\n\r\n") == 0)
		fail_msg("the cut export ended like a whole one (last chunk): ...%s", tail);
	if (strstr(tail, "]") != NULL)
		fail_msg("the cut export ends with its closing bracket: ...%s", tail);

	/* The worker is back (a new database connection). */
	get_as(&b, "/account/export.json", &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "After the cut"));
	http_resp_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signup_signs_in_with_a_safe_cookie),
		cmocka_unit_test(test_signed_out_pages_go_to_login),
		cmocka_unit_test(test_signed_out_posts_change_nothing),
		cmocka_unit_test(test_another_persons_todo_is_not_found),
		cmocka_unit_test(test_toggle_all_and_clear_completed_are_per_person),
		cmocka_unit_test(test_csrf_missing_wrong_or_foreign),
		cmocka_unit_test(test_sign_in_forms_need_the_pre_session),
		cmocka_unit_test(test_return_to_same_site_only),
		cmocka_unit_test(test_session_id_changes_at_sign_in),
		cmocka_unit_test(test_logout_ends_the_session_server_side),
		cmocka_unit_test(test_foreign_cookies_never_sign_out),
		cmocka_unit_test(test_idle_and_absolute_expiry),
		cmocka_unit_test(test_wrong_password_and_unknown_email_alike),
		cmocka_unit_test(test_throttled_to_429_and_back),
		cmocka_unit_test(test_account_page_lists_sessions_escaped),
		cmocka_unit_test(test_password_change_ends_other_sessions),
		cmocka_unit_test(test_sign_out_everywhere_else),
		cmocka_unit_test(test_account_deletion_removes_todos_and_sessions),
		cmocka_unit_test(test_exports_hold_exactly_the_persons_todos),
		cmocka_unit_test(test_big_export_spans_records),
		cmocka_unit_test(test_export_past_the_arena_cap),
		cmocka_unit_test(test_export_cut_short_is_not_whole),
		cmocka_unit_test(test_signup_refusals_keep_the_email_not_the_password),
		cmocka_unit_test(test_delete_then_undo_restores_the_same_todo),
		cmocka_unit_test(test_counts_in_confirmations_and_focus),
		cmocka_unit_test(test_forged_flash_cookie),
		cmocka_unit_test(test_one_round_trip_with_the_session_check),
		cmocka_unit_test(test_sign_in_rehashes_weaker_hashes),
		cmocka_unit_test(test_sign_ins_logged_without_the_password),
	};
	const char *p = getenv("TODO_E2E_PORT");
	int rc;

	if (p == NULL) {
		fprintf(stderr, "e2e_accounts: run me through tests/e2e-harness\n");
		return 1;
	}
	port = atoi(p);
	rc = cmocka_run_group_tests_name("e2e_accounts", tests, NULL, NULL);
	e2e_admin_close();
	return rc;
}
