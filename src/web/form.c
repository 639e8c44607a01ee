/* form.c - strict urlencoded form, query string and Cookie header parsing. */
#include "form.h"

#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "utf8.h"

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum td_status
form_decode(struct arena *a, const char *s, size_t n, int plus_is_space,
    char **out, size_t *out_len)
{
	enum td_status rc = TD_EINVAL;
	char *d = NULL, *p;
	size_t i, len = 0;

	*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	/* Decoding never grows the string, so n + 1 bytes always do. */
	if (n >= SIZE_MAX / 2) {
		rc = TD_ETOOBIG;
		goto out;
	}
	if ((d = arena_alloc(a, n + 1)) == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int h, l;

			if (n - i < 3)
				goto out;
			h = hexval((unsigned char)s[i + 1]);
			l = hexval((unsigned char)s[i + 2]);
			if (h < 0 || l < 0)
				goto out;
			c = (unsigned char)(h << 4 | l);
			i += 2;
		} else if (c == '+' && plus_is_space)
			c = ' ';
		/* A NUL, raw or escaped, would silently truncate C strings. */
		if (c == '\0')
			goto out;
		d[len++] = (char)c;
	}
	d[len] = '\0';
	if (!utf8_valid(d, len))
		goto out;
	/* Hand back what escapes saved; d is the newest allocation, so
	 * this shrinks in place and cannot fail. */
	if ((p = arena_realloc(a, d, n + 1, len + 1)) != NULL)
		d = p;
	*out = d;
	if (out_len != NULL)
		*out_len = len;
	rc = TD_OK;
out:
	return rc;
}

/* Length of the segment of s[pos..n) up to sep (or the end). */
static size_t
seg_len(const char *s, size_t n, size_t pos, char sep)
{
	const char *e = memchr(s + pos, sep, n - pos);

	return e == NULL ? n - pos : (size_t)(e - (s + pos));
}

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim optional whitespace (SP, HTAB) from both ends of [*p, *p + *len). */
static void
trim_ows(const char **p, size_t *len)
{
	while (*len > 0 && is_ows((*p)[0])) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*p)[*len - 1]))
		(*len)--;
}

/* One parsed but not yet decoded pair. */
struct raw_pair {
	const char *key, *val;
	size_t key_len, val_len;
};

/*
 * Split the form pair [s, s + len) at its first '='. Returns 0 for an
 * empty pair (skipped), 1 otherwise.
 */
static int
form_split(const char *s, size_t len, struct raw_pair *rp)
{
	const char *eq;

	if (len == 0)
		return 0;
	eq = memchr(s, '=', len);
	rp->key = s;
	if (eq == NULL) {
		rp->key_len = len;
		rp->val = s + len;
		rp->val_len = 0;
	} else {
		rp->key_len = (size_t)(eq - s);
		rp->val = eq + 1;
		rp->val_len = len - rp->key_len - 1;
	}
	return 1;
}

/*
 * Split one cookie-pair. Returns 0 when it is to be skipped: empty, no '='
 * (some browsers send those), or an empty name.
 */
static int
cookie_split(const char *s, size_t len, struct raw_pair *rp)
{
	const char *eq;

	trim_ows(&s, &len);
	if (len == 0 || (eq = memchr(s, '=', len)) == NULL)
		return 0;
	rp->key = s;
	rp->key_len = (size_t)(eq - s);
	rp->val = eq + 1;
	rp->val_len = len - rp->key_len - 1;
	trim_ows(&rp->key, &rp->key_len);
	trim_ows(&rp->val, &rp->val_len);
	if (rp->key_len == 0)
		return 0;
	/* RFC 6265 allows DQUOTE *cookie-octet DQUOTE. */
	if (rp->val_len >= 2 && rp->val[0] == '"' &&
	    rp->val[rp->val_len - 1] == '"') {
		rp->val++;
		rp->val_len -= 2;
	}
	return 1;
}

/* Cookie names are tokens, never escaped: copy them, but hold them to the
 * same no-NUL, valid-UTF-8 rule as everything else. */
static enum td_status
copy_name(struct arena *a, const char *s, size_t n, char **out)
{
	*out = NULL;
	if (memchr(s, '\0', n) != NULL || !utf8_valid(s, n))
		return TD_EINVAL;
	if ((*out = arena_strndup(a, s, n)) == NULL)
		return TD_ENOMEM;
	return TD_OK;
}

/*
 * Shared driver: count the pairs first so a flood of them is refused (a
 * form) or cut to the first max_fields (cookies) before any decoding or
 * allocation, then decode each. A malformed form pair fails the parse; a
 * malformed cookie pair is skipped: it is often another site's or app's
 * on the same host, and must not hide ours.
 */
static enum td_status
parse_pairs(struct arena *a, const char *s, size_t n, size_t max_fields,
    struct form *out, int cookies)
{
	enum td_status rc = TD_OK;
	struct form_field *fields = NULL;
	struct raw_pair rp;
	char sep = cookies ? ';' : '&';
	size_t pos, len, count = 0, k = 0;
	char *key, *val;

	out->fields = NULL;
	out->n = 0;
	if (n == 0)
		goto out;
	/* Keeps pos += len + 1 below from wrapping. */
	if (n >= SIZE_MAX / 2) {
		rc = TD_ETOOBIG;
		goto out;
	}
	for (pos = 0; pos <= n; pos += len + 1) {
		len = seg_len(s, n, pos, sep);
		if (cookies ? cookie_split(s + pos, len, &rp) :
		    form_split(s + pos, len, &rp))
			count++;
	}
	if (count > max_fields) {
		if (!cookies) {
			rc = TD_ETOOBIG;
			goto out;
		}
		count = max_fields;
	}
	if (count == 0)
		goto out;
	if ((fields = arena_calloc(a, count, sizeof(*fields))) == NULL) {
		rc = TD_ENOMEM;
		goto out;
	}
	for (pos = 0; pos <= n && k < count; pos += len + 1) {
		len = seg_len(s, n, pos, sep);
		if (cookies) {
			if (!cookie_split(s + pos, len, &rp))
				continue;
			rc = copy_name(a, rp.key, rp.key_len, &key);
			if (rc == TD_EINVAL)
				continue;
			if (rc != TD_OK)
				goto out;
			fields[k].key_len = rp.key_len;
		} else {
			if (!form_split(s + pos, len, &rp))
				continue;
			if (rp.key_len == 0) {
				rc = TD_EINVAL;
				goto out;
			}
			rc = form_decode(a, rp.key, rp.key_len, 1, &key,
			    &fields[k].key_len);
			if (rc != TD_OK)
				goto out;
		}
		rc = form_decode(a, rp.val, rp.val_len, !cookies, &val,
		    &fields[k].val_len);
		if (rc == TD_EINVAL && cookies)
			continue;
		if (rc != TD_OK)
			goto out;
		fields[k].key = key;
		fields[k].val = val;
		k++;
	}
	out->fields = fields;
	out->n = k;
	rc = TD_OK;
out:
	return rc;
}

enum td_status
form_parse(struct arena *a, const char *s, size_t n, size_t max_fields,
    struct form *out)
{
	return parse_pairs(a, s, n, max_fields, out, 0);
}

enum td_status
form_parse_cookies(struct arena *a, const char *s, size_t n,
    size_t max_fields, struct form *out)
{
	return parse_pairs(a, s, n, max_fields, out, 1);
}

const char *
form_get(const struct form *f, const char *key, size_t *len)
{
	size_t i, klen;

	if (f == NULL || key == NULL)
		return NULL;
	klen = strlen(key);
	for (i = 0; i < f->n; i++) {
		const struct form_field *ff = &f->fields[i];

		if (ff->key_len == klen && memcmp(ff->key, key, klen) == 0) {
			if (len != NULL)
				*len = ff->val_len;
			return ff->val;
		}
	}
	return NULL;
}
