/* form.h - application/x-www-form-urlencoded, query strings and Cookie
 * headers, parsed into arena-allocated key/value lists.
 *
 * Decoding is strict: '%' must be followed by two hex digits, a decoded NUL
 * byte is refused, and every decoded key and value must be valid UTF-8.
 * In a form or query string any violation makes the whole parse fail with
 * TD_EINVAL (the caller answers 400), and more than max_fields pairs gives
 * TD_ETOOBIG. A Cookie header is shared with whatever else runs on the
 * host, so there a malformed pair is skipped and only the first
 * max_fields well-formed pairs are kept: never an error but TD_ENOMEM.
 */
#ifndef TODO_FORM_H
#define TODO_FORM_H

#include <stddef.h>

#include "status.h"

struct arena;

struct form_field {
	const char *key;     /* decoded, NUL-terminated */
	const char *val;     /* decoded, NUL-terminated */
	size_t key_len;
	size_t val_len;
};

struct form {
	struct form_field *fields;
	size_t n;
};

/* Decode percent-escapes (and '+' as space when plus_is_space). */
enum td_status form_decode(struct arena *a, const char *s, size_t n,
    int plus_is_space, char **out, size_t *out_len);
/* "a=1&b=2" (body or query string). Empty pairs ("a=1&&b") are skipped;
 * a pair without '=' has an empty value. */
enum td_status form_parse(struct arena *a, const char *s, size_t n,
    size_t max_fields, struct form *out);
/* "a=1; b=2" (HTTP Cookie header, RFC 6265). Values may be quoted; cookie
 * values are percent-decoded but '+' stays '+'. Malformed pairs are
 * skipped; past max_fields the rest are dropped. */
enum td_status form_parse_cookies(struct arena *a, const char *s, size_t n,
    size_t max_fields, struct form *out);
/* First value for key, or NULL. len may be NULL. */
const char *form_get(const struct form *f, const char *key, size_t *len);

#endif
