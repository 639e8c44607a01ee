/* httpc.c - minimal blocking HTTP/1.1 test client; see httpc.h. */
#include "httpc.h"

#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "status.h"

#define RESP_MAX	(64u * 1024 * 1024)	/* a test never needs more */

static int64_t
now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline. */
static enum td_status
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd pfd;
	int64_t left;
	int rc;

	for (;;) {
		if ((left = deadline - now_ms()) <= 0)
			return TD_ESYSTEM;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		rc = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (rc == -1 && errno == EINTR)
			continue;
		if (rc == -1)
			return TD_ESYSTEM;
		if (rc == 1)
			return TD_OK;
	}
}

static enum td_status
dial(const char *host, int port, int64_t deadline, int *fdp)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[16];
	enum td_status st = TD_ESYSTEM;
	socklen_t len;
	int fd = -1, err;

	snprintf(portstr, sizeof(portstr), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		goto out;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = 0;
		len = sizeof(err);
		if (errno == EINPROGRESS &&
		    wait_fd(fd, POLLOUT, deadline) == TD_OK &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
		    err == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd == -1)
		goto out;
	*fdp = fd;
	st = TD_OK;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return st;
}

/* A server may answer and close before taking all of an oversized
 * request; that is not an error here, its answer is what tests check. */
static enum td_status
send_all(int fd, const char *p, size_t len, int64_t deadline)
{
	ssize_t n;

	while (len > 0) {
		if (wait_fd(fd, POLLOUT, deadline) != TD_OK)
			return TD_ESYSTEM;
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return TD_OK;
			return TD_ESYSTEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return TD_OK;
}

static enum td_status
recv_all(int fd, int64_t deadline, char **datap, size_t *lenp)
{
	enum td_status st = TD_ESYSTEM;
	char *data = NULL, *tmp;
	size_t len = 0, cap = 0;
	ssize_t n;

	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= RESP_MAX) {
				st = TD_ETOOBIG;
				goto out;
			}
			cap = cap == 0 ? 16384 : cap * 2;
			if ((tmp = realloc(data, cap)) == NULL) {
				st = TD_ENOMEM;
				goto out;
			}
			data = tmp;
		}
		if (wait_fd(fd, POLLIN, deadline) != TD_OK)
			goto out;
		n = recv(fd, data + len, cap - 1 - len, 0);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN ||
			    errno == EWOULDBLOCK)
				continue;
			/* A reset after the answer (the server closed with
			 * our request unread) still leaves the answer. */
			if (errno == ECONNRESET && len > 0)
				break;
			goto out;
		}
		len += (size_t)n;
	}
	data[len] = '\0';
	*datap = data;
	*lenp = len;
	data = NULL;
	st = TD_OK;
out:
	free(data);
	return st;
}

/* Find name in a header block and set the trimmed value span. Returns
 * where the next line starts, so callers can look for repeats. */
static const char *
find_header(const char *block, const char *name, const char **val,
    size_t *vlen)
{
	const char *line, *eol, *colon, *v, *e;
	size_t nlen = strlen(name);

	for (line = block; line != NULL && *line != '\0'; line = eol) {
		if ((eol = strstr(line, "\r\n")) == NULL)
			eol = line + strlen(line);
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon != NULL && (size_t)(colon - line) == nlen &&
		    strncasecmp(line, name, nlen) == 0) {
			v = colon + 1;
			e = eol;
			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*val = v;
			*vlen = (size_t)(e - v);
			return *eol != '\0' ? eol + 2 : eol;
		}
		if (*eol != '\0')
			eol += 2;
	}
	return NULL;
}

/* Parse "HTTP/1.x NNN reason\r\n"; *p moves past it. */
static enum td_status
parse_status_line(const char **p, const char *end, int *status)
{
	const char *s = *p, *eol;

	if ((eol = memmem(s, (size_t)(end - s), "\r\n", 2)) == NULL ||
	    eol - s < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' ||
	    s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9' || (eol - s > 12 && s[12] != ' '))
		return TD_EINVAL;
	*status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	*p = eol + 2;
	return TD_OK;
}

static enum td_status
decode_chunked(const char *p, const char *end, char *body, size_t *blen)
{
	const char *eol;
	size_t size, n = 0;
	int d, digits;

	for (;;) {
		size = 0;
		for (digits = 0; p < end; p++, digits++) {
			if (*p >= '0' && *p <= '9')
				d = *p - '0';
			else if (*p >= 'a' && *p <= 'f')
				d = *p - 'a' + 10;
			else if (*p >= 'A' && *p <= 'F')
				d = *p - 'A' + 10;
			else
				break;
			if (digits >= 15)
				return TD_EINVAL;
			size = size * 16 + (size_t)d;
		}
		if (digits == 0 || p == end ||
		    (*p != '\r' && *p != ';' && *p != ' ' && *p != '\t'))
			return TD_EINVAL;
		/* Chunk extensions are ignored. */
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			return TD_EINVAL;
		p = eol + 2;
		if (size == 0)
			break;
		if ((size_t)(end - p) < size + 2 || p[size] != '\r' ||
		    p[size + 1] != '\n')
			return TD_EINVAL;
		memcpy(body + n, p, size);
		n += size;
		p += size + 2;
	}
	/* Trailer fields, then the empty line; nothing may follow. */
	for (;;) {
		if ((eol = memmem(p, (size_t)(end - p), "\r\n", 2)) == NULL)
			return TD_EINVAL;
		if (eol == p)
			break;
		p = eol + 2;
	}
	if (p + 2 != end)
		return TD_EINVAL;
	*blen = n;
	return TD_OK;
}

static enum td_status
parse_length(const char *v, size_t vlen, size_t *out)
{
	size_t i, n = 0;

	if (vlen == 0 || vlen > 15)
		return TD_EINVAL;
	for (i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return TD_EINVAL;
		n = n * 10 + (size_t)(v[i] - '0');
	}
	*out = n;
	return TD_OK;
}

/* Does the last transfer coding in the Transfer-Encoding value say
 * chunked? */
static bool
te_chunked(const char *v, size_t vlen)
{
	const char *s = v + vlen;

	while (s > v && (s[-1] == ' ' || s[-1] == '\t'))
		s--;
	return (size_t)(s - v) >= 7 && strncasecmp(s - 7, "chunked", 7) == 0 &&
	    (s - 7 == v || s[-8] == ',' || s[-8] == ' ' || s[-8] == '\t');
}

static enum td_status
parse_response(const char *data, size_t len, bool head,
    struct http_resp *out)
{
	const char *p = data, *end = data + len, *hend, *v, *next;
	enum td_status st = TD_EINVAL;
	size_t vlen, cl, cl2, blen;
	int status;

	/* Interim 1xx answers come before the real one. */
	for (;;) {
		if (parse_status_line(&p, end, &status) != TD_OK)
			goto out;
		if ((hend = memmem(p - 2, (size_t)(end - p + 2),
		    "\r\n\r\n", 4)) == NULL)
			goto out;
		hend += 2;	/* keep the last header line's CRLF */
		if (status >= 200 || status == 101)
			break;
		p = hend + 2;
	}
	blen = (size_t)(hend - p);
	if ((out->headers = malloc(blen + 1)) == NULL) {
		st = TD_ENOMEM;
		goto out;
	}
	memcpy(out->headers, p, blen);
	out->headers[blen] = '\0';
	out->status = status;
	p = hend + 2;

	if ((out->body = malloc((size_t)(end - p) + 1)) == NULL) {
		st = TD_ENOMEM;
		goto out;
	}
	blen = 0;
	if (head || status == 204 || status == 304 || status < 200) {
		if (p != end)
			goto out;
	} else if (find_header(out->headers, "Transfer-Encoding", &v,
	    &vlen) != NULL) {
		if (te_chunked(v, vlen)) {
			if (decode_chunked(p, end, out->body, &blen) != TD_OK)
				goto out;
		} else {
			blen = (size_t)(end - p);
			memcpy(out->body, p, blen);
		}
	} else if ((next = find_header(out->headers, "Content-Length", &v,
	    &vlen)) != NULL) {
		if (parse_length(v, vlen, &cl) != TD_OK)
			goto out;
		/* Repeats must agree; a short or long body is a lie. */
		while ((next = find_header(next, "Content-Length", &v,
		    &vlen)) != NULL)
			if (parse_length(v, vlen, &cl2) != TD_OK || cl2 != cl)
				goto out;
		if ((size_t)(end - p) != cl)
			goto out;
		blen = cl;
		memcpy(out->body, p, blen);
	} else {
		blen = (size_t)(end - p);
		memcpy(out->body, p, blen);
	}
	out->body[blen] = '\0';
	out->body_len = blen;
	st = TD_OK;
out:
	if (st != TD_OK)
		http_resp_free(out);
	return st;
}

int
http_raw(const char *host, int port, const char *req, size_t len,
    struct http_resp *out, int timeout_ms)
{
	enum td_status st = TD_ESYSTEM;
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	char *data = NULL;
	size_t dlen = 0;
	int fd = -1;

	memset(out, 0, sizeof(*out));
	if (dial(host, port, deadline, &fd) != TD_OK ||
	    send_all(fd, req, len, deadline) != TD_OK ||
	    recv_all(fd, deadline, &data, &dlen) != TD_OK)
		goto out;
	st = parse_response(data, dlen,
	    len >= 5 && memcmp(req, "HEAD ", 5) == 0, out);
out:
	if (fd != -1)
		close(fd);
	free(data);
	return st == TD_OK ? 0 : -1;
}

/* Build and send "METHOD path" with the fixed headers tests rely on. */
static int
request(const char *host, int port, const char *method, const char *path,
    const char *fixed, const char *extra, const char *body,
    struct http_resp *out)
{
	const char *lb = "", *rb = "";
	char *req = NULL;
	int n, rc;

	memset(out, 0, sizeof(*out));
	if (strchr(host, ':') != NULL) {
		lb = "[";
		rb = "]";
	}
	n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s:%d\r\n"
	    "Connection: close\r\n%s%s\r\n%s", method, path, lb, host, rb,
	    port, fixed, extra != NULL ? extra : "", body);
	if (n < 0)
		return -1;
	rc = http_raw(host, port, req, (size_t)n, out, HTTP_TIMEOUT_MS);
	free(req);
	return rc;
}

int
http_get(const char *host, int port, const char *path,
    const char *extra_headers, struct http_resp *out)
{
	return request(host, port, "GET", path, "", extra_headers, "", out);
}

int
http_post_form(const char *host, int port, const char *path,
    const char *body, const char *extra_headers, struct http_resp *out)
{
	char fixed[128];

	snprintf(fixed, sizeof(fixed), "Content-Type: "
	    "application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n",
	    strlen(body));
	return request(host, port, "POST", path, fixed, extra_headers, body,
	    out);
}

void
http_resp_free(struct http_resp *r)
{
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

const char *
http_header(const struct http_resp *r, const char *name, char *buf,
    size_t buflen)
{
	const char *v;
	size_t vlen;

	if (r->headers == NULL ||
	    find_header(r->headers, name, &v, &vlen) == NULL ||
	    vlen >= buflen)
		return NULL;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return buf;
}

int
http_header_count(const struct http_resp *r, const char *name)
{
	const char *p = r->headers, *v;
	size_t vlen;
	int n = 0;

	while (p != NULL && (p = find_header(p, name, &v, &vlen)) != NULL)
		n++;
	return n;
}

/* Decode the entities our templates emit (and the other spellings of
 * the apostrophe); anything else is kept as written. */
static char *
html_unescape(const char *s, size_t len)
{
	static const struct {
		const char	*ent;
		char		 c;
	} ents[] = {
		{ "&amp;", '&' }, { "&quot;", '"' }, { "&#39;", '\'' },
		{ "&#x27;", '\'' }, { "&apos;", '\'' }, { "&lt;", '<' },
		{ "&gt;", '>' },
	};
	const char *end = s + len;
	char *out, *o;
	size_t i, el;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (o = out; s < end; ) {
		if (*s == '&') {
			for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
				el = strlen(ents[i].ent);
				if ((size_t)(end - s) >= el &&
				    memcmp(s, ents[i].ent, el) == 0)
					break;
			}
			if (i < sizeof(ents) / sizeof(ents[0])) {
				*o++ = ents[i].c;
				s += el;
				continue;
			}
		}
		*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

char *
http_form_value(const char *html, const char *input_name)
{
	const char *p = html, *an, *av, *name = NULL, *value = NULL;
	size_t anl, avl, namel = 0, valuel = 0;
	char q, *dec;
	bool match;

	while ((p = strchr(p, '<')) != NULL) {
		p++;
		if (strncasecmp(p, "input", 5) != 0 || !(is_space(p[5]) ||
		    p[5] == '>' || p[5] == '/'))
			continue;
		p += 5;
		name = value = NULL;
		/* Attributes in any order, quoted either way or bare. */
		for (;;) {
			while (is_space(*p) || *p == '/')
				p++;
			if (*p == '>' || *p == '\0')
				break;
			an = p;
			while (*p != '\0' && !is_space(*p) && *p != '=' &&
			    *p != '>' && *p != '/')
				p++;
			anl = (size_t)(p - an);
			av = NULL;
			avl = 0;
			while (is_space(*p))
				p++;
			if (*p == '=') {
				p++;
				while (is_space(*p))
					p++;
				if (*p == '"' || *p == '\'') {
					q = *p++;
					av = p;
					while (*p != '\0' && *p != q)
						p++;
					avl = (size_t)(p - av);
					if (*p == q)
						p++;
				} else {
					av = p;
					while (*p != '\0' && !is_space(*p) &&
					    *p != '>')
						p++;
					avl = (size_t)(p - av);
				}
			}
			if (anl == 0) {
				/* A stray character: skip it, never stall. */
				if (*p != '\0')
					p++;
				continue;
			}
			if (anl == 4 && strncasecmp(an, "name", 4) == 0 &&
			    av != NULL) {
				name = av;
				namel = avl;
			} else if (anl == 5 &&
			    strncasecmp(an, "value", 5) == 0 && av != NULL) {
				value = av;
				valuel = avl;
			}
		}
		/* An unclosed tag is cut-off markup, not an input. */
		if (*p == '\0')
			return NULL;
		if (name == NULL)
			continue;
		if ((dec = html_unescape(name, namel)) == NULL)
			return NULL;
		match = strcmp(dec, input_name) == 0;
		free(dec);
		if (match)
			return html_unescape(value != NULL ? value : "",
			    value != NULL ? valuel : 0);
	}
	return NULL;
}

/* Does the Set-Cookie value v (vlen bytes) set the cookie called name? */
static bool
sets_cookie(const char *v, size_t vlen, const char *name)
{
	size_t nlen = strlen(name);

	return vlen > nlen && memcmp(v, name, nlen) == 0 && v[nlen] == '=';
}

/* The last Set-Cookie value of r that sets the cookie called name. */
static const char *
find_set_cookie(const struct http_resp *r, const char *name, size_t *lenp)
{
	const char *p = r->headers, *v, *found = NULL;
	size_t vlen;

	while (p != NULL && (p = find_header(p, "Set-Cookie", &v, &vlen)) !=
	    NULL)
		if (sets_cookie(v, vlen, name)) {
			found = v;
			*lenp = vlen;
		}
	return found;
}

const char *
http_set_cookie(const struct http_resp *r, const char *name, char *buf,
    size_t buflen)
{
	const char *v;
	size_t vlen = 0;

	if ((v = find_set_cookie(r, name, &vlen)) == NULL || vlen >= buflen)
		return NULL;
	memcpy(buf, v, vlen);
	buf[vlen] = '\0';
	return buf;
}

const char *
http_cookie_value(const struct http_resp *r, const char *name, char *buf,
    size_t buflen)
{
	const char *v, *e;
	size_t vlen = 0, n;

	if ((v = find_set_cookie(r, name, &vlen)) == NULL)
		return NULL;
	e = v + vlen;
	v += strlen(name) + 1;
	if ((e = memchr(v, ';', (size_t)(e - v))) == NULL)
		e = v + (vlen - strlen(name) - 1);
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if ((n = (size_t)(e - v)) >= buflen)
		return NULL;
	memcpy(buf, v, n);
	buf[n] = '\0';
	return buf;
}

const char *
http_cookie_attr(const char *set_cookie, const char *attr, char *buf,
    size_t buflen)
{
	const char *p, *e, *eq, *v, *ve;
	size_t alen = strlen(attr), n;

	/* Attributes follow the first ';'. */
	for (p = strchr(set_cookie, ';'); p != NULL; p = e) {
		p++;
		if ((e = strchr(p, ';')) == NULL)
			e = p + strlen(p);
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		for (eq = p; eq < e && *eq != '='; eq++)
			;
		ve = eq;
		while (ve > p && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if ((size_t)(ve - p) != alen || strncasecmp(p, attr, alen) != 0) {
			if (*e == '\0')
				break;
			continue;
		}
		v = eq < e ? eq + 1 : e;
		ve = e;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		n = (size_t)(ve - v);
		if (n >= buflen)
			return NULL;
		memcpy(buf, v, n);
		buf[n] = '\0';
		return buf;
	}
	return NULL;
}

char *
http_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char c;
	char *out, *o;

	if ((out = malloc(strlen(s) * 3 + 1)) == NULL)
		return NULL;
	for (o = out; (c = (unsigned char)*s) != '\0'; s++) {
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			*o++ = (char)c;
		else if (c == ' ')
			*o++ = '+';
		else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}
