/*
 * fuzz_cookies.c - the Cookie header (form_parse_cookies). Properties:
 * every name and value is NUL-terminated at its length, holds no NUL and
 * is valid UTF-8; a name is non-empty, trimmed, and holds no ';' or '=';
 * no more pairs than allowed; a failed parse leaves an empty form; the
 * cookies written back ("name=urlenc(value); ...") parse to the same
 * list; one pair never spoils another: the header's cookies are, in
 * order, those of each ';'-separated pair parsed alone (a malformed pair
 * is skipped, issue 11), up to the limit; the same header on a tiny arena gives the same answer or
 * TD_ENOMEM. Building and running: docs/fuzzing.md.
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

static void
check_str(const char *s, size_t len)
{
	CHECK(s != NULL);
	CHECK(strlen(s) == len);
	CHECK(utf8_valid(s, len));
}

static void
check_cookies(enum td_status rc, const struct form *f)
{
	size_t i;

	CHECK(rc == TD_OK || rc == TD_EINVAL || rc == TD_ETOOBIG ||
	    rc == TD_ENOMEM);
	if (rc != TD_OK) {
		CHECK(f->n == 0 && f->fields == NULL);
		return;
	}
	CHECK(f->n <= MAX_FIELDS);
	CHECK(f->n == 0 || f->fields != NULL);
	for (i = 0; i < f->n; i++) {
		const struct form_field *ff = &f->fields[i];

		check_str(ff->key, ff->key_len);
		check_str(ff->val, ff->val_len);
		CHECK(ff->key_len > 0);
		CHECK(memchr(ff->key, ';', ff->key_len) == NULL);
		CHECK(memchr(ff->key, '=', ff->key_len) == NULL);
		CHECK(ff->key[0] != ' ' && ff->key[0] != '\t');
		CHECK(ff->key[ff->key_len - 1] != ' ' &&
		    ff->key[ff->key_len - 1] != '\t');
	}
}

static bool
same_form(const struct form *a, const struct form *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (a->fields[i].key_len != b->fields[i].key_len ||
		    a->fields[i].val_len != b->fields[i].val_len ||
		    memcmp(a->fields[i].key, b->fields[i].key,
		    a->fields[i].key_len) != 0 ||
		    memcmp(a->fields[i].val, b->fields[i].val,
		    a->fields[i].val_len) != 0)
			return false;
	return true;
}

/* Written back as a browser would send them, the cookies parse again to
 * the same list. */
static void
check_reencode(const struct form *f)
{
	struct form again;
	enum td_status rc;
	struct buf b;
	size_t i;

	buf_init(&b, big);
	for (i = 0; i < f->n; i++) {
		if (i > 0)
			buf_append(&b, "; ", 2);
		buf_append(&b, f->fields[i].key, f->fields[i].key_len);
		buf_putc(&b, '=');
		buf_append_urlenc(&b, f->fields[i].val, f->fields[i].val_len);
	}
	if (!buf_ok(&b))
		return;
	rc = form_parse_cookies(big, b.data, b.len, MAX_FIELDS, &again);
	if (rc == TD_ENOMEM)
		return;
	CHECK(rc == TD_OK);
	CHECK(same_form(f, &again));
}

/* The header parsed pair by pair: each pair alone gives its cookie or
 * nothing, and the whole header is their concatenation, cut at
 * MAX_FIELDS. */
static void
check_pairwise(const char *s, size_t n, const struct form *f)
{
	struct form one;
	enum td_status rc;
	size_t pos = 0, len, k = 0;
	const char *semi;

	for (;;) {
		semi = memchr(s + pos, ';', n - pos);
		len = semi != NULL ? (size_t)(semi - (s + pos)) : n - pos;
		rc = form_parse_cookies(big, s + pos, len, 1, &one);
		if (rc == TD_ENOMEM)
			return;
		CHECK(rc == TD_OK && one.n <= 1);
		if (one.n == 1 && k < MAX_FIELDS) {
			CHECK(k < f->n);
			CHECK(f->fields[k].key_len == one.fields[0].key_len);
			CHECK(f->fields[k].val_len == one.fields[0].val_len);
			CHECK(memcmp(f->fields[k].key, one.fields[0].key,
			    one.fields[0].key_len) == 0);
			CHECK(memcmp(f->fields[k].val, one.fields[0].val,
			    one.fields[0].val_len) == 0);
			k++;
		}
		if (semi == NULL)
			break;
		pos += len + 1;
	}
	CHECK(k == f->n);
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

	rc = form_parse_cookies(big, s, size, MAX_FIELDS, &f);
	check_cookies(rc, &f);
	if (rc != TD_ENOMEM) {
		CHECK(rc == TD_OK);
		check_reencode(&f);
		check_pairwise(s, size, &f);
	}
	rcs = form_parse_cookies(small, s, size, MAX_FIELDS, &fs);
	check_cookies(rcs, &fs);
	if (rcs != TD_ENOMEM && rc != TD_ENOMEM) {
		CHECK(rcs == rc);
		CHECK(same_form(&f, &fs));
	}
	arena_reset(big);
	arena_reset(small);
	return 0;
}
