/*
 * fuzz_request.c - FastCGI parameters to struct request (request_parse).
 * Input: parameter lines "NAME=value" separated by '\n' (a value ends at
 * its first NUL, as libfcgi's strings do), then "\n\n" and the body, which
 * the reader hands over in pieces of 1 to 16 bytes (the size from the
 * last parameter line's length). Properties: TD_OK comes with status 200
 * and every field as request.h describes it (the path decoded from the
 * URI, valid UTF-8; the request id "-" or the parameter when it is a safe
 * token; the scheme from HTTPS; the User-Agent printable and at most
 * USER_AGENT_MAX code points; every form field valid UTF-8 without NUL;
 * the body the urlencoded form of exactly CONTENT_LENGTH bytes); a failure
 * comes with 400, 411, 413, 414 or 415. Building and running:
 * docs/fuzzing.md.
 */
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "form.h"
#include "fuzz.h"
#include "request.h"
#include "utf8.h"

#define MAX_PARAMS	64
#define MAX_BODY	4096
#define ARENA_CAP	(1024 * 1024)

struct reader {
	const char *p;
	size_t n, pos, chunk;
	size_t reads_past_end;
};

static long
read_body(void *ctx, char *buf, size_t n)
{
	struct reader *rd = ctx;
	size_t k = rd->n - rd->pos;

	CHECK(n > 0);
	if (k == 0)
		rd->reads_past_end++;
	if (k > n)
		k = n;
	if (k > rd->chunk)
		k = rd->chunk;
	memcpy(buf, rd->p + rd->pos, k);
	rd->pos += k;
	return (long)k;
}

static void
check_form(const struct form *f)
{
	size_t i;

	CHECK(f->n == 0 || f->fields != NULL);
	for (i = 0; i < f->n; i++) {
		CHECK(strlen(f->fields[i].key) == f->fields[i].key_len);
		CHECK(strlen(f->fields[i].val) == f->fields[i].val_len);
		CHECK(utf8_valid(f->fields[i].key, f->fields[i].key_len));
		CHECK(utf8_valid(f->fields[i].val, f->fields[i].val_len));
	}
}

static bool
same_form(const struct form *a, const struct form *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->fields[i].key, b->fields[i].key) != 0 ||
		    a->fields[i].val_len != b->fields[i].val_len ||
		    memcmp(a->fields[i].val, b->fields[i].val,
		    a->fields[i].val_len) != 0)
			return false;
	return true;
}

static bool
safe_token(const char *v)
{
	size_t n = strlen(v);

	return n >= 1 && n <= 64 && strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

static void
check_ok(const struct request *r, char *const *params, struct arena *a,
    const struct reader *rd)
{
	const char *v, *uri, *q;
	char *path;
	size_t n, i, chars = 0, plen;
	struct form body;

	CHECK(r->method != NULL && *r->method != '\0' && strlen(r->method) <= 16);
	CHECK(strcmp(r->method, request_param(params, "REQUEST_METHOD")) == 0);
	/* The path: the URI before '?', decoded. */
	uri = request_param(params, "REQUEST_URI");
	CHECK(uri != NULL && uri[0] == '/');
	q = strchr(uri, '?');
	CHECK(form_decode(a, uri, q != NULL ? (size_t)(q - uri) : strlen(uri),
	    0, &path, &plen) == TD_OK);
	CHECK(strcmp(path, r->path) == 0 && strlen(r->path) == plen);
	CHECK(r->path[0] == '/' && utf8_valid(r->path, plen));
	CHECK(r->query_string != NULL);
	v = request_param(params, "QUERY_STRING");
	CHECK(strcmp(r->query_string, v != NULL ? v : q != NULL ? q + 1 : "") == 0);

	v = request_param(params, "REQUEST_ID");
	CHECK(r->request_id != NULL);
	if (v != NULL && safe_token(v))
		CHECK(strcmp(r->request_id, v) == 0);
	else
		CHECK(strcmp(r->request_id, "-") == 0);

	v = request_param(params, "HTTPS");
	CHECK(strcmp(r->scheme, v != NULL && strcasecmp(v, "on") == 0 ?
	    "https" : "http") == 0);
	CHECK(r->host != NULL && utf8_valid(r->host, strlen(r->host)));
	v = request_param(params, "HTTP_HOST");
	CHECK(strcmp(r->host, v != NULL ? v : "") == 0);
	CHECK(r->origin == NULL || utf8_valid(r->origin, strlen(r->origin)));
	CHECK(r->fetch_site == NULL ||
	    utf8_valid(r->fetch_site, strlen(r->fetch_site)));
	CHECK(r->server_port != NULL && strlen(r->server_port) <= 5 &&
	    strspn(r->server_port, "0123456789") == strlen(r->server_port));
	CHECK(r->remote_addr != NULL && strlen(r->remote_addr) < 64);

	/* The User-Agent: printable, valid UTF-8, bounded. */
	CHECK(r->user_agent != NULL);
	n = strlen(r->user_agent);
	CHECK(utf8_valid(r->user_agent, n));
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r->user_agent[i];

		CHECK(c >= 0x20 && c != 0x7f);
		if ((c & 0xc0) != 0x80)
			chars++;
	}
	CHECK(chars <= USER_AGENT_MAX);
	if (request_param(params, "HTTP_USER_AGENT") == NULL)
		CHECK(n == 0);

	check_form(&r->query);
	check_form(&r->cookies);
	check_form(&r->body);

	/* The body: read to its end, exactly CONTENT_LENGTH bytes of it,
	 * and it is the form those bytes make. */
	v = request_param(params, "CONTENT_LENGTH");
	if (strcmp(r->method, "POST") == 0 && v != NULL && *v != '\0' &&
	    strtoull(v, NULL, 10) > 0) {
		CHECK(rd->pos == rd->n && rd->reads_past_end >= 1);
		CHECK(strtoull(v, NULL, 10) == rd->n);
		CHECK(form_parse(a, rd->p, rd->n, MAX_PARAMS, &body) == TD_OK);
		CHECK(same_form(&body, &r->body));
	} else {
		CHECK(r->body.n == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct arena *a;
	char *copy, *params[MAX_PARAMS + 1], *p, *end, *sep;
	struct request r;
	struct reader rd;
	enum td_status rc;
	int status = 0;
	size_t np = 0, last = 0;

	if (a == NULL && (a = arena_new(ARENA_CAP)) == NULL)
		abort();
	if ((copy = malloc(size + 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	memset(&rd, 0, sizeof(rd));
	rd.p = "";
	/* The body starts after the first empty line. */
	for (p = copy; p < end; p = sep + 1) {
		sep = memchr(p, '\n', (size_t)(end - p));
		if (sep == NULL)
			sep = end;
		*sep = '\0';
		if (sep == p) {
			rd.p = sep + 1 <= end ? sep + 1 : end;
			rd.n = sep + 1 <= end ? (size_t)(end - rd.p) : 0;
			break;
		}
		if (np < MAX_PARAMS)
			params[np++] = p;
		last = (size_t)(sep - p);
	}
	params[np] = NULL;
	rd.chunk = 1 + last % 16;

	rc = request_parse(&r, a, params, read_body, &rd, MAX_BODY, &status);
	if (rc == TD_OK) {
		CHECK(status == 200);
		check_ok(&r, params, a, &rd);
	} else {
		CHECK(rc == TD_EINVAL || rc == TD_ETOOBIG || rc == TD_ENOMEM ||
		    rc == TD_ESYSTEM);
		CHECK(status == 400 || status == 411 || status == 413 ||
		    status == 414 || status == 415);
	}
	arena_reset(a);
	free(copy);
	return 0;
}
