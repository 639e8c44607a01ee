/*
 * fuzz_form.c - percent-decoding (form_decode) and urlencoded forms
 * (form_parse). Properties: a decoded string is NUL-terminated at its
 * length, holds no NUL and is valid UTF-8; decoding without escapes is the
 * identity; decode(buf_append_urlenc(x)) == x for every decoded x; a
 * failed parse leaves an empty form; form_get finds a key's first
 * occurrence; the same parse on a tiny arena gives the same answer or
 * TD_ENOMEM. Cookies: fuzz_cookies.c. Building and running: fuzz.h,
 * docs/fuzzing.md.
 */
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "form.h"
#include "fuzz.h"
#include "utf8.h"

#define MAX_FIELDS	64
#define BIG_CAP		(1024 * 1024)
#define SMALL_CAP	512

static struct arena *big, *small;

/* A decoded string: NUL-terminated at len, no NUL before, valid UTF-8. */
static void
check_str(const char *s, size_t len)
{
	CHECK(s != NULL);
	CHECK(strlen(s) == len);
	CHECK(utf8_valid(s, len));
}

static void
check_form(enum td_status rc, const struct form *f)
{
	size_t i;

	CHECK(rc == TD_OK || rc == TD_EINVAL || rc == TD_ETOOBIG ||
	    rc == TD_ENOMEM);
	if (rc != TD_OK) {
		/* A failed parse leaves an empty form behind. */
		CHECK(f->n == 0 && f->fields == NULL);
		return;
	}
	CHECK(f->n <= MAX_FIELDS);
	CHECK((f->n == 0) == (f->fields == NULL));
	for (i = 0; i < f->n; i++) {
		const struct form_field *ff = &f->fields[i];
		const char *v;
		size_t j, vlen;

		check_str(ff->key, ff->key_len);
		check_str(ff->val, ff->val_len);
		CHECK(ff->key_len > 0);
		/* form_get finds this key's first occurrence, at or before i. */
		for (j = 0; strcmp(f->fields[j].key, ff->key) != 0; j++)
			;
		CHECK(j <= i);
		v = form_get(f, ff->key, &vlen);
		CHECK(v == f->fields[j].val && vlen == f->fields[j].val_len);
	}
}

/* decode(urlenc(s)) == s for any decoded string s. */
static void
check_roundtrip(struct arena *a, const char *s, size_t len)
{
	enum td_status rc;
	struct buf b;
	char *again;
	size_t alen;

	buf_init(&b, a);
	buf_append_urlenc(&b, s, len);
	buf_append(&b, "", 0);
	if (!buf_ok(&b))
		return;
	rc = form_decode(a, b.data, b.len, 1, &again, &alen);
	if (rc == TD_ENOMEM)
		return;
	CHECK(rc == TD_OK);
	CHECK(alen == len && memcmp(again, s, len) == 0);
}

static void
check_decode(const char *s, size_t n, int plus)
{
	enum td_status rc;
	char *out;
	size_t len;

	rc = form_decode(big, s, n, plus, &out, &len);
	CHECK(rc == TD_OK || rc == TD_EINVAL || rc == TD_ENOMEM);
	if (rc != TD_OK) {
		CHECK(out == NULL);
		return;
	}
	check_str(out, len);
	CHECK(len <= n);
	/* Without escapes or '+' decoding is the identity. */
	if (memchr(s, '%', n) == NULL && (!plus || memchr(s, '+', n) == NULL))
		CHECK(len == n && memcmp(out, s, n) == 0);
	check_roundtrip(big, out, len);
}

/* A parsed form written back (key=urlenc(val)&...) parses to itself. */
static void
check_reencode(const struct form *f)
{
	struct form again;
	struct buf b;
	size_t i;

	buf_init(&b, big);
	for (i = 0; i < f->n; i++) {
		if (i > 0)
			buf_putc(&b, '&');
		buf_append_urlenc(&b, f->fields[i].key, f->fields[i].key_len);
		buf_putc(&b, '=');
		buf_append_urlenc(&b, f->fields[i].val, f->fields[i].val_len);
	}
	if (!buf_ok(&b))
		return;
	if (form_parse(big, b.data, b.len, MAX_FIELDS, &again) == TD_ENOMEM)
		return;
	CHECK(again.n == f->n);
	for (i = 0; i < f->n; i++) {
		CHECK(again.fields[i].key_len == f->fields[i].key_len);
		CHECK(again.fields[i].val_len == f->fields[i].val_len);
		CHECK(memcmp(again.fields[i].key, f->fields[i].key,
		    f->fields[i].key_len) == 0);
		CHECK(memcmp(again.fields[i].val, f->fields[i].val,
		    f->fields[i].val_len) == 0);
	}
}

/* The same parse on a tiny arena: same answer, or TD_ENOMEM. */
static void
check_small(enum td_status rc_big, const struct form *fbig,
    enum td_status rc_small, const struct form *fsmall)
{
	size_t i;

	if (rc_small == TD_ENOMEM) {
		CHECK(rc_big != TD_ETOOBIG);
		return;
	}
	if (rc_big == TD_ENOMEM)
		return;
	CHECK(rc_small == rc_big);
	CHECK(fsmall->n == fbig->n);
	for (i = 0; i < fbig->n; i++) {
		CHECK(fsmall->fields[i].key_len == fbig->fields[i].key_len);
		CHECK(fsmall->fields[i].val_len == fbig->fields[i].val_len);
		CHECK(strcmp(fsmall->fields[i].key, fbig->fields[i].key) == 0);
		CHECK(strcmp(fsmall->fields[i].val, fbig->fields[i].val) == 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct form f, fs;
	enum td_status rc, rcs;

	if (big == NULL && (big = arena_new(BIG_CAP)) == NULL)
		abort();
	if (small == NULL && (small = arena_new(SMALL_CAP)) == NULL)
		abort();

	check_decode(s, size, 0);
	arena_reset(big);
	check_decode(s, size, 1);
	arena_reset(big);

	rc = form_parse(big, s, size, MAX_FIELDS, &f);
	check_form(rc, &f);
	if (rc == TD_OK)
		check_reencode(&f);
	rcs = form_parse(small, s, size, MAX_FIELDS, &fs);
	check_form(rcs, &fs);
	check_small(rc, &f, rcs, &fs);
	arena_reset(big);
	arena_reset(small);
	return 0;
}
