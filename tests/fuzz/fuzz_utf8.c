/*
 * fuzz_utf8.c - utf8_valid and utf8_count against a reference decoder
 * written the slow, obvious way from RFC 3629's definition: a code point
 * decoded bit by bit, then refused if overlong, a surrogate or above
 * U+10FFFF. Both must agree on every input, on every prefix cut at the
 * input's first byte (a cut in a sequence), and utf8_count must count the
 * reference's code points. Building and running: docs/fuzzing.md.
 */
#include <string.h>

#include "fuzz.h"
#include "utf8.h"

/* Code points in s, or -1 when s is not UTF-8. */
static long
ref_count(const unsigned char *s, size_t n)
{
	size_t i = 0, k, len;
	long count = 0;
	uint32_t cp, min;

	while (i < n) {
		unsigned char c = s[i];

		if (c < 0x80) {
			len = 1, cp = c, min = 0;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		} else {
			return -1;
		}
		if (len > n - i)
			return -1;
		for (k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -1;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		i += len;
		count++;
	}
	return count;
}

static void
check(const uint8_t *data, size_t size)
{
	long want = ref_count(data, size);
	bool got = utf8_valid((const char *)data, size);

	CHECK(got == (want >= 0));
	if (got)
		CHECK(utf8_count((const char *)data, size) == (size_t)want);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut;

	check(data, size);
	/* Every prefix is too slow for long inputs; one cut chosen by the
	 * input lands inside a sequence often enough. */
	if (size > 1) {
		cut = data[0] % size;
		check(data, cut);
		check(data + cut, size - cut);
	}
	return 0;
}
