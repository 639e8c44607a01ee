/* test_utf8.c - strict UTF-8 validation, in the spirit of Markus Kuhn's
 * UTF-8 decoder stress test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "utf8.h"

/* Byte-string literal with its exact length (literals may hold NULs). */
#define VALID(lit)	assert_true(utf8_valid((lit), sizeof(lit) - 1))
#define INVALID(lit)	assert_false(utf8_valid((lit), sizeof(lit) - 1))

/* Plain RFC 3629 encoder, for the exhaustive checks. */
static size_t
encode(uint32_t cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xC0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xE0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char)(0xF0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Independent, slow reference: decode generically, then apply the rules
 * (shortest form, no surrogates, <= U+10FFFF).
 */
static bool
ref_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint32_t cp, min;
		size_t len, j;

		if (p[i] < 0x80) {
			i++;
			continue;
		} else if ((p[i] & 0xE0) == 0xC0) {
			len = 2; cp = p[i] & 0x1F; min = 0x80;
		} else if ((p[i] & 0xF0) == 0xE0) {
			len = 3; cp = p[i] & 0x0F; min = 0x800;
		} else if ((p[i] & 0xF8) == 0xF0) {
			len = 4; cp = p[i] & 0x07; min = 0x10000;
		} else
			return false;
		if (n - i < len)
			return false;
		for (j = 1; j < len; j++) {
			if ((p[i + j] & 0xC0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3F);
		}
		if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += len;
	}
	return true;
}

static void
test_ascii(void **state)
{
	(void)state;
	assert_true(utf8_valid("", 0));
	assert_true(utf8_valid(NULL, 0));
	VALID("hello, world");
	VALID("\x01\x7f");
	/* An embedded NUL is valid UTF-8 (U+0000); refusing it is form's job. */
	VALID("a\0b");
}

static void
test_valid_multibyte(void **state)
{
	(void)state;
	VALID("\xc3\xa9");                      /* é, 2 bytes */
	VALID("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"); /* Kuhn's "κόσμε" */
	VALID("\xe2\x82\xac");                  /* €, 3 bytes */
	VALID("\xf0\x9f\x98\x80");              /* 😀, 4 bytes */
	VALID("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"); /* 👍🏽 with modifier */
	VALID("caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8d\xb0!");
}

static void
test_boundaries(void **state)
{
	(void)state;
	VALID("\x7f");                          /* U+007F */
	VALID("\xc2\x80");                      /* U+0080 */
	VALID("\xdf\xbf");                      /* U+07FF */
	VALID("\xe0\xa0\x80");                  /* U+0800 */
	VALID("\xed\x9f\xbf");                  /* U+D7FF, just below surrogates */
	VALID("\xee\x80\x80");                  /* U+E000, just above */
	VALID("\xef\xbf\xbd");                  /* U+FFFD */
	VALID("\xef\xbf\xbf");                  /* U+FFFF (noncharacter, legal) */
	VALID("\xf0\x90\x80\x80");              /* U+10000 */
	VALID("\xf4\x8f\xbf\xbf");              /* U+10FFFF */
	INVALID("\xf4\x90\x80\x80");            /* U+110000 */
	INVALID("\xf7\xbf\xbf\xbf");            /* U+1FFFFF */
}

static void
test_overlong(void **state)
{
	(void)state;
	/* '/' in every longer form, and the largest overlong of each length. */
	INVALID("\xc0\xaf");
	INVALID("\xe0\x80\xaf");
	INVALID("\xf0\x80\x80\xaf");
	INVALID("\xc1\xbf");
	INVALID("\xe0\x9f\xbf");
	INVALID("\xf0\x8f\xbf\xbf");
	/* Overlong NUL, the classic "modified UTF-8" trick. */
	INVALID("\xc0\x80");
	INVALID("\xe0\x80\x80");
	INVALID("\xf0\x80\x80\x80");
	/* 5- and 6-byte forms from the old RFC 2279. */
	INVALID("\xf8\x88\x80\x80\x80");
	INVALID("\xfc\x84\x80\x80\x80\x80");
}

static void
test_surrogates(void **state)
{
	(void)state;
	INVALID("\xed\xa0\x80");                /* U+D800 */
	INVALID("\xed\xad\xbf");                /* U+DB7F */
	INVALID("\xed\xae\x80");                /* U+DB80 */
	INVALID("\xed\xaf\xbf");                /* U+DBFF */
	INVALID("\xed\xb0\x80");                /* U+DC00 */
	INVALID("\xed\xbf\xbf");                /* U+DFFF */
	/* A CESU-8 style pair is still two surrogates. */
	INVALID("\xed\xa0\x80\xed\xb0\x80");
	INVALID("\xed\xaf\xbf\xed\xbf\xbf");
}

static void
test_truncated(void **state)
{
	(void)state;
	INVALID("\xc3");
	INVALID("\xe2\x82");
	INVALID("\xe2");
	INVALID("\xf0\x9f\x98");
	INVALID("\xf0\x9f");
	INVALID("\xf0");
	/* Truncated in the middle, followed by ASCII. */
	INVALID("\xc3" "a");
	INVALID("\xe2\x82" "a");
	INVALID("\xf0\x9f\x98" "a");
	INVALID("abc\xe2\x82");
	/* Truncated by n, not by the bytes: the tail is outside the string. */
	assert_false(utf8_valid("\xe2\x82\xac", 2));
	assert_true(utf8_valid("\xe2\x82\xac", 3));
}

static void
test_stray_continuation(void **state)
{
	unsigned char c;
	char one[1];

	(void)state;
	INVALID("\x80");
	INVALID("\xbf");
	INVALID("a\x80" "b");
	INVALID("\xc3\xa9\xa9");                /* one too many */
	INVALID("\x80\x81\x82\x83\x84\x85\x86\x87");
	for (c = 0x80; c <= 0xBF; c++) {
		one[0] = (char)c;
		assert_false(utf8_valid(one, 1));
	}
}

static void
test_bad_lead_bytes(void **state)
{
	unsigned int c;
	char two[2];

	(void)state;
	/* C0, C1 and F5-FF can never start a valid sequence, whatever follows. */
	for (c = 0; c <= 0xFF; c++) {
		if (!(c == 0xC0 || c == 0xC1 || c >= 0xF5))
			continue;
		two[0] = (char)c;
		two[1] = (char)0x80;
		assert_false(utf8_valid(two, 2));
		assert_false(utf8_valid(two, 1));
	}
	INVALID("\xfe");
	INVALID("\xff");
	INVALID("\xfe\xfe\xff\xff");
	/* A lead byte followed by a non-continuation. */
	INVALID("\xc3" "\xc3\xa9");
	INVALID("\xe2\x28\xa1");
	INVALID("\xe2\x82\x28");
	INVALID("\xf0\x28\x8c\xbc");
	INVALID("\xf0\x90\x28\xbc");
	INVALID("\xf0\x90\x8c\x28");
}

/* Every code point encodes to something valid unless it is a surrogate. */
static void
test_every_code_point(void **state)
{
	unsigned char b[4];
	uint32_t cp;

	(void)state;
	for (cp = 0; cp <= 0x10FFFF; cp++) {
		size_t n = encode(cp, b);
		bool want = !(cp >= 0xD800 && cp <= 0xDFFF);

		if (utf8_valid((const char *)b, n) != want)
			fail_msg("U+%04X: expected %s", (unsigned)cp,
			    want ? "valid" : "invalid");
		if (want)
			assert_int_equal(utf8_count((const char *)b, n), 1);
	}
}

/* Every 1-, 2- and (lead E0-FF) 3-byte string against the reference. */
static void
test_exhaustive_short(void **state)
{
	unsigned char b[4];
	unsigned int x, y, z;

	(void)state;
	for (x = 0; x < 256; x++) {
		b[0] = (unsigned char)x;
		assert_int_equal(utf8_valid((const char *)b, 1), ref_valid(b, 1));
		for (y = 0; y < 256; y++) {
			b[1] = (unsigned char)y;
			if (utf8_valid((const char *)b, 2) != ref_valid(b, 2))
				fail_msg("%02X %02X", x, y);
		}
	}
	for (x = 0xE0; x < 256; x++)
		for (y = 0; y < 256; y++)
			for (z = 0; z < 256; z++) {
				b[0] = (unsigned char)x;
				b[1] = (unsigned char)y;
				b[2] = (unsigned char)z;
				if (utf8_valid((const char *)b, 3) !=
				    ref_valid(b, 3))
					fail_msg("%02X %02X %02X", x, y, z);
			}
}

/*
 * The ASCII fast path reads 8 bytes at a time: a non-ASCII byte must be
 * caught at every offset and alignment, including in the last partial word.
 */
static void
test_fast_path_offsets(void **state)
{
	char buf[64 + 8];
	size_t start, pos, len;

	(void)state;
	for (start = 0; start < 8; start++) {
		for (len = 1; len <= 40; len++) {
			char *s = buf + start;

			memset(s, 'a', len);
			assert_true(utf8_valid(s, len));
			for (pos = 0; pos < len; pos++) {
				memset(s, 'a', len);
				s[pos] = (char)0x80;
				assert_false(utf8_valid(s, len));
				s[pos] = (char)0xFF;
				assert_false(utf8_valid(s, len));
				/* A lead byte at pos: truncated at the end,
				 * else followed by 'a', no continuation. */
				s[pos] = (char)0xC3;
				assert_false(utf8_valid(s, len));
				if (pos + 1 < len) {
					s[pos + 1] = (char)0xA9;
					assert_true(utf8_valid(s, len));
				}
			}
		}
	}
}

static void
test_count(void **state)
{
	(void)state;
	assert_int_equal(utf8_count("", 0), 0);
	assert_int_equal(utf8_count("abc", 3), 3);
	assert_int_equal(utf8_count("\xc3\xa9", 2), 1);
	assert_int_equal(utf8_count("caf\xc3\xa9", 5), 4);
	assert_int_equal(utf8_count("\xe2\x82\xac" "1", 4), 2);
	assert_int_equal(utf8_count("\xf0\x9f\x98\x80", 4), 1);
	/* 👍🏽 is two code points (one user-perceived character). */
	assert_int_equal(utf8_count("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd", 8), 2);
	assert_int_equal(utf8_count("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
	    11), 5);
	assert_int_equal(utf8_count("a\0b", 3), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_valid_multibyte),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_surrogates),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_stray_continuation),
		cmocka_unit_test(test_bad_lead_bytes),
		cmocka_unit_test(test_every_code_point),
		cmocka_unit_test(test_exhaustive_short),
		cmocka_unit_test(test_fast_path_offsets),
		cmocka_unit_test(test_count),
	};

	return cmocka_run_group_tests_name("utf8", tests, NULL, NULL);
}
