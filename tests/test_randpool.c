/* test_randpool.c - the pool's bytes and the UUIDs made from them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "randpool.h"

static int
setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* 8-4-4-4-12 lower-case hex digits, version 4, variant 10xx. */
static void
assert_uuid_v4(const char *s)
{
	size_t i;

	assert_int_equal(strlen(s), UUID_TEXT_LEN);
	for (i = 0; i < UUID_TEXT_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(s[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", s[i]));
	}
	assert_int_equal(s[14], '4');
	assert_non_null(strchr("89ab", s[19]));
}

static void
test_uuid_text(void **state)
{
	unsigned char r[16], ff[16];
	char out[UUID_TEXT_LEN + 1];
	int i;

	(void)state;
	for (i = 0; i < 16; i++)
		r[i] = (unsigned char)i;
	memset(ff, 0xff, sizeof(ff));
	uuid_v4_text(r, out);
	assert_string_equal(out, "00010203-0405-4607-8809-0a0b0c0d0e0f");
	uuid_v4_text(ff, out);
	assert_string_equal(out, "ffffffff-ffff-4fff-bfff-ffffffffffff");
	assert_uuid_v4(out);
}

static int
cmp_uuid(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* More UUIDs than one filling holds: all well formed, none twice. */
static void
test_pool_uuids_across_refills(void **state)
{
	enum { N = 3 * RANDPOOL_BYTES / 16 + 7 };
	static char all[N][UUID_TEXT_LEN + 1];
	struct randpool p;
	int i;

	(void)state;
	randpool_init(&p);
	for (i = 0; i < N; i++) {
		randpool_uuid(&p, all[i]);
		assert_uuid_v4(all[i]);
	}
	qsort(all, N, sizeof(all[0]), cmp_uuid);
	for (i = 1; i < N; i++)
		assert_string_not_equal(all[i - 1], all[i]);
}

/* A byte handed out is wiped from the pool; a draw that does not fit what
 * is left refills it; one bigger than the pool bypasses it. */
static void
test_pool_bytes(void **state)
{
	static const unsigned char zero[RANDPOOL_BYTES];
	unsigned char a[100], big[RANDPOOL_BYTES + 1];
	struct randpool p;
	size_t before;

	(void)state;
	randpool_init(&p);
	randpool_bytes(&p, a, sizeof(a));
	assert_int_equal(p.next, sizeof(a));
	assert_memory_equal(p.buf, zero, sizeof(a));
	assert_memory_not_equal(p.buf + sizeof(a), zero, 64);
	assert_memory_not_equal(a, zero, sizeof(a));

	p.next = RANDPOOL_BYTES - 10;      /* 10 left: 100 do not fit */
	randpool_bytes(&p, a, sizeof(a));
	assert_int_equal(p.next, sizeof(a));

	before = p.next;
	memset(big, 0, sizeof(big));
	randpool_bytes(&p, big, sizeof(big));
	assert_int_equal(p.next, before);
	assert_memory_not_equal(big + RANDPOOL_BYTES - 64, zero, 64);
}

/* Two pools (two workers, each made after fork) draw different bytes. */
static void
test_pools_differ(void **state)
{
	struct randpool p, q;
	char a[UUID_TEXT_LEN + 1], b[UUID_TEXT_LEN + 1];

	(void)state;
	randpool_init(&p);
	randpool_init(&q);
	randpool_uuid(&p, a);
	randpool_uuid(&q, b);
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid_text),
		cmocka_unit_test(test_pool_uuids_across_refills),
		cmocka_unit_test(test_pool_bytes),
		cmocka_unit_test(test_pools_differ),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
