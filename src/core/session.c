/* session.c - session tokens, cookies, CSRF tokens (libsodium). */
#include "session.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

enum td_status
session_new_token(char token_b64[SESSION_TOKEN_B64_LEN + 1],
    unsigned char hash[SESSION_HASH_BYTES])
{
	unsigned char raw[SESSION_TOKEN_BYTES];

	/* Idempotent; the worker has run it already. */
	if (sodium_init() < 0)
		return TD_ESYSTEM;
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token_b64, SESSION_TOKEN_B64_LEN + 1, raw, sizeof(raw), B64);
	/* The hash of the bytes, not of the text: one token, one hash. */
	crypto_hash_sha256(hash, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return TD_OK;
}

#ifndef __SSE2__
/* All ones when lo <= x <= hi, else 0, without a branch on x: a token
 * is a secret, decoded in constant time as libsodium's decoder does. */
static inline uint32_t
in_range(uint32_t x, uint32_t lo, uint32_t hi)
{
	return 0u - (((lo - 1 - x) & (x - hi - 1)) >> 31);
}

/* The 6 bits of base64url character c; *bad gets all ones when c is
 * not one. */
static inline uint32_t
b64url_bits(unsigned char c, uint32_t *bad)
{
	uint32_t x = c, upper = in_range(x, 'A', 'Z'), lower = in_range(x, 'a', 'z'),
	    digit = in_range(x, '0', '9'), minus = in_range(x, '-', '-'),
	    under = in_range(x, '_', '_');

	*bad |= ~(upper | lower | digit | minus | under);
	return ((x - 'A') & upper) | ((x - 'a' + 26) & lower) |
	    ((x - '0' + 52) & digit) | (62 & minus) | (63 & under);
}
#endif

#ifdef __SSE2__
/* b64url_bits() of 16 characters at once: their 6-bit values, and in
 * *bad a bit for each that is not one of the 64 (signed compares: bytes
 * past 0x7f are negative, in no range). */
static inline __m128i
b64url_bits16(__m128i x, int *bad)
{
	__m128i upper = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('A' - 1)),
	    _mm_cmplt_epi8(x, _mm_set1_epi8('Z' + 1)));
	__m128i lower = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('a' - 1)),
	    _mm_cmplt_epi8(x, _mm_set1_epi8('z' + 1)));
	__m128i digit = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
	    _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1)));
	__m128i minus = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));
	__m128i under = _mm_cmpeq_epi8(x, _mm_set1_epi8('_'));
	/* what to add to each class's characters for its value */
	__m128i add = _mm_or_si128(_mm_or_si128(
	    _mm_and_si128(upper, _mm_set1_epi8((char)-'A')),
	    _mm_and_si128(lower, _mm_set1_epi8((char)(26 - 'a')))),
	    _mm_or_si128(_mm_and_si128(digit, _mm_set1_epi8((char)(52 - '0'))),
	    _mm_or_si128(_mm_and_si128(minus, _mm_set1_epi8((char)(62 - '-'))),
	    _mm_and_si128(under, _mm_set1_epi8((char)(63 - '_'))))));
	__m128i ok = _mm_or_si128(_mm_or_si128(upper, lower),
	    _mm_or_si128(digit, _mm_or_si128(minus, under)));

	*bad |= _mm_movemask_epi8(ok) ^ 0xffff;
	return _mm_add_epi8(x, add);
}
#endif

bool
session_parse_token(const char *v, unsigned char hash[SESSION_HASH_BYTES])
{
	unsigned char raw[SESSION_TOKEN_BYTES];
	uint32_t bad = 0, w;
	size_t i, j;

	if (v == NULL || strlen(v) != SESSION_TOKEN_B64_LEN)
		return false;
	/* 40 characters are 30 bytes, the last 3 two more: 18 bits, whose
	 * last 2 must be 0 (43 characters hold 258 bits): one token has one
	 * spelling. */
#ifdef __SSE2__
	{
		/* The 43 characters (and 5 'A's) as 48 values, 16 at a time. */
		unsigned char in[48], val[48];
		int badm = 0;

		memcpy(in, v, SESSION_TOKEN_B64_LEN);
		memset(in + SESSION_TOKEN_B64_LEN, 'A', sizeof(in) - SESSION_TOKEN_B64_LEN);
		for (i = 0; i < sizeof(in); i += 16)
			_mm_storeu_si128((__m128i *)(void *)(val + i), b64url_bits16(
			    _mm_loadu_si128((const __m128i *)(const void *)(in + i)), &badm));
		bad = (uint32_t)badm;
		for (i = 0, j = 0; i < 40; i += 4, j += 3) {
			w = (uint32_t)val[i] << 18 | (uint32_t)val[i + 1] << 12 |
			    (uint32_t)val[i + 2] << 6 | val[i + 3];
			raw[j] = (unsigned char)(w >> 16);
			raw[j + 1] = (unsigned char)(w >> 8);
			raw[j + 2] = (unsigned char)w;
		}
		w = (uint32_t)val[40] << 12 | (uint32_t)val[41] << 6 | val[42];
		sodium_memzero(in, sizeof(in));
		sodium_memzero(val, sizeof(val));
	}
#else
	const unsigned char *p = (const unsigned char *)v;

	for (i = 0, j = 0; i < 40; i += 4, j += 3) {
		w = b64url_bits(p[i], &bad) << 18 | b64url_bits(p[i + 1], &bad) << 12 |
		    b64url_bits(p[i + 2], &bad) << 6 | b64url_bits(p[i + 3], &bad);
		raw[j] = (unsigned char)(w >> 16);
		raw[j + 1] = (unsigned char)(w >> 8);
		raw[j + 2] = (unsigned char)w;
	}
	w = b64url_bits(p[40], &bad) << 12 | b64url_bits(p[41], &bad) << 6 |
	    b64url_bits(p[42], &bad);
#endif
	raw[30] = (unsigned char)(w >> 10);
	raw[31] = (unsigned char)(w >> 2);
	bad |= w & 3;
	if (bad != 0) {
		sodium_memzero(raw, sizeof(raw));
		return false;
	}
	crypto_hash_sha256(hash, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	return true;
}

const char *
session_cookie_name(bool secure)
{
	return secure ? "__Host-session" : "session";
}

const char *
presession_cookie_name(bool secure)
{
	return secure ? "__Host-presession" : "presession";
}

enum td_status
session_cookie_header(char *out, size_t outlen, const char *name,
    const char *token, long max_age, bool secure)
{
	int n;

	n = snprintf(out, outlen, "%s=%s; Max-Age=%ld; Path=/; HttpOnly; SameSite=Lax%s",
	    name, token != NULL ? token : "", token != NULL ? max_age : 0L,
	    secure ? "; Secure" : "");
	if (n < 0 || (size_t)n >= outlen) {
		if (outlen > 0)
			out[0] = '\0';
		return TD_ETOOBIG;
	}
	return TD_OK;
}

/* base64url of 32 bytes without padding, as sodium_bin2base64() writes
 * it (43 characters and a NUL), with no branch or table on the bytes
 * (a form token is a secret too), a quarter of its instructions: each
 * 6-bit value plus its class's offset, the class found by compares. */
static void
b64url_32(char out[CSRF_TOKEN_LEN + 1], const unsigned char in[32])
{
	unsigned char val[48];
	uint32_t w;
	size_t i, j;

	for (i = 0, j = 0; i < 30; i += 3, j += 4) {
		w = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		val[j] = (unsigned char)(w >> 18);
		val[j + 1] = (unsigned char)(w >> 12 & 63);
		val[j + 2] = (unsigned char)(w >> 6 & 63);
		val[j + 3] = (unsigned char)(w & 63);
	}
	w = (uint32_t)in[30] << 8 | in[31];
	val[40] = (unsigned char)(w >> 10);
	val[41] = (unsigned char)(w >> 4 & 63);
	val[42] = (unsigned char)((w & 15) << 2);
	memset(val + 43, 0, sizeof(val) - 43);
#ifdef __SSE2__
	{
		unsigned char chars[48];

		for (i = 0; i < sizeof(val); i += 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(val + i));
			__m128i m, off = _mm_set1_epi8('_' - 63);

			m = _mm_cmpeq_epi8(v, _mm_set1_epi8(62));
			off = _mm_or_si128(_mm_and_si128(m, _mm_set1_epi8('-' - 62)),
			    _mm_andnot_si128(m, off));
			m = _mm_cmplt_epi8(v, _mm_set1_epi8(62));
			off = _mm_or_si128(_mm_and_si128(m, _mm_set1_epi8('0' - 52)),
			    _mm_andnot_si128(m, off));
			m = _mm_cmplt_epi8(v, _mm_set1_epi8(52));
			off = _mm_or_si128(_mm_and_si128(m, _mm_set1_epi8('a' - 26)),
			    _mm_andnot_si128(m, off));
			m = _mm_cmplt_epi8(v, _mm_set1_epi8(26));
			off = _mm_or_si128(_mm_and_si128(m, _mm_set1_epi8('A')),
			    _mm_andnot_si128(m, off));
			_mm_storeu_si128((__m128i *)(void *)(chars + i), _mm_add_epi8(v, off));
		}
		memcpy(out, chars, CSRF_TOKEN_LEN);
		sodium_memzero(chars, sizeof(chars));
	}
#else
	for (i = 0; i < CSRF_TOKEN_LEN; i++) {
		uint32_t x = val[i], lt26 = 0u - ((x - 26) >> 31),
		    lt52 = 0u - ((x - 52) >> 31), lt62 = 0u - ((x - 62) >> 31),
		    is62 = 0u - (((x ^ 62) - 1) >> 31);

		/* (x < 64: x - k wraps exactly when x < k) */
		out[i] = (char)((lt26 & (x + 'A')) | (~lt26 & lt52 & (x + 'a' - 26)) |
		    (~lt52 & lt62 & (x + '0' - 52)) | (is62 & '-') |
		    (~lt62 & ~is62 & '_'));
	}
#endif
	out[CSRF_TOKEN_LEN] = '\0';
	sodium_memzero(val, sizeof(val));
}

void
csrf_token_for(const unsigned char session_hash[SESSION_HASH_BYTES],
    char out[CSRF_TOKEN_LEN + 1])
{
	static const unsigned char what[] = "csrf";
	unsigned char mac[32];

	crypto_generichash(mac, sizeof(mac), what, sizeof(what) - 1,
	    session_hash, SESSION_HASH_BYTES);
	b64url_32(out, mac);
}

bool
csrf_check(const char *expected, const char *got, size_t len)
{
	/* The length is no secret: all tokens have the same one. */
	if (expected == NULL || got == NULL || strlen(expected) != len || len == 0)
		return false;
	return sodium_memcmp(expected, got, len) == 0;
}
