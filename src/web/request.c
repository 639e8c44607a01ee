/* request.c - see request.h. */
#include "request.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "utf8.h"

#define MAX_FIELDS 64
#define MAX_URI 4096
#define MAX_HEADER 8192
/*
 * Cookies are shared with whatever else runs on the host, so their limits
 * are set so that a browser's whole header is read: browsers keep at most
 * 180 cookies per host (Chrome, Firefox), and nginx lets no request's
 * headers past its large_client_header_buffers (4 x 8k by default; HTTP/2
 * joins the cookie fields into one header up to that). Beyond them the
 * first cookies that fit are kept. Each kept cookie costs its field
 * (32 bytes) and at most its own bytes twice, so a request's cookies take
 * at most about 2 x 32 KiB + 256 x 32 bytes of its arena.
 */
#define MAX_COOKIES 256
#define MAX_COOKIE_HEADER 32768

const char *
request_param(char *const *params, const char *name)
{
	size_t n = strlen(name);

	/* The first byte before a call: most parameters differ there. */
	for (; params != NULL && *params != NULL; params++)
		if (**params == *name && strncmp(*params, name, n) == 0 &&
		    (*params)[n] == '=')
			return *params + n + 1;
	return NULL;
}

/* The parameters request_parse() reads. nginx sends some 30 of them;
 * finding each by name would compare every name with every parameter
 * (about 270 strncmp a request), so one pass files them instead. */
enum known {
	P_REQUEST_ID, P_REQUEST_METHOD, P_REQUEST_URI, P_QUERY_STRING,
	P_HTTP_HOST, P_HTTP_ORIGIN, P_HTTP_SEC_FETCH_SITE, P_HTTP_USER_AGENT,
	P_HTTP_IF_NONE_MATCH, P_SERVER_PORT, P_REMOTE_ADDR, P_HTTPS,
	P_HTTP_COOKIE, P_CONTENT_LENGTH, P_CONTENT_TYPE, P_COUNT
};

static const struct { const char *name; unsigned char len; } known_names[P_COUNT] = {
#define K(id, s) [id] = { s, sizeof(s) - 1 }
	K(P_REQUEST_ID, "REQUEST_ID"), K(P_REQUEST_METHOD, "REQUEST_METHOD"),
	K(P_REQUEST_URI, "REQUEST_URI"), K(P_QUERY_STRING, "QUERY_STRING"),
	K(P_HTTP_HOST, "HTTP_HOST"), K(P_HTTP_ORIGIN, "HTTP_ORIGIN"),
	K(P_HTTP_SEC_FETCH_SITE, "HTTP_SEC_FETCH_SITE"),
	K(P_HTTP_USER_AGENT, "HTTP_USER_AGENT"),
	K(P_HTTP_IF_NONE_MATCH, "HTTP_IF_NONE_MATCH"),
	K(P_SERVER_PORT, "SERVER_PORT"), K(P_REMOTE_ADDR, "REMOTE_ADDR"),
	K(P_HTTPS, "HTTPS"), K(P_HTTP_COOKIE, "HTTP_COOKIE"),
	K(P_CONTENT_LENGTH, "CONTENT_LENGTH"), K(P_CONTENT_TYPE, "CONTENT_TYPE"),
#undef K
};

/* The one known name a parameter name of n bytes at p can be, by its
 * length and a byte or two (then compared whole), or P_COUNT. */
static enum known
candidate(const char *p, size_t n)
{
	switch (n) {
	case 5:
		return P_HTTPS;
	case 9:
		return P_HTTP_HOST;
	case 10:
		return P_REQUEST_ID;
	case 11:
		return p[0] == 'R' ? (p[2] == 'Q' ? P_REQUEST_URI : P_REMOTE_ADDR) :
		    p[0] == 'S' ? P_SERVER_PORT :
		    p[5] == 'O' ? P_HTTP_ORIGIN : P_HTTP_COOKIE;
	case 12:
		return p[0] == 'Q' ? P_QUERY_STRING : P_CONTENT_TYPE;
	case 14:
		return p[0] == 'R' ? P_REQUEST_METHOD : P_CONTENT_LENGTH;
	case 15:
		return P_HTTP_USER_AGENT;
	case 18:
		return P_HTTP_IF_NONE_MATCH;
	case 19:
		return P_HTTP_SEC_FETCH_SITE;
	default:
		return P_COUNT;
	}
}

/* v[i]: the value of known_names[i], the first one given (as
 * request_param() finds it), or NULL. One comparison a parameter at
 * most (test_request checks candidate() against the names). */
static void
file_params(char *const *params, const char *v[P_COUNT])
{
	size_t i, n;
	const char *p;

	for (i = 0; i < P_COUNT; i++)
		v[i] = NULL;
	for (; params != NULL && *params != NULL; params++) {
		p = *params;
		for (n = 0; p[n] != '=' && p[n] != '\0' && n < 32; n++)
			;
		if (p[n] != '=' || (i = candidate(p, n)) == P_COUNT)
			continue;
		if (known_names[i].len == n && v[i] == NULL &&
		    memcmp(p, known_names[i].name, n) == 0)
			v[i] = p + n + 1;
	}
}

/* Copy a header value; refuse over-long or non-UTF-8 ones. */
static const char *
header(struct arena *a, const char *v, int *bad)
{
	size_t n;

	if (v == NULL)
		return NULL;
	n = strlen(v);
	if (n > MAX_HEADER || !utf8_valid(v, n)) {
		*bad = 1;
		return NULL;
	}
	return arena_strndup(a, v, n);
}

/* nginx's $request_id is 32 hex digits; accept a safe token or use "-". */
static const char *
request_id(struct arena *a, const char *v)
{
	size_t i, n;

	if (v == NULL || (n = strlen(v)) == 0 || n > 64)
		return "-";
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
			return "-";
	}
	return arena_strndup(a, v, n);
}

static enum td_status
read_body(struct request *r, struct arena *a, const char *cl, const char *ct,
    request_read_fn rd, void *ctx, size_t max_body, int *http_status)
{
	unsigned long long len;
	size_t got = 0;
	char *body, *end, extra;
	long n;

	if (cl == NULL || *cl == '\0')
		len = 0;
	else {
		/* 1*DIGIT only: strtoull would also take blanks and a sign,
		 * and turns " -1" into ULLONG_MAX. */
		if (cl[0] < '0' || cl[0] > '9') {
			*http_status = 400;
			return TD_EINVAL;
		}
		errno = 0;
		len = strtoull(cl, &end, 10);
		if (*end != '\0' || errno != 0) {
			*http_status = 400;
			return TD_EINVAL;
		}
	}
	if (len > max_body && strcmp(r->method, "POST") == 0) {
		*http_status = 413;
		return TD_ETOOBIG;
	}
	/* Only POST bodies are forms; other methods' bodies are ignored. */
	if (len == 0 || strcmp(r->method, "POST") != 0)
		return TD_OK;
	if (ct == NULL || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
	    (ct[33] != '\0' && ct[33] != ';' && ct[33] != ' ')) {
		*http_status = 415;
		return TD_EINVAL;
	}
	if ((body = arena_alloc(a, (size_t)len + 1)) == NULL) {
		*http_status = 413;
		return TD_ENOMEM;
	}
	while (got < len) {
		n = rd(ctx, body + got, (size_t)len - got);
		if (n < 0) {
			*http_status = 400;
			return TD_ESYSTEM;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	/* A body shorter than announced is an aborted upload; longer means
	 * CONTENT_LENGTH lied. Neither is processed (FastCGI spec 6.2). */
	if (got != len || rd(ctx, &extra, 1) != 0) {
		*http_status = 400;
		return TD_EINVAL;
	}
	body[len] = '\0';
	switch (form_parse(a, body, (size_t)len, MAX_FIELDS, &r->body)) {
	case TD_OK:
		return TD_OK;
	case TD_ENOMEM:
		*http_status = 413;
		return TD_ENOMEM;
	default:
		*http_status = 400;
		return TD_EINVAL;
	}
}

/* The User-Agent as the account page shows it: at most USER_AGENT_MAX
 * code points; bytes that are not printable ASCII or valid UTF-8 become
 * '?'. Only ever displayed (escaped), never trusted. */
static const char *
user_agent(struct arena *a, const char *v)
{
	size_t n, i = 0, out = 0, chars = 0;
	char *s;

	if (v == NULL)
		return "";
	n = strnlen(v, USER_AGENT_MAX * 4);
	if ((s = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	while (i < n && chars < USER_AGENT_MAX) {
		unsigned char ch = (unsigned char)v[i];
		size_t len = ch < 0x80 ? 1 : ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;

		if (ch >= 0x80 && i + len <= n && utf8_valid(v + i, len)) {
			memcpy(s + out, v + i, len);
			out += len;
			i += len;
		} else {
			s[out++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
			i++;
		}
		chars++;
	}
	s[out] = '\0';
	return s;
}

/* How much of a Cookie header to read: all of it, or up to the last
 * separator within MAX_COOKIE_HEADER, so that no cookie is cut short. */
static size_t
cookie_bytes(const char *v)
{
	size_t n = strnlen(v, MAX_COOKIE_HEADER + 1);

	if (n <= MAX_COOKIE_HEADER)
		return n;
	for (n = MAX_COOKIE_HEADER; n > 0 && v[n - 1] != ';'; n--)
		;
	return n;
}

enum td_status
request_parse(struct request *r, struct arena *a, char *const *params,
    request_read_fn rd, void *ctx, size_t max_body, int *http_status)
{
	const char *uri, *q, *https, *v, *pv[P_COUNT];
	char *path;
	size_t path_len;
	int bad = 0;
	enum td_status rc;

	memset(r, 0, sizeof(*r));
	*http_status = 400;
	file_params(params, pv);
	r->request_id = request_id(a, pv[P_REQUEST_ID]);
	v = pv[P_REQUEST_METHOD];
	if (v == NULL || *v == '\0' || strlen(v) > 16)
		return TD_EINVAL;
	r->method = arena_strdup(a, v);

	uri = pv[P_REQUEST_URI];
	if (uri == NULL || uri[0] != '/' || strlen(uri) > MAX_URI) {
		*http_status = uri != NULL && strlen(uri) > MAX_URI ? 414 : 400;
		return TD_EINVAL;
	}
	q = strchr(uri, '?');
	if ((rc = form_decode(a, uri, q != NULL ? (size_t)(q - uri) : strlen(uri),
	    0, &path, &path_len)) != TD_OK)
		return rc;
	r->path = path;
	v = pv[P_QUERY_STRING];
	if (v == NULL)
		v = q != NULL ? q + 1 : "";
	if ((rc = form_parse(a, v, strlen(v), MAX_FIELDS, &r->query)) != TD_OK)
		return rc;
	r->query_string = arena_strdup(a, v);

	r->host = header(a, pv[P_HTTP_HOST], &bad);
	r->origin = header(a, pv[P_HTTP_ORIGIN], &bad);
	r->fetch_site = header(a, pv[P_HTTP_SEC_FETCH_SITE], &bad);
	if (bad)
		return TD_EINVAL;
	if (r->host == NULL)
		r->host = "";
	r->user_agent = user_agent(a, pv[P_HTTP_USER_AGENT]);
	v = pv[P_HTTP_IF_NONE_MATCH];
	r->if_none_match = v != NULL && strnlen(v, IF_NONE_MATCH_MAX + 1) <= IF_NONE_MATCH_MAX ?
	    arena_strdup(a, v) : NULL;
	v = pv[P_SERVER_PORT];
	r->server_port = v != NULL && strlen(v) <= 5 && strspn(v, "0123456789") == strlen(v) ?
	    arena_strdup(a, v) : "";
	v = pv[P_REMOTE_ADDR];
	r->remote_addr = v != NULL && strlen(v) < 64 ? arena_strdup(a, v) : "";
	https = pv[P_HTTPS];
	r->scheme = https != NULL && strcasecmp(https, "on") == 0 ? "https" : "http";

	/* A malformed or surplus cookie is skipped alone (form.h): another
	 * app's cookie must never sign a person out. */
	if ((v = pv[P_HTTP_COOKIE]) != NULL &&
	    (rc = form_parse_cookies(a, v, cookie_bytes(v), MAX_COOKIES,
	    &r->cookies)) != TD_OK)
		return rc;

	if (r->method == NULL || r->path == NULL || r->server_port == NULL ||
	    r->remote_addr == NULL || r->query_string == NULL || r->user_agent == NULL)
		return TD_ENOMEM;
	if ((rc = read_body(r, a, pv[P_CONTENT_LENGTH], pv[P_CONTENT_TYPE], rd, ctx, max_body, http_status)) != TD_OK)
		return rc;
	*http_status = 200;
	return TD_OK;
}
