/* buf.h - growable byte buffer living in an arena (response bodies, SQL
 * text, rendered templates). A failed append leaves the buffer marked
 * failed; check buf_ok() once at the end instead of after every call. */
#ifndef TODO_BUF_H
#define TODO_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct arena;

struct buf {
	struct arena *arena;
	char *data;        /* always NUL-terminated when ok */
	size_t len;
	size_t cap;
	bool failed;
};

void buf_init(struct buf *b, struct arena *a);
/* Make room for n more bytes now, so later appends need not grow it.
 * False (and the buffer failed) when the arena cannot give them. */
bool buf_reserve(struct buf *b, size_t n);
/* The growing half of buf_ensure(), out of line: grows by doubling. */
bool buf_grow(struct buf *b, size_t n);
/* Room for n more bytes and the NUL, by doubling (buf_reserve takes n
 * as is): a caller that checked once may then write n bytes at
 * data + len itself, set len and the NUL. Inline: checked once a row. */
static inline bool
buf_ensure(struct buf *b, size_t n)
{
	return (!b->failed && n < b->cap - b->len) || buf_grow(b, n);
}
/* The growing half of buf_append(), out of line. */
void buf_append_grow(struct buf *b, const char *s, size_t n);
/* Inline: a page appends some 2,000 pieces, nearly all into room the
 * buffer already has (cap > len whenever cap != 0). */
static inline void
buf_append(struct buf *b, const char *s, size_t n)
{
	if (!b->failed && n < b->cap - b->len) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
	} else {
		buf_append_grow(b, s, n);
	}
}
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append v in decimal (printf's "%" PRId64, without printf's cost). */
void buf_put_i64(struct buf *b, int64_t v);
/* Append s with HTML's five special characters escaped. */
void buf_append_html(struct buf *b, const char *s, size_t n);
/* The same written at d, which has room for 6 * n + 24 bytes (stores
 * run past the end into it); returns the end, no NUL written. For a
 * caller that made room for a whole row once (tmpl.c). */
char *buf_html_into(char *d, const char *s, size_t n);
#ifdef __SSE2__
/* A bit for each byte of v or w that HTML escaping changes, in one mask. */
static inline int
buf_html_specials2(__m128i v, __m128i w)
{
	/* '&' 0x26 and '\'' 0x27 are the bytes that are 0x27 with bit 0
	 * set, '<' 0x3c and '>' 0x3e those that are 0x3e with bit 1 set:
	 * three compares a vector, not five. */
	const __m128i one = _mm_set1_epi8(1), two = _mm_set1_epi8(2),
	    amp_apos = _mm_set1_epi8('\''), lt_gt = _mm_set1_epi8('>'),
	    quot = _mm_set1_epi8('"');

	return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
	    _mm_or_si128(_mm_cmpeq_epi8(_mm_or_si128(v, one), amp_apos),
	    _mm_cmpeq_epi8(_mm_or_si128(w, one), amp_apos)),
	    _mm_or_si128(_mm_cmpeq_epi8(_mm_or_si128(v, two), lt_gt),
	    _mm_cmpeq_epi8(_mm_or_si128(w, two), lt_gt))),
	    _mm_or_si128(_mm_cmpeq_epi8(v, quot), _mm_cmpeq_epi8(w, quot))));
}
#endif
/* buf_html_into() of 8 to 64 bytes that need no escaping (a title, a
 * time, "5 minutes ago"), without a call: looked at and copied in
 * overlapping pieces (8 to 15 bytes: two 8-byte halves; to 32: the first
 * and last 16; to 64: two such pairs), nothing read outside s. The end;
 * NULL when s is not one of those (then buf_html_into()). */
static inline char *
buf_html_plain_short(char *d, const char *s, size_t n)
{
#ifdef __SSE2__
	__m128i v, w, x, y;
	uint64_t lo, hi;

	if (n < 8 || n > 64)
		return NULL;
	if (n < 16) {
		memcpy(&lo, s, 8);
		memcpy(&hi, s + n - 8, 8);
		v = _mm_set_epi64x((long long)hi, (long long)lo);
		if (buf_html_specials2(v, v) != 0)
			return NULL;
		memcpy(d, &lo, 8);
		memcpy(d + n - 8, &hi, 8);
		return d + n;
	}
	v = _mm_loadu_si128((const __m128i *)(const void *)s);
	w = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 16));
	if (n <= 32) {
		if (buf_html_specials2(v, w) != 0)
			return NULL;
	} else {
		x = _mm_loadu_si128((const __m128i *)(const void *)(s + 16));
		y = _mm_loadu_si128((const __m128i *)(const void *)(s + n - 32));
		if ((buf_html_specials2(v, w) | buf_html_specials2(x, y)) != 0)
			return NULL;
		_mm_storeu_si128((__m128i *)(void *)(d + 16), x);
		_mm_storeu_si128((__m128i *)(void *)(d + n - 32), y);
	}
	_mm_storeu_si128((__m128i *)(void *)d, v);
	_mm_storeu_si128((__m128i *)(void *)(d + n - 16), w);
	return d + n;
#else
	(void)d;
	(void)s;
	(void)n;
	return NULL;
#endif
}
/* Append s percent-encoded for a URL query component. */
void buf_append_urlenc(struct buf *b, const char *s, size_t n);
/* Inline: renderers check it once per emitted piece. */
static inline bool
buf_ok(const struct buf *b)
{
	return !b->failed;
}

#endif
