/* httpc.h - minimal blocking HTTP/1.1 client for end-to-end tests. It sends
 * exactly the bytes it is given, so tests can send broken requests. */
#ifndef TODO_HTTPC_H
#define TODO_HTTPC_H

#include <stddef.h>

struct http_resp {
	int	 status;
	char	*headers;	/* raw header lines after the status line,
				 * CRLF-separated, NUL-terminated */
	char	*body;		/* decoded body, NUL-terminated */
	size_t	 body_len;	/* without the NUL */
};

#define HTTP_TIMEOUT_MS	5000	/* used by the helpers below */

/* Connect, send req[0..len), read until the server closes (send
 * "Connection: close"), parse. Interim 1xx answers are skipped. Bodies are
 * framed by chunked, Content-Length or EOF. 0 on success, -1 on a network
 * error, timeout, malformed or truncated answer; *out is then empty. */
int http_raw(const char *host, int port, const char *req, size_t len,
    struct http_resp *out, int timeout_ms);

/* extra_headers: NULL or whole header lines, each ending in "\r\n". */
int http_get(const char *host, int port, const char *path,
    const char *extra_headers, struct http_resp *out);
/* body is sent as is (already urlencoded). */
int http_post_form(const char *host, int port, const char *path,
    const char *body, const char *extra_headers, struct http_resp *out);

void http_resp_free(struct http_resp *r);

/* First value of header name (any case), trimmed, copied into buf. NULL
 * if absent or if it does not fit. */
const char *http_header(const struct http_resp *r, const char *name,
    char *buf, size_t buflen);
int http_header_count(const struct http_resp *r, const char *name);

/* value="..." of the first <input name="input_name"> in html, entities
 * decoded, malloc'd; NULL if absent. */
char *http_form_value(const char *html, const char *input_name);

/* The Set-Cookie line of r that sets the cookie called name (exactly, any
 * attributes), whole, into buf; the last one when several do, as a browser
 * keeps the last. NULL if none does or it does not fit. */
const char *http_set_cookie(const struct http_resp *r, const char *name,
    char *buf, size_t buflen);
/* The value r sets the cookie called name to (between '=' and the first
 * ';', trimmed) into buf: "" for a deletion. NULL if no line sets it or
 * the value does not fit (the rest of the line need not). */
const char *http_cookie_value(const struct http_resp *r, const char *name,
    char *buf, size_t buflen);
/* Attribute attr (any case) of a Set-Cookie line: its value, trimmed, into
 * buf ("" for a flag such as HttpOnly). NULL if absent or if it does not
 * fit. The cookie's own NAME=VALUE is not an attribute. */
const char *http_cookie_attr(const char *set_cookie, const char *attr,
    char *buf, size_t buflen);

/* s as a form field or query value (application/x-www-form-urlencoded):
 * A-Z a-z 0-9 - . _ ~ kept, space as '+', every other byte %XX.
 * malloc'd; NULL when out of memory. */
char *http_urlencode(const char *s);

#endif
