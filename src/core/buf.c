/* buf.c - see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "arena.h"

/* An empty buffer still reads as "" (cap 0: never written to). */
static char empty[1];

void
buf_init(struct buf *b, struct arena *a)
{
	b->arena = a;
	b->data = empty;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}

/* exact: a caller's estimate, taken as is; else grow by doubling. */
static bool
reserve(struct buf *b, size_t extra, bool exact)
{
	size_t want, ncap;
	char *p;

	if (b->failed)
		return false;
	if (extra > (size_t)-1 / 2 - b->len)
		goto fail;
	want = b->len + extra + 1;
	if (want <= b->cap)
		return true;
	ncap = exact ? want : b->cap ? b->cap : 256;
	while (ncap < want)
		ncap *= 2;
	p = arena_realloc(b->arena, b->data, b->cap, ncap);
	if (p == NULL)
		goto fail;
	b->data = p;
	b->cap = ncap;
	return true;
fail:
	b->failed = true;
	return false;
}

bool
buf_reserve(struct buf *b, size_t n)
{
	if (!reserve(b, n, true))
		return false;
	/* A fresh block holds garbage; data must still read as "". */
	b->data[b->len] = '\0';
	return true;
}

bool
buf_grow(struct buf *b, size_t n)
{
	return reserve(b, n, false);
}

/* reserve() for the hot paths: cap > len whenever cap != 0, so a
 * buffer with room answers without a call. */
static inline bool
room(struct buf *b, size_t n)
{
	return (!b->failed && n < b->cap - b->len) || reserve(b, n, false);
}

void
buf_append_grow(struct buf *b, const char *s, size_t n)
{
	if (!room(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void
buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (!reserve(b, (size_t)n, false))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
buf_put_i64(struct buf *b, int64_t v)
{
	char num[24], *p = num + sizeof(num);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	buf_append(b, p, (size_t)(num + sizeof(num) - p));
}

/* 1-based index into html_rep for the five bytes HTML escaping changes. */
static const unsigned char html_esc[256] = {
	['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5,
};

static const struct {
	const char *s;
	size_t n;
} html_rep[] = {
	{ "", 0 },
	{ "&amp;", 5 }, { "&lt;", 4 }, { "&gt;", 4 }, { "&quot;", 6 },
	{ "&#39;", 5 },
};

#ifdef __SSE2__
/* A bit for each byte of v that escaping changes (the constants are
 * hoisted out of the callers' loops once inlined). */
static inline int
html_specials(__m128i v)
{
	return _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('&')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('<'))),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('>')),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('"')))),
	    _mm_cmpeq_epi8(v, _mm_set1_epi8('\''))));
}

#define html_specials2 buf_html_specials2
#endif

/* The first byte in [p, e) that escaping changes, or e. */
static const unsigned char *
plain_run(const unsigned char *p, const unsigned char *e)
{
#ifdef __SSE2__
	/* 16 bytes a step: a page escapes some 20 KB of text. */
	const unsigned char *start = p;
	__m128i v;
	int m;

	while (e - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		if ((m = html_specials(v)) != 0)
			return p + __builtin_ctz((unsigned)m);
		p += 16;
	}
	/* The tail of a run of 16 or more: the last 16 bytes at once (those
	 * before p are plain already), not byte by byte. */
	if (p < e && e - start >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(e - 16));
		m = html_specials(v);
		return m != 0 ? e - 16 + __builtin_ctz((unsigned)m) : e;
	}
#endif
	while (e - p >= 4 && (html_esc[p[0]] | html_esc[p[1]] |
	    html_esc[p[2]] | html_esc[p[3]]) == 0)
		p += 4;
	while (p < e && html_esc[*p] == 0)
		p++;
	return p;
}

/* Each replacement in 8 bytes, stored whole (the room is there). */
static const char html_rep8[6][8] = {
	"", "&amp;", "&lt;", "&gt;", "&quot;", "&#39;",
};

/* One pass: plain bytes are stored 16 at a time (a store may run past
 * what is kept: the next overwrites it), a special's replacement 8 bytes
 * at a time. Nothing is read past s + n. */
char *
buf_html_into(char *d, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	unsigned k;
#ifdef __SSE2__
	__m128i v;
	int m;

	/* 8 to 15 bytes (a date, "5 minutes ago"): two 8-byte halves,
	 * overlapping, looked at in one step. */
	if (n >= 8 && n < 16) {
		uint64_t lo, hi;

		memcpy(&lo, p, 8);
		memcpy(&hi, e - 8, 8);
		v = _mm_set_epi64x((long long)hi, (long long)lo);
		if (html_specials(v) == 0) {
			memcpy(d, &lo, 8);
			memcpy(d + n - 8, &hi, 8);
			return d + n;
		}
	}
	/* 16 to 32 bytes (a title, an ISO time): the first and the last 16,
	 * overlapping, looked at together. */
	if (n >= 16 && n <= 32) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(e - 16));

		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		if (html_specials2(v, w) == 0) {
			_mm_storeu_si128((__m128i *)(void *)d, v);
			_mm_storeu_si128((__m128i *)(void *)(d + n - 16), w);
			return d + n;
		}
	}
	while (e - p >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)p);
		_mm_storeu_si128((__m128i *)(void *)d, v);
		if ((m = html_specials(v)) == 0) {
			p += 16;
			d += 16;
			continue;
		}
		k = (unsigned)__builtin_ctz((unsigned)m);
		p += k;
		d += k;
		k = html_esc[*p++];
		memcpy(d, html_rep8[k], 8);
		d += html_rep[k].n;
	}
	/* The tail of a text of 16 or more: its last 16 bytes at once when
	 * they are plain (those before p were then copied as they are, the
	 * last bytes before d: written again, the same). */
	if (p < e && n >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(e - 16));
		if (html_specials(v) == 0) {
			_mm_storeu_si128((__m128i *)(void *)(d - (16 - (e - p))), v);
			return d + (e - p);
		}
	}
#endif
	while (p < e) {
		if ((k = html_esc[*p]) == 0) {
			*d++ = (char)*p++;
			continue;
		}
		p++;
		memcpy(d, html_rep8[k], 8);
		d += html_rep[k].n;
	}
	return d;
}

/* buf_append_html() without the room for the worst case: run by run. */
static __attribute__((noinline)) void
html_runs(struct buf *b, const unsigned char *p, const unsigned char *e)
{
	const unsigned char *run;
	size_t k, rn, need;

	/* Text is mostly plain: copy whole runs, not byte by byte. */
	while (p < e) {
		run = p;
		p = plain_run(p, e);
		k = p < e ? html_esc[*p++] : 0;
		rn = (size_t)(p - run) - (k != 0);
		need = rn + html_rep[k].n;
		if (!room(b, need))
			return;
		memcpy(b->data + b->len, run, rn);
		if (k != 0)
			memcpy(b->data + b->len + rn, html_rep[k].s,
			    html_rep[k].n);
		b->len += need;
		b->data[b->len] = '\0';
	}
}

void
buf_append_html(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	/* Room for the worst case (every byte "&quot;"): one pass. Grown
	 * for it only when short (a long text would take 6 times its room). */
	if (n <= 4096 ? buf_ensure(b, 6 * n + 24) :
	    n < (size_t)-1 / 8 && !b->failed && 6 * n + 24 < b->cap - b->len) {
		b->len = (size_t)(buf_html_into(b->data + b->len, s, n) - b->data);
		b->data[b->len] = '\0';
		return;
	}
	html_runs(b, p, p + n);
}

void
buf_append_urlenc(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			buf_putc(b, (char)c);
		} else {
			char enc[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_append(b, enc, 3);
		}
	}
}
