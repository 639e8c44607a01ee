/* utf8.c - strict UTF-8 validation (RFC 3629, Unicode Table 3-7). */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

#define HIGH_BITS UINT64_C(0x8080808080808080)

/* Bytes starting at i that are all ASCII, scanning a word at a time. */
static size_t
ascii_run(const unsigned char *p, size_t i, size_t n)
{
	uint64_t w;

	while (n - i >= 8) {
		/* memcpy: p + i need not be aligned. */
		memcpy(&w, p + i, sizeof(w));
		if ((w & HIGH_BITS) != 0)
			break;
		i += 8;
	}
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

static int
is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

bool
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		unsigned char c = p[i];
		unsigned char lo = 0x80, hi = 0xBF;
		size_t len;

		if (c < 0x80) {
			i = ascii_run(p, i, n);
			continue;
		}
		/*
		 * The second byte's range depends on the lead byte: that is
		 * where overlongs (E0, F0), surrogates (ED) and code points
		 * above U+10FFFF (F4) are excluded. C0, C1 and F5-FF never
		 * start a valid sequence; 80-BF never start one either.
		 */
		if (c >= 0xC2 && c <= 0xDF)
			len = 2;
		else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else
			return false;
		if (n - i < len)
			return false;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return false;
		if (len > 2 && !is_cont(p[i + 2]))
			return false;
		if (len > 3 && !is_cont(p[i + 3]))
			return false;
		i += len;
	}
	return true;
}

size_t
utf8_count(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, count = 0;

	/* In valid UTF-8 every code point has exactly one non-continuation
	 * byte. */
	for (i = 0; i < n; i++)
		if (!is_cont(p[i]))
			count++;
	return count;
}
