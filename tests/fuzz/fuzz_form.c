/*
 * fuzz_form.c - libFuzzer harness for form_decode, form_parse and
 * form_parse_cookies.
 *
 * Usage: build with clang -g -O1 -fsanitize=fuzzer,address,undefined
 * -Isrc/core -Isrc/web
 * src/web/form.c src/core/utf8.c src/core/arena.c src/core/buf.c tests/fuzz/fuzz_form.c -o
 * fuzz_form, then run ./fuzz_form -max_total_time=60 CORPUS_DIR (an empty
 * directory is fine; seeding it with a few bodies like "a=1&b=%C3%A9" and
 * cookie headers like "sid=x; q=\"y\"" helps). Each input is fed whole to
 * every parser on a capped arena and again on a tiny one; an invariant
 * violation calls abort(), so libFuzzer saves the input as crash-*; replay
 * one with ./fuzz_form crash-FILE. It is not part of `make check`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "form.h"
#include "utf8.h"

#define MAX_FIELDS	64
#define BIG_CAP		(1024 * 1024)
#define SMALL_CAP	512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Not assert(): it must hold under -DNDEBUG too. */
#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: invariant failed: %s\n",	\
		    __FILE__, __LINE__, #cond);				\
		abort();						\
	}								\
} while (0)

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
check_form(enum td_status rc, const struct form *f, int cookies)
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
		if (cookies) {
			/* Names are trimmed and never span a separator. */
			CHECK(memchr(ff->key, ';', ff->key_len) == NULL);
			CHECK(memchr(ff->key, '=', ff->key_len) == NULL);
			CHECK(ff->key[0] != ' ' && ff->key[0] != '\t');
			CHECK(ff->key[ff->key_len - 1] != ' ' &&
			    ff->key[ff->key_len - 1] != '\t');
		}
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
	check_form(rc, &f, 0);
	rcs = form_parse(small, s, size, MAX_FIELDS, &fs);
	check_form(rcs, &fs, 0);
	check_small(rc, &f, rcs, &fs);
	arena_reset(big);
	arena_reset(small);

	rc = form_parse_cookies(big, s, size, MAX_FIELDS, &f);
	check_form(rc, &f, 1);
	rcs = form_parse_cookies(small, s, size, MAX_FIELDS, &fs);
	check_form(rcs, &fs, 1);
	check_small(rc, &f, rcs, &fs);
	arena_reset(big);
	arena_reset(small);
	return 0;
}
